import { randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { Digest } from '../digest/digest.js';
import { shortId } from '../digest/digest.js';
import { applyStream } from '../diff/apply.js';
import { isStrataError } from '../errors/errors.js';
import type { UnpackDeps } from '../images/unpack.js';
import type { ImageLayer } from '../metadata/images.js';
import type { Lease } from '../metadata/leases.js';
import { withTempMount } from '../mount/linux.js';
import { directPath, overlayUpperDir, type Mount } from '../mount/mount.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';
import { BlobTransfer, fetchBlob } from './fetcher.js';
import { tailBlob } from './ingest-tail.js';
import { runLimited, type ProgressFn } from './progress.js';
import type { RepositoryClient } from './registry.js';

export interface PullLayersOptions {
  /** Blobs downloaded at once (4 by default, as Docker). */
  concurrency: number;
  progress: ProgressFn;
  signal?: AbortSignal;
}

export interface PullLayersResult {
  /** Unpacked size of each layer, in order. */
  sizes: number[];
  /** Layers that had to be downloaded or extracted. */
  fetched: number;
}

const PROGRESS_INTERVAL_MS = 200;

/**
 * Downloads and unpacks an image's layers at once. Downloads run
 * `concurrency` at a time, lowest layer first, each into the content store.
 * Extraction walks the chain in order (a layer needs its parent committed)
 * and reads each blob from its first byte while it still downloads (see
 * tailBlob), so the first layer extracts as it arrives and each next one
 * starts the moment its parent is committed, from what is already on disk.
 * A snapshot is committed only when both its DiffID (checked while
 * extracting) and its blob digest (checked by the download) are right, so a
 * failure leaves no layer visible. Layers already unpacked are skipped, and
 * so are blobs already stored.
 */
export async function pullLayers(
  deps: UnpackDeps,
  client: RepositoryClient,
  layers: ImageLayer[],
  lease: Lease,
  opts: PullLayersOptions,
): Promise<PullLayersResult> {
  const present = await Promise.all(layers.map(async (l) => !!deps.images.getLayer(l.chainId) && (await committed(deps.snapshotter, l.chainId))));
  const transfers = new Map<Digest, BlobTransfer>();
  for (const l of layers) {
    if (!transfers.has(l.blobDigest) && !(await deps.content.exists(l.blobDigest))) {
      transfers.set(l.blobDigest, new BlobTransfer(l.blobDigest, l.blobSize));
    }
  }
  layers.forEach((l, i) => {
    const id = shortId(l.blobDigest);
    opts.progress({ id, status: present[i] && !transfers.has(l.blobDigest) ? 'Already exists' : 'Pulling fs layer' });
  });
  [...transfers.values()].slice(opts.concurrency).forEach((t) => opts.progress({ id: shortId(t.digest), status: 'Waiting' }));

  const ac = new AbortController();
  const onOuter = () => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuter, { once: true });
  const ticker = setInterval(() => {
    for (const t of transfers.values()) {
      if (!t.flushed && t.received > 0) opts.progress({ id: shortId(t.digest), status: 'Downloading', current: t.offset, total: t.size });
    }
  }, PROGRESS_INTERVAL_MS);
  const downloads = runLimited(
    [...transfers.values()],
    opts.concurrency,
    async (t, signal) => {
      await fetchBlob(client, deps.content, lease, t, signal);
      opts.progress({ id: shortId(t.digest), status: 'Verifying Checksum' });
      opts.progress({ id: shortId(t.digest), status: 'Download complete' });
    },
    ac.signal,
  );
  let downloadError: unknown;
  downloads.catch((e) => {
    downloadError = e;
    ac.abort(e);
  });
  try {
    const sizes = await extractChain(deps, layers, present, transfers, lease, opts.progress, ac.signal);
    await downloads; // blobs not extracted here (layers already unpacked) still have to land
    return { sizes, fetched: layers.filter((l, i) => !present[i] || transfers.has(l.blobDigest)).length };
  } catch (e) {
    ac.abort(e);
    await downloads.catch(() => undefined);
    throw downloadError ?? e; // the cause, not the extraction it cut short
  } finally {
    clearInterval(ticker);
    opts.signal?.removeEventListener('abort', onOuter);
  }
}

async function extractChain(
  deps: UnpackDeps,
  layers: ImageLayer[],
  present: boolean[],
  transfers: Map<Digest, BlobTransfer>,
  lease: Lease,
  progress: ProgressFn,
  signal: AbortSignal,
): Promise<number[]> {
  const sizes: number[] = [];
  let parent: Digest | undefined;
  for (const [i, layer] of layers.entries()) {
    signal.throwIfAborted();
    const id = shortId(layer.blobDigest);
    const t = transfers.get(layer.blobDigest);
    if (present[i]) {
      sizes.push(deps.images.getLayer(layer.chainId)!.size);
      parent = layer.chainId;
      continue;
    }
    const key = `extract-${randomBytes(8).toString('hex')} ${layer.chainId}`;
    lease.add('snapshot', key);
    lease.add('snapshot', layer.chainId);
    const mounts = await deps.snapshotter.prepare(key, parent);
    try {
      const source = t ? await tailBlob(deps.content, t) : await deps.content.reader(layer.blobDigest);
      let extracted = 0;
      let last = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _e, cb) {
          extracted += chunk.length;
          if (Date.now() - last > PROGRESS_INTERVAL_MS) {
            last = Date.now();
            progress({ id, status: 'Extracting', current: extracted, total: layer.blobSize });
          }
          cb(null, chunk);
        },
      });
      source.on('error', (e) => counter.destroy(e));
      const onAbort = () => source.destroy(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await applyTo(source.pipe(counter), mounts, layer.diffId, deps.tmpDir);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      await t?.done(); // the blob's digest is verified before its layer becomes visible
      progress({ id, status: 'Extracting', current: layer.blobSize, total: layer.blobSize });
      await deps.snapshotter.commit(layer.chainId, key);
    } catch (e) {
      await deps.snapshotter.remove(key).catch(() => undefined);
      // Another process committed the same layer meanwhile: theirs is as good as ours.
      if (!(isStrataError(e, 'AlreadyExists') && (await committed(deps.snapshotter, layer.chainId)))) throw e;
    }
    const { size } = await deps.snapshotter.usage(layer.chainId);
    deps.images.putLayer({ chainId: layer.chainId, diffId: layer.diffId, parent, size });
    sizes.push(size);
    parent = layer.chainId;
    progress({ id, status: 'Pull complete' });
  }
  return sizes;
}

/** Extracts into the snapshot's writable directory, mounting only when the driver offers none directly. */
async function applyTo(stream: Readable, mounts: Mount[], diffId: Digest, tmpDir: string): Promise<void> {
  const upper = overlayUpperDir(mounts);
  if (upper) {
    await applyStream(stream, upper, 'overlay', diffId);
    return;
  }
  const direct = directPath(mounts);
  if (direct) {
    await applyStream(stream, direct, 'plain', diffId);
    return;
  }
  await withTempMount(mounts, tmpDir, (dir) => applyStream(stream, dir, 'plain', diffId));
}

async function committed(s: Snapshotter, key: string): Promise<boolean> {
  try {
    return (await s.stat(key)).kind === 'committed';
  } catch (e) {
    if (isStrataError(e, 'NotFound')) return false;
    throw e;
  }
}
