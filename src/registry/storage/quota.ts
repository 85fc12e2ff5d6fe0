import type { Digest } from '../../digest/digest.js';
import type { BlobStore } from './blob-store.js';
import { regError } from './errors.js';
import { globToRegExp } from './glob.js';
import type { LayerLinks } from './links.js';
import type { ManifestStore } from './manifests.js';

export interface QuotaRule {
  /** Repository glob (`team/*`, `**`); the first matching rule applies. */
  repository: string;
  maxBytes: number;
}

/**
 * Storage quotas per repository glob. A repository's usage is the size of
 * every blob and manifest linked into it (shared blobs count in each
 * repository). Pushes are checked against the remaining quota before any byte
 * is stored, from Content-Length or from the descriptors' sizes.
 */
export class Quotas {
  readonly #rules: { re: RegExp; maxBytes: number; glob: string }[];
  readonly #deps: { blobs: BlobStore; layers: LayerLinks; manifests: ManifestStore };
  readonly #usage = new Map<string, Promise<number>>();

  constructor(rules: QuotaRule[], deps: { blobs: BlobStore; layers: LayerLinks; manifests: ManifestStore }) {
    this.#rules = rules.map((r) => ({ re: globToRegExp(r.repository), maxBytes: r.maxBytes, glob: r.repository }));
    this.#deps = deps;
  }

  #rule(name: string): { maxBytes: number; glob: string } | undefined {
    return this.#rules.find((r) => r.re.test(name));
  }

  /** Bytes linked into the repository; cached until the next write to it. */
  usage(name: string): Promise<number> {
    let u = this.#usage.get(name);
    if (!u) {
      u = this.#compute(name);
      u.catch(() => this.#usage.delete(name));
      this.#usage.set(name, u);
    }
    return u;
  }

  async #compute(name: string): Promise<number> {
    const digests = new Set<Digest>([...(await this.#deps.layers.list(name)), ...(await this.#deps.manifests.list(name))]);
    let total = 0;
    for (const d of digests) total += await this.#deps.blobs.stat(d).then((i) => i.size, () => 0);
    return total;
  }

  /** Bytes the repository may still take; undefined when no quota applies. */
  async remaining(name: string): Promise<number | undefined> {
    const rule = this.#rule(name);
    if (!rule) return undefined;
    return Math.max(0, rule.maxBytes - (await this.usage(name)));
  }

  /** Refuses (DENIED) a write of `bytes` more than the quota allows. */
  async check(name: string, bytes: number): Promise<void> {
    const rule = this.#rule(name);
    if (!rule) return;
    const used = await this.usage(name);
    if (used + bytes > rule.maxBytes) {
      throw regError('DENIED', `quota exceeded: repository ${name} uses ${used} of ${rule.maxBytes} bytes (quota "${rule.glob}"), and this push needs ${bytes} more; delete images or raise the quota`, {
        detail: { quota: rule.maxBytes, used, requested: bytes },
      });
    }
  }

  invalidate(name: string): void {
    this.#usage.delete(name);
  }
}
