import {
  closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statfsSync, statSync,
  writeFileSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { errors } from '../../errors/errors.js';
import { linux } from '../../native/linux.js';
import { DmError, attachLoop, createDevice, detachLoop, deviceInfo, dmsetup, listDevices, message, removeDevice, run, sectorsOf } from './dm.js';
import { ID_PATTERN } from '../metastore.js';
import type { DmOptions } from './options.js';

/** 64 KiB data blocks, Docker's default: small enough to share well, large enough for little metadata. */
const BLOCK_SECTORS = 128;
const BASE_ID = 1;

interface BaseInfo {
  deviceId: number;
  size: number;
}

/** Figures from `dmsetup status <pool>`, in bytes. */
export interface PoolUsage {
  dataUsed: number;
  dataTotal: number;
  metadataUsed: number;
  metadataTotal: number;
  lowWater: number;
}

/**
 * A thin pool as Docker's devicemapper driver built it: data and metadata on
 * two sparse files in `<home>/devicemapper` attached to loop devices (or on
 * given block devices), a base thin device formatted ext4 that every root
 * layer is a snapshot of, and device metadata (snapshot id → thin device id)
 * in `<home>/metadata`. Device names derive from the home's device and inode,
 * so two data roots never share names. Callers hold the driver's lock.
 */
export class ThinPool {
  readonly name: string;
  private readonly prefix: string;
  private readonly metaDir: string;
  readonly dataFile: string;
  readonly metadataFile: string;

  constructor(
    readonly home: string,
    private readonly opts: DmOptions,
  ) {
    mkdirSync(join(home, 'devicemapper'), { recursive: true, mode: 0o700 });
    this.metaDir = join(home, 'metadata');
    mkdirSync(this.metaDir, { recursive: true, mode: 0o700 });
    const st = statSync(home, { bigint: true });
    const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn);
    const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn);
    this.prefix = `strata-${major}:${minor}-${st.ino}`;
    this.name = `${this.prefix}-pool`;
    this.dataFile = opts.dataDev ?? join(home, 'devicemapper', 'data');
    this.metadataFile = opts.metadataDev ?? join(home, 'devicemapper', 'metadata');
  }

  /** The device-mapper name of thin device `key` (a snapshot id, or 'base'). */
  deviceName(key: string): string {
    return `${this.prefix}-${key}`;
  }

  devicePath(key: string): string {
    return `/dev/mapper/${this.deviceName(key)}`;
  }

  get baseSize(): number {
    return this.base()?.size ?? this.opts.baseSize;
  }

  get usesLoopFiles(): boolean {
    return this.opts.dataDev === undefined;
  }

  /** Activates the pool (attaching loop files, checking metadata) and creates the base device on first use. */
  ensureActive(): void {
    if (!deviceInfo(this.name).exists) this.activate();
    if (!this.base()) this.createBase();
  }

  /** Removes the pool once no thin device of it is active; its loop devices then detach themselves. */
  deactivateIfUnused(): void {
    const mine = listDevices().filter((n) => n.startsWith(`${this.prefix}-`) && n !== this.name);
    if (mine.length === 0) removeDevice(this.name);
  }

  /** Thin device id of snapshot `key`, or undefined when it has none. */
  deviceId(key: string): number | undefined {
    const file = join(this.metaDir, key);
    if (!existsSync(file)) return undefined;
    return (JSON.parse(readFileSync(file, 'utf8')) as { deviceId: number }).deviceId;
  }

  /** Snapshot ids that have a thin device. */
  keys(): string[] {
    return readdirKeys(this.metaDir);
  }

  /**
   * Creates thin device `key` as a snapshot of `origin` (a snapshot id, or
   * the base device) and activates it. The id is recorded before the pool
   * knows it, so a crash in between leaves an entry cleanup() can delete.
   */
  createSnapshot(key: string, origin: string | undefined): void {
    const originKey = origin ?? 'base';
    const originId = origin === undefined ? BASE_ID : this.deviceId(origin);
    if (originId === undefined) throw errors.internal(`devicemapper: snapshot ${origin} has no thin device`);
    const id = Math.max(BASE_ID, ...this.keys().map((k) => this.deviceId(k) ?? 0)) + 1;
    writeFileAtomic(join(this.metaDir, key), JSON.stringify({ deviceId: id }));
    // A thin device cannot be snapshotted while writes are in flight: suspend an active origin.
    const active = deviceInfo(this.deviceName(originKey)).exists;
    if (active) dmsetup('suspend', this.deviceName(originKey));
    try {
      try {
        message(this.name, `create_snap ${id} ${originId}`);
      } catch (e) {
        // A device left by a crash between create_snap and recording it: reclaim the id.
        if (!(e instanceof DmError && /exists/i.test(e.stderr))) throw e;
        message(this.name, `delete ${id}`);
        message(this.name, `create_snap ${id} ${originId}`);
      }
    } finally {
      if (active) dmsetup('resume', this.deviceName(originKey));
    }
    this.activateDevice(key);
  }

  /** Makes /dev/mapper/<name> of thin device `key` exist. */
  activateDevice(key: string): void {
    const id = key === 'base' ? BASE_ID : this.deviceId(key);
    if (id === undefined) throw errors.internal(`devicemapper: snapshot ${key} has no thin device`);
    if (deviceInfo(this.deviceName(key)).exists) return;
    createDevice(this.deviceName(key), `0 ${this.baseSize / 512} thin /dev/mapper/${this.name} ${id}`);
  }

  /** Deactivates and deletes thin device `key`; throws Conflict while it is mounted. */
  deleteDevice(key: string): void {
    const id = this.deviceId(key);
    if (id === undefined) return;
    this.deactivateDevice(key);
    try {
      message(this.name, `delete ${id}`);
    } catch (e) {
      if (!(e instanceof DmError && /no such|not found|ENODATA/i.test(e.stderr))) throw e;
    }
    rmFile(join(this.metaDir, key));
  }

  /** Deactivates thin device `key` if it is active; throws Conflict while it is mounted. */
  deactivateDevice(key: string): void {
    const info = deviceInfo(this.deviceName(key));
    if (!info.exists) return;
    if (info.open > 0) {
      throw errors.conflict(`devicemapper: device ${this.devicePath(key)} is in use (mounted); unmount it first`);
    }
    removeDevice(this.deviceName(key));
  }

  usage(): PoolUsage {
    // 0 <len> thin-pool <transaction> <meta used>/<meta total> <data used>/<data total> ...
    const f = dmsetup('status', this.name).trim().split(/\s+/);
    const [mu, mt] = f[4].split('/').map(Number);
    const [du, dt] = f[5].split('/').map(Number);
    const block = BLOCK_SECTORS * 512;
    return { dataUsed: du * block, dataTotal: dt * block, metadataUsed: mu * 4096, metadataTotal: mt * 4096, lowWater: lowWater(dt) * block };
  }

  get blockSize(): number {
    return BLOCK_SECTORS * 512;
  }

  /** Bytes free on the filesystem holding the loop files: the pool cannot grow past it. */
  hostFree(): number {
    const s = statfsSync(join(this.home, 'devicemapper'));
    return s.bavail * s.bsize;
  }

  private base(): BaseInfo | undefined {
    const file = join(this.metaDir, 'base');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BaseInfo) : undefined;
  }

  private activate(): void {
    const fresh = !this.base();
    let data = this.dataFile;
    let metadata = this.metadataFile;
    const loops: string[] = [];
    try {
      if (this.usesLoopFiles) {
        sparseFile(this.dataFile, this.opts.loopDataSize);
        sparseFile(this.metadataFile, this.opts.loopMetadataSize);
        data = attachLoop(this.dataFile);
        loops.push(data);
        metadata = attachLoop(this.metadataFile);
        loops.push(metadata);
      }
      // thin-pool formats an all-zero metadata device; an old one is checked first, as Docker did.
      if (fresh) zeroSuperblock(metadata);
      else run('thin_check', ['-q', metadata]);
      const sectors = Math.floor(sectorsOf(data) / BLOCK_SECTORS) * BLOCK_SECTORS;
      const blocks = sectors / BLOCK_SECTORS;
      createDevice(this.name, `0 ${sectors} thin-pool ${metadata} ${data} ${BLOCK_SECTORS} ${lowWater(blocks)} 1 skip_block_zeroing`);
    } catch (e) {
      throw e instanceof DmError
        ? errors.unavailable(
            `devicemapper: cannot activate thin pool ${this.name} on ${data} and ${metadata}: ${e.message}; ` +
              'if thin_check failed, repair the metadata with thin_repair or remove the data root',
            { cause: e },
          )
        : e;
    } finally {
      // Marks them autoclear while the pool holds them, or frees them if activation failed.
      for (const l of loops) detachLoop(l);
    }
  }

  private createBase(): void {
    message(this.name, `create_thin ${BASE_ID}`);
    this.activateDevice('base');
    const dev = this.devicePath('base');
    run('mkfs.ext4', ['-q', '-E', 'nodiscard,lazy_itable_init=0,lazy_journal_init=0', dev], 600_000);
    // Layers must start empty: lost+found would show in every image.
    const mnt = join(this.home, 'base-mnt');
    mkdirSync(mnt, { recursive: true });
    linux.mount(dev, mnt, 'ext4', 0, null);
    try {
      rmdirSync(join(mnt, 'lost+found'));
    } finally {
      linux.umount(mnt, 0);
      rmdirSync(mnt);
    }
    removeDevice(this.deviceName('base'));
    writeFileAtomic(join(this.metaDir, 'base'), JSON.stringify({ deviceId: BASE_ID, size: this.opts.baseSize }));
  }
}

/** dm-thin raises its low-water event when free data blocks fall below this: a tenth of the pool. */
function lowWater(blocks: number): number {
  return Math.max(1, Math.floor(blocks / 10));
}

function sparseFile(path: string, size: number): void {
  if (existsSync(path)) return;
  const fd = openSync(path, 'wx', 0o600);
  try {
    // One byte at the end sets the size without allocating anything before it.
    writeSync(fd, Buffer.alloc(1), 0, 1, size - 1);
  } finally {
    closeSync(fd);
  }
}

function zeroSuperblock(dev: string): void {
  const fd = openSync(dev, 'r+');
  try {
    writeSync(fd, Buffer.alloc(4096), 0, 4096, 0);
  } finally {
    closeSync(fd);
  }
}

function writeFileAtomic(path: string, data: string): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

function rmFile(path: string): void {
  rmSync(path, { force: true });
}

function readdirKeys(dir: string): string[] {
  return readdirSync(dir).filter((n) => ID_PATTERN.test(n));
}
