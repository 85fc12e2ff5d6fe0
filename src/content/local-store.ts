import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { algorithmOf, hexOf, isDigest, parseDigest, type Algorithm, type Digest } from '../digest/digest.js';
import { errnoCode, errors } from '../errors/errors.js';
import type { BlobInfo, ContentStore, ContentWriter, IngestStatus } from './store.js';

/**
 * Content store on a local filesystem, laid out as containerd's:
 *   <root>/blobs/<alg>/<hex>                 committed, immutable
 *   <root>/ingest/<sha256(ref)>/{ref,data,startedat,total}   in progress
 * Commit is a rename within one filesystem, so a blob appears whole or not at all.
 */
export class LocalContentStore implements ContentStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  static async open(root: string): Promise<LocalContentStore> {
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
    await mkdir(join(root, 'ingest'), { recursive: true });
    return new LocalContentStore(root);
  }

  blobPath(digest: Digest): string {
    return join(this.root, 'blobs', algorithmOf(digest), hexOf(digest));
  }

  #ingestDir(ref: string): string {
    return join(this.root, 'ingest', createHash('sha256').update(ref).digest('hex'));
  }

  async info(digest: Digest): Promise<BlobInfo> {
    try {
      const st = await stat(this.blobPath(digest));
      return { digest, size: st.size, createdAt: st.mtime };
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw errors.blobNotFound(`blob ${digest} not found in the content store`);
      throw e;
    }
  }

  async exists(digest: Digest): Promise<boolean> {
    try {
      await stat(this.blobPath(digest));
      return true;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw e;
    }
  }

  async reader(digest: Digest, range: { start?: number; end?: number } = {}): Promise<Readable> {
    await this.info(digest);
    return createReadStream(this.blobPath(digest), { ...range, highWaterMark: 1 << 20 });
  }

  async readAll(digest: Digest, maxBytes: number): Promise<Buffer> {
    const { size } = await this.info(digest);
    if (size > maxBytes) {
      throw errors.invalidArgument(`blob ${digest} is ${size} bytes, more than the ${maxBytes} allowed here`);
    }
    return readFile(this.blobPath(digest));
  }

  async put(data: Buffer | string, expected?: Digest): Promise<Digest> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const algorithm: Algorithm = expected ? algorithmOf(expected) : 'sha256';
    const digest: Digest = `${algorithm}:${createHash(algorithm).update(buf).digest('hex')}`;
    if (expected && digest !== expected) {
      throw errors.digestMismatch(`content has digest ${digest}, expected ${expected}`);
    }
    if (await this.exists(digest)) return digest;
    // Named by the digest, so what a killed process left is reused, not leaked.
    const dir = join(this.root, 'ingest', `put-${hexOf(digest)}`);
    await mkdir(dir, { recursive: true });
    try {
      await writeFile(join(dir, 'data'), buf);
      await publish(join(dir, 'data'), this.blobPath(digest));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return digest;
  }

  async writer(ref: string, opts: { total?: number } = {}): Promise<ContentWriter> {
    const dir = this.#ingestDir(ref);
    await mkdir(dir, { recursive: true });
    const dataPath = join(dir, 'data');
    let existing = 0;
    const hash = createHash('sha256');
    try {
      // Resume: re-hash what an earlier writer left (a Hash cannot be serialised).
      const st = await stat(dataPath);
      existing = st.size;
      for await (const chunk of createReadStream(dataPath, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
      await writeFile(join(dir, 'ref'), ref);
      await writeFile(join(dir, 'startedat'), new Date().toISOString());
    }
    if (opts.total !== undefined) await writeFile(join(dir, 'total'), String(opts.total));
    return new LocalWriter(this, ref, dir, dataPath, existing, hash);
  }

  async delete(digest: Digest): Promise<void> {
    try {
      await unlink(this.blobPath(digest));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw errors.blobNotFound(`blob ${digest} not found in the content store`);
      throw e;
    }
  }

  async *walk(): AsyncIterable<BlobInfo> {
    for (const alg of ['sha256', 'sha512'] as const) {
      let names: string[];
      try {
        names = await readdir(join(this.root, 'blobs', alg));
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') continue;
        throw e;
      }
      for (const hex of names) {
        const digest = `${alg}:${hex}`;
        if (!isDigest(digest)) continue;
        try {
          const st = await stat(join(this.root, 'blobs', alg, hex));
          yield { digest, size: st.size, createdAt: st.mtime };
        } catch (e) {
          if (errnoCode(e) !== 'ENOENT') throw e; // deleted meanwhile
        }
      }
    }
  }

  async ingests(): Promise<IngestStatus[]> {
    const out: IngestStatus[] = [];
    for (const name of await readdir(join(this.root, 'ingest'))) {
      const dir = join(this.root, 'ingest', name);
      try {
        const [ref, startedAt, st, total] = await Promise.all([
          readFile(join(dir, 'ref'), 'utf8'),
          readFile(join(dir, 'startedat'), 'utf8'),
          stat(join(dir, 'data')).catch(() => ({ size: 0 })),
          readFile(join(dir, 'total'), 'utf8').catch(() => undefined),
        ]);
        out.push({ ref, offset: st.size, total: total ? Number(total) : undefined, startedAt: new Date(startedAt) });
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
      }
    }
    return out;
  }

  async abortIngest(ref: string): Promise<void> {
    await rm(this.#ingestDir(ref), { recursive: true, force: true });
  }
}

class LocalWriter implements ContentWriter {
  readonly ref: string;
  readonly stream: Writable;
  #store: LocalContentStore;
  #dir: string;
  #dataPath: string;
  #hash: Hash;
  #offset: number;

  constructor(store: LocalContentStore, ref: string, dir: string, dataPath: string, offset: number, hash: Hash) {
    this.#store = store;
    this.ref = ref;
    this.#dir = dir;
    this.#dataPath = dataPath;
    this.#offset = offset;
    this.#hash = hash;
    const file = createWriteStream(dataPath, { flags: 'a', highWaterMark: 1 << 20 });
    // Hash in the same pass as the write; the file stream owns backpressure.
    this.stream = new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _enc, cb) => {
        this.#hash.update(chunk);
        this.#offset += chunk.length;
        if (file.write(chunk)) cb();
        else file.once('drain', () => cb());
      },
      final: (cb) => file.end(cb),
      destroy: (err, cb) => {
        file.destroy();
        cb(err);
      },
    });
    file.on('error', (e) => this.stream.destroy(e));
  }

  get offset(): number {
    return this.#offset;
  }

  async commit(
    expected: { digest?: Digest; size?: number } = {},
    beforePublish?: (digest: Digest) => void,
  ): Promise<Digest> {
    if (!this.stream.writableFinished) {
      await new Promise<void>((resolve, reject) => {
        this.stream.once('error', reject);
        this.stream.end(() => resolve());
      });
    }
    if (expected.size !== undefined && expected.size !== this.#offset) {
      await this.abort();
      throw errors.sizeMismatch(`ingest ${this.ref}: got ${this.#offset} bytes, expected ${expected.size}`);
    }
    let digest: Digest;
    if (expected.digest && algorithmOf(expected.digest) !== 'sha256') {
      digest = await hashFile(this.#dataPath, algorithmOf(expected.digest));
    } else {
      digest = `sha256:${this.#hash.digest('hex')}`;
    }
    if (expected.digest && parseDigest(expected.digest) !== digest) {
      await this.abort();
      throw errors.digestMismatch(`ingest ${this.ref}: content has digest ${digest}, expected ${expected.digest}`);
    }
    beforePublish?.(digest);
    await publish(this.#dataPath, this.#store.blobPath(digest));
    await rm(this.#dir, { recursive: true, force: true });
    return digest;
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/**
 * Atomically moves a finished file into place. An existing blob wins: it has
 * the same bytes by definition, and leaving it untouched keeps readers stable.
 */
async function publish(from: string, to: string): Promise<void> {
  const exists = () => stat(to).then(() => true, () => false);
  if (await exists()) return;
  await mkdir(join(to, '..'), { recursive: true });
  try {
    // Flush before the rename so a crash never exposes a renamed but empty blob.
    const fh = await open(from, 'r');
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(from, to);
  } catch (e) {
    // A concurrent writer of the same blob published it first.
    if (!(errnoCode(e) === 'ENOENT' && (await exists()))) throw e;
  }
}

async function hashFile(path: string, algorithm: Algorithm): Promise<Digest> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return `${algorithm}:${h.digest('hex')}`;
}
