import { lstatSync, readdirSync, rmSync, type Stats } from 'node:fs';
import { errnoCode, errors } from '../errors/errors.js';
import { linux } from '../native/linux.js';

/**
 * Everything about whiteouts, in the tar form (OCI image spec: `.wh.<name>`
 * deletes <name>, `.wh..wh..opq` hides every lower child of its directory)
 * and in the two on-disk forms a layer can be unpacked to:
 *  - overlay: what overlayfs reads in an upperdir, a 0/0 character device per
 *    deleted path and the trusted.overlay.opaque=y xattr on opaque dirs;
 *  - plain: a full copy of the parent tree (vfs) where deletions really happen.
 */
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export type WhiteoutKind = { kind: 'none' } | { kind: 'opaque' } | { kind: 'whiteout'; target: string };

const NONE: WhiteoutKind = { kind: 'none' };
const OPAQUE: WhiteoutKind = { kind: 'opaque' };

/**
 * Classifies a tar entry by its base name. A whiteout naming nothing, `.` or
 * `..` could only be an attempt to delete the directory itself or its parent.
 */
export function classifyWhiteout(base: string, entryName: string): WhiteoutKind {
  if (!base.startsWith(WHITEOUT_PREFIX)) return NONE;
  if (base === OPAQUE_WHITEOUT) return OPAQUE;
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') {
    throw errors.hostileArchive(`layer entry "${entryName}": whiteout "${base}" does not name a file to delete`);
  }
  return { kind: 'whiteout', target };
}

/** overlay, tar → disk: a whiteout is a 0/0 character device owned like the tar entry. */
export function makeOverlayWhiteout(path: string): void {
  linux.mknod(path, linux.S_IFCHR, 0, 0);
}

/** overlay, tar → disk: an opaque directory carries trusted.overlay.opaque=y. */
export function markOverlayOpaque(dirPath: string): void {
  linux.lsetxattr(dirPath, OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
}

/** overlay, disk → tar: is this upperdir node a whiteout? */
export function isOverlayWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** overlay, disk → tar: does this upperdir directory hide its lower children? */
export function isOverlayOpaque(dirPath: string): boolean {
  const v = linux.lgetxattr(dirPath, OVERLAY_OPAQUE_XATTR);
  return v !== null && v.length === 1 && v[0] === 0x79; // 'y'
}

/** overlay xattrs describe the upperdir itself, never image content. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.');
}

/** plain, tar → disk: a whiteout deletes the path (a missing path is fine). */
export function removeWhitedOut(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/**
 * plain, tar → disk: an opaque whiteout deletes every descendant of the
 * directory that this layer did not unpack itself (`keep`), wherever the
 * marker appears in the tar. `onRemove` runs before each deletion so callers
 * can forget cached state about the removed subtree.
 */
export function removeOpaqueChildren(
  dirPath: string,
  dirKey: string,
  keep: (key: string) => boolean,
  onRemove: (key: string) => void,
): void {
  let names: string[];
  try {
    names = readdirSync(dirPath);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw e;
  }
  for (const name of names) {
    const key = dirKey === '' ? name : `${dirKey}/${name}`;
    const path = `${dirPath}/${name}`;
    if (!keep(key)) {
      onRemove(key);
      rmSync(path, { recursive: true, force: true });
    } else if (lstatSync(path).isDirectory()) {
      removeOpaqueChildren(path, key, keep, onRemove);
    }
  }
}
