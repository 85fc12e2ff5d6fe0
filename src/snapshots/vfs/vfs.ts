import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errors } from '../../errors/errors.js';
import type { DB } from '../../metadata/db.js';
import type { Mount } from '../../mount/mount.js';
import { backingFilesystem } from '../fstype.js';
import { MetaStore, toInfo } from '../metastore.js';
import { removeOrphans } from '../orphans.js';
import type { SnapshotInfo, SnapshotOpts, Snapshotter, Usage } from '../snapshotter.js';
import { diskUsage } from '../usage.js';

/**
 * The `vfs` driver: every snapshot is a full copy of its parent in
 * `<root>/vfs/dir/<id>`, mounted with a bind. Slow and large, but it works on
 * any filesystem and needs no kernel feature beyond bind mounts.
 */
export class VfsSnapshotter implements Snapshotter {
  readonly name = 'vfs';
  private readonly home: string;
  private readonly store: MetaStore;

  constructor(root: string, db: DB) {
    this.home = join(resolve(root), 'vfs', 'dir');
    this.store = new MetaStore(db);
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
  }

  private dir(id: string): string {
    return join(this.home, id);
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return toInfo(this.store.get(key));
  }

  async usage(key: string): Promise<Usage> {
    const r = this.store.get(key);
    return r.usage ?? diskUsage(this.dir(r.id));
  }

  async mounts(key: string): Promise<Mount[]> {
    const r = this.store.get(key);
    return [{ type: 'bind', source: this.dir(r.id), options: [r.kind === 'active' ? 'rw' : 'ro', 'rbind'] }];
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
    const usage = r.kind === 'active' ? await diskUsage(this.dir(r.id)) : { size: 0, inodes: 0 };
    this.store.commit(name, key, usage, opts?.labels);
  }

  async remove(key: string): Promise<void> {
    const r = this.store.remove(key);
    await rm(this.dir(r.id), { recursive: true, force: true });
  }

  async *walk(): AsyncIterable<SnapshotInfo> {
    for (const r of this.store.walk()) yield toInfo(r);
  }

  async status(): Promise<Array<[string, string]>> {
    return [['Backing Filesystem', await backingFilesystem(this.home)]];
  }

  /** Deletes snapshot directories left without a row by a crash; never a live one's. */
  async cleanup(): Promise<void> {
    await removeOrphans(this.home, this.store);
  }

  async close(): Promise<void> {}

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
      await mkdir(dir);
      await chmod(dir, 0o755);
      if (parentIds.length) await copyTree(this.dir(parentIds[0]), dir);
    } catch (e) {
      this.store.remove(key);
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    return this.mounts(key);
  }
}

/**
 * Copies the contents of `src` into the existing `dst` with cp -a: hard
 * links, xattrs, device nodes, owners and times survive, and filesystems
 * with reflinks (btrfs, xfs) share the data blocks.
 */
function copyTree(src: string, dst: string): Promise<void> {
  return new Promise((resolveCopy, reject) => {
    const cp = spawn('cp', ['-a', '--reflink=auto', '--', `${src}/.`, dst], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    cp.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    cp.on('error', (e) =>
      reject(errors.unavailable(`vfs: cannot run cp to copy ${src} to ${dst}: ${e.message}; is coreutils installed?`, { cause: e })),
    );
    cp.on('close', (code, signal) => {
      if (code === 0) return resolveCopy();
      reject(
        errors.unavailable(
          `vfs: copying ${src} to ${dst} failed (cp ${signal ? `killed by ${signal}` : `exit ${code}`}): ${stderr.trim()}; ` +
            'check free space and that the parent snapshot is intact',
        ),
      );
    });
  });
}
