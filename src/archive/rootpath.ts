import { lstatSync, mkdirSync, readlinkSync, type Stats } from 'node:fs';
import { errnoCode, errors } from '../errors/errors.js';

/** Linux's MAXSYMLINKS: more hops than this is a loop. */
const MAX_SYMLINK_HOPS = 40;

/**
 * A cheap test for names that need no more than trimming a trailing '/'
 * (most of them); anything starting with '.' or '/', or containing '/.' or
 * '//', takes the full path.
 */
function isPlain(name: string): boolean {
  const c = name.charCodeAt(0);
  return c !== 0x2e && c !== 0x2f && !name.includes('/.') && !name.includes('//');
}

/**
 * Normalizes a tar name to 'a/b/c' ('' for the root): leading '/' (Docker
 * treats absolute names as relative to the root), '' and '.' components are
 * dropped and '..' is resolved lexically, as Go's filepath.Clean does. A '..'
 * that would climb above the root is an escape attempt.
 */
export function cleanName(name: string, entryName: string): string {
  // GNU tar writes "./a/b": strip that prefix without the general path.
  const rel = name.startsWith('./') ? name.slice(2) : name;
  if (isPlain(rel)) return rel.endsWith('/') ? rel.slice(0, -1) : rel;
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw errors.hostileArchive(`layer entry "${entryName}": path "${name}" escapes the layer root`);
      out.pop();
    } else {
      out.push(c);
    }
  }
  return out.join('/');
}

/** Splits a clean name into its parent ('' for the root) and base name. */
export function splitName(clean: string): [parent: string, base: string] {
  const slash = clean.lastIndexOf('/');
  return slash < 0 ? ['', clean] : [clean.slice(0, slash), clean.slice(slash + 1)];
}

/**
 * Resolves paths inside a layer root without ever letting the kernel follow a
 * symlink: every directory component is checked with lstat, symlinks are
 * followed by hand and only while they stay inside the root. Directories
 * already verified (or created) during this extraction are remembered by
 * their real, symlink-free key ('' is the root, 'a/b' below it), so a parent
 * costs one Map lookup after the first entry under it.
 *
 * Each known directory also records the group its new children get (its own
 * when setgid, else ours), which lets the unpacker skip a chown that would
 * change nothing.
 *
 * Invariant: if a key is known, all its prefixes are known; forget() keeps it.
 */
export class LayerRoot {
  private readonly prefix: string;
  private readonly known = new Map<string, number>();
  private readonly egid = process.getegid!();

  constructor(readonly root: string) {
    this.prefix = `${root}/`;
    this.known.set('', this.childGidOf(lstatSync(root)));
  }

  path(key: string): string {
    return key === '' ? this.root : this.prefix + key;
  }

  /** Group a file created in known directory `key` starts with. */
  childGid(key: string): number {
    return this.known.get(key)!;
  }

  /** Records that `key` is a real directory with owner group `gid` and permission bits `mode`. */
  markDir(key: string, mode: number, gid: number): void {
    this.known.set(key, mode & 0o2000 ? gid : this.egid);
  }

  /** A directory at `key` is about to disappear: forget it and everything below. */
  forget(key: string, onForget: (key: string) => void): void {
    if (key === '' || !this.known.has(key)) return; // by the invariant nothing below is known either
    const below = `${key}/`;
    for (const k of this.known.keys()) {
      if (k === key || k.startsWith(below)) {
        this.known.delete(k);
        onForget(k);
      }
    }
  }

  /**
   * The real key of directory `dir` (a clean name). Missing directories are
   * created (mode 0755, as Docker does for implied parents) and reported to
   * `onCreate`; with create=false a missing one yields null instead.
   */
  resolveDir(dir: string, entryName: string, create: boolean, onCreate: (key: string) => void): string | null {
    if (this.known.has(dir)) return dir;
    const real: string[] = [];
    const queue = dir.split('/');
    let hops = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === '' || c === '.') continue;
      const parentKey = real.join('/');
      if (c === '..') {
        if (real.length === 0) throw this.escape(entryName, dir);
        real.pop();
        continue;
      }
      real.push(c);
      const key = real.join('/');
      if (this.known.has(key)) continue;
      const path = this.prefix + key;
      let st;
      try {
        st = lstatSync(path);
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
        if (!create) return null;
        mkdirSync(path, 0o755);
        // A new directory inherits setgid, and so the children's group, from its parent.
        this.known.set(key, this.known.get(parentKey)!);
        onCreate(key);
        continue;
      }
      if (st.isDirectory()) {
        this.known.set(key, this.childGidOf(st));
      } else if (st.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw errors.hostileArchive(`layer entry "${entryName}": too many levels of symbolic links under "${dir}"`);
        }
        const target = readlinkSync(path);
        if (target.startsWith('/')) {
          throw errors.hostileArchive(
            `layer entry "${entryName}": path component "${key}" is a symlink to the absolute path "${target}", which points outside the layer`,
          );
        }
        real.pop();
        queue.unshift(...target.split('/'));
      } else {
        throw errors.corruptArchive(`layer entry "${entryName}": parent "${key}" exists and is not a directory`);
      }
    }
    return real.join('/');
  }

  private childGidOf(st: Stats): number {
    return st.mode & 0o2000 ? st.gid : this.egid;
  }

  private escape(entryName: string, dir: string) {
    return errors.hostileArchive(`layer entry "${entryName}": "${dir}" resolves through a symlink to a path outside the layer`);
  }
}
