import type { BigIntStats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOverlayOpaque } from '../archive/whiteouts.js';
import { errnoCode } from '../errors/errors.js';
import { withTempMount } from '../mount/linux.js';
import { directPath, overlayUpperDir, type Mount } from '../mount/mount.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';

/** A path that a snapshot adds (A), changes (C) or deletes (D) over its parent, as `docker diff` prints it. */
export interface Change {
  kind: 'A' | 'C' | 'D';
  /** Absolute inside the snapshot: `/etc/passwd`. */
  path: string;
}

export interface ChangeSet {
  /**
   * Sorted by path component by component, a directory just before its
   * contents. A directory is C when its mode or owner changed or anything
   * below it did; a deleted directory is one D, not one per descendant.
   */
  changes: Change[];
  /** Bytes of the added and changed non-directories, hard links counted once (Docker's size of a diff). */
  size: number;
}

export interface ChangesOptions {
  /** Where a view that needs mounting is mounted; os.tmpdir() by default. */
  tmpDir?: string;
}

/** What snapshot `key` changes over its parent: `docker diff` of a container's writable layer. */
export async function changes(snapshotter: Snapshotter, key: string, opts: ChangesOptions = {}): Promise<Change[]> {
  return (await changeSet(snapshotter, key, opts)).changes;
}

/**
 * The changes of snapshot `key` and their size. An overlay snapshot's
 * upperdir holds exactly what it changed, so only that is walked, looking
 * each entry up in the parent's view to tell A from C (a 0/0 character
 * device is a deletion). Any other snapshot is a full tree, compared with
 * its parent's view by walking both. The parent's view is read in place
 * when it is one directory and mounted read-only otherwise; nothing stays
 * mounted.
 */
export async function changeSet(snapshotter: Snapshotter, key: string, opts: ChangesOptions = {}): Promise<ChangeSet> {
  const info = await snapshotter.stat(key);
  const mounts = await snapshotter.mounts(key);
  const tmp = opts.tmpDir ?? tmpdir();
  const walk = new Walk();
  const parent = info.parent !== undefined ? await snapshotter.mounts(info.parent) : undefined;
  await withView(parent, tmp, async (lower) => {
    const upper = overlayUpperDir(mounts);
    if (upper) await walk.overlayDir(upper, lower, '');
    else await withView(mounts, tmp, (dir) => walk.compareDir(dir!, lower, '', false));
  });
  return walk.result();
}

/** Runs fn on the directory a mount list shows (undefined for no mounts: an empty parent). */
async function withView<T>(mounts: Mount[] | undefined, tmp: string, fn: (dir: string | undefined) => Promise<T>): Promise<T> {
  if (!mounts) return fn(undefined);
  const direct = directPath(mounts);
  if (direct) return fn(direct);
  const readOnly = mounts.map((m) => ({ ...m, options: [...m.options.filter((o) => o !== 'rw' && o !== 'ro'), 'ro'] }));
  return withTempMount(readOnly, tmp, fn);
}

/** lstat that reads a missing entry (or one removed while walking a live container) as absent. */
async function stat(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
}

const isWhiteout = (st: BigIntStats) => st.isCharacterDevice() && st.rdev === 0n;

/** A directory's own change: its type, permissions or owner (its size and mtime follow its entries). */
const dirMetaDiffers = (a: BigIntStats, b: BigIntStats) => a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid;

/** Equal mtimes, or equal seconds when either side dropped the nanoseconds (as Docker compares them). */
function sameTime(a: BigIntStats, b: BigIntStats): boolean {
  if (a.mtimeNs === b.mtimeNs) return true;
  const ns = 1_000_000_000n;
  return (a.mtimeNs % ns === 0n || b.mtimeNs % ns === 0n) && a.mtimeNs / ns === b.mtimeNs / ns;
}

async function sameContent(a: string, b: string): Promise<boolean> {
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const ba = Buffer.alloc(1 << 16);
    const bb = Buffer.alloc(1 << 16);
    for (;;) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, ba.length, null), fb.read(bb, 0, bb.length, null)]);
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      if (ra.bytesRead === 0) return true;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** A non-directory present on both sides: type, permissions, owner, device, size, link target, then time and content. */
async function fileDiffers(path: string, st: BigIntStats, oldPath: string, old: BigIntStats): Promise<boolean> {
  if (st.mode !== old.mode || st.uid !== old.uid || st.gid !== old.gid || st.rdev !== old.rdev || st.size !== old.size) return true;
  if (st.isSymbolicLink() && (await readlink(path)) !== (await readlink(oldPath))) return true;
  if (sameTime(st, old)) return false;
  // A rewrite with the same bytes, or a copy that lost the time, changes nothing in the file.
  return st.isFile() ? !(await sameContent(path, oldPath)) : true;
}

