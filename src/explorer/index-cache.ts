import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hexOf, type Digest } from '../digest/digest.js';
import { errnoCode } from '../errors/errors.js';
import type { LocalContentStore } from '../content/local-store.js';
import type { ImageLayer } from '../metadata/images.js';
import { readLayerIndex, type EntryKind, type IndexEntry, type LayerIndex } from './layer-index.js';

/** Bumped whenever the stored shape changes; other versions are rebuilt. */
const FORMAT = 1;

const KIND_CODES: Record<EntryKind, string> = {
  file: 'f', dir: 'd', symlink: 'l', hardlink: 'h', char: 'c', block: 'b', fifo: 'p', whiteout: 'w', opaque: 'o',
};
const CODE_KINDS = Object.fromEntries(Object.entries(KIND_CODES).map(([k, c]) => [c, k as EntryKind]));

type Row = [path: string, kind: string, size: number, mode: number, uid: number, gid: number, link?: string];

function encode(index: LayerIndex): string {
  const rows: Row[] = index.entries.map((e) => {
    const row: Row = [e.path, KIND_CODES[e.kind], e.size, e.mode, e.uid, e.gid];
    if (e.link !== undefined) row.push(e.link);
    return row;
  });
  return JSON.stringify({ format: FORMAT, diffId: index.diffId, entries: rows });
}

function decode(text: string, diffId: Digest): LayerIndex | undefined {
  let doc: { format?: number; diffId?: string; entries?: Row[] };
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined; // a torn or foreign file: rebuilt from the blob
  }
  if (doc.format !== FORMAT || doc.diffId !== diffId || !Array.isArray(doc.entries)) return undefined;
  const entries = doc.entries.map(([path, code, size, mode, uid, gid, link]): IndexEntry => {
    const e: IndexEntry = { path, kind: CODE_KINDS[code], size, mode, uid, gid };
    if (link !== undefined) e.link = link;
    return e;
  });
  return { diffId, entries };
}

/**
 * Per-layer indexes on disk under <root>/explorer/layers/<diffid hex>.json.
 * A layer's index depends only on its uncompressed tar, so the DiffID is the
 * whole key and an entry never goes stale; `prune` drops those of layers no
 * image has any more. Concurrent requests for one layer share one build.
 */
export class LayerIndexCache {
  readonly dir: string;
  #content: LocalContentStore;
  #building = new Map<Digest, Promise<LayerIndex>>();

  constructor(root: string, content: LocalContentStore) {
    this.dir = join(root, 'explorer', 'layers');
    this.#content = content;
  }

  #file(diffId: Digest): string {
    return join(this.dir, `${hexOf(diffId)}.json`);
  }

  async get(layer: ImageLayer): Promise<LayerIndex> {
    const pending = this.#building.get(layer.diffId);
    if (pending) return pending;
    const p = this.#load(layer).finally(() => this.#building.delete(layer.diffId));
    this.#building.set(layer.diffId, p);
    return p;
  }

  async #load(layer: ImageLayer): Promise<LayerIndex> {
    const cached = await readFile(this.#file(layer.diffId), 'utf8').then(
      (text) => decode(text, layer.diffId),
      (e) => {
        if (errnoCode(e) === 'ENOENT') return undefined;
        throw e;
      },
    );
    if (cached) return cached;
    const index = await readLayerIndex(await this.#content.reader(layer.blobDigest), layer.diffId, `layer ${layer.diffId} (blob ${layer.blobDigest})`);
    await this.#store(index);
    return index;
  }

  /** Written to a temporary name and renamed, so readers never see half an index. */
  async #store(index: LayerIndex): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = this.#file(index.diffId);
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await writeFile(tmp, encode(index));
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /** Removes the indexes of layers not in `keep` (DiffIDs); returns how many went. */
  async prune(keep: Set<Digest>): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return 0;
      throw e;
    }
    let removed = 0;
    for (const name of names) {
      const m = /^([a-f0-9]{64})\.json$/.exec(name);
      // Temporary files may belong to a build in flight in another process.
      if (!m || keep.has(`sha256:${m[1]}` as Digest)) continue;
      await rm(join(this.dir, name), { force: true });
      removed++;
    }
    return removed;
  }
}
