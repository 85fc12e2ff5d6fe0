import type { Digest } from '../digest/digest.js';
import type { Engine } from '../engine/engine.js';
import { imageCreated } from '../engine/image-views.js';
import type { ImageRecord } from '../metadata/images.js';

export interface ImageSummary {
  id: Digest;
  /** Familiar `repository:tag` names; empty for a dangling image. */
  names: string[];
  created: string;
  layerCount: number;
  /** Sum of the layer blobs as stored (compressed). */
  compressedSize: number;
  /** Sum of the unpacked layer snapshots. */
  unpackedSize: number;
  /** Unpacked bytes of layers no other image uses. */
  uniqueSize: number;
  /** Unpacked bytes of layers other images use too. */
  sharedSize: number;
  containers: number;
}

export interface SharedLayer {
  chainId: Digest;
  diffId: Digest;
  size: number;
  /** Images using the layer, in the order of `SharingReport.images`. */
  images: Digest[];
  /** Bytes not stored again because the layer is shared: size × (users − 1). */
  saved: number;
}

/**
 * Layers are shared by chainID: one snapshot serves every image whose layer
 * stack up to that point is identical, so two images always share a common
 * prefix of layers. `matrix[i][j]` is the unpacked bytes images i and j
 * share (the diagonal is each image's own size).
 */
export interface SharingReport {
  images: { id: Digest; name: string }[];
  layers: SharedLayer[];
  matrix: number[][];
  savedBytes: number;
  /** Compressed bytes not stored twice: blobs referenced by several images. */
  savedBlobBytes: number;
}

function layerSize(engine: Engine, chainId: Digest): number {
  return engine.imageStore.getLayer(chainId)?.size ?? 0;
}

/** An image's tags as `repository:tag`, familiar form. */
export function namesOf(engine: Engine, id: Digest): string[] {
  return engine.images.tagsOf(id).map((t) => {
    const n = engine.images.displayName(t);
    return `${n.repository}:${n.tag}`;
  });
}

/** How many images use each chainID. */
function usersByChain(images: ImageRecord[]): Map<Digest, Set<Digest>> {
  const users = new Map<Digest, Set<Digest>>();
  for (const img of images) {
    for (const l of img.layers) {
      const set = users.get(l.chainId) ?? new Set<Digest>();
      set.add(img.id);
      users.set(l.chainId, set);
    }
  }
  return users;
}

export function imageSummaries(engine: Engine): ImageSummary[] {
  const images = engine.images.list();
  const users = usersByChain(images);
  return images.map((img) => {
    let unique = 0;
    let shared = 0;
    for (const l of img.layers) {
      if ((users.get(l.chainId)?.size ?? 0) > 1) shared += layerSize(engine, l.chainId);
      else unique += layerSize(engine, l.chainId);
    }
    return {
      id: img.id,
      names: namesOf(engine, img.id),
      created: imageCreated(img).toISOString(),
      layerCount: img.layers.length,
      compressedSize: img.layers.reduce((s, l) => s + l.blobSize, 0),
      unpackedSize: img.size,
      uniqueSize: unique,
      sharedSize: shared,
      containers: engine.imageStore.containersUsing(img.id).length,
    };
  });
}

export function sharingReport(engine: Engine): SharingReport {
  const images = engine.images.list();
  const users = usersByChain(images);
  const layers: SharedLayer[] = [];
  const seen = new Set<Digest>();
  for (const img of images) {
    for (const l of img.layers) {
      const using = users.get(l.chainId)!;
      if (using.size < 2 || seen.has(l.chainId)) continue;
      seen.add(l.chainId);
      const size = layerSize(engine, l.chainId);
      const order = images.filter((i) => using.has(i.id)).map((i) => i.id);
      layers.push({ chainId: l.chainId, diffId: l.diffId, size, images: order, saved: size * (using.size - 1) });
    }
  }
  layers.sort((a, b) => b.saved - a.saved || (a.chainId < b.chainId ? -1 : 1));
  const chains = images.map((img) => new Set(img.layers.map((l) => l.chainId)));
  const matrix = images.map((a) =>
    images.map((_, j) => a.layers.filter((l) => chains[j].has(l.chainId)).reduce((s, l) => s + layerSize(engine, l.chainId), 0)),
  );
  const blobs = new Map<Digest, { size: number; refs: number }>();
  for (const img of images) {
    for (const d of new Set(img.layers.map((l) => l.blobDigest))) {
      const b = blobs.get(d) ?? { size: img.layers.find((l) => l.blobDigest === d)!.blobSize, refs: 0 };
      b.refs++;
      blobs.set(d, b);
    }
  }
  return {
    images: images.map((img) => ({ id: img.id, name: namesOf(engine, img.id)[0] ?? `<none>@${img.id.slice(7, 19)}` })),
    layers,
    matrix,
    savedBytes: layers.reduce((s, l) => s + l.saved, 0),
    savedBlobBytes: [...blobs.values()].reduce((s, b) => s + b.size * (b.refs - 1), 0),
  };
}
