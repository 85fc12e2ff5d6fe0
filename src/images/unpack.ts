import { randomBytes } from 'node:crypto';
import type { ContentStore } from '../content/store.js';
import type { Digest } from '../digest/digest.js';
import { applyBlob, verifyDiffId } from '../diff/apply.js';
import { isStrataError } from '../errors/errors.js';
import type { ImageLayer, ImageStore } from '../metadata/images.js';
import type { Lease } from '../metadata/leases.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';

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
  const sizes: number[] = [];
  let parent: Digest | undefined;
  for (const layer of layers) {
    const existing = deps.images.getLayer(layer.chainId);
    if (existing && (await snapshotExists(deps.snapshotter, layer.chainId))) {
      // The layer is here, but this image's blob must still be shown to hold it.
      await verifyBlob(deps, layer);
      sizes.push(existing.size);
      parent = layer.chainId;
      continue;
    }
    const key = `extract-${randomBytes(8).toString('hex')} ${layer.chainId}`;
    lease.add('snapshot', key);
    lease.add('snapshot', layer.chainId);
    const mounts = await deps.snapshotter.prepare(key, parent);
    try {
      await applyBlob(deps.content, layer.blobDigest, mounts, { expectedDiffId: layer.diffId, tmpDir: deps.tmpDir });
      deps.images.recordDiffId(layer.blobDigest, layer.diffId);
      await deps.snapshotter.commit(layer.chainId, key);
    } catch (e) {
      await deps.snapshotter.remove(key).catch(() => undefined);
      // Another process committed the same layer meanwhile: theirs is as good as ours.
      if (!(isStrataError(e, 'AlreadyExists') && (await snapshotExists(deps.snapshotter, layer.chainId)))) throw e;
    }
    const { size } = await deps.snapshotter.usage(layer.chainId);
    deps.images.putLayer({ chainId: layer.chainId, diffId: layer.diffId, parent, size });
    sizes.push(size);
    parent = layer.chainId;
  }
  return sizes;
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
