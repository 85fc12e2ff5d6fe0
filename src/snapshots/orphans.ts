import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ID_PATTERN, type MetaStore } from './metastore.js';

/**
 * Deletes the snapshot entries in `dir` (named by a snapshot id) that have no
 * row: leftovers of a crash between a row's deletion and its directory's.
 * The listing is taken before the ids are read, and a row is always written
 * before its directory is created, so an entry listed here whose id is still
 * live is never touched, even while other processes prepare snapshots.
 * Returns the ids removed.
 */
export async function removeOrphans(dir: string, store: MetaStore): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => ID_PATTERN.test(n));
  const live = store.liveIds();
  const orphans = names.filter((n) => !live.has(n));
  for (const n of orphans) await rm(join(dir, n), { recursive: true, force: true });
  return orphans;
}
