import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errors } from '../../errors/errors.js';
import { unmount } from '../../mount/linux.js';
import { FUSE_OVERLAYFS_TYPE, mountFuseOverlayfs } from '../../mount/fuse.js';

const probes = new Map<string, Promise<void>>();

/**
 * Mounts a real fuse-overlayfs in a temporary directory under
 * `<root>/fuse-overlayfs` and reads a lower file through it. Runs once per
 * data root per process; a failure is not cached. Throws
 * errors.driverUnsupported naming what is missing: /dev/fuse, the
 * fuse-overlayfs program, or a working mount.
 */
export function probeFuseOverlayfs(root: string): Promise<void> {
  const key = resolve(root);
  let p = probes.get(key);
  if (!p) {
    p = runProbe(key);
    probes.set(key, p);
    p.catch(() => probes.delete(key));
  }
  return p;
}

async function runProbe(root: string): Promise<void> {
  try {
    await access('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch (e) {
    throw errors.driverUnsupported(
      'fuse-overlayfs: /dev/fuse is missing or not accessible; load the fuse module (`modprobe fuse`) ' +
        'or, in a container, pass the device in (--device /dev/fuse)',
      { cause: e },
    );
  }
  const home = join(root, 'fuse-overlayfs');
  await mkdir(home, { recursive: true, mode: 0o710 });
  // Not named like a snapshot id, so orphan sweeps leave it alone.
  const dir = await mkdtemp(join(home, 'probe-'));
  try {
    for (const sub of ['lower', 'upper', 'work', 'merged']) await mkdir(join(dir, sub));
    await writeFile(join(dir, 'lower', 'f'), 'ok');
    const mount = {
      type: FUSE_OVERLAYFS_TYPE,
      source: 'fuse-overlayfs',
      options: [`lowerdir=${dir}/lower`, `upperdir=${dir}/upper`, `workdir=${dir}/work`],
    };
    try {
      mountFuseOverlayfs(mount, join(dir, 'merged'));
    } catch (e) {
      throw errors.driverUnsupported(`fuse-overlayfs: a test mount under ${root} failed: ${(e as Error).message}`, { cause: e });
    }
    try {
      if ((await readFile(join(dir, 'merged', 'f'), 'utf8')) !== 'ok') {
        throw errors.driverUnsupported(`fuse-overlayfs: a test mount under ${root} does not show its lower layer`);
      }
    } finally {
      unmount(join(dir, 'merged'));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
