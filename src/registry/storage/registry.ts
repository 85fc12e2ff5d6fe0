import type { Readable } from 'node:stream';
import type { Digest } from '../../digest/digest.js';
import { BaseDriver } from './driver/base.js';
import type { StorageDriver } from './driver/driver.js';
import { BlobStore, type BlobInfo } from './blob-store.js';
import { regError } from './errors.js';
import { GcGuard } from './gc-guard.js';
import { LayerLinks } from './links.js';
import { ManifestStore } from './manifests.js';
import { Quotas, type QuotaRule } from './quota.js';
import { Referrers } from './referrers.js';
import { listRepositories } from './repositories.js';
import { TagStore } from './tags.js';
import { UploadStore } from './uploads.js';

export interface RegistryOptions {
  /** HMAC key for upload state; by default one is generated and kept in storage. */
  uploadSecret?: string;
  quotas?: QuotaRule[];
  /**
   * A HEAD of a blob rewrites its repository link when the link is older than
   * this, so a client that saw the blob exists and skips uploading it is
   * covered by the GC grace period until it pushes its manifest.
   */
  linkRefreshMs?: number;
}

const DEFAULT_LINK_REFRESH_MS = 5 * 60 * 1000;

/**
 * The registry's storage, composed from small stores over one driver. The
 * HTTP layer calls only this; nothing here knows about HTTP.
 */
export class Registry {
  readonly driver: BaseDriver;
  readonly blobs: BlobStore;
  readonly layers: LayerLinks;
  readonly tags: TagStore;
  readonly manifests: ManifestStore;
  readonly referrers: Referrers;
  readonly uploads: UploadStore;
  readonly quotas: Quotas;
  readonly guard = new GcGuard();
  readonly #linkRefreshMs: number;

  private constructor(driver: BaseDriver, secret: Buffer, opts: RegistryOptions) {
    this.driver = driver;
    this.blobs = new BlobStore(driver);
    this.layers = new LayerLinks(driver);
    this.tags = new TagStore(driver);
    this.manifests = new ManifestStore({ driver, blobs: this.blobs, layers: this.layers, tags: this.tags, guard: this.guard });
    this.referrers = new Referrers({ driver, manifests: this.manifests, tags: this.tags });
    this.uploads = new UploadStore({ driver, blobs: this.blobs, layers: this.layers, guard: this.guard, secret });
    this.quotas = new Quotas(opts.quotas ?? [], { blobs: this.blobs, layers: this.layers, manifests: this.manifests });
    this.#linkRefreshMs = opts.linkRefreshMs ?? DEFAULT_LINK_REFRESH_MS;
  }

  static async open(driver: StorageDriver, opts: RegistryOptions = {}): Promise<Registry> {
    const base = driver instanceof BaseDriver ? driver : new BaseDriver(driver);
    return new Registry(base, await UploadStore.loadSecret(base, opts.uploadSecret), opts);
  }

  /** A blob as repository `name` sees it: linked there and present globally. */
  async blobInfo(name: string, digest: Digest): Promise<BlobInfo> {
    this.guard.touch(digest);
    if (await this.layers.has(name, digest)) {
      const info = await this.blobs.stat(digest).catch(() => undefined);
      if (info) return info;
    }
    throw regError('BLOB_UNKNOWN', `blob unknown to registry: ${digest} is not in repository ${name}`, { detail: { digest } });
  }

  /** See RegistryOptions.linkRefreshMs. */
  async refreshLink(name: string, digest: Digest): Promise<void> {
    const at = await this.layers.linkedAt(name, digest);
    if (at && Date.now() - at.getTime() > this.#linkRefreshMs) await this.layers.link(name, digest);
  }

  blobReader(digest: Digest, start?: number, end?: number): Promise<Readable> {
    return this.blobs.reader(digest, start, end);
  }

  /**
   * Links a blob that repository `from` can read into `name`; undefined when
   * `from` cannot read it (the client then uploads it).
   */
  async mount(name: string, from: string, digest: Digest): Promise<BlobInfo | undefined> {
    const release = await this.guard.protect([digest]);
    try {
      if (!(await this.layers.has(from, digest))) return undefined;
      const info = await this.blobs.stat(digest).catch(() => undefined);
      if (!info) return undefined;
      if (!(await this.layers.has(name, digest))) {
        await this.quotas.check(name, info.size);
        await this.layers.link(name, digest);
        this.quotas.invalidate(name);
      }
      return info;
    } finally {
      release();
    }
  }

  /** Removes the blob from the repository; the data goes when garbage collection finds it unreferenced. */
  async deleteBlob(name: string, digest: Digest): Promise<void> {
    if (!(await this.layers.unlink(name, digest))) {
      throw regError('BLOB_UNKNOWN', `blob unknown to registry: ${digest} is not in repository ${name}`, { detail: { digest } });
    }
    this.quotas.invalidate(name);
  }

  repositories(): Promise<string[]> {
    return listRepositories(this.driver);
  }
}
