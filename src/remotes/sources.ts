import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { algorithmOf, hexOf, type Digest } from '../digest/digest.js';
import { errnoCode } from '../errors/errors.js';

/** Repositories remembered per blob; older ones drop off. */
const MAX_SOURCES = 8;

/**
 * Where blobs came from or went to ("registry/repository"), so a push can
 * ask the registry to mount a blob from another repository it already holds
 * instead of uploading it (containerd keeps the same hint as a content label,
 * distribution.source.<registry>). One small JSON file per blob under
 * <root>/distribution/sources; a lost update only costs an upload.
 */
export class BlobSources {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'distribution', 'sources');
  }

  #path(d: Digest): string {
    return join(this.dir, algorithmOf(d), hexOf(d));
  }

  async get(d: Digest): Promise<string[]> {
    try {
      const list = JSON.parse(await readFile(this.#path(d), 'utf8')) as unknown;
      return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || e instanceof SyntaxError) return [];
      throw e;
    }
  }

  /** Records `repository` (registry/path) as a holder of each blob. */
  async add(blobs: Digest[], repository: string): Promise<void> {
    for (const d of new Set(blobs)) {
      const list = (await this.get(d)).filter((r) => r !== repository);
      list.unshift(repository);
      const path = this.#path(d);
      await mkdir(join(path, '..'), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(list.slice(0, MAX_SOURCES)));
      await rename(tmp, path);
    }
  }

  /** Other repositories of `registry` known to hold the blob, nearest first. */
  async mountCandidates(d: Digest, registry: string, except: string): Promise<string[]> {
    return (await this.get(d))
      .filter((r) => r.startsWith(`${registry}/`) && r !== `${registry}/${except}`)
      .map((r) => r.slice(registry.length + 1));
  }
}
