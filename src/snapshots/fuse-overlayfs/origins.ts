import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { linux } from '../../native/linux.js';

/** Where fuse-overlayfs records the lower path a copied-up file came from. */
export const ORIGIN_XATTR = 'user.fuseoverlayfs.origin';

/**
 * Empties the origin xattrs fuse-overlayfs left on copied-up files in the
 * upperdir `dir`. In the mount that copied them up, an origin keeps the
 * file's inode number; once the upperdir is a committed lower layer it would
 * make fuse-overlayfs take the copy and its origin (with all of the origin's
 * hard links) for one inode and serve the older content. An empty value
 * reads as no origin (there is no lremovexattr binding to delete it).
 */
export async function forgetOrigins(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    const path = join(e.parentPath, e.name);
    if (linux.llistxattr(path).includes(ORIGIN_XATTR)) linux.lsetxattr(path, ORIGIN_XATTR, Buffer.alloc(0));
  }
}
