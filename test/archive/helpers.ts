import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import tarStream from 'tar-stream';
import { linux } from '../../src/native/linux.js';

/** A fresh temporary directory removed when the test ends, pass or fail. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-archive-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TarItem {
  header: tarStream.Header | (Partial<tarStream.Header> & { name: string });
  body?: string | Buffer;
}

/** Builds a tar in memory with tar-stream, independent of the code under test. */
export async function buildTar(items: TarItem[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const { header, body } of items) {
    // tar-stream turns mode 0 into a default; callers pass explicit modes.
    const h = { mtime: new Date(1_700_000_000_000), mode: header.type === 'directory' ? 0o755 : 0o644, ...header };
    if (body === undefined) pack.entry(h);
    else pack.entry(h, body);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function streamOf(buf: Buffer, chunkSize = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunkSize) chunks.push(buf.subarray(i, i + chunkSize));
  return Readable.from(chunks, { objectMode: false });
}

export async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Recomputes the checksum of a hand-edited 512-byte header. */
export function fixChecksum(block: Buffer): Buffer {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += block[i];
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

export interface NodeInfo {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  content?: string;
  link?: string;
  rdev?: number;
  xattrs: Record<string, string>;
}

/** Everything a layer must preserve about a tree, keyed by relative path; hardlink groups separately. */
export function snapshot(root: string): { nodes: Map<string, NodeInfo>; links: string[][] } {
  const nodes = new Map<string, NodeInfo>();
  const inodes = new Map<number, string[]>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = lstatSync(p);
      const xattrs: Record<string, string> = {};
      for (const x of linux.llistxattr(p).sort()) xattrs[x] = linux.lgetxattr(p, x)!.toString('hex');
      const info: NodeInfo = { type: kind(st), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), xattrs };
      if (st.isFile()) info.content = createHash('sha256').update(readFileSync(p)).digest('hex');
      if (st.isSymbolicLink()) {
        info.link = readlinkSync(p);
        delete (info as Partial<NodeInfo>).mode; // symlink permissions are meaningless
      }
      if (st.isCharacterDevice() || st.isBlockDevice()) info.rdev = st.rdev;
      nodes.set(r, info);
      if (!st.isDirectory() && st.nlink > 1) inodes.set(st.ino, [...(inodes.get(st.ino) ?? []), r]);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return { nodes, links: [...inodes.values()].map((g) => g.sort()).sort() };
}

function kind(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'other';
}

/**
 * A layer root with a sibling "sentinel" directory that a hostile archive
 * would like to write into: base/layer and base/sentinel/keep.
 */
export function layerWithSentinel(t: TestContext): { base: string; layer: string; sentinel: string; check: () => void } {
  const base = tempDir(t);
  const layer = join(base, 'layer');
  const sentinel = join(base, 'sentinel');
  mkdirSync(layer);
  mkdirSync(sentinel);
  writeFileSync(join(sentinel, 'keep'), 'precious');
  const before = JSON.stringify([...snapshot(sentinel).nodes]);
  const baseBefore = readdirSync(base).sort().join(',');
  return {
    base,
    layer,
    sentinel,
    check: () => {
      assert.equal(JSON.stringify([...snapshot(sentinel).nodes]), before, 'the sentinel directory next to the layer changed');
      assert.equal(readdirSync(base).sort().join(','), baseBefore, 'something was created next to the layer root');
    },
  };
}
