import { posix } from 'node:path';
import { WHITEOUT_PREFIX } from '../archive/whiteouts.js';
import type { LayerIndex } from './layer-index.js';

/**
 * dive's efficiency score, computed the way dive (wagoodman/dive,
 * filetree.Efficiency and image.Analyze) computes it, so its CI thresholds
 * carry over:
 *
 * Each layer is a tree of its tar entries (missing parents become empty,
 * size-0 nodes; opaque markers `.wh..wh..opq` are dropped). Every *leaf* of
 * every layer tree is one sighting of its path (a whiteout `.wh.x` is a
 * sighting of `x`), with a size: the tar header size for a normal entry; for
 * a whiteout, the sum of the sizes below `x` when `x` is a directory in the
 * layers beneath stacked together, else 0. Per path p, with sizes s(p,i):
 *
 *   efficiency = Σ_p min_i s(p,i) / Σ_p Σ_i s(p,i)      (1 when the sum is 0)
 *   wasted     = Σ over paths seen in 2+ layers of Σ_i s(p,i)
 *   userWastedPercent = wasted / (sum of all tar header sizes of layers 2..n)
 *
 * So a file written once and deleted later costs its size once (the whiteout
 * counts 0) and a file written twice costs both copies. Differences from
 * dive: none for images built by docker; dive stops counting a layer after a
 * whiteout naming nothing below it, where this counts the whiteout as 0.
 */
export interface DiveEfficiency {
  efficiency: number;
  wastedBytes: number;
  userWastedPercent: number;
  sizeBytes: number;
  userSizeBytes: number;
  /** Paths seen in two or more layers, largest cumulative size first. */
  inefficiencies: { path: string; count: number; cumulativeSize: number }[];
}

interface DNode {
  size: number;
  isDir: boolean;
  children?: Map<string, DNode>;
}

function emptyNode(): DNode {
  return { size: 0, isDir: false };
}

function childOf(n: DNode, name: string): DNode {
  n.children ??= new Map();
  let c = n.children.get(name);
  if (!c) n.children.set(name, (c = emptyNode()));
  return c;
}

const dirOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')));
const baseOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/**
 * dive's tree of one layer (FileTree.AddPath per tar entry): missing parents
 * are created without data, an entry's data replaces a node's and keeps its
 * children, and opaque markers are left out.
 */
function layerTree(index: LayerIndex): DNode {
  const root = emptyNode();
  const dirs = new Map<string, DNode>([['', root]]);
  const dirNode = (path: string): DNode => {
    let n = dirs.get(path);
    if (!n) dirs.set(path, (n = childOf(dirNode(dirOf(path)), baseOf(path))));
    return n;
  };
  for (const e of index.entries) {
    if (e.kind === 'opaque') continue;
    const node = childOf(dirNode(dirOf(e.path)), baseOf(e.path));
    node.size = e.size;
    node.isDir = e.kind === 'dir';
  }
  return root;
}

function getNode(root: DNode, path: string): DNode | undefined {
  let n: DNode | undefined = root;
  for (const part of path.split('/')) n = n?.children?.get(part);
  return n;
}

/** Child names in dive's visiting order (sorted), so a whiteout and an entry of one name apply in dive's order. */
function sortedNames(n: DNode): string[] {
  const names = [...(n.children?.keys() ?? [])];
  return names.length > 1 ? names.sort() : names;
}

/** Every leaf below `node` with its path as dive reports it (whiteout prefix trimmed). */
function visitLeaves(node: DNode, prefix: string, visit: (n: DNode, path: string, whiteout: boolean) => void): void {
  for (const [name, child] of node.children ?? []) {
    if (child.children?.size) {
      visitLeaves(child, `${prefix}${name}/`, visit);
    } else {
      const whiteout = name.startsWith(WHITEOUT_PREFIX);
      visit(child, prefix + (whiteout ? name.slice(WHITEOUT_PREFIX.length) : name), whiteout);
    }
  }
}

function sumSizes(n: DNode): number {
  let total = n.size;
  for (const c of n.children?.values() ?? []) total += sumSizes(c);
  return total;
}

/**
 * dive's FileTree.Stack: the upper tree is visited children first; a
 * whiteout removes its path from the lower tree, every other node is added
 * (missing parents created empty) and given the upper node's data.
 */
function stack(lower: DNode, upper: DNode): void {
  for (const name of sortedNames(upper)) {
    const u = upper.children!.get(name)!;
    if (name.startsWith(WHITEOUT_PREFIX)) {
      lower.children?.delete(name.slice(WHITEOUT_PREFIX.length));
      continue;
    }
    const l = childOf(lower, name);
    stack(l, u);
    l.size = u.size;
    l.isDir = u.isDir;
  }
}

export function diveEfficiency(indexes: readonly LayerIndex[]): DiveEfficiency {
  const paths = new Map<string, { cumulative: number; min: number; count: number }>();
  // dive sizes a whiteout of layer i against layers 0..i-1 stacked, and layer
  // 0's against itself: the first tree becomes the stack (nothing reads it again).
  let stacked: DNode | undefined;
  for (const index of indexes) {
    const root = layerTree(index);
    stacked ??= root;
    visitLeaves(root, '', (node, path, whiteout) => {
      let size = node.size;
      if (whiteout) {
        const below = getNode(stacked!, path);
        size = below?.isDir ? sumSizes(below) : 0;
      }
      const p = paths.get(path);
      if (p) {
        p.cumulative += size;
        p.min = Math.min(p.min, size);
        p.count++;
      } else {
        paths.set(path, { cumulative: size, min: size, count: 1 });
      }
    });
    if (root !== stacked) stack(stacked, root);
  }
  let minimum = 0;
  let discovered = 0;
  const inefficiencies: DiveEfficiency['inefficiencies'] = [];
  for (const [path, p] of paths) {
    minimum += p.min;
    discovered += p.cumulative;
    if (p.count >= 2) inefficiencies.push({ path: posix.join('/', path), count: p.count, cumulativeSize: p.cumulative });
  }
  inefficiencies.sort((a, b) => b.cumulativeSize - a.cumulativeSize || (a.path < b.path ? -1 : 1));
  const wastedBytes = inefficiencies.reduce((s, i) => s + i.cumulativeSize, 0);
  const layerSizes = indexes.map((index) => index.entries.reduce((s, e) => s + e.size, 0));
  const sizeBytes = layerSizes.reduce((a, b) => a + b, 0);
  const userSizeBytes = sizeBytes - (layerSizes[0] ?? 0);
  return {
    efficiency: discovered === 0 ? 1 : minimum / discovered,
    wastedBytes,
    userWastedPercent: userSizeBytes === 0 ? 0 : wastedBytes / userSizeBytes,
    sizeBytes,
    userSizeBytes,
    inefficiencies,
  };
}
