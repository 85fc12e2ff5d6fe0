import { lstat, readdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../../errors/errors.js';
import type { Usage } from '../snapshotter.js';

/**
 * What the tree `dir` adds on top of `parentDir`, the tree it was cloned
 * from by a btrfs snapshot or a thin device snapshot, counted like diskUsage
 * counts an overlay upperdir: sizes of the non-directories and the number of
 * inodes that are new or changed, hard links once. Such clones keep their
 * parent's inode numbers and ctimes, and any change to an inode moves its
 * ctime, so an entry is unchanged exactly when the parent has the same path
 * with the same inode number and ctime. Without a parent everything counts.
 */
export async function cloneDiffUsage(dir: string, parentDir: string | undefined): Promise<Usage> {
  const seen = new Set<number>();
  let size = 0;
  const pending = [''];
  for (let rel = pending.pop(); rel !== undefined; rel = pending.pop()) {
    const names = await readdir(join(dir, rel));
    const stats = await Promise.all(names.map((n) => lstat(join(dir, rel, n))));
    const before = parentDir ? await Promise.all(names.map((n) => lstatOrNull(join(parentDir, rel, n)))) : [];
    names.forEach((n, i) => {
      const st = stats[i];
      // Unchanged directories can still hold changed entries: always descend.
      if (st.isDirectory()) pending.push(join(rel, n));
      if (unchanged(st, before[i]) || seen.has(st.ino)) return;
      seen.add(st.ino);
      if (!st.isDirectory()) size += st.size;
    });
  }
  return { size, inodes: seen.size };
}

function unchanged(st: Stats, parent: Stats | null | undefined): boolean {
  return !!parent && parent.ino === st.ino && parent.ctimeMs === st.ctimeMs;
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return null;
    throw e;
  }
}
