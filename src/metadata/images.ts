import type { Digest } from '../digest/digest.js';
import { writeTx, type DB } from './db.js';

export interface ImageLayer {
  diffId: Digest;
  chainId: Digest;
  /** The layer blob as stored in the content store (compressed or not). */
  blobDigest: Digest;
  mediaType: string;
  blobSize: number;
}

export interface ImageRecord {
  /** The image ID: the digest of its config blob. */
  id: Digest;
  configSize: number;
  created?: string;
  topLayer?: Digest;
  /** Unpacked size of all layers, as Docker reports it. */
  size: number;
  loadedAt: Date;
  layers: ImageLayer[];
}

export interface LayerRecord {
  chainId: Digest;
  diffId: Digest;
  parent?: Digest;
  size: number;
}

interface ImageRow {
  id: Digest;
  config_size: number;
  created: string | null;
  top_layer: Digest | null;
  size: number;
  loaded_at: number;
}

/** Images, their layers, tags and repo digests in the metadata database. */
export class ImageStore {
  #db: DB;

  constructor(db: DB) {
    this.#db = db;
  }

  get(id: Digest): ImageRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    return row && this.#record(row);
  }

  list(): ImageRecord[] {
    const rows = this.#db.prepare('SELECT * FROM images ORDER BY loaded_at DESC').all() as ImageRow[];
    return rows.map((r) => this.#record(r));
  }

  /** IDs starting with a hex prefix (without the algorithm). */
  findByPrefix(hexPrefix: string): Digest[] {
    const rows = this.#db
      .prepare("SELECT id FROM images WHERE substr(id, 8) LIKE ? || '%'")
      .all(hexPrefix) as { id: Digest }[];
    return rows.map((r) => r.id);
  }

  #record(row: ImageRow): ImageRecord {
    const layers = (
      this.#db.prepare('SELECT * FROM image_layers WHERE image_id = ? ORDER BY idx').all(row.id) as {
        diff_id: Digest;
        chain_id: Digest;
        blob_digest: Digest;
        media_type: string;
        blob_size: number;
      }[]
    ).map((l) => ({
      diffId: l.diff_id,
      chainId: l.chain_id,
      blobDigest: l.blob_digest,
      mediaType: l.media_type,
      blobSize: l.blob_size,
    }));
    return {
      id: row.id,
      configSize: row.config_size,
      created: row.created ?? undefined,
      topLayer: row.top_layer ?? undefined,
      size: row.size,
      loadedAt: new Date(row.loaded_at),
      layers,
    };
  }

  /** Inserts an image (idempotent: an existing ID is kept as it is). Call inside a transaction. */
  put(img: Omit<ImageRecord, 'loadedAt'>): void {
    const res = this.#db
      .prepare(
        'INSERT OR IGNORE INTO images (id, config_size, created, top_layer, size, loaded_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(img.id, img.configSize, img.created ?? null, img.topLayer ?? null, img.size, Date.now());
    if (res.changes === 0) return;
    const ins = this.#db.prepare(
      'INSERT INTO image_layers (image_id, idx, diff_id, chain_id, blob_digest, media_type, blob_size) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    img.layers.forEach((l, i) => ins.run(img.id, i, l.diffId, l.chainId, l.blobDigest, l.mediaType, l.blobSize));
  }

  delete(id: Digest): void {
    writeTx(this.#db, () => {
      this.#db.prepare('DELETE FROM tags WHERE image_id = ?').run(id);
      this.#db.prepare('DELETE FROM images WHERE id = ?').run(id);
    });
  }

  /** Points a tag at an image; returns the image it pointed at before, if another. */
  tag(name: string, id: Digest): Digest | undefined {
    const prev = this.#db.prepare('SELECT image_id FROM tags WHERE name = ?').get(name) as
      | { image_id: Digest }
      | undefined;
    this.#db
      .prepare('INSERT INTO tags (name, image_id, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, created_at = excluded.created_at')
      .run(name, id, Date.now());
    return prev && prev.image_id !== id ? prev.image_id : undefined;
  }

  untag(name: string): boolean {
    return this.#db.prepare('DELETE FROM tags WHERE name = ?').run(name).changes > 0;
  }

  resolveTag(name: string): Digest | undefined {
    const row = this.#db.prepare('SELECT image_id FROM tags WHERE name = ?').get(name) as
      | { image_id: Digest }
      | undefined;
    return row?.image_id;
  }

  tagsOf(id: Digest): string[] {
    const rows = this.#db.prepare('SELECT name FROM tags WHERE image_id = ? ORDER BY created_at DESC, name').all(id) as {
      name: string;
    }[];
    return rows.map((r) => r.name);
  }

  allTags(): { name: string; imageId: Digest; createdAt: Date }[] {
    const rows = this.#db.prepare('SELECT name, image_id, created_at FROM tags').all() as {
      name: string;
      image_id: Digest;
      created_at: number;
    }[];
    return rows.map((r) => ({ name: r.name, imageId: r.image_id, createdAt: new Date(r.created_at) }));
  }

  repoDigestsOf(id: Digest): string[] {
    const rows = this.#db.prepare('SELECT name, manifest_digest FROM repo_digests WHERE image_id = ?').all(id) as {
      name: string;
      manifest_digest: string;
    }[];
    return rows.map((r) => `${r.name}@${r.manifest_digest}`);
  }

  /** Names of the containers created from an image. */
  containersUsing(id: Digest): string[] {
    const rows = this.#db.prepare('SELECT name FROM containers WHERE image_id = ?').all(id) as { name: string }[];
    return rows.map((r) => r.name);
  }

  getLayer(chainId: Digest): LayerRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM layers WHERE chain_id = ?').get(chainId) as
      | { chain_id: Digest; diff_id: Digest; parent: Digest | null; size: number }
      | undefined;
    return row && { chainId: row.chain_id, diffId: row.diff_id, parent: row.parent ?? undefined, size: row.size };
  }

  /** The DiffID a blob was verified to decompress to, if it ever was. */
  verifiedDiffId(blob: Digest): Digest | undefined {
    const row = this.#db.prepare('SELECT diff_id FROM blob_diff_ids WHERE blob_digest = ?').get(blob) as
      | { diff_id: Digest }
      | undefined;
    return row?.diff_id;
  }

  recordDiffId(blob: Digest, diffId: Digest): void {
    this.#db.prepare('INSERT OR REPLACE INTO blob_diff_ids (blob_digest, diff_id) VALUES (?, ?)').run(blob, diffId);
  }

  putLayer(l: LayerRecord): void {
    this.#db
      .prepare('INSERT OR IGNORE INTO layers (chain_id, diff_id, parent, size, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(l.chainId, l.diffId, l.parent ?? null, l.size, Date.now());
  }
}
