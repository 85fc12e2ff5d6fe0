import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { errnoCode, errors } from '../errors/errors.js';

/** Linux's MAXSYMLINKS: more hops than this is a loop. */
const MAX_SYMLINK_HOPS = 40;

/**
 * Splits a tar name into clean components: leading '/' (Docker treats
 * absolute names as relative to the root), '' and '.' are dropped and '..'
 * is resolved lexically, as Go's filepath.Clean does. A '..' that would climb
 * above the root is an escape attempt.
 */
export function cleanName(name: string, entryName: string): string[] {
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
  return out;
}

/**
 * Resolves paths inside a layer root without ever letting the kernel follow a
 * symlink: every directory component is checked with lstat, symlinks are
 * followed by hand and only while they stay inside the root. Directories
 * already verified (or created) during this extraction are remembered by
 * their real, symlink-free key ('' is the root, 'a/b' below it), so a parent
 * costs one Map lookup after the first entry under it.
 *
 * Invariant: if a key is known, all its prefixes are known; forget() keeps it.
 */
export class LayerRoot {
  private readonly prefix: string;
  private readonly known = new Set<string>();

  constructor(readonly root: string) {
    this.prefix = `${root}/`;
  }

  path(key: string): string {
    return key === '' ? this.root : this.prefix + key;
  }

  /** Records that `key` is a real directory created or verified by us. */
  markDir(key: string): void {
    this.known.add(key);
  }

  /** A directory at `key` is about to disappear: forget it and everything below. */
  forget(key: string, onForget: (key: string) => void): void {
    if (!this.known.has(key)) return; // by the invariant nothing below is known either
    const below = `${key}/`;
    for (const k of this.known) {
      if (k === key || k.startsWith(below)) {
        this.known.delete(k);
        onForget(k);
      }
    }
  }

  /**
   * The real key of directory `parts`. Missing directories are created (mode
   * 0755, as Docker does for implied parents) and reported to `onCreate`;
   * with create=false a missing one yields null instead.
   */
  resolveDir(parts: string[], entryName: string, create: boolean, onCreate: (key: string) => void): string | null {
    const direct = parts.join('/');
    if (direct === '' || this.known.has(direct)) return direct;
    const real: string[] = [];
    const queue = parts.slice();
    let hops = 0;
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (real.length === 0) throw this.escape(entryName, parts);
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
        this.known.add(key);
        onCreate(key);
        continue;
      }
      if (st.isDirectory()) {
        this.known.add(key);
      } else if (st.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw errors.hostileArchive(`layer entry "${entryName}": too many levels of symbolic links under "${parts.join('/')}"`);
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

  private escape(entryName: string, parts: string[]) {
    return errors.hostileArchive(`layer entry "${entryName}": "${parts.join('/')}" resolves through a symlink to a path outside the layer`);
  }
}
