import { algorithmOf, digestOf, type Digest } from '../../digest/digest.js';
import type { BlobStore } from './blob-store.js';
import type { StorageDriver } from './driver/driver.js';
import { regError } from './errors.js';
import type { GcGuard } from './gc-guard.js';
import { deleteIfExists, listDigestDirs, readLink, writeLink, type LayerLinks } from './links.js';
import { parseManifest, requiredBlobs, type ParsedManifest } from './manifest-parse.js';
import { pathFor } from './paths.js';
import type { TagStore } from './tags.js';

export interface StoredManifest {
  digest: Digest;
  bytes: Buffer;
  mediaType: string;
}

/** Manifests are immutable by digest, so their bytes can be cached without invalidation. */
class ManifestCache {
  readonly #max: number;
  #bytes = 0;
  readonly #map = new Map<Digest, Buffer>();

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  get(d: Digest): Buffer | undefined {
    const b = this.#map.get(d);
    if (b) {
      this.#map.delete(d);
      this.#map.set(d, b);
    }
    return b;
  }

  set(d: Digest, b: Buffer): void {
    if (b.length > this.#max || this.#map.has(d)) return;
    this.#map.set(d, b);
    this.#bytes += b.length;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.#max) break;
      this.#map.delete(k);
      this.#bytes -= v.length;
    }
  }
}

/**
 * Manifests live in the global blob store and are linked per repository under
 * `_manifests/revisions`. A manifest with a `subject` also gets a referrer
 * link under its subject, which the referrers API lists.
 */
export class ManifestStore {
  readonly #driver: StorageDriver;
  readonly #blobs: BlobStore;
  readonly #layers: LayerLinks;
  readonly #tags: TagStore;
  readonly #guard: GcGuard;
  readonly #cache = new ManifestCache(64 * 1024 * 1024);

  constructor(deps: { driver: StorageDriver; blobs: BlobStore; layers: LayerLinks; tags: TagStore; guard: GcGuard }) {
    this.#driver = deps.driver;
    this.#blobs = deps.blobs;
    this.#layers = deps.layers;
    this.#tags = deps.tags;
    this.#guard = deps.guard;
  }

  /**
   * Stores a manifest exactly as pushed. `digest` (when pushed by digest) must
   * match; every referenced blob and child manifest must already be in the
   * repository (MANIFEST_BLOB_UNKNOWN otherwise); the subject need not exist.
   */
  async put(name: string, bytes: Buffer, contentType: string | undefined, opts: { digest?: Digest; tags?: string[] } = {}): Promise<{ digest: Digest; parsed: ParsedManifest }> {
    const parsed = parseManifest(bytes, contentType);
    const digest = digestOf(bytes, opts.digest ? algorithmOf(opts.digest) : 'sha256');
    if (opts.digest && opts.digest !== digest) {
      throw regError('DIGEST_INVALID', `manifest content has digest ${digest}, not the ${opts.digest} in the URL`);
    }
    const blobs = requiredBlobs(parsed);
    const children = parsed.manifests.map((d) => d.digest);
    const release = await this.#guard.protect([digest, ...blobs, ...children]);
    try {
      const missing: { digest: Digest; what: string }[] = [];
      for (const d of blobs) {
        if (!((await this.#layers.has(name, d)) && (await this.#blobs.exists(d)))) missing.push({ digest: d, what: 'blob' });
      }
      for (const d of children) {
        if (!(await this.exists(name, d))) missing.push({ digest: d, what: 'manifest' });
      }
      if (missing.length > 0) {
        throw regError('MANIFEST_BLOB_UNKNOWN', `manifest references ${missing.map((m) => `${m.what} ${m.digest}`).join(', ')} unknown to repository ${name}; push them first`, {
          detail: missing.map((m) => ({ digest: m.digest })),
        });
      }
      if (!(await this.#blobs.exists(digest))) await this.#blobs.put(digest, bytes);
      this.#cache.set(digest, bytes);
      await writeLink(this.#driver, pathFor({ kind: 'revisionLink', name, digest }), digest);
      if (parsed.subject) {
        await writeLink(this.#driver, pathFor({ kind: 'referrerLink', name, subject: parsed.subject.digest, referrer: digest }), digest);
      }
      for (const tag of opts.tags ?? []) await this.#tags.tag(name, tag, digest);
    } finally {
      release();
    }
    return { digest, parsed };
  }

  async exists(name: string, digest: Digest): Promise<boolean> {
    return (await readLink(this.#driver, pathFor({ kind: 'revisionLink', name, digest }))) === digest;
  }

  /** The manifest `digest` of repository `name`; MANIFEST_UNKNOWN if it is not there. */
  async get(name: string, digest: Digest): Promise<StoredManifest> {
    this.#guard.touch(digest);
    return this.#get(name, digest);
  }

  /** Reads without counting as a use, for deletion (a collection's own reads must not shield garbage). */
  async #get(name: string, digest: Digest): Promise<StoredManifest> {
    if (!(await this.exists(name, digest))) throw unknown(name, digest);
    return this.#load(name, digest);
  }

  /** Resolves a tag; a tag is only ever written after its manifest, so no revision check is needed. */
  async getByTag(name: string, tag: string): Promise<StoredManifest> {
    const digest = await this.#tags.resolve(name, tag);
    this.#guard.touch(digest);
    return this.#load(name, digest);
  }

  async #load(name: string, digest: Digest): Promise<StoredManifest> {
    let bytes = this.#cache.get(digest);
    if (!bytes) {
      bytes = await this.#blobs.get(digest).catch(() => {
        throw unknown(name, digest);
      });
      this.#cache.set(digest, bytes);
    }
    return { digest, bytes, mediaType: parseManifest(bytes).mediaType };
  }

  /** Removes the manifest from the repository, with the tags pointing at it and its referrer link. */
  async delete(name: string, digest: Digest): Promise<void> {
    const m = await this.#get(name, digest);
    for (const tag of await this.#tags.tagsOf(name, digest)) await this.#tags.untag(name, tag).catch(() => undefined);
    const subject = parseManifest(m.bytes).subject;
    if (subject) await deleteIfExists(this.#driver, pathFor({ kind: 'referrerDir', name, subject: subject.digest, referrer: digest }));
    await deleteIfExists(this.#driver, pathFor({ kind: 'revisionDir', name, digest }));
  }

  list(name: string): Promise<Digest[]> {
    return listDigestDirs(this.#driver, pathFor({ kind: 'revisionsRoot', name }));
  }

  /** When the manifest was linked into the repository. */
  async linkedAt(name: string, digest: Digest): Promise<Date> {
    return (await this.#driver.stat(pathFor({ kind: 'revisionLink', name, digest }))).modTime;
  }
}

function unknown(name: string, digest: Digest): Error {
  return regError('MANIFEST_UNKNOWN', `manifest unknown: ${digest} is not in repository ${name}`, { detail: { Digest: digest } });
}
