import { isDigest, type Digest } from '../../digest/digest.js';
import { errors, isStrataError } from '../../errors/errors.js';
import { listOrEmpty } from './blob-store.js';
import type { StorageDriver } from './driver/driver.js';
import { baseName, digestFromParts, pathFor } from './paths.js';

/** Reads a link file; undefined when it is missing. A corrupt link is data loss, said loudly. */
export async function readLink(driver: StorageDriver, path: string): Promise<Digest | undefined> {
  let text: string;
  try {
    text = (await driver.getContent(path)).toString('utf8').trim();
  } catch (e) {
    if (isStrataError(e, 'NotFound')) return undefined;
    throw e;
  }
  if (!isDigest(text)) throw errors.corruptArchive(`link ${path} holds "${text.slice(0, 100)}", not a digest; remove it or restore it from a backup`);
  return text;
}

export function writeLink(driver: StorageDriver, path: string, digest: Digest): Promise<void> {
  return driver.putContent(path, Buffer.from(digest));
}

/** Deletes a file or tree; false when it was already gone. */
export async function deleteIfExists(driver: StorageDriver, path: string): Promise<boolean> {
  try {
    await driver.delete(path);
    return true;
  } catch (e) {
    if (isStrataError(e, 'NotFound')) return false;
    throw e;
  }
}

/** Lists `<root>/<alg>/<hex>` pairs as digests, for layer and revision links. */
export async function listDigestDirs(driver: StorageDriver, root: string): Promise<Digest[]> {
  const out: Digest[] = [];
  for (const alg of await listOrEmpty(driver, root)) {
    for (const hex of await listOrEmpty(driver, alg)) {
      const d = digestFromParts(baseName(alg), baseName(hex));
      if (isDigest(d)) out.push(d);
    }
  }
  return out;
}

/** A repository's right to read a global blob: `_layers/<alg>/<hex>/link`. */
export class LayerLinks {
  readonly #driver: StorageDriver;

  constructor(driver: StorageDriver) {
    this.#driver = driver;
  }

  async has(name: string, digest: Digest): Promise<boolean> {
    return (await readLink(this.#driver, pathFor({ kind: 'layerLink', name, digest }))) === digest;
  }

  /** When the link was written; undefined if it is missing. */
  async linkedAt(name: string, digest: Digest): Promise<Date | undefined> {
    try {
      return (await this.#driver.stat(pathFor({ kind: 'layerLink', name, digest }))).modTime;
    } catch (e) {
      if (isStrataError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  link(name: string, digest: Digest): Promise<void> {
    return writeLink(this.#driver, pathFor({ kind: 'layerLink', name, digest }), digest);
  }

  unlink(name: string, digest: Digest): Promise<boolean> {
    return deleteIfExists(this.#driver, pathFor({ kind: 'layerDir', name, digest }));
  }

  list(name: string): Promise<Digest[]> {
    return listDigestDirs(this.#driver, pathFor({ kind: 'layersRoot', name }));
  }
}
