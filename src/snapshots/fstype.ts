import { statfs } from 'node:fs/promises';

/** statfs f_type magic numbers, named as `docker info` names them. */
const FS_NAMES = new Map<number, string>([
  [0xef53, 'extfs'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0x858458f6, 'ramfs'],
  [0x794c7630, 'overlayfs'],
  [0x2fc12fc1, 'zfs'],
  [0x6969, 'nfs'],
  [0xf2f52010, 'f2fs'],
  [0x73717368, 'squashfs'],
  [0x65735546, 'fuse'],
  [0xf15f, 'ecryptfs'],
  [0x61756673, 'aufs'],
]);

/** The name of the filesystem holding `path`, e.g. 'extfs', or 'unknown (0x…)'. */
export async function backingFilesystem(path: string): Promise<string> {
  const { type } = await statfs(path);
  // f_type is unsigned; Node may hand it back as a negative 32-bit int.
  const magic = type >>> 0;
  return FS_NAMES.get(magic) ?? `unknown (0x${magic.toString(16)})`;
}
