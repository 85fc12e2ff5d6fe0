import { createHmac, randomBytes, randomUUID, timingSafeEqual, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { algorithmOf, newHash, type Algorithm, type Digest } from '../../digest/digest.js';
import { isStrataError } from '../../errors/errors.js';
import type { BlobStore } from './blob-store.js';
import type { StorageDriver } from './driver/driver.js';
import { regError } from './errors.js';
import type { GcGuard } from './gc-guard.js';
import type { LayerLinks } from './links.js';
import { pathFor } from './paths.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What travels in the `_state` query parameter of an upload's Location, HMAC-signed. */
export interface UploadState {
  name: string;
  id: string;
  offset: number;
  startedAt: string;
}

/** Hash state of a live upload; lost on restart, when commit re-hashes from byte 0. */
interface LiveHash {
  algorithm: Algorithm;
  hash: Hash;
  offset: number;
}

/**
 * Resumable blob uploads under `_uploads/<id>/{data,startedat}`. Each request
 * appends through a driver writer that it closes at the end, so an upload
 * survives a restart of the server; commit verifies size and digest, renames
 * the data into the global blob store and links it into the repository.
 */
export class UploadStore {
  readonly #driver: StorageDriver;
  readonly #blobs: BlobStore;
  readonly #layers: LayerLinks;
  readonly #guard: GcGuard;
  readonly #secret: Buffer;
  readonly #hashes = new Map<string, LiveHash>();
  readonly #busy = new Set<string>();

  constructor(deps: { driver: StorageDriver; blobs: BlobStore; layers: LayerLinks; guard: GcGuard; secret: Buffer }) {
    this.#driver = deps.driver;
    this.#blobs = deps.blobs;
    this.#layers = deps.layers;
    this.#guard = deps.guard;
    this.#secret = deps.secret;
  }

  /** The configured secret, or one kept in storage so tokens outlive a restart. */
  static async loadSecret(driver: StorageDriver, configured?: string): Promise<Buffer> {
    if (configured) return Buffer.from(configured, 'utf8');
    const path = pathFor({ kind: 'uploadSecret' });
    try {
      return await driver.getContent(path);
    } catch (e) {
      if (!isStrataError(e, 'NotFound')) throw e;
      const secret = randomBytes(32);
      await driver.putContent(path, secret);
      return secret;
    }
  }

  async create(name: string, algorithm: Algorithm = 'sha256'): Promise<UploadState> {
    const id = randomUUID();
    const startedAt = new Date().toISOString();
    await this.#driver.putContent(pathFor({ kind: 'uploadStartedAt', name, id }), Buffer.from(startedAt));
    const w = await this.#driver.writer(pathFor({ kind: 'uploadData', name, id }), false);
    await w.close();
    this.#hashes.set(`${name}/${id}`, { algorithm, hash: newHash(algorithm), offset: 0 });
    return { name, id, offset: 0, startedAt };
  }

  /** The upload's state as stored; BLOB_UPLOAD_UNKNOWN when it is gone. */
  async status(name: string, id: string): Promise<UploadState> {
    if (!UUID_RE.test(id)) throw regError('BLOB_UPLOAD_UNKNOWN', `upload "${id.slice(0, 80)}" in ${name} is unknown: upload ids are UUIDs`);
    try {
      const startedAt = (await this.#driver.getContent(pathFor({ kind: 'uploadStartedAt', name, id }))).toString();
      const { size } = await this.#driver.stat(pathFor({ kind: 'uploadData', name, id }));
      return { name, id, offset: size, startedAt };
    } catch (e) {
      if (isStrataError(e, 'NotFound')) throw regError('BLOB_UPLOAD_UNKNOWN', `upload ${id} in ${name} is unknown: it finished, was cancelled or expired`);
      throw e;
    }
  }

  /**
   * Appends a request body. `expectedStart` (from Content-Range) must equal the
   * current size; `maxBytes` stops a body that would pass a quota.
   */
  async append(name: string, id: string, body: Readable, opts: { expectedStart?: number; maxBytes?: number } = {}): Promise<UploadState> {
    const key = `${name}/${id}`;
    if (this.#busy.has(key)) throw regError('BLOB_UPLOAD_INVALID', `upload ${id} is receiving another request; send chunks one at a time`, { status: 416 });
    this.#busy.add(key);
    try {
      const state = await this.status(name, id);
      if (opts.expectedStart !== undefined && opts.expectedStart !== state.offset) {
        throw regError('BLOB_UPLOAD_INVALID', `chunk starts at ${opts.expectedStart} but upload ${id} holds ${state.offset} bytes; resume at ${state.offset}`, { status: 416 });
      }
      const w = await this.#driver.writer(pathFor({ kind: 'uploadData', name, id }), true);
      let live = this.#hashes.get(key);
      if (live && live.offset !== w.size) {
        this.#hashes.delete(key);
        live = undefined;
      }
      let received = 0;
      try {
        // A refused body stays open, so the server can still answer over its connection.
        for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
          received += chunk.length;
          if (opts.maxBytes !== undefined && received > opts.maxBytes) {
            throw regError('DENIED', `upload ${id} to ${name} would exceed the repository's storage quota`);
          }
          await w.write(chunk);
          if (live) {
            live.hash.update(chunk);
            live.offset += chunk.length;
          }
        }
      } finally {
        await w.close();
      }
      return { ...state, offset: w.size };
    } finally {
      this.#busy.delete(key);
    }
  }

  /** Verifies and publishes the upload as `digest`, links it into `name`, and removes the session. */
  async commit(name: string, id: string, digest: Digest, expectedSize?: number): Promise<{ size: number }> {
    const state = await this.status(name, id);
    const key = `${name}/${id}`;
    try {
      if (expectedSize !== undefined && expectedSize !== state.offset) {
        throw regError('SIZE_INVALID', `upload ${id} holds ${state.offset} bytes, but ${expectedSize} were declared`);
      }
      const actual = await this.#digestOf(name, id, algorithmOf(digest), state.offset);
      if (actual !== digest) {
        throw regError('DIGEST_INVALID', `uploaded content has digest ${actual}, not the ${digest} given; check the client computed it over the whole blob`);
      }
    } catch (e) {
      await this.cancel(name, id);
      throw e;
    }
    const release = await this.#guard.protect([digest]);
    try {
      if (await this.#blobs.exists(digest)) await this.#driver.delete(pathFor({ kind: 'uploadData', name, id }));
      else await this.#blobs.moveIn(pathFor({ kind: 'uploadData', name, id }), digest);
      await this.#layers.link(name, digest);
    } finally {
      release();
    }
    this.#hashes.delete(key);
    await this.#driver.delete(pathFor({ kind: 'upload', name, id })).catch(() => undefined);
    return { size: state.offset };
  }

  async cancel(name: string, id: string): Promise<void> {
    this.#hashes.delete(`${name}/${id}`);
    try {
      await this.#driver.delete(pathFor({ kind: 'upload', name, id }));
    } catch (e) {
      if (isStrataError(e, 'NotFound')) throw regError('BLOB_UPLOAD_UNKNOWN', `upload ${id} in ${name} is unknown`);
      throw e;
    }
  }

  async #digestOf(name: string, id: string, algorithm: Algorithm, size: number): Promise<Digest> {
    const live = this.#hashes.get(`${name}/${id}`);
    if (live && live.offset === size && live.algorithm === algorithm) return `${algorithm}:${live.hash.copy().digest('hex')}` as Digest;
    const hash = newHash(algorithm);
    if (size > 0) {
      for await (const chunk of (await this.#driver.reader(pathFor({ kind: 'uploadData', name, id }))) as AsyncIterable<Buffer>) hash.update(chunk);
    }
    return `${algorithm}:${hash.digest('hex')}` as Digest;
  }

  pack(state: UploadState): string {
    const body = Buffer.from(JSON.stringify(state)).toString('base64url');
    return `${body}.${createHmac('sha256', this.#secret).update(body).digest('base64url')}`;
  }

  /** Checks a `_state` token's signature and that it names this upload. */
  unpack(token: string, name: string, id: string): UploadState {
    const [body, mac] = token.split('.');
    const want = createHmac('sha256', this.#secret).update(body ?? '').digest();
    const got = Buffer.from(mac ?? '', 'base64url');
    let state: UploadState | undefined;
    if (got.length === want.length && timingSafeEqual(got, want)) {
      try {
        state = JSON.parse(Buffer.from(body, 'base64url').toString()) as UploadState;
      } catch {
        state = undefined;
      }
    }
    if (!state || state.name !== name || state.id !== id) {
      throw regError('BLOB_UPLOAD_INVALID', `the upload state of ${id} is invalid or was signed by another registry; start a new upload`);
    }
    return state;
  }

  /**
   * Uploads in `name` with their last activity (the later of the start and
   * the last write), for purging stale ones. Uploads this process is writing,
   * and half-created ones whose files are not readable yet, are left out.
   */
  async list(name: string): Promise<{ id: string; lastActive: Date }[]> {
    const out: { id: string; lastActive: Date }[] = [];
    let ids: string[];
    try {
      ids = await this.#driver.list(pathFor({ kind: 'uploadsRoot', name }));
    } catch (e) {
      if (isStrataError(e, 'NotFound')) return out;
      throw e;
    }
    for (const p of ids) {
      const id = p.slice(p.lastIndexOf('/') + 1);
      if (this.#busy.has(`${name}/${id}`)) continue;
      const started = await this.#driver.getContent(pathFor({ kind: 'uploadStartedAt', name, id })).then((b) => new Date(b.toString()).getTime(), () => NaN);
      const written = await this.#driver.stat(pathFor({ kind: 'uploadData', name, id })).then((i) => i.modTime.getTime(), () => NaN);
      if (Number.isNaN(started) || Number.isNaN(written)) continue;
      out.push({ id, lastActive: new Date(Math.max(started, written)) });
    }
    return out;
  }
}
