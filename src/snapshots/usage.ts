import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Usage } from './snapshotter.js';

/**
 * Apparent usage of a directory tree, as `docker system df` counts it: the
 * sum of the sizes of everything that is not a directory, each hard-linked
 * inode once, and the number of distinct inodes below `dir` (directories
 * included, `dir` itself not).
 */
export async function diskUsage(dir: string): Promise<Usage> {
  const seen = new Set<number>();
  let size = 0;
  const pending = [dir];
  for (let d = pending.pop(); d !== undefined; d = pending.pop()) {
    const entries = await readdir(d, { withFileTypes: true });
    const stats = await Promise.all(entries.map((e) => lstat(join(d, e.name))));
    entries.forEach((e, i) => {
      const st = stats[i];
      if (st.isDirectory()) pending.push(join(d, e.name));
      // One device: the tree is a single snapshot directory.
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
      if (!st.isDirectory()) size += st.size;
    });
  }
  return { size, inodes: seen.size };
}
