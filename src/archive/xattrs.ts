import { errnoCode } from '../errors/errors.js';
import { linux } from '../native/linux.js';
import { isOverlayXattr } from './whiteouts.js';

/**
 * Which extended attributes travel in layers: everything but the overlay
 * driver's own bookkeeping and SELinux labels, which belong to the host's
 * policy rather than to the image.
 */
export function isLayerXattr(name: string): boolean {
  return !isOverlayXattr(name) && name !== 'security.selinux';
}

/** The layer xattrs of a path (not following symlinks), sorted by name. */
export function readXattrs(path: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of linux.llistxattr(path).sort()) {
    if (!isLayerXattr(name)) continue;
    const value = linux.lgetxattr(path, name);
    if (value !== null) out.set(name, value);
  }
  return out;
}

/**
 * Sets xattrs from a tar entry. Like Docker, EPERM (user.* on a symlink or
 * device, restricted user namespaces) and ENOTSUP are skipped, not fatal.
 */
export function writeXattrs(path: string, xattrs: Map<string, Buffer>): void {
  for (const [name, value] of xattrs) {
    if (!isLayerXattr(name)) continue;
    try {
      linux.lsetxattr(path, name, value);
    } catch (e) {
      const code = errnoCode(e);
      if (code !== 'EPERM' && code !== 'ENOTSUP') throw e;
    }
  }
}
