import { mkdirSync } from 'node:fs';
import { chmod, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errors } from '../../errors/errors.js';
import type { DB } from '../../metadata/db.js';
import type { Mount } from '../../mount/mount.js';
import { MetaStore, toInfo, type SnapshotRecord } from '../metastore.js';
import { removeOrphans } from '../orphans.js';
import type { SnapshotInfo, SnapshotOpts, Snapshotter, Usage } from '../snapshotter.js';
import { diskUsage } from '../usage.js';
import { OverlayLayout, type OverlayFeatures } from './layout.js';

/**
 * What the drivers on Docker overlay2's layout share (see layout.ts): the
 * kernel `overlay` driver and `fuse-overlayfs` differ only in where the
 * layout lives, which mount options the mounter takes, how the mounts are
 * typed, and what `info` says.
 */
export abstract class OverlayLayoutSnapshotter implements Snapshotter {
  abstract readonly name: string;
  protected readonly root: string;
  protected readonly layout: OverlayLayout;
  protected readonly store: MetaStore;

  /** `dirName`: the layout's directory under the data root, also the driver's name in messages. */
  constructor(root: string, db: DB, dirName: string) {
    this.root = resolve(root);
    if (/[,:]/.test(this.root)) {
      throw errors.invalidArgument(
        `${dirName}: the data root ${this.root} contains ',' or ':', which overlay mount options cannot carry; use another path`,
      );
    }
    this.layout = new OverlayLayout(join(this.root, dirName));
    this.store = new MetaStore(db);
    mkdirSync(this.layout.linkDir, { recursive: true, mode: 0o700 });
  }

  /** Mount options the mounter accepts. */
  protected abstract features(): Promise<OverlayFeatures>;

  /** The layout's mounts (kernel overlay or bind) as this driver hands them out. */
  protected abstract adapt(mounts: Mount[]): Mount[];

  abstract status(): Promise<Array<[string, string]>>;

  async stat(key: string): Promise<SnapshotInfo> {
    return toInfo(this.store.get(key));
  }

  async usage(key: string): Promise<Usage> {
    const r = this.store.get(key);
    return r.usage ?? diskUsage(this.layout.diff(r.id));
  }

  async mounts(key: string): Promise<Mount[]> {
    const r = this.store.get(key);
    return this.mountsOf(r, this.store.parentChain(key));
  }

  prepare(key: string, parent?: string, opts?: SnapshotOpts): Promise<Mount[]> {
    return this.create('active', key, parent, opts);
  }

  view(key: string, parent?: string, opts?: SnapshotOpts): Promise<Mount[]> {
    return this.create('view', key, parent, opts);
  }

  async commit(name: string, key: string, opts?: SnapshotOpts): Promise<void> {
    const r = this.store.get(key);
    // Measured outside the transaction; the store re-checks that `key` is still active.
    const usage = r.kind === 'active' ? await diskUsage(this.layout.diff(r.id)) : { size: 0, inodes: 0 };
    this.store.commit(name, key, usage, opts?.labels);
  }

  async remove(key: string): Promise<void> {
    const r = this.store.remove(key);
    await this.removeDirs(r.id);
  }

  async *walk(): AsyncIterable<SnapshotInfo> {
    for (const r of this.store.walk()) yield toInfo(r);
  }

  /** Deletes snapshot directories and l/ links left without a row by a crash; never a live one's. */
  async cleanup(): Promise<void> {
    await removeOrphans(this.layout.home, this.store);
    await removeOrphans(this.layout.linkDir, this.store);
  }

  async close(): Promise<void> {}

  private async create(
    kind: 'active' | 'view',
    key: string,
    parent: string | undefined,
    opts: SnapshotOpts | undefined,
  ): Promise<Mount[]> {
    const features = await this.features();
    const { record, parentIds } = this.store.create(key, kind, parent, opts?.labels, (ids) =>
      this.layout.checkDepth(key, ids.length, features),
    );
    try {
      await this.makeDirs(record.id, parentIds);
      return await this.mountsOf(record, parentIds);
    } catch (e) {
      this.store.remove(key);
      await this.removeDirs(record.id);
      throw e;
    }
  }

  /** Runs after the row exists, so a concurrent cleanup() never takes these for orphans. */
  private async makeDirs(id: string, parentIds: string[]): Promise<void> {
    const dir = this.layout.dir(id);
    await mkdir(dir, { mode: 0o710 });
    // The upperdir's mode becomes the mounted root's: keep it 0755 whatever the umask.
    await mkdir(this.layout.diff(id));
    await chmod(this.layout.diff(id), 0o755);
    await writeFile(join(dir, 'link'), id);
    if (parentIds.length) {
      await writeFile(join(dir, 'lower.tmp'), this.layout.lowerFile(parentIds));
      await rename(join(dir, 'lower.tmp'), join(dir, 'lower'));
      await mkdir(this.layout.work(id), { mode: 0o700 });
      await mkdir(this.layout.merged(id), { mode: 0o700 });
    }
    await symlink(join('..', id, 'diff'), this.layout.link(id));
  }

  private async removeDirs(id: string): Promise<void> {
    await rm(this.layout.link(id), { force: true });
    await rm(this.layout.dir(id), { recursive: true, force: true });
  }

  private async mountsOf(r: SnapshotRecord, parentIds: string[]): Promise<Mount[]> {
    const features = await this.features();
    const mounts =
      r.kind === 'active'
        ? this.layout.mounts(r.id, parentIds, true, features)
        : this.layout.mounts(r.id, r.kind === 'committed' ? [r.id, ...parentIds] : parentIds, false, features);
    this.layout.checkMounts(r.key, mounts, features);
    return this.adapt(mounts);
  }
}
