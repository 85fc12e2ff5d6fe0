import { mkdtemp, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { linux } from '../native/linux.js';
import { errors } from '../errors/errors.js';
import { FUSE_OVERLAYFS_TYPE, mountFuseOverlayfs } from './fuse.js';
import { MOUNT_DATA_LIMIT, relativeOverlayOptions, type Mount } from './mount.js';

const FLAG_OPTIONS: Record<string, number> = {
  ro: linux.MS_RDONLY,
  nosuid: linux.MS_NOSUID,
  nodev: linux.MS_NODEV,
  noexec: linux.MS_NOEXEC,
  bind: linux.MS_BIND,
  rbind: linux.MS_BIND | linux.MS_REC,
};
const IGNORED_OPTIONS = new Set(['rw', 'defaults']);

/**
 * Performs one mount. Overlay data longer than a page would be cut by the
 * kernel, so deep overlays are mounted with layer paths relative to their
 * common directory, chdir-ing there for the (synchronous) call as overlay2
 * does; nothing else runs on this thread in between.
 */
export function mountAt(m: Mount, target: string): void {
  // A FUSE filesystem needs its daemon, which the helper starts.
  if (m.type === FUSE_OVERLAYFS_TYPE) return mountFuseOverlayfs(m, target);
  let flags = 0;
  let options = m.options;
  let cwd: string | undefined;
  if (m.type === 'overlay' && Buffer.byteLength(options.join(',')) > MOUNT_DATA_LIMIT) {
    const rel = relativeOverlayOptions(options);
    if (rel) ({ dir: cwd, options } = rel);
  }
  const data: string[] = [];
  for (const o of options) {
    if (o in FLAG_OPTIONS) flags |= FLAG_OPTIONS[o];
    else if (!IGNORED_OPTIONS.has(o)) data.push(o);
  }
  const fstype = m.type === 'bind' ? null : m.type;
  if (m.type === 'bind') flags |= linux.MS_BIND;
  const previous = cwd ? process.cwd() : undefined;
  try {
    if (cwd) process.chdir(cwd);
    linux.mount(m.source, resolve(previous ?? '.', target), fstype, flags, data.length ? data.join(',') : null);
    // A bind mount ignores MS_RDONLY on the first call; remount to apply it.
    if (m.type === 'bind' && flags & linux.MS_RDONLY) {
      linux.mount(null, target, null, flags | linux.MS_REMOUNT, null);
    }
  } catch (e) {
    throw errors.unavailable(`mount ${m.type} on ${target} failed: ${(e as Error).message}`, { cause: e });
  } finally {
    if (previous) process.chdir(previous);
  }
}

export function mountAll(mounts: Mount[], target: string): void {
  for (const m of mounts) mountAt(m, m.target ? join(target, m.target) : target);
}

/** Unmounts, detaching lazily if the mount is busy so nothing is left behind. */
export function unmount(target: string): void {
  try {
    linux.umount(target, 0);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EINVAL' || code === 'ENOENT') return; // not mounted
    if (code === 'EBUSY') {
      linux.umount(target, linux.MNT_DETACH);
      return;
    }
    throw e;
  }
}

/** Mounts into a fresh temporary directory for the duration of fn, then always unmounts. */
export async function withTempMount<T>(mounts: Mount[], tmpRoot: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpRoot, 'mnt-'));
  try {
    mountAll(mounts, dir);
    try {
      return await fn(dir);
    } finally {
      unmount(dir);
    }
  } finally {
    // rmdir, never a recursive rm: if the unmount failed, the mounted snapshot must survive.
    await rmdir(dir);
  }
}
