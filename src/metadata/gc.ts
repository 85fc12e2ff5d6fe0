import type { ContentStore } from '../content/store.js';
import type { Digest } from '../digest/digest.js';
import { isStrataError } from '../errors/errors.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';
import type { DB } from './db.js';
import type { LeaseManager } from './leases.js';

export interface GcResult {
  blobsRemoved: number;
  bytesFreed: number;
  snapshotsRemoved: number;
  /** ChainIDs of the layers removed, children before parents (as `rmi` reports them). */
  removedLayers: string[];
}

/**
 * Mark and sweep. Roots are images (they live until `rmi` or `prune` deletes
 * them, as in Docker), containers and live leases. Marked: config and layer
 * blobs, manifests behind repo digests, layer snapshots with their parent
 * chains, container snapshots. Everything else in the content store and the
 * snapshotter is swept, leaves first.
 *
 * The whole mark and the metadata half of the sweep run under one write
 * transaction: a writer records its lease before it publishes anything, so it
 * either committed the lease before GC read them or waits for GC to finish.
 */
export async function collectGarbage(db: DB, leases: LeaseManager, content: ContentStore, snapshotter: Snapshotter): Promise<GcResult> {
  const result: GcResult = { blobsRemoved: 0, bytesFreed: 0, snapshotsRemoved: 0, removedLayers: [] };
  db.exec('BEGIN IMMEDIATE');
  try {
    const blobs = new Set<string>();
    const snapshots = new Set<string>();
    const layerRows = db.prepare('SELECT chain_id, parent FROM layers').all() as { chain_id: string; parent: string | null }[];
    const layerParent = new Map(layerRows.map((r) => [r.chain_id, r.parent]));
    const markLayerChain = (chain: string | null | undefined) => {
      for (let c = chain; c && !snapshots.has(c); c = layerParent.get(c)) snapshots.add(c);
    };
    for (const r of db.prepare('SELECT id, top_layer FROM images').all() as { id: string; top_layer: string | null }[]) {
      blobs.add(r.id);
      markLayerChain(r.top_layer);
    }
    for (const r of db.prepare('SELECT blob_digest FROM image_layers').all() as { blob_digest: string }[]) blobs.add(r.blob_digest);
    for (const r of db.prepare('SELECT manifest_digest FROM repo_digests').all() as { manifest_digest: string }[]) {
      blobs.add(r.manifest_digest);
    }
    for (const r of leases.liveResources()) (r.kind === 'content' ? blobs : snapshots).add(r.ref);
    const snapParents = new Map<string, string | undefined>();
    for await (const info of snapshotter.walk()) snapParents.set(info.key, info.parent);
    for (const r of db.prepare('SELECT snapshot_key FROM containers').all() as { snapshot_key: string }[]) {
      snapshots.add(r.snapshot_key);
    }
    // Parents of anything marked are marked too (active extracts, containers).
    for (const key of [...snapshots]) {
      for (let p = snapParents.get(key); p && !snapshots.has(p); p = snapParents.get(p)) snapshots.add(p);
    }

    // Children before parents: a layer row references its parent's.
    const depth = (c: string): number => {
      let n = 0;
      for (let p = layerParent.get(c); p; p = layerParent.get(p)) n++;
      return n;
    };
    const del = db.prepare('DELETE FROM layers WHERE chain_id = ?');
    const unmarked = [...layerParent.keys()].filter((c) => !snapshots.has(c));
    for (const chain of unmarked.sort((a, b) => depth(b) - depth(a))) {
      if (del.run(chain).changes) result.removedLayers.push(chain);
    }
    // Leaves first: a snapshot is removable once no unswept child points at it.
    const doomed = new Set([...snapParents.keys()].filter((k) => !snapshots.has(k)));
    while (doomed.size) {
      const parents = new Set([...doomed].map((k) => snapParents.get(k)));
      const leaves = [...doomed].filter((k) => !parents.has(k));
      if (leaves.length === 0) break;
      for (const k of leaves) {
        doomed.delete(k);
        try {
          await snapshotter.remove(k);
          result.snapshotsRemoved++;
        } catch (e) {
          if (!isStrataError(e, 'NotFound')) throw e;
        }
      }
    }
    const forget = db.prepare('DELETE FROM blob_diff_ids WHERE blob_digest = ?');
    for await (const b of content.walk()) {
      if (blobs.has(b.digest)) continue;
      forget.run(b.digest);
      try {
        await content.delete(b.digest as Digest);
        result.blobsRemoved++;
        result.bytesFreed += b.size;
      } catch (e) {
        if (!isStrataError(e, 'NotFound')) throw e;
      }
    }
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
  return result;
}
