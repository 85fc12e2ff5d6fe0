import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { decompressStream } from '../archive/compression.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from '../archive/whiteouts.js';
import type { Digest } from '../digest/digest.js';
import { errors, isStrataError } from '../errors/errors.js';

/**
 * What a layer tar holds, entry by entry in tar order, without the file
 * bodies: enough to rebuild any tree view of an image and its waste without
 * reading the blob again. Whiteouts stay separate kinds so the analyses can
 * apply them (OCI rules) or count them (dive's rules) as they need.
 */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'whiteout' | 'opaque';

export interface IndexEntry {
  /** Normalized path without a leading slash; for a whiteout the tar name itself (`a/.wh.b`), for an opaque marker its directory. */
  path: string;
  kind: EntryKind;
  /** The tar header's size: body bytes for files, 0 for links and directories. */
  size: number;
  /** Permission bits (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Symlink target, or the normalized path a hard link points to. */
  link?: string;
}

export interface LayerIndex {
  diffId: Digest;
  entries: IndexEntry[];
}

/** The header fields read here (tar-stream's Header, which pax and GNU extensions already folded in). */
interface TarHeader {
  name: string;
  type?: string | null;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string | null;
}

const KINDS: Record<string, EntryKind> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

/**
 * A tar name as a path relative to the root: `./a//b/` → `a/b`. The root
 * itself gives '' and a name escaping the root gives undefined (such a layer
 * was refused at load time; here the entry is just left out).
 */
export function normalizeTarPath(name: string): string | undefined {
  const n = posix.normalize(`/${name}`).replace(/\/+$/, '');
  if (n === '' || n === '/') return '';
  if (n.startsWith('/..')) return undefined;
  return n.slice(1);
}

function kindOf(header: TarHeader, base: string): EntryKind | undefined {
  if (base === OPAQUE_WHITEOUT) return 'opaque';
  if (base.startsWith(WHITEOUT_PREFIX)) return 'whiteout';
  return Object.hasOwn(KINDS, header.type ?? 'file') ? KINDS[header.type ?? 'file'] : undefined;
}

/** Turns one tar header into an index entry, or undefined for entries that name nothing in the tree. */
function indexEntry(header: TarHeader): IndexEntry | undefined {
  const path = normalizeTarPath(header.name);
  if (!path) return undefined;
  const base = posix.basename(path);
  const kind = kindOf(header, base);
  if (!kind) return undefined;
  const entry: IndexEntry = {
    path: kind === 'opaque' ? posix.dirname(path).replace(/^\.$/, '') : path,
    kind,
    size: header.size ?? 0,
    mode: (header.mode ?? 0) & 0o7777,
    uid: header.uid ?? 0,
    gid: header.gid ?? 0,
  };
  if (kind === 'symlink' && header.linkname) entry.link = header.linkname;
  if (kind === 'hardlink' && header.linkname) entry.link = normalizeTarPath(header.linkname) ?? header.linkname;
  return entry;
}

/**
 * Reads a layer blob (gzip, zstd or plain tar) into its index. The DiffID is
 * checked against the uncompressed bytes, so an index is only ever cached
 * under the digest of the tar it describes.
 */
export async function readLayerIndex(blob: Readable, diffId: Digest, where: string): Promise<LayerIndex> {
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const extract = tarStream.extract();
  const entries: IndexEntry[] = [];
  const walk = (async () => {
    for await (const entry of extract) {
      const e = indexEntry(entry.header);
      if (e) entries.push(e);
      entry.resume();
    }
  })();
  try {
    await Promise.all([pipeline(await decompressStream(blob), hasher, extract), walk]);
  } catch (e) {
    if (isStrataError(e)) throw e;
    throw errors.corruptArchive(`${where}: reading the layer tar: ${(e as Error).message}`, { cause: e });
  }
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== diffId) {
    throw errors.digestMismatch(`${where}: the uncompressed layer has digest ${actual}, the image config says ${diffId}`);
  }
  return { diffId, entries };
}
