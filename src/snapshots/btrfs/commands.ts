import { readFile } from 'node:fs/promises';
import { errors } from '../../errors/errors.js';
import { runTool, toolFailure, ToolError } from './tool.js';

/** Thin wrappers over btrfs-progs: spawning costs about 3 ms a call, so the BTRFS_IOC_* ioctls are not worth a native addon. */

const btrfs = (args: string[]) => runTool('btrfs', args, { driver: 'btrfs', pkg: 'btrfs-progs' });

/** `btrfs --version`, e.g. 'btrfs-progs v6.2'; throws driverUnsupported when btrfs-progs is missing. */
export async function btrfsVersion(): Promise<string> {
  return (await btrfs(['--version'])).stdout.trim();
}

export async function createSubvolume(path: string): Promise<void> {
  await btrfs(['subvolume', 'create', path]).catch((e) => {
    throw toolFailure(`btrfs: cannot create subvolume ${path}`, e, 'check free space on the btrfs filesystem');
  });
}

/** A snapshot of `source` at `path`; read-only when `readonly`. */
export async function snapshotSubvolume(source: string, path: string, readonly: boolean): Promise<void> {
  await btrfs(['subvolume', 'snapshot', ...(readonly ? ['-r'] : []), source, path]).catch((e) => {
    throw toolFailure(`btrfs: cannot snapshot ${source} to ${path}`, e, 'check free space and that the parent subvolume is intact');
  });
}

export async function setReadonly(path: string): Promise<void> {
  await btrfs(['property', 'set', '-ts', path, 'ro', 'true']).catch((e) => {
    throw toolFailure(`btrfs: cannot make ${path} read-only`, e, 'check that it is a subvolume');
  });
}

/** Deletes a subvolume (read-only ones too); one that is already gone is fine. */
export async function deleteSubvolume(path: string): Promise<void> {
  try {
    await btrfs(['subvolume', 'delete', path]);
  } catch (e) {
    if (e instanceof ToolError && /No such file|not found/i.test(e.stderr)) return;
    throw toolFailure(`btrfs: cannot delete subvolume ${path}`, e, 'unmount anything that uses it and retry');
  }
}

/** Whether quotas (qgroups) are enabled on the filesystem holding `path`. */
export async function quotasEnabled(path: string): Promise<boolean> {
  try {
    await btrfs(['qgroup', 'show', path]);
    return true;
  } catch (e) {
    if (e instanceof ToolError && /quota.*not enabled|ENOTCONN|ENOENT/i.test(e.stderr)) return false;
    throw toolFailure(`btrfs: cannot read quota groups under ${path}`, e, 'run `btrfs quota rescan -w` on the filesystem');
  }
}

/**
 * Bytes held only by the subvolume at `path` (its qgroup's exclusive size),
 * after a sync so the counters include everything written so far.
 */
export async function exclusiveBytes(path: string): Promise<number> {
  await btrfs(['filesystem', 'sync', path]);
  const id = (await btrfs(['inspect-internal', 'rootid', path])).stdout.trim();
  const { stdout } = await btrfs(['qgroup', 'show', '--raw', path]);
  for (const line of stdout.split('\n')) {
    const [qgroup, , exclusive] = line.trim().split(/\s+/);
    if (qgroup === `0/${id}`) return Number(exclusive);
  }
  throw errors.unavailable(`btrfs: no quota group 0/${id} for ${path}; run \`btrfs quota rescan -w\` on the filesystem`);
}

/** The mount point entry of `path` in /proc/self/mountinfo, or undefined when it is not a mount point. */
export async function mountAt(path: string): Promise<{ fstype: string; source: string } | undefined> {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  let found: { fstype: string; source: string } | undefined;
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    // The last entry for a mount point is the one on top.
    if (dash > 0 && unescape(fields[4]) === path) found = { fstype: fields[dash + 1], source: unescape(fields[dash + 2]) };
  }
  return found;
}

/** Loop-mounts the btrfs image `image` on `target`; the loop device detaches itself when it is unmounted. */
export async function mountImage(image: string, target: string): Promise<void> {
  try {
    await runTool('mount', ['-t', 'btrfs', '-o', 'loop', image, target], { driver: 'btrfs', pkg: 'mount' });
  } catch (e) {
    if (!(e instanceof ToolError)) throw e;
    if (/unknown filesystem type/.test(e.stderr)) {
      throw errors.driverUnsupported(`btrfs: the kernel has no btrfs filesystem (mounting ${image} failed); load it with \`modprobe btrfs\``);
    }
    throw errors.driverUnsupported(
      `btrfs: cannot mount the image ${image} on ${target}: ${e.stderr.trim()}; ` +
        'make it with `truncate -s 10G FILE && mkfs.btrfs FILE` and check that loop devices are available',
      { cause: e },
    );
  }
}
