import type { StorageDriver } from './driver/driver.js';
import { listOrEmpty } from './blob-store.js';
import { baseName, pathFor } from './paths.js';

const MARKERS = new Set(['_layers', '_manifests', '_uploads']);

/** Every repository name in byte order: directories holding `_layers`, `_manifests` or `_uploads`. */
export async function listRepositories(driver: StorageDriver): Promise<string[]> {
  const root = pathFor({ kind: 'repositoriesRoot' });
  const out: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    const children = await listOrEmpty(driver, dir);
    const names = children.map(baseName);
    if (names.some((n) => MARKERS.has(n))) out.push(dir.slice(root.length + 1));
    for (const c of children) {
      if (!baseName(c).startsWith('_')) await visit(c);
    }
  };
  await visit(root);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
