import type { Digest } from '../../digest/digest.js';
import { isStrataError } from '../../errors/errors.js';
import { listOrEmpty } from './blob-store.js';
import type { StorageDriver } from './driver/driver.js';
import { regError } from './errors.js';
import { deleteIfExists, readLink, writeLink } from './links.js';
import { baseName, pathFor } from './paths.js';

/** Tags are `_manifests/tags/<tag>/current/link` files naming a manifest digest. */
export class TagStore {
  readonly #driver: StorageDriver;

  constructor(driver: StorageDriver) {
    this.#driver = driver;
  }

  async resolve(name: string, tag: string): Promise<Digest> {
    const d = await readLink(this.#driver, pathFor({ kind: 'tagCurrentLink', name, tag }));
    if (!d) throw regError('MANIFEST_UNKNOWN', `manifest unknown: tag ${tag} is not in repository ${name}`, { detail: { Tag: tag } });
    return d;
  }

  async lookup(name: string, tag: string): Promise<Digest | undefined> {
    return readLink(this.#driver, pathFor({ kind: 'tagCurrentLink', name, tag }));
  }

  tag(name: string, tag: string, digest: Digest): Promise<void> {
    return writeLink(this.#driver, pathFor({ kind: 'tagCurrentLink', name, tag }), digest);
  }

  async untag(name: string, tag: string): Promise<void> {
    if (!(await deleteIfExists(this.#driver, pathFor({ kind: 'tagDir', name, tag })))) {
      throw regError('MANIFEST_UNKNOWN', `manifest unknown: tag ${tag} is not in repository ${name}`, { detail: { Tag: tag } });
    }
  }

  /** All tags in byte order; NAME_UNKNOWN when the repository does not exist. */
  async list(name: string): Promise<string[]> {
    try {
      const tags = (await this.#driver.list(pathFor({ kind: 'tagsRoot', name }))).map(baseName);
      return tags.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } catch (e) {
      if (!isStrataError(e, 'NotFound')) throw e;
    }
    try {
      await this.#driver.stat(pathFor({ kind: 'repository', name }));
      return [];
    } catch (e) {
      if (isStrataError(e, 'NotFound')) throw regError('NAME_UNKNOWN', `repository name not known to registry: ${name}`, { detail: { name } });
      throw e;
    }
  }

  /** Tags pointing at `digest`, for manifest deletion. */
  async tagsOf(name: string, digest: Digest): Promise<string[]> {
    const out: string[] = [];
    for (const p of await listOrEmpty(this.#driver, pathFor({ kind: 'tagsRoot', name }))) {
      const tag = baseName(p);
      if ((await this.lookup(name, tag).catch(() => undefined)) === digest) out.push(tag);
    }
    return out;
  }
}
