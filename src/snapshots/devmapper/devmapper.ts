import { join, resolve } from 'node:path';
import { humanSizeWithPrecision } from '../../cli/format/units.js';
import { errors, isStrataError } from '../../errors/errors.js';
import { writeTx, type DB } from '../../metadata/db.js';
import { withTempMount } from '../../mount/linux.js';
import type { Mount } from '../../mount/mount.js';
import { cloneDiffUsage } from '../btrfs/usage.js';
import { MetaStore, toInfo, type SnapshotRecord } from '../metastore.js';
import type { SnapshotInfo, SnapshotOpts, Snapshotter, Usage } from '../snapshotter.js';
import { DmError, dmsetup, run } from './dm.js';
import type { DmOptions } from './options.js';
import { ThinPool } from './pool.js';

/**
 * The `devicemapper` driver, thin provisioning as Docker did it: every
 * snapshot is a thin device in one pool (see pool.ts), a snapshot of its
 * parent's device or of the empty ext4 base device, and mounts are ext4
 * mounts of /dev/mapper/<pool prefix>-<id>.
 *
 * CLI processes share a pool, so every sequence of device changes runs
 * inside a database write transaction, the lock they already share. A device
 * is activated when its mounts are handed out (they stay valid until
 * close()); close() deactivates the devices this process activated that
 * nothing mounts, then the pool once no device of it is active, which
 * detaches its loop devices.
 */
export class DevmapperSnapshotter implements Snapshotter {
  readonly name = 'devicemapper';
  private readonly store: MetaStore;
  private readonly activated = new Set<string>();

  private constructor(
    private readonly db: DB,
    private readonly pool: ThinPool,
  ) {
    this.store = new MetaStore(db);
  }

  /** Checks for dm-thin-pool in the kernel and the tools; throws errors.driverUnsupported naming what is missing. */
  static async checkSupported(): Promise<void> {
    try {
      run('modprobe', ['-q', 'dm_thin_pool']);
    } catch {
      // Built in, already loaded, or not loadable here: `dmsetup targets` tells.
    }
    let targets: string;
    try {
      targets = dmsetup('targets');
    } catch (e) {
      if (!(e instanceof DmError)) throw e;
      throw errors.driverUnsupported(
        'devicemapper: this kernel has no device-mapper thin provisioning (dm-thin-pool): ' +
          `\`dmsetup targets\` failed (${e.stderr.trim().split('\n')[0]}); ` +
          'load the dm_mod and dm_thin_pool modules (`modprobe dm_thin_pool`), or use another storage driver',
        { cause: e },
      );
    }
    if (!/^thin-pool\s/m.test(targets)) {
      throw errors.driverUnsupported(
        'devicemapper: the kernel\'s device-mapper has no thin-pool target (dm-thin-pool); ' +
          'load it with `modprobe dm_thin_pool`, or use another storage driver',
      );
    }
    for (const [cmd, args] of [['thin_check', ['-V']], ['mkfs.ext4', ['-V']], ['losetup', ['-V']]] as const) run(cmd, [...args]);
  }

  static async open(root: string, db: DB, opts: DmOptions): Promise<DevmapperSnapshotter> {
    await DevmapperSnapshotter.checkSupported();
    return new DevmapperSnapshotter(db, new ThinPool(join(resolve(root), 'devicemapper'), opts));
  }

  private locked<T>(fn: () => T): T {
    return writeTx(this.db, fn);
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return toInfo(this.store.get(key));
  }

  async usage(key: string): Promise<Usage> {
    const r = this.store.get(key);
    return r.usage ?? this.measure(r, this.store.parentChain(key)[0]);
  }

  async mounts(key: string): Promise<Mount[]> {
    const r = this.store.get(key);
    this.activate(r.id);
    return this.mountsOf(r);
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
    this.store.commit(name, key, await this.measure(r, this.store.parentChain(key)[0]), opts?.labels);
  }

  async remove(key: string): Promise<void> {
    const r = this.store.get(key);
    // Refuse before the row goes: a mounted device cannot be deleted.
    this.locked(() => {
      this.pool.ensureActive();
      this.pool.deactivateDevice(r.id);
    });
    this.store.remove(key);
    this.locked(() => this.pool.deleteDevice(r.id));
    this.activated.delete(r.id);
  }

  async *walk(): AsyncIterable<SnapshotInfo> {
    for (const r of this.store.walk()) yield toInfo(r);
  }

