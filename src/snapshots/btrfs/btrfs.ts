import { constants, mkdirSync } from 'node:fs';
import { access, chmod, mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errors } from '../../errors/errors.js';
import type { DB } from '../../metadata/db.js';
import type { Mount } from '../../mount/mount.js';
import { backingFilesystem } from '../fstype.js';
import { ID_PATTERN, MetaStore, toInfo, type SnapshotRecord } from '../metastore.js';
import type { SnapshotInfo, SnapshotOpts, Snapshotter, Usage } from '../snapshotter.js';
import {
  btrfsVersion, createSubvolume, deleteSubvolume, exclusiveBytes, mountAt, mountImage, quotasEnabled, setReadonly,
  snapshotSubvolume,
} from './commands.js';
import { cloneDiffUsage } from './usage.js';

export interface BtrfsOptions {
  /** A btrfs image file to loop-mount on `<root>/btrfs` when the data root itself is not on btrfs. */
  image?: string;
}

/**
 * The `btrfs` driver: every snapshot is a subvolume in
 * `<root>/btrfs/subvolumes/<id>`, a child is a snapshot of its parent's
 * subvolume (so it shares every block until written), committed snapshots
 * and views are read-only subvolumes, and mounts are binds. The data root
 * must be on btrfs, or `image` names a btrfs image file that the driver
 * loop-mounts on `<root>/btrfs`. That mount outlives the process, as other
 * CLI processes share it; unmounting it also frees its loop device.
 */
export class BtrfsSnapshotter implements Snapshotter {
  readonly name = 'btrfs';
  private readonly store: MetaStore;
  private readonly subvolumes: string;

  private constructor(
    private readonly home: string,
    db: DB,
    private readonly version: string,
    private readonly quotas: boolean,
    private readonly image: string | undefined,
  ) {
    this.store = new MetaStore(db);
    this.subvolumes = join(home, 'subvolumes');
    mkdirSync(this.subvolumes, { recursive: true, mode: 0o700 });
  }

  /** Opens the driver over `root`, mounting `opts.image` first; throws driverUnsupported naming what is missing. */
  static async open(root: string, db: DB, opts: BtrfsOptions = {}): Promise<BtrfsSnapshotter> {
    const home = join(resolve(root), 'btrfs');
    const { version, image } = await BtrfsSnapshotter.prepareHome(home, opts);
    return new BtrfsSnapshotter(home, db, version, await quotasEnabled(home), image);
  }

  /** Whether the driver could work over `root`, without mounting or creating anything. */
  static async checkSupported(root: string, opts: BtrfsOptions = {}): Promise<void> {
    await btrfsVersion();
    if (opts.image !== undefined) return checkImage(resolve(opts.image));
    const home = join(resolve(root), 'btrfs');
    // <root>/btrfs may not exist yet: then the root's filesystem is the one it would be on.
    notBtrfs(home, await backingFilesystem(home).catch(() => backingFilesystem(root)));
  }

  private static async prepareHome(home: string, opts: BtrfsOptions): Promise<{ version: string; image?: string }> {
    const version = await btrfsVersion();
    await mkdir(home, { recursive: true, mode: 0o700 });
    const image = opts.image !== undefined ? resolve(opts.image) : undefined;
    if (image !== undefined && (await mountAt(home)) === undefined) await mountImage(image, home);
    notBtrfs(home, await backingFilesystem(home));
    return { version, image };
  }

  private dir(id: string): string {
    return join(this.subvolumes, id);
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return toInfo(this.store.get(key));
  }

  async usage(key: string): Promise<Usage> {
    const r = this.store.get(key);
    return r.usage ?? this.measure(r, this.store.parentChain(key)[0]);
  }

  async mounts(key: string): Promise<Mount[]> {
    return this.mountsOf(this.store.get(key));
  }

  prepare(key: string, parent?: string, opts?: SnapshotOpts): Promise<Mount[]> {
    return this.create('active', key, parent, opts);
  }

  view(key: string, parent?: string, opts?: SnapshotOpts): Promise<Mount[]> {
    return this.create('view', key, parent, opts);
  }

