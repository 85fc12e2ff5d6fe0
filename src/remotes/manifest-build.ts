import type { ContentStore } from '../content/store.js';
import { isDigest, type Digest } from '../digest/digest.js';
import type { ImageRecord } from '../metadata/images.js';
import type { Index, Manifest } from '../oci/image.js';
import { isIndexType, MediaTypes } from '../oci/media-types.js';

export interface BuiltManifest {
  mediaType: string;
  bytes: Buffer;
}

const TO_DOCKER: Record<string, string> = {
  [MediaTypes.ociLayer]: MediaTypes.dockerLayer,
  [MediaTypes.ociLayerGzip]: MediaTypes.dockerLayerGzip,
};
const TO_OCI: Record<string, string> = {
  [MediaTypes.dockerLayer]: MediaTypes.ociLayer,
  [MediaTypes.dockerLayerGzip]: MediaTypes.ociLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar.zstd': MediaTypes.ociLayerZstd,
};

/**
 * The manifest to push for a local image. When the image came from a
 * registry and its manifest is still stored, those exact bytes are pushed,
 * so the digest stays the one it was pulled as. Otherwise a Docker schema 2
 * manifest is written over the stored blobs as they are (uncompressed layers
 * from `docker save` archives included), or an OCI manifest when a layer is
 * zstd, which schema 2 cannot describe. The config blob is never rewritten,
 * so the image ID is the same on both sides.
 */
export async function manifestFor(image: ImageRecord, repoDigests: string[], content: ContentStore): Promise<BuiltManifest> {
  for (const rd of repoDigests) {
    const d = rd.slice(rd.indexOf('@') + 1);
    if (!isDigest(d)) continue;
    const stored = await storedManifestFor(image, d, content);
    if (stored) return stored;
  }
  const zstd = image.layers.some((l) => l.mediaType.endsWith('zstd'));
  const manifest: Manifest = zstd
    ? {
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.ociConfig, digest: image.id, size: image.configSize },
        layers: image.layers.map((l) => ({ mediaType: TO_OCI[l.mediaType] ?? l.mediaType, digest: l.blobDigest, size: l.blobSize })),
      }
    : {
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifest,
        config: { mediaType: MediaTypes.dockerConfig, digest: image.id, size: image.configSize },
        layers: image.layers.map((l) => ({ mediaType: TO_DOCKER[l.mediaType] ?? l.mediaType, digest: l.blobDigest, size: l.blobSize })),
      };
  // Indented as Docker writes schema 2 manifests (Go's MarshalIndent with three spaces).
  return { mediaType: manifest.mediaType!, bytes: Buffer.from(JSON.stringify(manifest, null, 3)) };
}

async function storedManifestFor(image: ImageRecord, digest: Digest, content: ContentStore, depth = 0): Promise<BuiltManifest | undefined> {
  if (depth > 1 || !(await content.exists(digest))) return undefined;
  const bytes = await content.readAll(digest, 4 << 20);
  let doc: Manifest & Index;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Manifest & Index;
  } catch {
    return undefined;
  }
  if (isIndexType(doc.mediaType) || Array.isArray(doc.manifests)) {
    for (const m of doc.manifests ?? []) {
      const found = isDigest(String(m.digest)) ? await storedManifestFor(image, m.digest, content, depth + 1) : undefined;
      if (found) return found;
    }
    return undefined;
  }
  const same =
    doc.config?.digest === image.id &&
    Array.isArray(doc.layers) &&
    doc.layers.length === image.layers.length &&
    doc.layers.every((l, i) => l.digest === image.layers[i].blobDigest);
  return same ? { mediaType: doc.mediaType ?? MediaTypes.ociManifest, bytes } : undefined;
}

/** The descriptors a manifest references (config first), for pushing and copying. */
export function referencedBlobs(m: Manifest): { digest: Digest; size: number; mediaType: string }[] {
  return [m.config, ...m.layers].map((d) => ({ digest: d.digest, size: d.size, mediaType: d.mediaType }));
}