/**
 * Collects changes in order. A directory reserves its place before its
 * entries are walked and becomes C only if it changed itself or something
 * below it did, so the list comes out sorted without a second pass.
 */
class Walk {
  #changes: (Change | undefined)[] = [];
  /** Changes recorded so far, without the places directories keep. */
  #count = 0;
  #size = 0;
  #inodes = new Set<bigint>();

  result(): ChangeSet {
    return { changes: this.#changes.filter((c): c is Change => c !== undefined), size: this.#size };
  }

  #push(kind: Change['kind'], path: string, st?: BigIntStats): void {
    this.#changes.push({ kind, path });
    this.#count++;
    if (!st || st.isDirectory()) return;
    if (st.nlink > 1n) {
      if (this.#inodes.has(st.ino)) return;
      this.#inodes.add(st.ino);
    }
    this.#size += Number(st.size);
  }

  async #directory(path: string, changedItself: boolean, walkEntries: () => Promise<void>): Promise<void> {
    const slot = this.#changes.length;
    const before = this.#count;
    this.#changes.push(undefined);
    await walkEntries();
    if (changedItself || this.#count > before) {
      this.#changes[slot] = { kind: 'C', path };
      this.#count++;
    }
  }

  /** Everything at and below a path the parent lacks is added (an upperdir's whiteouts there hide nothing). */
  async #added(dir: string, path: string, st: BigIntStats, upper: boolean): Promise<void> {
    this.#push('A', path, st);
    if (!st.isDirectory()) return;
    for (const name of await names(dir)) {
      const child = await stat(join(dir, name));
      if (child && !(upper && isWhiteout(child))) await this.#added(join(dir, name), `${path}/${name}`, child, upper);
    }
  }

  /**
   * An overlay upperdir directory over `lower`, the same directory in the
   * parent's view (undefined when the parent has no directory there).
   * Entries absent from the upperdir are unchanged. A file copied up is C,
   * as Docker's overlay2 reports it. An opaque directory hides the parent's
   * whole subtree, so below it the upperdir is the complete new tree and is
   * compared with the parent's as a full tree would be: its hidden entries
   * are D, its own entries A or C. (Docker's overlay2 lists an opaque
   * directory itself as D, a form made for layer export, not for a directory
   * the container still has; its naive differ, and so Strata on every
   * driver, reports the same tree as here.)
   */
  async overlayDir(upper: string, lower: string | undefined, rel: string): Promise<void> {
    for (const name of await names(upper)) {
      const path = `${rel}/${name}`;
      const st = await stat(join(upper, name));
      if (!st) continue;
      const old = lower ? await stat(join(lower, name)) : undefined;
      if (isWhiteout(st)) {
        if (old) this.#push('D', path);
      } else if (!old) {
        await this.#added(join(upper, name), path, st, true);
      } else if (st.isDirectory()) {
        // Only a real directory of the parent's view is entered: a symlink there must not lead out of it.
        const oldDir = old.isDirectory() ? join(lower!, name) : undefined;
        const opaque = isOverlayOpaque(join(upper, name));
        await this.#directory(path, dirMetaDiffers(st, old), () =>
          oldDir && !opaque ? this.overlayDir(join(upper, name), oldDir, path) : this.compareDir(join(upper, name), oldDir, path, true),
        );
      } else {
        this.#push('C', path, st);
      }
    }
  }

  /** A full tree `dir` against the parent's `old` (undefined: nothing there); `upper` skips overlay whiteouts. */
  async compareDir(dir: string, old: string | undefined, rel: string, upper: boolean): Promise<void> {
    const news = await names(dir);
    const olds = old ? await names(old) : [];
    const all = [...new Set([...news, ...olds])].sort();
    const inNew = new Set(news);
    const inOld = new Set(olds);
    for (const name of all) {
      const path = `${rel}/${name}`;
      let st = inNew.has(name) ? await stat(join(dir, name)) : undefined;
      if (st && upper && isWhiteout(st)) st = undefined;
      const prev = inOld.has(name) ? await stat(join(old!, name)) : undefined;
      if (!st) {
        if (prev) this.#push('D', path);
      } else if (!prev) {
        await this.#added(join(dir, name), path, st, upper);
      } else if (st.isDirectory()) {
        const oldDir = prev.isDirectory() ? join(old!, name) : undefined;
        await this.#directory(path, dirMetaDiffers(st, prev), () => this.compareDir(join(dir, name), oldDir, path, upper));
      } else if (await fileDiffers(join(dir, name), st, join(old!, name), prev)) {
        this.#push('C', path, st);
      }
    }
  }
}