  async commit(name: string, key: string, opts?: SnapshotOpts): Promise<void> {
    const r = this.store.get(key);
    if (r.kind !== 'active') {
      throw errors.failedPrecondition(`snapshot "${key}" is ${r.kind}, not active; only active snapshots can be committed`);
    }
    const usage = await this.measure(r, this.store.parentChain(key)[0]);
    // Read-only before the row says committed: a committed snapshot is never writable.
    await setReadonly(this.dir(r.id));
    this.store.commit(name, key, usage, opts?.labels);
  }

  async remove(key: string): Promise<void> {
    const r = this.store.remove(key);
    await deleteSubvolume(this.dir(r.id));
  }

  async *walk(): AsyncIterable<SnapshotInfo> {
    for (const r of this.store.walk()) yield toInfo(r);
  }

  async status(): Promise<Array<[string, string]>> {
    const lines: Array<[string, string]> = [
      ['Backing Filesystem', await backingFilesystem(this.home)],
      ['Build Version', this.version],
      ['Quotas', this.quotas ? 'enabled (sizes from quota groups)' : 'disabled (sizes from walking subvolumes)'],
    ];
    if (this.image) lines.push(['Image File', this.image]);
    return lines;
  }

  /** Deletes subvolumes left without a row by a crash; never a live one (see orphans.ts for the ordering argument). */
  async cleanup(): Promise<void> {
    const names = (await readdir(this.subvolumes)).filter((n) => ID_PATTERN.test(n));
    const live = this.store.liveIds();
    for (const n of names) if (!live.has(n)) await deleteSubvolume(this.dir(n));
  }

  async close(): Promise<void> {}

  /**
   * Usage of `r`: the bytes only its subvolume holds when quotas are on
   * (on-disk figures: blocks and the subvolume's own tree), with inodes
   * counted by walking; the walked diff against its parent otherwise.
   */
  private async measure(r: SnapshotRecord, parentId: string | undefined): Promise<Usage> {
    if (r.kind !== 'active') return { size: 0, inodes: 0 };
    const walked = await cloneDiffUsage(this.dir(r.id), parentId && this.dir(parentId));
    return this.quotas ? { size: await exclusiveBytes(this.dir(r.id)), inodes: walked.inodes } : walked;
  }

  private async create(
    kind: 'active' | 'view',
    key: string,
    parent: string | undefined,
    opts: SnapshotOpts | undefined,
  ): Promise<Mount[]> {
    const { record, parentIds } = this.store.create(key, kind, parent, opts?.labels);
    const dir = this.dir(record.id);
    try {
      // After the row exists, so a concurrent cleanup() never takes it for an orphan;
      // the parent cannot be removed while this row points at it.
      if (parentIds.length) {
        await snapshotSubvolume(this.dir(parentIds[0]), dir, kind === 'view');
      } else {
        await createSubvolume(dir);
        await chmod(dir, 0o755);
        if (kind === 'view') await setReadonly(dir);
      }
    } catch (e) {
      this.store.remove(key);
      await deleteSubvolume(dir).catch(() => undefined);
      throw e;
    }
    return this.mountsOf(record);
  }

  private mountsOf(r: SnapshotRecord): Mount[] {
    return [{ type: 'bind', source: this.dir(r.id), options: [r.kind === 'active' ? 'rw' : 'ro', 'rbind'] }];
  }
}

function notBtrfs(home: string, fs: string): void {
  if (fs === 'btrfs') return;
  throw errors.driverUnsupported(
    `btrfs: ${home} is on ${fs}, not btrfs; put the data root on a btrfs filesystem, or pass the storage option ` +
      'btrfs.image=FILE naming a btrfs image file (make one with `truncate -s 20G FILE && mkfs.btrfs FILE`)',
  );
}

async function checkImage(image: string): Promise<void> {
  if (!(await readFile('/proc/filesystems', 'utf8')).includes('\tbtrfs\n')) {
    throw errors.driverUnsupported('btrfs: the kernel has no btrfs filesystem; load it with `modprobe btrfs`');
  }
  try {
    await access(image, constants.R_OK | constants.W_OK);
  } catch (e) {
    throw errors.driverUnsupported(`btrfs: the image file ${image} is not readable and writable: ${(e as Error).message}`, { cause: e });
  }
}
