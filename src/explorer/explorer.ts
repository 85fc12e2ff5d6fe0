import { changeSet, type Change } from '../diff/changes.js';
import type { Digest } from '../digest/digest.js';
import type { Engine } from '../engine/engine.js';
import { errors, isStrataError } from '../errors/errors.js';
import type { ImageRecord } from '../metadata/images.js';
import { analyzeImage, type ImageAnalysis, type LayerSummary, type WasteReport } from './analysis.js';
import type { DiveEfficiency } from './dive-efficiency.js';
import { lookup, subtreeBytes, type TreeNode } from './fstree.js';
import { LayerIndexCache } from './index-cache.js';
import { mergedTree } from './replay.js';
import { imageSummaries, namesOf, sharingReport, type ImageSummary, type SharingReport } from './sharing.js';

export type TreeView = 'layer' | 'merged';

export interface TreeEntry {
  name: string;
  path: string;
  kind: string;
  /** For a directory, the regular-file bytes below it. */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  link?: string;
  mark?: string;
  opaque?: boolean;
  /** The layer that last wrote this path. */
  layer: number;
  /** Number of direct children (directories only). */
  children?: number;
}

export interface TreeListing {
  imageId: Digest;
  layer: number;
  view: TreeView;
  node: TreeEntry;
  entries: TreeEntry[];
  offset: number;
  total: number;
}

export interface ImageDetail {
  summary: ImageSummary;
  layers: LayerSummary[];
  waste: Omit<WasteReport, 'items'> & { count: number };
}

export interface ContainerLayer {
  id: string;
  name: string;
  snapshotKey: string;
  imageId: Digest;
  /** The image's first name, `repository:tag`; absent for a dangling image. */
  image?: string;
  created: string;
  /** Disk usage of the writable layer (the snapshotter's). */
  size?: number;
  error?: string;
}

/** What a container's writable layer changes over its image, as `docker diff` lists it. */
export interface ContainerChanges {
  id: string;
  name: string;
  changes: Change[];
  /** Bytes of the added and changed files, hard links counted once. */
  changedBytes: number;
  counts: Record<Change['kind'], number>;
}

interface ContainerRow {
  id: string;
  name: string;
  image_id: Digest;
  snapshot_key: string;
  created_at: number;
}

const CONTAINERS_NOTE =
  'Strata does not create containers yet: once it does, each container\'s writable layer and its size show here.';

/** A small most-recently-used cache. */
class Lru<K, V> {
  #map = new Map<K, V>();
  constructor(readonly max: number) {}
  get(k: K): V | undefined {
    const v = this.#map.get(k);
    if (v !== undefined) {
      this.#map.delete(k);
      this.#map.set(k, v);
    }
    return v;
  }
  delete(k: K): void {
    this.#map.delete(k);
  }
  set(k: K, v: V): void {
    this.#map.delete(k);
    this.#map.set(k, v);
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value as K);
  }
}

/**
 * The explorer's view of an engine: image summaries, per-image analyses
 * (cached in memory, layer indexes cached on disk), lazily listed trees,
 * waste, sharing and containers. The web server and the CLI both use it.
 */
export class Explorer {
  readonly engine: Engine;
  readonly indexes: LayerIndexCache;
  #analyses = new Lru<Digest, Promise<ImageAnalysis>>(4);
  #merged = new Lru<string, TreeNode>(2);

  constructor(engine: Engine) {
    this.engine = engine;
    this.indexes = new LayerIndexCache(engine.root, engine.content);
  }

  images(): ImageSummary[] {
    return imageSummaries(this.engine);
  }

  /** The image a user named (name, ID or ID prefix); NotFound when there is none. */
  resolve(ref: string): ImageRecord {
    try {
      return this.engine.images.resolve(ref);
    } catch (e) {
      // A name that does not even parse names no image either; an ambiguous ID prefix stays a bad request.
      if (isStrataError(e) && e.code === 'STRATA_ERR_INVALID_REFERENCE') throw errors.imageNotFound(`No such image: ${ref}`, { cause: e });
      throw e;
    }
  }

  async analysis(img: ImageRecord): Promise<ImageAnalysis> {
    let a = this.#analyses.get(img.id);
    if (!a) {
      a = analyzeImage(this.engine, this.indexes, img);
      this.#analyses.set(img.id, a);
      a.catch(() => this.#analyses.delete(img.id)); // a failed analysis is retried on the next request
    }
    return a;
  }

  async image(ref: string): Promise<ImageDetail> {
    const img = this.resolve(ref);
    const a = await this.analysis(img);
    const summary = this.images().find((s) => s.id === img.id)!;
    const { items, ...waste } = a.waste;
    return { summary, layers: a.layers, waste: { ...waste, count: items.length } };
  }

  async waste(ref: string): Promise<{ imageId: Digest; waste: WasteReport; dive: DiveEfficiency; layers: LayerSummary[] }> {
    const img = this.resolve(ref);
    const a = await this.analysis(img);
    return { imageId: img.id, waste: a.waste, dive: a.dive(), layers: a.layers };
  }

  /** Checks a layer number against an image; NotFound names the valid range. */
  checkLayer(img: ImageRecord, layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= img.layers.length) {
      throw errors.notFound(`image ${img.id.slice(7, 19)} has no layer ${layer}: it has layers 0 to ${img.layers.length - 1}`);
    }
  }

