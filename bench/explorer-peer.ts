/**
 * The peer of `strata image waste` in bench/explorer.ts: an independent
 * script that walks the layer tars of a `docker save` archive and computes
 * the same waste (file contents a later layer overwrites or deletes, hard
 * links counted once). It shares no code with src/explorer.
 *
 *   node dist/bench/explorer-peer.js ARCHIVE   → {"wastedBytes":…,"items":…,"totalBytes":…}
 */
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';

interface Entry {
  name: string;
  type: string;
  size: number;
  linkname?: string;
}

async function readLayer(stream: Readable): Promise<Entry[]> {
  const out: Entry[] = [];
  const ex = tarStream.extract();
  const done = pipeline(stream, ex);
  for await (const e of ex) {
    const name = posix.normalize(e.header.name).replace(/^\.?\//, '').replace(/\/$/, '');
    out.push({ name, type: e.header.type ?? 'file', size: e.header.size ?? 0, linkname: e.header.linkname ?? undefined });
    e.resume();
  }
  await done;
  return out;
}

/** Layer entry lists in manifest order, read in one pass over the archive. */
async function readArchive(path: string): Promise<Entry[][]> {
  const layers = new Map<string, Entry[]>();
  let manifest: { Layers: string[] }[] = [];
  const outer = tarStream.extract();
  const done = pipeline(createReadStream(path), outer);
  for await (const e of outer) {
    if (e.header.name.endsWith('.tar')) layers.set(e.header.name, await readLayer(e as unknown as Readable));
    else if (e.header.name === 'manifest.json') {
      let text = '';
      for await (const c of e) text += c;
      manifest = JSON.parse(text);
    } else e.resume();
  }
  await done;
  return manifest[0].Layers.map((l) => layers.get(l)!);
}

type Content = { size: number; names: number };

function waste(layers: Entry[][]): { wastedBytes: number; items: number; totalBytes: number } {
  const files = new Map<string, { dir: boolean; content?: Content }>();
  const children = new Map<string, Set<string>>([['', new Set()]]);
  let wastedBytes = 0;
  let items = 0;
  let totalBytes = 0;
  const parentOf = (p: string) => (posix.dirname(p) === '.' ? '' : posix.dirname(p));
  const unlink = (p: string) => {
    const f = files.get(p);
    if (!f) return;
    for (const c of [...(children.get(p) ?? [])]) unlink(c);
    children.delete(p);
    files.delete(p);
    children.get(parentOf(p))?.delete(p);
    if (f.content && --f.content.names === 0) {
      wastedBytes += f.content.size;
      items++;
    }
  };
  const put = (p: string, f: { dir: boolean; content?: Content }) => {
    files.set(p, f);
    if (f.dir && !children.has(p)) children.set(p, new Set());
    children.get(parentOf(p))!.add(p);
  };
  const ensureDir = (p: string) => {
    if (p === '') return;
    const f = files.get(p);
    if (f?.dir) return;
    ensureDir(parentOf(p));
    if (f) unlink(p);
    put(p, { dir: true });
  };
  for (const entries of layers) {
    for (const e of entries) {
      const base = posix.basename(e.name);
      const dir = parentOf(e.name);
      if (base === '.wh..wh..opq') for (const c of [...(children.get(dir) ?? [])]) unlink(c);
      else if (base.startsWith('.wh.')) unlink(dir ? `${dir}/${base.slice(4)}` : base.slice(4));
    }
    for (const e of entries) {
      if (!e.name || posix.basename(e.name).startsWith('.wh.')) continue;
      ensureDir(parentOf(e.name));
      const old = files.get(e.name);
      const dir = e.type === 'directory';
      if (old?.dir && dir) continue;
      if (old) unlink(e.name);
      let content: Content | undefined;
      if (e.type === 'file' || e.type === 'contiguous-file') {
        content = { size: e.size, names: 1 };
        totalBytes += e.size;
      } else if (e.type === 'link') {
        content = files.get(posix.normalize(e.linkname ?? '').replace(/^\.?\//, ''))?.content;
        if (content) content.names++;
      }
      put(e.name, { dir, content });
    }
  }
  return { wastedBytes, items, totalBytes };
}

const archive = process.argv[2];
if (!archive) {
  console.error('usage: explorer-peer.js ARCHIVE');
  process.exit(2);
}
console.log(JSON.stringify(waste(await readArchive(archive))));
