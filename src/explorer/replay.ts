import { WHITEOUT_PREFIX } from '../archive/whiteouts.js';
import {
  DIR_META,
  copyMarked,
  joinPath,
  lookup,
  newRoot,
  walkPostOrder,
  type FileMeta,
  type Mark,
  type TreeNode,
} from './fstree.js';
import type { IndexEntry, LayerIndex } from './layer-index.js';

/** The bytes of one file version that no name in the final image reaches any more. */
export interface WasteItem {
  /** The last name of the file to disappear (a hard-linked file is wasted only when all its names are gone). */
  path: string;
  bytes: number;
  /** The layer whose tar stores the bytes. */
  addedIn: number;
  /** The layer that overwrote or deleted the last name: the one responsible. */
  removedIn: number;
  reason: 'overwritten' | 'deleted';
}

export interface LayerStats {
  /** Tar entries, whiteouts included. */
  entries: number;
  added: number;
  modified: number;
  deleted: number;
  /** Regular-file bytes this layer's tar stores. */
  contentBytes: number;
}

export interface LayerChanges {
  tree: TreeNode;
  stats: LayerStats;
}

const EXISTED = 1;
const COUNTED = 2;

function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** An index entry already has the shape of FileMeta: it is shared, not copied, unless a non-file claims bytes. */
function metaOf(e: IndexEntry): FileMeta {
  if (e.kind === 'file' || e.size === 0) return e as FileMeta;
  return { ...(e as FileMeta), size: 0 };
}

function sameAttrs(a: FileMeta, b: FileMeta): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

/**
 * Applies layers one after another to a merged tree with the OCI rules, and
 * records what each layer did and which file versions it made unreachable:
 * - a whiteout `.wh.<name>` removes <name> (and all below it) of lower layers;
 * - an opaque marker `.wh..wh..opq` removes every lower child of its directory;
 *   both apply before the layer's own entries, wherever they sit in the tar;
 * - an entry replaces what is at its path unless both are directories, and a
 *   non-directory in the way of a path is replaced by a directory;
 * - a hard link shares its target's content, so the bytes stay until every
 *   name of the file is gone.
 */
export class Replay {
  readonly root: TreeNode = newRoot();
  readonly waste: WasteItem[] = [];
  #record: boolean;
  // Per-layer state while a layer is applied.
  #layer = -1;
  #changes: TreeNode = newRoot();
  #stats: LayerStats = { entries: 0, added: 0, modified: 0, deleted: 0, contentBytes: 0 };
  /** Paths this layer touched: EXISTED if they were there below it, COUNTED once in the stats. */
  #touched = new Map<string, number>();
  /** Directories of the merged tree and nodes of the change tree by path, valid while nothing is removed. */
  #dirs = new Map<string, TreeNode>();
  #changeDirs = new Map<string, TreeNode>();

  constructor(opts: { record: boolean }) {
    this.#record = opts.record;
  }

  apply(index: LayerIndex, layer: number): LayerChanges {
    this.#layer = layer;
    this.#changes = newRoot();
    this.#stats = { entries: index.entries.length, added: 0, modified: 0, deleted: 0, contentBytes: 0 };
    this.#touched = new Map();
    this.#dirs = new Map();
    this.#changeDirs = new Map();
    for (const e of index.entries) {
      if (e.kind === 'whiteout') this.#whiteout(e.path);
      else if (e.kind === 'opaque') this.#opaque(e.path);
    }
    for (const e of index.entries) {
      if (e.kind !== 'whiteout' && e.kind !== 'opaque') this.#entry(e);
    }
    return { tree: this.#changes, stats: this.#stats };
  }

  #whiteout(path: string): void {
    const name = baseOf(path).slice(WHITEOUT_PREFIX.length);
    const target = joinPath(dirOf(path), name);
    const parent = lookup(this.root, dirOf(target));
    if (!parent?.children?.has(name)) return; // nothing below to delete
    this.#delete(parent, name, target);
  }

  #opaque(dirPath: string): void {
    const dir = lookup(this.root, dirPath);
    if (!dir?.children) return;
    for (const name of [...dir.children.keys()]) this.#delete(dir, name, joinPath(dirPath, name));
    if (this.#record) this.#changeNode(dirPath).opaque = true;
  }

  #delete(parent: TreeNode, name: string, path: string): void {
    const node = parent.children!.get(name)!;
    this.#touched.set(path, EXISTED);
    if (this.#record) {
      const changeParent = this.#changeNode(dirOf(path));
      changeParent.children!.set(name, copyMarked(node, 'deleted'));
      this.#changeDirs.clear(); // the copy replaced whatever was cached below `path`
    }
    walkPostOrder(node, path, () => this.#stats.deleted++);
    this.#remove(parent, name, path, 'deleted');
  }

