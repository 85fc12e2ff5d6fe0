import type { Mount } from '../mount/mount.js';

export type SnapshotKind = 'active' | 'view' | 'committed';

export interface SnapshotInfo {
  key: string;
  parent?: string;
  kind: SnapshotKind;
  labels: Record<string, string>;
  created: Date;
  updated: Date;
}

export interface Usage {
  /** Bytes this snapshot adds on top of its parent (its own directory). */
  size: number;
  inodes: number;
}

export interface SnapshotOpts {
  labels?: Record<string, string>;
}

/**
 * A Snapshotter manages a tree of filesystem snapshots and hands out mounts
 * for them as plain data. It never decides policy (what to keep, when to GC)
 * and never unpacks layers: the diff module does that through the mounts.
 *
 * Importing a layer:
 *   const mounts = await s.prepare('extract-<random>', parentChainId);
 *   await applier.apply(layerBlob, mounts);           // untar into the mounts
 *   await s.commit(chainId, 'extract-<random>');      // now immutable, a parent
 *
 * Running a container:
 *   const mounts = await s.prepare(containerId, imageTopChainId);  // rw layer
 *   // the runtime mounts them as the rootfs; later `commit` makes an image layer
 *   await s.remove(containerId);
 *
 * Keys are unique across active, view and committed snapshots. A committed
 * snapshot with children cannot be removed. Usage of a committed snapshot is
 * computed once, at commit.
 */
export interface Snapshotter {
  /** The driver name users pass to --storage-driver. */
  readonly name: string;
  stat(key: string): Promise<SnapshotInfo>;
  usage(key: string): Promise<Usage>;
  mounts(key: string): Promise<Mount[]>;
  /** An active (writable) snapshot on top of parent (a committed key), or empty. */
  prepare(key: string, parent?: string, opts?: SnapshotOpts): Promise<Mount[]>;
  /** A read-only view of parent. */
  view(key: string, parent?: string, opts?: SnapshotOpts): Promise<Mount[]>;
  /** Turns the active snapshot `key` into the committed snapshot `name`. */
  commit(name: string, key: string, opts?: SnapshotOpts): Promise<void>;
  remove(key: string): Promise<void>;
  walk(): AsyncIterable<SnapshotInfo>;
  /** Lines for `info`: [label, value] pairs such as ['Backing Filesystem', 'extfs']. */
  status(): Promise<Array<[string, string]>>;
  close(): Promise<void>;
}
