import { shortId, type Digest } from '../digest/digest.js';
import { isStrataError } from '../errors/errors.js';
import { chainIds } from '../images/ids.js';
import { MAX_CONFIG_BYTES, parseImageConfig } from '../images/register.js';
import type { ImageRecord } from '../metadata/images.js';
import type { Lease } from '../metadata/leases.js';
import { fullName, type Reference } from '../oci/reference.js';
import { BlobTransfer, fetchBlob, type BlobStore } from './fetcher.js';
import { referencedBlobs } from './manifest-build.js';
import type { PlatformSpec } from './platform.js';
import { runLimited, type ProgressFn } from './progress.js';
import { pushBlob, pushManifest } from './pusher.js';
import type { Remotes, RepositoryClient } from './registry.js';
import { resolveImage, type ResolvedImage } from './resolver.js';
import type { BlobSources } from './sources.js';

const MiB = 1 << 20;

/**
 * Downloads the config and layer blobs of a resolved image into the content
 * store (under the caller's lease) without unpacking anything, and describes
 * it as an image record so archive writers can use it.
 */
export async function fetchImageBlobs(
  store: BlobStore,
  lease: Lease,
  client: RepositoryClient,
  resolved: ResolvedImage,
  concurrency: number,
  progress: ProgressFn,
): Promise<Omit<ImageRecord, 'loadedAt'>> {
  const blobs = referencedBlobs(resolved.parsed);
  await runLimited(blobs, concurrency, async (b, signal) => {
    await fetchBlob(client, store, lease, new BlobTransfer(b.digest, b.size), signal);
    progress({ id: shortId(b.digest), status: 'Download complete' });
  });
  const configBytes = await store.content.readAll(resolved.parsed.config.digest, MAX_CONFIG_BYTES);
  const diffIds = parseImageConfig(configBytes, 'image config').rootfs.diff_ids;
  const chains = chainIds(diffIds);
  return {
    id: resolved.parsed.config.digest,
    configSize: configBytes.length,
    topLayer: chains[chains.length - 1],
    size: 0,
    layers: resolved.parsed.layers.map((l, i) => ({ diffId: diffIds[i], chainId: chains[i], blobDigest: l.digest, mediaType: l.mediaType, blobSize: l.size })),
  };
}

/**
 * Copies one image between repositories, of one registry or two: blobs by
 * cross-repository mount when the registry is the same, else through the
 * content store; then the platform's manifest, byte for byte.
 */
export async function copyBetweenRegistries(
  store: BlobStore,
  lease: Lease,
  srcClient: RepositoryClient,
  src: Reference,
  remotes: Remotes,
  dst: Reference,
  sources: BlobSources,
  opts: { platform: PlatformSpec; concurrency: number },
  progress: ProgressFn,
): Promise<{ digest: Digest }> {
  const resolved = await resolveImage(srcClient, src.digest ?? src.tag!, fullName(src), opts.platform);
  const dstClient = remotes.repository(remotes.hosts.endpoint(dst.domain), dst.path, ['pull', 'push']);
  const sameRegistry = src.domain === dst.domain;
  const { content } = store;
  await runLimited(referencedBlobs(resolved.parsed), opts.concurrency, async (b, signal) => {
    const mountFrom = sameRegistry ? [src.path] : await sources.mountCandidates(b.digest, dst.domain, dst.path);
    if (!sameRegistry && !(await content.exists(b.digest))) {
      const head = await dstClient.request('HEAD', `blobs/${b.digest}`, { accept: [404], signal });
      head.body.resume();
      if (head.status !== 200 && mountFrom.length === 0) {
        await fetchBlob(srcClient, store, lease, new BlobTransfer(b.digest, b.size), signal);
      }
    }
    const push = (from: string[]) => pushBlob(dstClient, content, b, { mountFrom: from, monolithicMax: 16 * MiB, chunkSize: 64 * MiB, signal });
    let outcome;
    try {
      outcome = await push(mountFrom);
    } catch (e) {
      // The registry would not mount it and we have no copy: fetch it, then upload.
      if (!isStrataError(e, 'NotFound') || (await content.exists(b.digest))) throw e;
      await fetchBlob(srcClient, store, lease, new BlobTransfer(b.digest, b.size), signal);
      outcome = await push([]);
    }
    const id = shortId(b.digest);
    progress({ id, status: outcome.kind === 'exists' ? 'Layer already exists' : outcome.kind === 'mounted' ? `Mounted from ${outcome.from}` : 'Pushed' });
  });
  const digest = await pushManifest(dstClient, dst.digest ?? dst.tag ?? 'latest', resolved.manifest.mediaType, resolved.manifest.bytes);
  await sources.add(referencedBlobs(resolved.parsed).map((b) => b.digest), fullName(dst)).catch(() => undefined);
  progress({ id: '', status: `Digest: ${digest}` });
  return { digest };
}