  async tree(ref: string, opts: { layer: number; view: TreeView; path: string; offset?: number; limit?: number }): Promise<TreeListing> {
    const img = this.resolve(ref);
    this.checkLayer(img, opts.layer);
    const a = await this.analysis(img);
    const changes = a.changes[opts.layer];
    const root = opts.view === 'layer' ? changes : this.#mergedAt(a, opts.layer);
    const node = lookup(root, opts.path);
    if (!node) {
      throw errors.notFound(`no path /${opts.path} in ${opts.view === 'layer' ? 'the changes of' : 'the image up to'} layer ${opts.layer}`);
    }
    const markOf = (path: string, n: TreeNode) => (opts.view === 'layer' ? n.mark : lookup(changes, path)?.mark);
    const entry = (n: TreeNode, path: string): TreeEntry => {
      const e: TreeEntry = {
        name: n.name,
        path: `/${path}`,
        kind: n.meta.kind,
        size: subtreeBytes(n),
        mode: n.meta.mode,
        uid: n.meta.uid,
        gid: n.meta.gid,
        layer: n.layer,
      };
      const mark = markOf(path, n);
      if (mark) e.mark = mark;
      if (n.meta.link !== undefined) e.link = n.meta.link;
      if (n.opaque) e.opaque = true;
      if (n.children) e.children = n.children.size;
      return e;
    };
    const names = [...(node.children?.keys() ?? [])].sort();
    const offset = opts.offset ?? 0;
    const limit = opts.limit ?? 1000;
    const child = (name: string) => (opts.path === '' ? name : `${opts.path}/${name}`);
    return {
      imageId: img.id,
      layer: opts.layer,
      view: opts.view,
      node: entry(node, opts.path),
      entries: names.slice(offset, offset + limit).map((name) => entry(node.children!.get(name)!, child(name))),
      offset,
      total: names.length,
    };
  }

  #mergedAt(a: ImageAnalysis, layer: number): TreeNode {
    if (layer === a.indexes.length - 1) return a.top;
    const key = `${a.imageId}:${layer}`;
    let t = this.#merged.get(key);
    if (!t) {
      t = mergedTree(a.indexes, layer);
      this.#merged.set(key, t);
    }
    return t;
  }

  sharing(): SharingReport {
    return sharingReport(this.engine);
  }

  /** Containers with their writable layer's size, newest first; their changes load one at a time (containerChanges). */
  async containers(): Promise<{ note: string; containers: ContainerLayer[] }> {
    const rows = this.engine.db.prepare('SELECT * FROM containers ORDER BY created_at DESC, name').all() as ContainerRow[];
    const containers: ContainerLayer[] = [];
    for (const r of rows) {
      const c: ContainerLayer = {
        id: r.id,
        name: r.name,
        imageId: r.image_id,
        snapshotKey: r.snapshot_key,
        created: new Date(r.created_at).toISOString(),
      };
      const image = namesOf(this.engine, r.image_id)[0];
      if (image) c.image = image;
      try {
        c.size = (await this.engine.snapshotter.usage(r.snapshot_key)).size;
      } catch (e) {
        c.error = (e as Error).message;
      }
      containers.push(c);
    }
    return { note: rows.length ? '' : CONTAINERS_NOTE, containers };
  }

  /** The changes of a container (by full ID or name) over its image; NotFound when there is no such container. */
  async containerChanges(ref: string): Promise<ContainerChanges> {
    const row = this.engine.db.prepare('SELECT * FROM containers WHERE id = ? OR name = ?').get(ref, ref) as ContainerRow | undefined;
    if (!row) throw errors.notFound(`No such container: ${ref}`);
    const set = await changeSet(this.engine.snapshotter, row.snapshot_key, { tmpDir: this.engine.tmpDir });
    const counts = { A: 0, C: 0, D: 0 };
    for (const c of set.changes) counts[c.kind]++;
    return { id: row.id, name: row.name, changes: set.changes, changedBytes: set.size, counts };
  }

  /** Drops on-disk indexes of layers no image uses any more. */
  async pruneIndexes(): Promise<number> {
    const keep = new Set<Digest>();
    for (const img of this.engine.images.list()) for (const l of img.layers) keep.add(l.diffId);
    return this.indexes.prune(keep);
  }
}