  /** Unlinks a subtree from the merged tree; file contents whose last name goes become waste. */
  #remove(parent: TreeNode, name: string, path: string, reason: WasteItem['reason']): void {
    const node = parent.children!.get(name)!;
    parent.children!.delete(name);
    this.#dirs.clear();
    walkPostOrder(node, path, (n, p) => {
      if (n.inode && --n.inode.names === 0) {
        this.waste.push({ path: p, bytes: n.inode.size, addedIn: n.inode.layer, removedIn: this.#layer, reason });
      }
    });
  }

  #entry(e: IndexEntry): void {
    const parent = this.#ensureDir(dirOf(e.path));
    const name = baseOf(e.path);
    const meta = metaOf(e);
    const existing = parent.children!.get(name);
    const existed = this.#startState(e.path, existing);
    if (meta.kind === 'file') this.#stats.contentBytes += meta.size;
    let node: TreeNode;
    let mark: Mark | undefined = existed ? 'modified' : 'added';
    if (existing && existing.meta.kind === 'dir' && meta.kind === 'dir') {
      if (existed && existing.layer !== this.#layer && sameAttrs(existing.meta, meta)) mark = undefined;
      existing.meta = meta;
      existing.layer = this.#layer;
      node = existing;
    } else {
      if (existing) this.#remove(parent, name, e.path, 'overwritten');
      node = { name, meta, layer: this.#layer };
      if (meta.kind === 'dir') node.children = new Map();
      if (meta.kind === 'file') node.inode = { size: meta.size, layer: this.#layer, names: 1 };
      if (meta.kind === 'hardlink' && meta.link !== undefined) {
        const target = lookup(this.root, meta.link);
        if (target?.inode) {
          node.inode = target.inode;
          target.inode.names++;
        }
      }
      parent.children!.set(name, node);
    }
    this.#count(e.path, mark);
    if (this.#record) {
      const change = this.#changeNode(e.path, node, meta.kind === 'dir');
      change.meta = meta;
      change.layer = this.#layer;
      change.mark = mark;
    }
  }

  /** Whether a path existed below this layer, fixed the first time the layer touches it. */
  #startState(path: string, existing: TreeNode | undefined): boolean {
    const flags = this.#touched.get(path);
    if (flags !== undefined) return (flags & EXISTED) !== 0;
    const existed = existing !== undefined && existing.layer !== this.#layer;
    this.#touched.set(path, existed ? EXISTED : 0);
    return existed;
  }

  /** Counts a path (already touched) once per layer as added or modified. */
  #count(path: string, mark: Mark | undefined): void {
    const flags = this.#touched.get(path) ?? 0;
    if (flags & COUNTED) return;
    this.#touched.set(path, flags | COUNTED);
    if (mark === 'added') this.#stats.added++;
    else if (mark === 'modified') this.#stats.modified++;
  }

  /**
   * The directory at `path` in the merged tree, creating missing parents as
   * the unpacker does (0755 root:root). Tar entries come grouped by
   * directory, so directories are cached for the layer until a removal.
   */
  #ensureDir(path: string): TreeNode {
    if (path === '') return this.root;
    const cached = this.#dirs.get(path);
    if (cached) return cached;
    const parent = this.#ensureDir(dirOf(path));
    const part = baseOf(path);
    let child = parent.children!.get(part);
    if (!child || child.meta.kind !== 'dir') {
      const existed = this.#startState(path, child);
      if (child) this.#remove(parent, part, path, 'overwritten');
      child = { name: part, meta: DIR_META, layer: this.#layer, children: new Map() };
      parent.children!.set(part, child);
      const mark: Mark = existed ? 'modified' : 'added';
      this.#count(path, mark);
      if (this.#record) Object.assign(this.#changeNode(path, child), { meta: DIR_META, layer: this.#layer, mark });
    }
    this.#dirs.set(path, child);
    return child;
  }

  /** The change-tree node at `path` (a directory unless `dir` is false), its missing parents copied unmarked from the merged tree. */
  #changeNode(path: string, merged?: TreeNode, dir = true): TreeNode {
    if (path === '') return this.#changes;
    const cached = dir ? this.#changeDirs.get(path) : undefined;
    if (cached) return cached;
    const parent = this.#changeNode(dirOf(path));
    const part = baseOf(path);
    let child = parent.children!.get(part);
    if (!child) {
      const from = merged ?? this.#dirs.get(path) ?? lookup(this.root, path);
      child = { name: part, meta: from?.meta ?? DIR_META, layer: from?.layer ?? this.#layer };
      parent.children!.set(part, child);
    }
    if (dir) {
      child.children ??= new Map();
      this.#changeDirs.set(path, child);
    } else if (child.children) {
      delete child.children;
      this.#changeDirs.clear();
    }
    return child;
  }
}

/** The merged tree of the first `upTo + 1` layers. */
export function mergedTree(indexes: readonly LayerIndex[], upTo: number): TreeNode {
  const r = new Replay({ record: false });
  for (let i = 0; i <= upTo; i++) r.apply(indexes[i], i);
  return r.root;
}
