import { spawnSync } from 'node:child_process';
import { errors } from '../errors/errors.js';
import type { Mount } from './mount.js';

/** The mount type fuse-overlayfs mounts show in /proc/self/mountinfo, and that the driver hands out. */
export const FUSE_OVERLAYFS_TYPE = 'fuse.fuse-overlayfs';

/**
 * Performs a `fuse.fuse-overlayfs` mount, which mount(2) alone cannot: a
 * FUSE filesystem needs its daemon. fuse-overlayfs mounts, then forks into
 * the background (stdio on /dev/null), so when it returns the mount is in
 * place; umount(2) ends the daemon. Every option (lowerdir, upperdir,
 * workdir, ro...) goes to its -o, unchanged; argv has no page limit, so
 * absolute lowerdirs always fit. Synchronous, like mount(2).
 */
export function mountFuseOverlayfs(m: Mount, target: string): void {
  const r = spawnSync('fuse-overlayfs', ['-o', m.options.join(','), target], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw errors.unavailable(
      missing
        ? `mount ${m.type} on ${target} failed: fuse-overlayfs is not installed; install Debian's fuse-overlayfs package`
        : `mount ${m.type} on ${target} failed: ${r.error.message}`,
      { cause: r.error },
    );
  }
  if (r.status !== 0) {
    // fuse-overlayfs warns about options it ignores even when it succeeds: keep only what explains the failure.
    const why = r.stderr.split('\n').filter((l) => l && !/argument ignored/.test(l)).join('; ');
    throw errors.unavailable(`mount ${m.type} on ${target} failed (fuse-overlayfs exit ${r.status ?? r.signal}): ${why}`);
  }
}
