import type { Digest } from '../digest/digest.js';
import type { Engine } from '../engine/engine.js';
import type { ImageRecord } from '../metadata/images.js';
import type { HistoryEntry } from '../oci/image.js';
import { diveEfficiency, type DiveEfficiency } from './dive-efficiency.js';
import type { TreeNode } from './fstree.js';
import type { LayerIndexCache } from './index-cache.js';
import type { LayerIndex } from './layer-index.js';
import { Replay, type LayerStats, type WasteItem } from './replay.js';

export interface LayerSummary {
  index: number;
  diffId: Digest;
  chainId: Digest;
  blobDigest: Digest;
  mediaType: string;
  /** Compressed size of the blob in the content store. */
  blobSize: number;
  /** Unpacked size of the layer's snapshot, as `history` shows it. */
  size: number;
  /** The history line that made the layer (`created_by`), '' when the image has no history. */
  createdBy: string;
  created?: string;
  comment?: string;
  stats: LayerStats;
  /** Bytes of lower layers this layer overwrote or deleted. */
  wasteCaused: number;
  /** Bytes this layer stores that later layers overwrote or deleted. */
  wasteStored: number;
}

export interface WasteEntry extends WasteItem {
  /** The history line of the layer responsible (`removedIn`). */
  createdBy: string;
}

/**
 * Waste as Strata counts it: the bytes of every file version that some
 * layer stores but no name of the final image reaches, each charged to the
 * layer that overwrote or deleted it. `wastedPercent` is of `totalBytes`, the
 * regular-file bytes all layers store.
 */
export interface WasteReport {
  totalBytes: number;
  wastedBytes: number;
  wastedPercent: number;
  items: WasteEntry[];
}

export interface ImageAnalysis {
  imageId: Digest;
  layers: LayerSummary[];
  /** Per layer, what it added, modified and deleted. */
  changes: TreeNode[];
  /** The merged tree of all layers. */
  top: TreeNode;
  indexes: LayerIndex[];
  waste: WasteReport;
  /** dive's score, computed on first use (the page shows the tree before it). */
  dive(): DiveEfficiency;
}

/** History entries that made layers, one per layer (empty_layer ones skipped), as Docker pairs them. */
export function layerHistory(history: HistoryEntry[] | undefined, layers: number): (HistoryEntry | undefined)[] {
  const withLayers = (history ?? []).filter((h) => !h.empty_layer);
  return Array.from({ length: layers }, (_, i) => withLayers[i]);
}

/** Indexes of all layers, two blobs at a time (a layer read is decompression-bound). */
async function loadIndexes(cache: LayerIndexCache, img: ImageRecord): Promise<LayerIndex[]> {
  const out: LayerIndex[] = new Array(img.layers.length);
  let next = 0;
  const worker = async () => {
    while (next < img.layers.length) {
      const i = next++;
      out[i] = await cache.get(img.layers[i]);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

export async function analyzeImage(engine: Engine, cache: LayerIndexCache, img: ImageRecord): Promise<ImageAnalysis> {
  const config = await engine.images.config(img.id);
  const history = layerHistory(config.history, img.layers.length);
  const indexes = await loadIndexes(cache, img);
  const replay = new Replay({ record: true });
  const applied = indexes.map((index, i) => replay.apply(index, i));
  const caused = new Array<number>(indexes.length).fill(0);
  const stored = new Array<number>(indexes.length).fill(0);
  for (const w of replay.waste) {
    caused[w.removedIn] += w.bytes;
    stored[w.addedIn] += w.bytes;
  }
  const layers = img.layers.map((l, i): LayerSummary => ({
    index: i,
    diffId: l.diffId,
    chainId: l.chainId,
    blobDigest: l.blobDigest,
    mediaType: l.mediaType,
    blobSize: l.blobSize,
    size: engine.imageStore.getLayer(l.chainId)?.size ?? 0,
    createdBy: history[i]?.created_by ?? '',
    created: history[i]?.created,
    comment: history[i]?.comment,
    stats: applied[i].stats,
    wasteCaused: caused[i],
    wasteStored: stored[i],
  }));
  let dive: DiveEfficiency | undefined;
  const totalBytes = applied.reduce((s, a) => s + a.stats.contentBytes, 0);
  const wastedBytes = replay.waste.reduce((s, w) => s + w.bytes, 0);
  const items = replay.waste
    .map((w) => ({ ...w, createdBy: layers[w.removedIn].createdBy }))
    .sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : a.addedIn - b.addedIn));
  return {
    imageId: img.id,
    layers,
    changes: applied.map((a) => a.tree),
    top: replay.root,
    indexes,
    waste: { totalBytes, wastedBytes, wastedPercent: totalBytes === 0 ? 0 : (wastedBytes / totalBytes) * 100, items },
    dive: () => (dive ??= diveEfficiency(indexes)),
  };
}
