import type { EntryKind } from './layer-index.js';

export type NodeKind = Exclude<EntryKind, 'whiteout' | 'opaque'>;

export interface FileMeta {
  kind: NodeKind;
  /** Bytes the layer stores for this name: the body of a regular file, 0 otherwise. */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  link?: string;
}

/** What a layer did to a path, relative to the layers below it. */
export type Mark = 'added' | 'modified' | 'deleted';

/** The content of a regular file, shared by all its hard links. */
export interface Inode {
  size: number;
  /** The layer whose tar holds the bytes. */
  layer: number;
  /** Names still visible in the merged tree; the bytes are wasted when this drops to 0. */
  names: number;
}

/**
 * One node of a tree view: the merged image (every node carries the layer
 * that last wrote it) or one layer's changes (nodes carry marks; parents that
 * only lead to changes have none). Trees are frozen once built, so subtree
 * byte counts are memoized on the nodes.
 */
export interface TreeNode {
  name: string;
  meta: FileMeta;
  layer: number;
  mark?: Mark;
  /** An opaque directory: this layer hid everything below it from lower layers. */
  opaque?: boolean;
  children?: Map<string, TreeNode>;
  inode?: Inode;
  bytes?: number;
}

export const DIR_META: FileMeta = { kind: 'dir', size: 0, mode: 0o755, uid: 0, gid: 0 };

export function newRoot(): TreeNode {
  return { name: '', meta: DIR_META, layer: -1, children: new Map() };
}

export function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('/');
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export function lookup(root: TreeNode, path: string): TreeNode | undefined {
  let node: TreeNode | undefined = root;
  for (const part of splitPath(path)) {
    node = node.children?.get(part);
    if (!node) return undefined;
  }
  return node;
}

/** Visits a subtree children first, with each node's path. */
export function walkPostOrder(node: TreeNode, path: string, visit: (n: TreeNode, path: string) => void): void {
  if (node.children) for (const [name, child] of node.children) walkPostOrder(child, joinPath(path, name), visit);
  visit(node, path);
}

/** Regular-file bytes in a subtree (hard links count 0: their bytes are counted at the file they share). */
export function subtreeBytes(node: TreeNode): number {
  if (node.bytes !== undefined) return node.bytes;
  let total = node.meta.kind === 'file' ? node.meta.size : 0;
  if (node.children) for (const child of node.children.values()) total += subtreeBytes(child);
  node.bytes = total;
  return total;
}

/** A deep copy of a subtree with every node marked `mark` (how a deleted directory's contents are shown). */
export function copyMarked(node: TreeNode, mark: Mark): TreeNode {
  const copy: TreeNode = { name: node.name, meta: node.meta, layer: node.layer, mark };
  if (node.children) {
    copy.children = new Map();
    for (const [name, child] of node.children) copy.children.set(name, copyMarked(child, mark));
  }
  return copy;
}