  async status(): Promise<Array<[string, string]>> {
    const u = this.locked(() => {
      this.pool.ensureActive();
      return this.pool.usage();
    });
    const size = (n: number) => humanSizeWithPrecision(n, 4);
    const free = (total: number, used: number) => size(Math.min(total - used, this.pool.usesLoopFiles ? this.pool.hostFree() : Infinity));
    const lines: Array<[string, string]> = [
      ['Pool Name', this.pool.name],
      ['Pool Blocksize', size(this.pool.blockSize)],
      ['Base Device Size', size(this.pool.baseSize)],
      ['Backing Filesystem', 'extfs'],
      ['Data Space Used', size(u.dataUsed)],
      ['Data Space Total', size(u.dataTotal)],
      ['Data Space Available', free(u.dataTotal, u.dataUsed)],
      ['Metadata Space Used', size(u.metadataUsed)],
      ['Metadata Space Total', size(u.metadataTotal)],
      ['Metadata Space Available', free(u.metadataTotal, u.metadataUsed)],
      ['Thin Pool Low Water Mark', size(u.lowWater)],
    ];
    if (this.pool.usesLoopFiles) {
      lines.push(['Data loop file', this.pool.dataFile], ['Metadata loop file', this.pool.metadataFile]);
    } else {
      lines.push(['Data file', this.pool.dataFile], ['Metadata file', this.pool.metadataFile]);
    }
    lines.push(['Library Version', dmsetup('version').match(/Library version:\s*(\S+)/)?.[1] ?? 'unknown']);
    return lines;
  }

  /** Deletes thin devices left without a row by a crash; never a live one's. */
  async cleanup(): Promise<void> {
    const keys = this.pool.keys();
    const live = this.store.liveIds();
    const orphans = keys.filter((k) => !live.has(k));
    if (orphans.length === 0) return;
    this.locked(() => {
      this.pool.ensureActive();
      for (const k of orphans) this.pool.deleteDevice(k);
    });
  }

  /** Deactivates this process's unmounted devices, then the pool (and its loop devices) once nothing uses it. */
  async close(): Promise<void> {
    this.locked(() => {
      for (const id of this.activated) {
        try {
          this.pool.deactivateDevice(id);
        } catch (e) {
          if (!isStrataError(e, 'Conflict')) throw e; // still mounted: its user keeps it
        }
      }
      this.activated.clear();
      this.pool.deactivateIfUnused();
    });
  }

  private activate(id: string): void {
    this.locked(() => {
      this.pool.ensureActive();
      this.pool.activateDevice(id);
    });
    this.activated.add(id);
  }

  private async create(
    kind: 'active' | 'view',
    key: string,
    parent: string | undefined,
    opts: SnapshotOpts | undefined,
  ): Promise<Mount[]> {
    const { record, parentIds } = this.store.create(key, kind, parent, opts?.labels);
    try {
      // After the row exists, so a concurrent cleanup() never takes the device for an orphan.
      this.locked(() => {
        this.pool.ensureActive();
        this.pool.createSnapshot(record.id, parentIds[0]);
      });
      this.activated.add(record.id);
    } catch (e) {
      this.store.remove(key);
      this.locked(() => this.pool.deleteDevice(record.id));
      throw e instanceof DmError
        ? errors.unavailable(`devicemapper: cannot create the thin device of "${key}": ${e.message}`, { cause: e })
        : e;
    }
    this.warnIfLow();
    return this.mountsOf(record);
  }

  private mountsOf(r: SnapshotRecord): Mount[] {
    return [{ type: 'ext4', source: this.pool.devicePath(r.id), options: [r.kind === 'active' ? 'rw' : 'ro'] }];
  }

  /**
   * Usage of `r`: its tree compared with its parent's, both mounted for the
   * walk (a thin snapshot keeps inode numbers and ctimes, see cloneDiffUsage).
   */
  private async measure(r: SnapshotRecord, parentId: string | undefined): Promise<Usage> {
    if (r.kind !== 'active') return { size: 0, inodes: 0 };
    this.activate(r.id);
    // rw as the container's own mount is: one superblock cannot be mounted both ways.
    const own = this.mountsOf(r);
    return withTempMount(own, this.pool.home, async (dir) => {
      if (parentId === undefined) return cloneDiffUsage(dir, undefined);
      this.activate(parentId);
      const parent: Mount[] = [{ type: 'ext4', source: this.pool.devicePath(parentId), options: ['ro'] }];
      return withTempMount(parent, this.pool.home, (parentDir) => cloneDiffUsage(dir, parentDir));
    });
  }

  /** dm-thin's low-water mark, checked after each new device: a CLI has no daemon to wait for the pool's event. */
  private warnIfLow(): void {
    const u = this.pool.usage();
    if (u.dataTotal - u.dataUsed < u.lowWater) {
      process.emitWarning(
        `devicemapper: thin pool ${this.pool.name} is below its low-water mark: ` +
          `${humanSizeWithPrecision(u.dataTotal - u.dataUsed, 4)} of ${humanSizeWithPrecision(u.dataTotal, 4)} data space free; ` +
          'remove unused images and containers, or grow the pool',
      );
    }
  }
}
