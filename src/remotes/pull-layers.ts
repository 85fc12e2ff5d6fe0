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
import { ingestLockDir } from './ingest-lock.js';
import { tailBlob } from './ingest-tail.js';
import { adoptStaged, canStage, stageLayer, type StagedLayer } from '../images/staged-extract.js';
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
}

const PROGRESS_INTERVAL_MS = 200;

/**
 * Downloads and unpacks an image's layers at once. Downloads run
 * `concurrency` at a time, lowest layer first, each into the content store.
 * Every extraction reads its blob from the first byte while it still
 * downloads (see tailBlob). Layers are committed in chain order: on overlay
 * each layer is extracted at once into a parentless staging snapshot and
 * moved onto its parent when that is committed (see staged-extract), so a
 * layer of many small files no longer waits for the big layers below it;
 * other drivers extract each layer onto its parent once it is committed.
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
      await fetchBlob(client, { content: deps.content, lockDir: ingestLockDir(deps.tmpDir) }, lease, t, signal);
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
    const sizes = await extractChain(deps, layers, present, transfers, lease, opts.progress, ac, opts.concurrency);
    await downloads; // blobs not extracted here (layers already unpacked) still have to land
    return { sizes };
  } catch (e) {
    ac.abort(e);
    await downloads.catch(() => undefined);
    throw downloadError ?? e; // the cause, not the extraction it cut short
  } finally {
    clearInterval(ticker);
    opts.signal?.removeEventListener('abort', onOuter);
  }
}

/** A layer's blob from its first byte (following the download if there is one), counted for progress. */
async function layerSource(deps: UnpackDeps, layer: ImageLayer, t: BlobTransfer | undefined, progress: ProgressFn, signal: AbortSignal): Promise<Readable> {
  const id = shortId(layer.blobDigest);
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
  counter.on('close', () => signal.removeEventListener('abort', onAbort));
  return source.pipe(counter);
}

/**
 * Starts extracting every layer that needs it into a parentless staging
 * snapshot, `limit` at a time in chain order, without waiting for parents.
 */
function startStaging(
  deps: UnpackDeps,
  layers: ImageLayer[],
  present: boolean[],
  transfers: Map<Digest, BlobTransfer>,
  lease: Lease,
  progress: ProgressFn,
  signal: AbortSignal,
  limit: number,
): Map<number, Promise<StagedLayer>> {
  let active = 0;
  const queue: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (active < limit) {
      active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => queue.push(resolve));
  };
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else active--;
  };
  const out = new Map<number, Promise<StagedLayer>>();
  layers.forEach((layer, i) => {
    if (present[i]) return;
    const p = (async () => {
      await acquire();
      try {
        signal.throwIfAborted();
        const source = await layerSource(deps, layer, transfers.get(layer.blobDigest), progress, signal);
        return await stageLayer(deps, layer.chainId, layer.diffId, source, lease);
      } finally {
        release();
      }
    })();
    p.catch(() => undefined); // awaited in chain order; a failure surfaces there
    out.set(i, p);
  });
  return out;
}

/**
 * Commits the layers in chain order. With staging (overlay), every layer is
 * already extracting on its own and is moved onto its parent here; without,
 * each is extracted onto its parent once that parent is committed.
 */
async function extractChain(
  deps: UnpackDeps,
  layers: ImageLayer[],
  present: boolean[],
  transfers: Map<Digest, BlobTransfer>,
  lease: Lease,
  progress: ProgressFn,
  ac: AbortController,
  concurrency: number,
): Promise<number[]> {
  const signal = ac.signal;
  const staged = canStage(deps) ? startStaging(deps, layers, present, transfers, lease, progress, signal, concurrency) : undefined;
  const adopted = new Set<number>();
  const sizes: number[] = [];
  let parent: Digest | undefined;
  try {
    for (const [i, layer] of layers.entries()) {
      signal.throwIfAborted();
      const id = shortId(layer.blobDigest);
      const t = transfers.get(layer.blobDigest);
      if (present[i]) {
        sizes.push(deps.images.getLayer(layer.chainId)!.size);
        parent = layer.chainId;
        continue;
      }
      lease.add('snapshot', layer.chainId);
      try {
        if (staged) {
          const st = await staged.get(i)!;
          adopted.add(i);
          await t?.done(); // the blob's digest is verified before its layer becomes visible
          await adoptStaged(deps, st, layer.chainId, parent, lease).catch(async (e) => {
            await deps.snapshotter.remove(st.key).catch(() => undefined);
            throw e;
          });
        } else {
          await extractOnParent(deps, layer, t, parent, lease, progress, signal);
        }
      } catch (e) {
        // Another process committed the same layer meanwhile: theirs is as good as ours.
        if (!(isStrataError(e, 'AlreadyExists') && (await committed(deps.snapshotter, layer.chainId)))) throw e;
      }
      progress({ id, status: 'Extracting', current: layer.blobSize, total: layer.blobSize });
      const { size } = await deps.snapshotter.usage(layer.chainId);
      deps.images.putLayer({ chainId: layer.chainId, diffId: layer.diffId, parent, size });
      sizes.push(size);
      parent = layer.chainId;
      progress({ id, status: 'Pull complete' });
    }
    return sizes;
  } catch (e) {
    if (staged) {
      // Stop the other extractions and drop what they staged.
      ac.abort(e);
      for (const [i, p] of staged) {
        const st = await p.catch(() => undefined);
        if (st && !adopted.has(i)) await deps.snapshotter.remove(st.key).catch(() => undefined);
      }
    }
    throw e;
  }
}

async function extractOnParent(
  deps: UnpackDeps,
  layer: ImageLayer,
  t: BlobTransfer | undefined,
  parent: Digest | undefined,
  lease: Lease,
  progress: ProgressFn,
  signal: AbortSignal,
): Promise<void> {
  const key = `extract-${randomBytes(8).toString('hex')} ${layer.chainId}`;
  lease.add('snapshot', key);
  const mounts = await deps.snapshotter.prepare(key, parent);
  try {
    await applyTo(await layerSource(deps, layer, t, progress, signal), mounts, layer.diffId, deps.tmpDir);
    await t?.done(); // the blob's digest is verified before its layer becomes visible
    await deps.snapshotter.commit(layer.chainId, key);
  } catch (e) {
    await deps.snapshotter.remove(key).catch(() => undefined);
    throw e;
  }
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
