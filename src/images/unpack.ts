import { randomBytes } from 'node:crypto';
import type { ContentStore } from '../content/store.js';
import type { Digest } from '../digest/digest.js';
import { applyBlob, verifyDiffId } from '../diff/apply.js';
import { isStrataError } from '../errors/errors.js';
import type { ImageLayer, ImageStore } from '../metadata/images.js';
import type { Lease } from '../metadata/leases.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';
import { adoptStaged, canStage, stageLayer, type StagedLayer } from './staged-extract.js';

export interface UnpackDeps {
  content: ContentStore;
  snapshotter: Snapshotter;
  images: ImageStore;
  tmpDir: string;
}

/**
 * Unpacks an image's layers into committed snapshots keyed by chainID, in
 * order, skipping those already present (a layer shared by several images is
 * unpacked once). Each layer is extracted into a temporary active snapshot and
 * committed only once its DiffID has been verified, so a failure leaves no
 * layer visible. Returns the unpacked size of every layer, in order.
 */
export async function unpackLayers(deps: UnpackDeps, layers: ImageLayer[], lease: Lease): Promise<number[]> {
  const present = await Promise.all(
    layers.map(async (l) => !!deps.images.getLayer(l.chainId) && (await snapshotExists(deps.snapshotter, l.chainId))),
  );
  // Overlay layers do not read their parent while extracting: extract the
  // missing ones side by side, then move each onto its parent in order.
  const staged = canStage(deps) ? stageMissing(deps, layers, present, lease) : undefined;
  const sizes: number[] = [];
  let parent: Digest | undefined;
  try {
    for (const [i, layer] of layers.entries()) {
      if (present[i]) {
        // The layer is here, but this image's blob must still be shown to hold it.
        await verifyBlob(deps, layer);
      } else {
        await commitLayer(deps, layer, parent, lease, staged?.[i]);
        deps.images.recordDiffId(layer.blobDigest, layer.diffId);
        const { size } = await deps.snapshotter.usage(layer.chainId);
        deps.images.putLayer({ chainId: layer.chainId, diffId: layer.diffId, parent, size });
      }
      sizes.push(deps.images.getLayer(layer.chainId)!.size);
      parent = layer.chainId;
    }
  } catch (e) {
    // Staged layers not adopted yet are removed; the lease covers any left by a crash.
    if (staged) for (const s of await Promise.allSettled(staged)) if (s.status === 'fulfilled' && s.value) await deps.snapshotter.remove(s.value.key).catch(() => undefined);
    throw e;
  }
  return sizes;
}

/**
 * Starts extracting every missing layer, at most two at a time (one per
 * core here), smallest blobs first: many small files are created fastest
 * before big layers have filled the page cache with data to write back.
 */
function stageMissing(deps: UnpackDeps, layers: ImageLayer[], present: boolean[], lease: Lease): Promise<StagedLayer | undefined>[] {
  const out: Promise<StagedLayer | undefined>[] = layers.map(() => Promise.resolve(undefined));
  const order = layers.map((_, i) => i).filter((i) => !present[i]).sort((a, b) => layers[a].blobSize - layers[b].blobSize);
  let running: Promise<unknown> = Promise.resolve();
  let other: Promise<unknown> = Promise.resolve();
  for (const i of order) {
    const l = layers[i];
    const start = running.then(async () => stageLayer(deps, l.chainId, l.diffId, await deps.content.reader(l.blobDigest), lease));
    // Two lanes: each new extraction waits for the older of the two in flight.
    [running, other] = [other, start.catch(() => undefined)];
    start.catch(() => undefined); // awaited by the committing loop
    out[i] = start;
  }
  return out;
}

/** Extracts (or adopts a staged extraction of) one layer and commits it as `chainId` on `parent`. */
async function commitLayer(deps: UnpackDeps, layer: ImageLayer, parent: Digest | undefined, lease: Lease, staged?: Promise<StagedLayer | undefined>): Promise<void> {
  lease.add('snapshot', layer.chainId);
  try {
    const ready = await staged;
    if (ready) {
      await adoptStaged(deps, ready, layer.chainId, parent, lease);
      return;
    }
    const key = `extract-${randomBytes(8).toString('hex')} ${layer.chainId}`;
    lease.add('snapshot', key);
    const mounts = await deps.snapshotter.prepare(key, parent);
    try {
      await applyBlob(deps.content, layer.blobDigest, mounts, { expectedDiffId: layer.diffId, tmpDir: deps.tmpDir });
      await deps.snapshotter.commit(layer.chainId, key);
    } catch (e) {
      await deps.snapshotter.remove(key).catch(() => undefined);
      throw e;
    }
  } catch (e) {
    // Another process committed the same layer meanwhile: theirs is as good as ours.
    if (!(isStrataError(e, 'AlreadyExists') && (await snapshotExists(deps.snapshotter, layer.chainId)))) throw e;
  }
}

/**
 * An uncompressed blob is its own DiffID (the content store verified its
 * digest); a compressed one is decompressed and hashed once, then remembered.
 */
async function verifyBlob(deps: UnpackDeps, layer: ImageLayer): Promise<void> {
  if (layer.blobDigest === layer.diffId || deps.images.verifiedDiffId(layer.blobDigest) === layer.diffId) return;
  await verifyDiffId(deps.content, layer.blobDigest, layer.diffId);
  deps.images.recordDiffId(layer.blobDigest, layer.diffId);
}

async function snapshotExists(s: Snapshotter, key: string): Promise<boolean> {
  try {
    return (await s.stat(key)).kind === 'committed';
  } catch (e) {
    if (isStrataError(e, 'NotFound')) return false;
    throw e;
  }
}
