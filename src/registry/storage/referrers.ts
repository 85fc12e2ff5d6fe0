import { isDigest, type Digest } from '../../digest/digest.js';
import type { Descriptor, Index } from '../../oci/image.js';
import { isIndexType, MediaTypes } from '../../oci/media-types.js';
import type { StorageDriver } from './driver/driver.js';
import { listDigestDirs } from './links.js';
import { parseManifest } from './manifest-parse.js';
import type { ManifestStore } from './manifests.js';
import { pathFor } from './paths.js';
import type { TagStore } from './tags.js';

/** The spec's "Referrers Tag Schema": `<alg[0:32]>-<encoded[0:64]>`, other characters as `-`. */
export function referrersTag(digest: string): string {
  const i = digest.indexOf(':');
  const tag = `${digest.slice(0, i).slice(0, 32)}-${digest.slice(i + 1).slice(0, 64)}`;
  return tag.replace(/[^a-zA-Z0-9._-]/g, '-');
}

/**
 * Builds the referrers list of a subject: every manifest pushed with that
 * `subject` (from the referrer links), plus manifests listed in an index under
 * the subject's referrers tag that really name the subject (pushed by clients
 * that used the fallback scheme before this API existed).
 */
export class Referrers {
  readonly #driver: StorageDriver;
  readonly #manifests: ManifestStore;
  readonly #tags: TagStore;

  constructor(deps: { driver: StorageDriver; manifests: ManifestStore; tags: TagStore }) {
    this.#driver = deps.driver;
    this.#manifests = deps.manifests;
    this.#tags = deps.tags;
  }

  /** Digests of manifests that name `subject`, for garbage collection too. */
  async referrerDigests(name: string, subject: Digest): Promise<Digest[]> {
    const found = new Set(await listDigestDirs(this.#driver, pathFor({ kind: 'referrersOf', name, subject })));
    const tagged = await this.#tags.lookup(name, referrersTag(subject)).catch(() => undefined);
    if (tagged) {
      const idx = await this.#manifests.get(name, tagged).catch(() => undefined);
      if (idx && isIndexType(idx.mediaType)) {
        for (const d of (JSON.parse(idx.bytes.toString()) as Index).manifests ?? []) {
          if (typeof d.digest === 'string' && isDigest(d.digest)) found.add(d.digest);
        }
      }
    }
    return [...found].sort();
  }

  async list(name: string, subject: Digest, artifactType?: string): Promise<Index> {
    const manifests: Descriptor[] = [];
    for (const digest of await this.referrerDigests(name, subject)) {
      const m = await this.#manifests.get(name, digest).catch(() => undefined);
      if (!m) continue;
      const p = parseManifest(m.bytes);
      if (p.subject?.digest !== subject) continue;
      if (artifactType !== undefined && p.artifactType !== artifactType) continue;
      const d: Descriptor = { mediaType: p.mediaType, digest, size: m.bytes.length };
      if (p.artifactType) d.artifactType = p.artifactType;
      if (p.annotations) d.annotations = p.annotations;
      manifests.push(d);
    }
    return { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests };
  }
}

