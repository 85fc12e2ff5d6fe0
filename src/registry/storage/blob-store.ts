import type { Readable } from 'node:stream';
import { isDigest, type Digest } from '../../digest/digest.js';
import { errors, isStrataError } from '../../errors/errors.js';
import type { StorageDriver } from './driver/driver.js';
import { baseName, digestFromParts, pathFor } from './paths.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
  modTime: Date;
}

/**
 * The global blob store: every blob once, by digest, readable by no one
 * directly. Repositories see blobs only through their links (links.ts).
 */
export class BlobStore {
  readonly #driver: StorageDriver;

  constructor(driver: StorageDriver) {
    this.#driver = driver;
  }

  async stat(digest: Digest): Promise<BlobInfo> {
    try {
      const info = await this.#driver.stat(pathFor({ kind: 'blobData', digest }));
      return { digest, size: info.size, modTime: info.modTime };
    } catch (e) {
      if (isStrataError(e, 'NotFound')) throw errors.blobNotFound(`blob ${digest} is unknown to the registry`);
      throw e;
    }
  }

  async exists(digest: Digest): Promise<boolean> {
    try {
      await this.stat(digest);
      return true;
    } catch (e) {
      if (isStrataError(e, 'NotFound')) return false;
      throw e;
    }
  }

  reader(digest: Digest, start?: number, end?: number): Promise<Readable> {
    return this.#driver.reader(pathFor({ kind: 'blobData', digest }), start, end);
  }

  async get(digest: Digest): Promise<Buffer> {
    try {
      return await this.#driver.getContent(pathFor({ kind: 'blobData', digest }));
    } catch (e) {
      if (isStrataError(e, 'NotFound')) throw errors.blobNotFound(`blob ${digest} is unknown to the registry`);
      throw e;
    }
  }

  /** Stores small content (manifests) whose digest the caller computed. */
  put(digest: Digest, content: Uint8Array): Promise<void> {
    return this.#driver.putContent(pathFor({ kind: 'blobData', digest }), content);
  }

  /** Publishes a verified upload by renaming it into place. */
  moveIn(source: string, digest: Digest): Promise<void> {
    return this.#driver.move(source, pathFor({ kind: 'blobData', digest }));
  }

  delete(digest: Digest): Promise<void> {
    return this.#driver.delete(pathFor({ kind: 'blobDir', digest }));
  }

  /** Every stored blob, for garbage collection. */
  async *walk(): AsyncGenerator<Digest> {
    for (const alg of await listOrEmpty(this.#driver, pathFor({ kind: 'blobsRoot' }))) {
      for (const prefix of await listOrEmpty(this.#driver, alg)) {
        for (const dir of await listOrEmpty(this.#driver, prefix)) {
          const d = digestFromParts(baseName(alg), baseName(dir));
          if (isDigest(d)) yield d;
        }
      }
    }
  }
}

/** Lists a directory, treating a missing one as empty. */
export async function listOrEmpty(driver: StorageDriver, path: string): Promise<string[]> {
  try {
    return await driver.list(path);
  } catch (e) {
    if (isStrataError(e, 'NotFound')) return [];
    throw e;
  }
}
