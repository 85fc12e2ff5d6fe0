import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import type { Readable } from 'node:stream';
import { errnoCode, errors, isStrataError } from '../errors/errors.js';
import { linux } from '../native/linux.js';
import { LayerRoot, cleanName, splitName } from './rootpath.js';
import type { TarEntry } from './tarformat.js';
import { TarReader } from './tarreader.js';
import {
  classifyWhiteout,
  makeOverlayWhiteout,
  markOverlayOpaque,
  removeOpaqueChildren,
  removeWhitedOut,
} from './whiteouts.js';
import { writeXattrs } from './xattrs.js';

export type LayerFormat = 'overlay' | 'plain';

export interface ApplyOptions {
  /** overlay: dir is an empty upperdir; plain: dir already holds the parent's files (vfs). */
  format: LayerFormat;
  signal?: AbortSignal;
}

export interface ApplyResult {
  /** Bytes of regular-file content written. */
  size: number;
  /** Tar entries applied, whiteouts included. */
  entries: number;
}

function writeAsync(fd: number, buf: Buffer, off: number, len: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, off, len, null, (err, n) => (err ? reject(err) : resolve(n))));
}

/** Entries applied between two turns of the event loop. */
const YIELD_EVERY = 256;

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Applies an uncompressed layer tar to `dir` (OCI image-spec "Applying
 * Changesets"). Hostile archives are refused and nothing is ever created,
 * changed or deleted outside `dir`. On failure `dir` is left half-written:
 * the caller discards it.
 */
export async function applyLayer(tar: Readable, dir: string, opts: ApplyOptions): Promise<ApplyResult> {
  let root: string;
  try {
    root = realpathSync(dir);
  } catch (e) {
    throw errors.invalidArgument(`apply layer: target directory ${dir} is not accessible: ${(e as Error).message}`, { cause: e });
  }
  if (!lstatSync(root).isDirectory()) throw errors.invalidArgument(`apply layer: target ${dir} is not a directory`);

  const { signal } = opts;
  signal?.throwIfAborted();
  const onAbort = () => tar.destroy(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const reader = new TarReader(tar);
  const unpacker = new Unpacker(new LayerRoot(root), opts.format, reader);
  let entries = 0;
  try {
    for (let e = await reader.next(); e !== null; e = await reader.next()) {
      signal?.throwIfAborted();
      // Only entries whose body is not buffered yet return a promise.
      const pending = unpacker.apply(e);
      if (pending) await pending;
      // Buffered entries apply without a macrotask: let other I/O (downloads beside us) run.
      if (++entries % YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
    }
    unpacker.finish();
    return { size: unpacker.bytes, entries };
  } catch (e) {
    tar.destroy();
    if (signal?.aborted) throw signal.reason;
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

class Unpacker {
  /** Directory mtimes, set last because creating children changes them. */
  private readonly dirTimes = new Map<string, number>();
  /** plain only: keys this layer created, which its opaque whiteouts must spare. */
  private readonly unpacked = new Set<string>();
  private readonly forgetTimes = (key: string) => this.dirTimes.delete(key);
  private readonly onImplicitDir: (key: string) => void;
  private readonly euid = process.geteuid!();
  /** Bytes of regular-file content written. */
  bytes = 0;

  constructor(
    private readonly root: LayerRoot,
    private readonly format: LayerFormat,
    private readonly reader: TarReader,
  ) {
    this.onImplicitDir = format === 'plain' ? (key) => this.unpacked.add(key) : () => {};
  }

  apply(e: TarEntry): Promise<void> | void {
    try {
      return this.entry(e)?.catch((err: unknown) => {
        throw this.explain(e, err);
      });
    } catch (err) {
      throw this.explain(e, err);
    }
  }

  finish(): void {
    // utimes on a directory does not touch its parent, so order is irrelevant.
    for (const [key, mtime] of this.dirTimes) lutimesSync(this.root.path(key), mtime, mtime);
  }

  /** Gives a system error the entry it happened on; our own errors already say. */
  private explain(e: TarEntry, err: unknown): unknown {
    if (isStrataError(err)) return err;
    const make = errnoCode(err) === 'ENAMETOOLONG' ? errors.hostileArchive : errors.internal;
    return make(`layer entry "${e.name}": ${(err as Error).message}`, { cause: err });
  }

  private entry(e: TarEntry): Promise<void> | void {
    const clean = cleanName(e.name, e.name);
    if (clean === '') return this.rootEntry(e);
    const [dir, base] = splitName(clean);
    const wh = classifyWhiteout(base, e.name);
    // In plain form a whiteout under a missing directory has nothing to delete.
    const create = wh.kind === 'none' || this.format === 'overlay';
    const parent = this.root.resolveDir(dir, e.name, create, this.onImplicitDir);
    if (parent === null) return;
    if (wh.kind === 'opaque') return this.opaque(parent);
    const name = wh.kind === 'whiteout' ? wh.target : base;
    const key = parent === '' ? name : `${parent}/${name}`;
    const path = this.root.path(key);
    if (wh.kind === 'whiteout') return this.whiteout(e, key, path);
    if (this.format === 'plain') this.unpacked.add(key);
    switch (e.type) {
      case 'file':
        return this.file(e, parent, key, path);
      case 'directory':
        return this.directory(e, key, path);
      case 'symlink':
        this.create(key, path, () => symlinkSync(e.linkname, path));
        lchownSync(path, e.uid, e.gid);
        writeXattrs(path, e.xattrs);
        lutimesSync(path, e.mtime, e.mtime);
        return;
      case 'link':
        return this.hardlink(e, key, path);
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const kind = e.type === 'fifo' ? linux.S_IFIFO : e.type === 'block-device' ? linux.S_IFBLK : linux.S_IFCHR;
        this.create(key, path, () => linux.mknod(path, kind | (e.mode & 0o777), e.devmajor, e.devminor));
        this.metadata(e, path);
        lutimesSync(path, e.mtime, e.mtime);
        return;
      }
    }
  }

  /** Small files are written without awaiting anything; the rest stream on in fileRest. */
  private file(e: TarEntry, parent: string, key: string, path: string): Promise<void> | void {
    const fd = this.create(key, path, () => openSync(path, CREATE_FLAGS, 0o600));
    let owned = true;
    try {
      this.writeBuffered(fd);
      if (this.reader.remaining > 0) {
        owned = false;
        return this.fileRest(e, parent, path, fd);
      }
      this.fileMetadata(e, parent, path, fd);
    } finally {
      if (owned) closeSync(fd);
    }
  }

  /**
   * Large bodies are written on the thread pool so that, while a chunk goes
   * to disk, the event loop keeps pulling the next ones from the decompressor.
   */
  private async fileRest(e: TarEntry, parent: string, path: string, fd: number): Promise<void> {
    try {
      while (this.reader.remaining > 0) {
        await this.reader.fill();
        for (let chunk = this.reader.take(); chunk !== null; chunk = this.reader.take()) {
          for (let off = 0; off < chunk.length; ) off += await writeAsync(fd, chunk, off, chunk.length - off);
          this.bytes += chunk.length;
        }
      }
      this.fileMetadata(e, parent, path, fd);
    } finally {
      closeSync(fd);
    }
  }

  private writeBuffered(fd: number): void {
    for (let chunk = this.reader.take(); chunk !== null; chunk = this.reader.take()) {
      for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
      this.bytes += chunk.length;
    }
  }

  private fileMetadata(e: TarEntry, parent: string, path: string, fd: number): void {
    // Most layer files are root's: skip the chown when it would change nothing.
    if (e.uid !== this.euid || e.gid !== this.root.childGid(parent)) fchownSync(fd, e.uid, e.gid);
    fchmodSync(fd, e.mode); // after chown, which clears setuid/setgid
    writeXattrs(path, e.xattrs); // after chown, which drops security.capability
    futimesSync(fd, e.mtime, e.mtime);
  }

  private directory(e: TarEntry, key: string, path: string): void {
    try {
      mkdirSync(path, 0o700);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      // A directory over a directory keeps its contents; anything else goes.
      if (!lstatSync(path).isDirectory()) {
        unlinkSync(path);
        mkdirSync(path, 0o700);
      }
    }
    this.metadata(e, path);
    this.root.markDir(key, e.mode, e.gid);
    this.dirTimes.set(key, e.mtime);
  }

  private rootEntry(e: TarEntry): void {
    if (e.type !== 'directory') throw errors.hostileArchive(`layer entry "${e.name}": a ${e.type} cannot replace the layer root`);
    this.metadata(e, this.root.root);
    this.root.markDir('', e.mode, e.gid);
    this.dirTimes.set('', e.mtime);
  }

  private hardlink(e: TarEntry, key: string, path: string): void {
    const hostile = (why: string) => errors.hostileArchive(`layer entry "${e.name}": hard link target "${e.linkname}" ${why}`);
    const clean = cleanName(e.linkname, e.name);
    if (clean === '') throw hostile('is the layer root');
    const [dir, base] = splitName(clean);
    const parent = this.root.resolveDir(dir, e.name, false, this.onImplicitDir);
    const target = parent === null ? null : parent === '' ? base : `${parent}/${base}`;
    if (target === null) throw hostile('does not exist in the layer');
    if (target === key) throw hostile('is the link itself');
    const targetPath = this.root.path(target);
    let st;
    try {
      st = lstatSync(targetPath);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw hostile('does not exist in the layer');
      throw err;
    }
    if (st.isDirectory()) throw hostile('is a directory');
    // link(2) does not follow a symlink target and every parent is verified.
    this.create(key, path, () => linkSync(targetPath, path));
  }

  private whiteout(e: TarEntry, key: string, path: string): void {
    if (this.format === 'overlay') {
      this.create(key, path, () => makeOverlayWhiteout(path));
      lchownSync(path, e.uid, e.gid);
      lutimesSync(path, e.mtime, e.mtime); // so tar → upperdir → tar gives the same bytes
    } else {
      this.root.forget(key, this.forgetTimes);
      removeWhitedOut(path);
    }
  }

  private opaque(dirKey: string): void {
    const dirPath = this.root.path(dirKey);
    if (this.format === 'overlay') {
      markOverlayOpaque(dirPath);
      return;
    }
    removeOpaqueChildren(
      dirPath,
      dirKey,
      (key) => this.unpacked.has(key),
      (key) => this.root.forget(key, this.forgetTimes),
    );
  }

  /** Owner, then mode (chown clears setuid), then xattrs, for a path we just made. */
  private metadata(e: TarEntry, path: string): void {
    lchownSync(path, e.uid, e.gid);
    chmodSync(path, e.mode); // path is a directory or device node we created or verified
    writeXattrs(path, e.xattrs);
  }

  /**
   * Runs a create-exclusive operation; when the path is taken, removes what
   * is there (recursively for a directory, as the spec requires for any
   * non-directory-over-directory case) and tries once more.
   */
  private create<T>(key: string, path: string, make: () => T): T {
    try {
      return make();
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (lstatSync(path).isDirectory()) {
      this.root.forget(key, this.forgetTimes);
      rmSync(path, { recursive: true, force: true });
    } else {
      unlinkSync(path);
    }
    return make();
  }
}
