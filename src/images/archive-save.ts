import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import type { ContentStore } from '../content/store.js';
import { digestOf, hexOf, type Digest } from '../digest/digest.js';
import type { ImageRecord } from '../metadata/images.js';
import type { Descriptor, Index, Manifest } from '../oci/image.js';
import { MediaTypes } from '../oci/media-types.js';

export interface SaveItem {
  image: ImageRecord;
  /** Fully qualified repository:tag names to record for this image. */
  names: string[];
  /** How each name is written in manifest.json / repositories (Docker uses familiar names). */
  familiar: (name: string) => string;
}

/**
 * Writes images as `docker save` (Docker 25+) does: an OCI image layout
 * (oci-layout, index.json, blobs/sha256/...) that also carries Docker's
 * manifest.json and repositories, so both `docker load` (old and new) and OCI
 * tools such as skopeo read it. Blobs are streamed from the content store,
 * each written once however many images share it.
 */
export async function saveArchive(items: SaveItem[], content: ContentStore, out: Writable): Promise<void> {
  const pack = tarStream.pack();
  const done = pipeline(pack, out);
  done.catch(() => undefined); // awaited below
  const written = new Set<string>();
  const epoch = new Date(0);

  const addBuffer = async (name: string, data: Buffer) => {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name, size: data.length, mode: 0o644, mtime: epoch }, data, (err) => (err ? reject(err) : resolve())),
    );
  };
  const addDir = async (name: string) => {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name, type: 'directory', mode: 0o755, mtime: epoch }, (err) => (err ? reject(err) : resolve())),
    );
  };
  const addBlob = async (digest: Digest) => {
    const path = `blobs/sha256/${hexOf(digest)}`;
    if (written.has(path)) return;
    written.add(path);
    const { size } = await content.info(digest);
    const entry = pack.entry({ name: path, size, mode: 0o644, mtime: epoch });
    const finished = once(entry, 'finish');
    await pipeline(await content.reader(digest), entry);
    await finished.catch(() => undefined);
  };
  const addJsonBlob = async (doc: unknown): Promise<Descriptor & { bytes: Buffer }> => {
    const bytes = Buffer.from(JSON.stringify(doc));
    const digest = digestOf(bytes);
    const path = `blobs/sha256/${hexOf(digest)}`;
    if (!written.has(path)) {
      written.add(path);
      await addBuffer(path, bytes);
    }
    return { mediaType: '', digest, size: bytes.length, bytes };
  };

  await addDir('blobs/');
  await addDir('blobs/sha256/');
  await addBuffer('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  const index: Index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] };
  const dockerManifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};

  for (const { image, names, familiar } of items) {
    await addBlob(image.id);
    for (const l of image.layers) await addBlob(l.blobDigest);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: image.id, size: image.configSize },
      layers: image.layers.map((l) => ({ mediaType: ociLayerType(l.mediaType), digest: l.blobDigest, size: l.blobSize })),
    };
    const m = await addJsonBlob(manifest);
    const desc = { mediaType: MediaTypes.ociManifest, digest: m.digest, size: m.size };
    if (names.length === 0) index.manifests.push(desc);
    for (const n of names) {
      const tag = n.slice(n.lastIndexOf(':') + 1);
      index.manifests.push({
        ...desc,
        annotations: { 'io.containerd.image.name': n, 'org.opencontainers.image.ref.name': tag },
      });
      const repo = familiar(n.slice(0, n.lastIndexOf(':')));
      (repositories[repo] ??= {})[tag] = hexOf(image.topLayer ?? image.id);
    }
    dockerManifest.push({
      Config: `blobs/sha256/${hexOf(image.id)}`,
      RepoTags: names.length ? names.map(familiar) : null,
      Layers: image.layers.map((l) => `blobs/sha256/${hexOf(l.blobDigest)}`),
    });
  }
  await addBuffer('index.json', Buffer.from(JSON.stringify(index)));
  await addBuffer('manifest.json', Buffer.from(JSON.stringify(dockerManifest)));
  if (Object.keys(repositories).length) await addBuffer('repositories', Buffer.from(JSON.stringify(repositories)));
  pack.finalize();
  await done;
}

function ociLayerType(mediaType: string): string {
  switch (mediaType) {
    case MediaTypes.dockerLayer:
      return MediaTypes.ociLayer;
    case MediaTypes.dockerLayerGzip:
      return MediaTypes.ociLayerGzip;
    default:
      return mediaType;
  }
}
