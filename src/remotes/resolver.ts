import { algorithmOf, digestOf, isDigest, parseDigest, type Digest } from '../digest/digest.js';
import { errors } from '../errors/errors.js';
import type { Descriptor, Index, Manifest } from '../oci/image.js';
import { isIndexType, isManifestType, MediaTypes } from '../oci/media-types.js';
import { formatPlatform, pickPlatform, type PlatformSpec } from './platform.js';
import type { RepositoryClient } from './registry.js';
import { readBody } from './transport.js';

/** Manifests a registry may send larger than this are refused (the distribution spec's suggested floor). */
export const MAX_MANIFEST_BYTES = 4 << 20;

export const MANIFEST_ACCEPT = [
  MediaTypes.ociIndex,
  MediaTypes.dockerManifestList,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifest,
].join(', ');

export interface FetchedManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

export interface ResolvedImage {
  /** What the reference named: the index when there is one, else the manifest. */
  top: FetchedManifest;
  /** The image manifest for the chosen platform. */
  manifest: FetchedManifest;
  parsed: Manifest;
}

/**
 * GETs a manifest by tag or digest and verifies it: against the digest it was
 * asked by, and against Docker-Content-Digest when the registry sends one.
 */
export async function fetchManifest(client: RepositoryClient, reference: string, name: string): Promise<FetchedManifest> {
  const res = await client.request('GET', `manifests/${reference}`, {
    headers: { accept: MANIFEST_ACCEPT },
    what: `manifest for ${name}`,
  });
  const bytes = await readBody(res, MAX_MANIFEST_BYTES, `manifest for ${name}`);
  const headerDigest = String(res.headers['docker-content-digest'] ?? '');
  const wanted = isDigest(reference) ? reference : isDigest(headerDigest) ? headerDigest : undefined;
  const digest = digestOf(bytes, wanted ? algorithmOf(wanted) : 'sha256');
  if (wanted && digest !== wanted) {
    throw errors.digestMismatch(`manifest for ${name}: the registry sent content with digest ${digest}, expected ${wanted}`);
  }
  let declared: string | undefined;
  try {
    declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType;
  } catch (e) {
    throw errors.invalidManifest(`manifest for ${name} is not valid JSON: ${(e as Error).message}`);
  }
  const contentType = String(res.headers['content-type'] ?? '').split(';')[0].trim();
  const mediaType = declared ?? contentType;
  if (!isManifestType(mediaType) && !isIndexType(mediaType)) {
    throw errors.unsupported(
      `manifest for ${name} has media type "${mediaType}": only OCI and Docker schema 2 images are supported (schema 1 is not)`,
    );
  }
  return { digest: sha256Digest(digest, bytes), mediaType, bytes };
}

/** Digests are kept as sha256 locally, whatever the registry hashes with. */
function sha256Digest(d: Digest, bytes: Buffer): Digest {
  return algorithmOf(d) === 'sha256' ? d : digestOf(bytes);
}

export function parseManifest(m: FetchedManifest, name: string): Manifest {
  const doc = JSON.parse(m.bytes.toString('utf8')) as Manifest;
  if (!doc.config || !Array.isArray(doc.layers)) throw errors.invalidManifest(`manifest ${m.digest} of ${name} has no config or layers`);
  parseDigest(String(doc.config.digest), `config digest in manifest of ${name}`);
  doc.layers.forEach((l, i) => {
    parseDigest(String(l.digest), `layer ${i} digest in manifest of ${name}`);
    if (!Number.isSafeInteger(l.size) || l.size < 0) throw errors.invalidManifest(`manifest of ${name}: layer ${i} has an invalid size`);
  });
  return doc;
}

/** Resolves a tag or digest to the image manifest for `platform`, going through an index if there is one. */
export async function resolveImage(
  client: RepositoryClient,
  reference: string,
  name: string,
  platform: PlatformSpec,
): Promise<ResolvedImage> {
  const top = await fetchManifest(client, reference, name);
  if (!isIndexType(top.mediaType)) return { top, manifest: top, parsed: parseManifest(top, name) };
  const index = JSON.parse(top.bytes.toString('utf8')) as Index;
  const list: Descriptor[] = Array.isArray(index.manifests) ? index.manifests : [];
  const pick = pickPlatform(list, platform);
  if (!pick) {
    const have = list.map((d) => (d.platform ? formatPlatform(d.platform) : '?')).join(', ');
    throw errors.notFound(`no matching manifest for ${formatPlatform(platform)} in the manifest list entries of ${name} (it has: ${have || 'none'})`);
  }
  const digest = parseDigest(String(pick.digest), `manifest digest in the index of ${name}`);
  const manifest = await fetchManifest(client, digest, name);
  if (isIndexType(manifest.mediaType)) throw errors.unsupported(`${name}: nested image indexes are not supported`);
  return { top, manifest, parsed: parseManifest(manifest, name) };
}
