/** The images of the waste test: whiteouts, opaque directories, hard links, files overwritten twice, and random mixes. */
import { posix } from 'node:path';
import type { EntrySpec } from '../fixtures/image-archive.js';
import { withParents } from './helpers.js';

const base = (p: string) => posix.basename(p);
const dir = (p: string) => (posix.dirname(p) === '.' ? '' : posix.dirname(p));
const join = (d: string, n: string) => (d ? `${d}/${n}` : n);
const isUnder = (k: string, p: string) => k === p || k.startsWith(`${p}/`);

const bytes = (n: number, fill = 1) => Buffer.alloc(n, fill);
const wh = (path: string): EntrySpec => ({ name: join(dir(path), `.wh.${base(path)}`), content: '' });
const opaque = (d: string): EntrySpec => ({ name: `${d}/.wh..wh..opq`, content: '' });
const link = (name: string, target: string): EntrySpec => ({ name, type: 'link', linkname: target });

/** A small seeded generator (mulberry32): the same corpus on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random layers of writes, hard links, whiteouts and opaque directories over a few paths, none conflicting within a layer. */
function randomLayers(seed: number): EntrySpec[][] {
  const rnd = random(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const files = ['a/f1', 'a/f2', 'a/b/f3', 'a/b/f4', 'b/f5', 'b/c/f6', 'c/f7', 'c/f8'];
  const dirs = ['a', 'a/b', 'b', 'b/c', 'c'];
  const layers: EntrySpec[][] = [];
  for (let layer = 0; layer < 6; layer++) {
    const entries: EntrySpec[] = [];
    const touched: string[] = [];
    const written: string[] = [];
    const free = (p: string) => !touched.some((t) => isUnder(t, p) || isUnder(p, t));
    for (let i = 0, n = 3 + Math.floor(rnd() * 5); i < n; i++) {
      const r = layer === 0 ? 0 : rnd();
      if (r < 0.5) {
        const p = pick(files);
        if (!free(p)) continue;
        entries.push({ name: p, content: bytes(1 + Math.floor(rnd() * 4000), layer + 1) });
        touched.push(p);
        written.push(p);
      } else if (r < 0.65) {
        const p = pick(files);
        if (!written.length || !free(p)) continue;
        entries.push(link(p, pick(written)));
        touched.push(p);
      } else if (r < 0.9) {
        const p = pick([...files, ...dirs]);
        if (!free(p)) continue;
        entries.push(wh(p));
        touched.push(p);
      } else {
        const d = pick(dirs);
        if (!free(d)) continue;
        entries.push(opaque(d));
        touched.push(d);
      }
    }
    layers.push(withParents(entries));
  }
  return layers;
}

export const CORPUS: Record<string, EntrySpec[][]> = {
  'overwritten-twice': [
    [{ name: 'etc/conf', content: bytes(1000) }, { name: 'bin/tool', content: bytes(5000) }, { name: 'bin/keep', content: bytes(100) }],
    [{ name: 'etc/conf', content: bytes(2000, 2) }],
    [{ name: 'etc/conf', content: bytes(3000, 3) }, wh('bin/tool')],
  ].map(withParents),
  'opaque-dir': [
    [{ name: 'opt/app/a', content: bytes(4000) }, { name: 'opt/app/b', content: bytes(6000) }, { name: 'opt/app/sub/c', content: bytes(700) }, { name: 'opt/other', content: bytes(300) }],
    [opaque('opt/app'), { name: 'opt/app/a', content: bytes(100, 2) }, { name: 'opt/app/new', content: bytes(50) }],
  ].map(withParents),
  'hard-links': [
    [
      { name: 'data/big', content: bytes(10000) },
      link('data/alias', 'data/big'),
      { name: 'data/solo', content: bytes(3000) },
      { name: 'data/pair1', content: bytes(2000) },
      link('data/pair2', 'data/pair1'),
    ],
    [wh('data/big'), wh('data/pair1'), wh('data/pair2'), wh('data/solo')],
    [{ name: 'data/alias', content: bytes(10, 3) }],
  ].map(withParents),
  'dir-and-file-swapped': [
    [{ name: 'x/y', content: bytes(500) }, { name: 'z', content: bytes(300) }],
    [{ name: 'x', content: bytes(10, 2) }, { name: 'z/w', content: bytes(20, 2) }],
  ].map(withParents),
  'deleted-dir': [
    [{ name: 'cache/a', content: bytes(1000) }, { name: 'cache/b/c', content: bytes(2000) }, { name: 'keep', content: bytes(5) }],
    [wh('cache')],
  ].map(withParents),
  'random-1': randomLayers(1),
  'random-2': randomLayers(2),
  'random-3': randomLayers(3),
};

