import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errnoCode, errors } from '../../errors/errors.js';
import { unmount } from '../../mount/linux.js';
import { linux } from '../../native/linux.js';
import { backingFilesystem } from '../fstype.js';
import type { OverlayFeatures } from './layout.js';

/** Filesystems overlayfs cannot take as an upper layer (or not reliably). */
const BAD_BACKING = new Set(['overlayfs', 'aufs', 'ecryptfs', 'nfs', 'fuse', 'squashfs']);

const probes = new Map<string, Promise<OverlayFeatures>>();

/**
 * Mounts a real overlay in a temporary directory under `<root>/overlay` and
 * reports which optional mount options the kernel takes. Runs once per data
 * root per process; a failure is not cached, so a fixed system can retry.
 * Throws errors.driverUnsupported saying what is missing.
 */
export function probeOverlay(root: string): Promise<OverlayFeatures> {
  const key = resolve(root);
  let p = probes.get(key);
  if (!p) {
    p = runProbe(key);
    probes.set(key, p);
    p.catch(() => probes.delete(key));
  }
  return p;
}

async function runProbe(root: string): Promise<OverlayFeatures> {
  const home = join(root, 'overlay');
  await mkdir(home, { recursive: true, mode: 0o710 });
  const fs = await backingFilesystem(home);
  if (BAD_BACKING.has(fs)) {
    throw errors.driverUnsupported(
      `overlay: the data root ${root} is on ${fs}, which overlayfs cannot use for its layers; ` +
        'put the data root on ext4, xfs or btrfs, or use the vfs storage driver',
    );
  }
  // Not named like a snapshot id, so orphan sweeps leave it alone.
  const dir = await mkdtemp(join(home, 'probe-'));
  try {
    let n = 0;
    const attempt = async (extra: string[]): Promise<unknown> => {
      const d = join(dir, String(n++));
      for (const sub of ['l1', 'l2', 'upper', 'work', 'merged']) await mkdir(join(d, sub), { recursive: true });
      const data = [...extra, `lowerdir=${d}/l1:${d}/l2`, `upperdir=${d}/upper`, `workdir=${d}/work`].join(',');
      try {
        linux.mount('overlay', join(d, 'merged'), 'overlay', 0, data);
      } catch (e) {
        return e;
      }
      unmount(join(d, 'merged'));
      return undefined;
    };
    const err = await attempt([]);
    if (err !== undefined) throw errors.driverUnsupported(explain(err, root, fs), { cause: err });
    return {
      indexOff: (await attempt(['index=off'])) === undefined,
      redirectDirOff: (await attempt(['redirect_dir=off'])) === undefined,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function explain(err: unknown, root: string, fs: string): string {
  const what = `overlay: a test overlay mount under ${root} (on ${fs}) failed`;
  switch (errnoCode(err)) {
    case 'ENODEV':
      return `${what}: the kernel has no overlay filesystem; load it with \`modprobe overlay\` or use the vfs storage driver`;
    case 'EPERM':
    case 'EACCES':
      return `${what}: not permitted; overlay mounts need root (CAP_SYS_ADMIN) or use the vfs storage driver`;
    default:
      return `${what}: ${(err as Error).message}; see dmesg for the kernel's reason, or use the vfs storage driver`;
  }
}
