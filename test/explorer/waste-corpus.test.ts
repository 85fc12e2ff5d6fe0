/**
 * The waste numbers of `strata image waste` against the same numbers computed
 * here, independently and plainly, from the layer tars the images were made of.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import tarStream from 'tar-stream';
import { TempRoot } from '../helpers/strata.js';
import { CORPUS } from './corpus.js';
import { explorerCli, writeImage } from './helpers.js';

interface TarEntry {
  name: string;
  type: string;
  size: number;
  linkname?: string;
}

async function readTar(path: string): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const ex = tarStream.extract();
  const done = pipeline(createReadStream(path), ex);
  for await (const e of ex) {
    out.push({ name: e.header.name, type: e.header.type ?? 'file', size: e.header.size ?? 0, linkname: e.header.linkname ?? undefined });
    e.resume();
  }
  await done;
  return out;
}

const clean = (name: string) => posix.normalize(name).replace(/^\.\//, '').replace(/\/$/, '');
const base = (p: string) => posix.basename(p);
const dir = (p: string) => (posix.dirname(p) === '.' ? '' : posix.dirname(p));
const join = (d: string, n: string) => (d ? `${d}/${n}` : n);
const isUnder = (k: string, p: string) => k === p || k.startsWith(`${p}/`);

interface Expected {
  names: Set<string>;
  bytes: number;
  addedIn: number;
  removedIn: number;
  reason: string;
}

/**
 * Strata's waste, the plain way: a flat map of path → file, the layers applied
 * in order (whiteouts and opaque markers first, then the entries), and every
 * file content whose last name disappears is waste charged to that layer.
 */
function expectedWaste(layers: TarEntry[][]): Expected[] {
  type Content = { size: number; layer: number; names: number; all: Set<string> };
  const fs = new Map<string, { type: string; content?: Content }>();
  const items: Expected[] = [];
  const unlink = (path: string, layer: number, reason: string) => {
    const node = fs.get(path)!;
    fs.delete(path);
    if (node.content && --node.content.names === 0) {
      items.push({ names: node.content.all, bytes: node.content.size, addedIn: node.content.layer, removedIn: layer, reason });
    }
  };
  const unlinkTree = (path: string, layer: number, reason: string, keepTop = false) => {
    for (const k of [...fs.keys()]) if (isUnder(k, path) && !(keepTop && k === path)) unlink(k, layer, reason);
  };
  layers.forEach((entries, layer) => {
    for (const e of entries) {
      const p = clean(e.name);
      if (base(p) === '.wh..wh..opq') unlinkTree(dir(p), layer, 'deleted', true);
      else if (base(p).startsWith('.wh.')) unlinkTree(join(dir(p), base(p).slice(4)), layer, 'deleted');
    }
    for (const e of entries) {
      const p = clean(e.name);
      if (base(p).startsWith('.wh.')) continue;
      const parts = p.split('/');
      for (let i = 1; i < parts.length; i++) {
        const ancestor = parts.slice(0, i).join('/');
        const a = fs.get(ancestor);
        if (a && a.type !== 'directory') unlinkTree(ancestor, layer, 'overwritten');
        if (!fs.has(ancestor)) fs.set(ancestor, { type: 'directory' });
      }
      const old = fs.get(p);
      if (old?.type === 'directory' && e.type === 'directory') continue;
      if (old) unlinkTree(p, layer, 'overwritten');
      const node: { type: string; content?: Content } = { type: e.type };
      if (e.type === 'file') node.content = { size: e.size, layer, names: 1, all: new Set([p]) };
      if (e.type === 'link') {
        const target = fs.get(clean(e.linkname!));
        if (target?.content) {
          node.content = target.content;
          node.content.names++;
          node.content.all.add(p);
        }
      }
      fs.set(p, node);
    }
  });
  return items;
}

/**
 * dive's efficiency, the plain way: in each layer every entry with nothing of
 * the same layer below it is one sighting of its path (`.wh.x` one of x),
 * sized by its tar header, a whiteout by what it deletes when that is a
 * directory of the layers below (else 0); opaque markers are not looked at.
 * efficiency = Σ_path min(sightings) / Σ_path Σ(sightings); dive's waste is
 * Σ of all sightings of the paths sighted more than once.
 */
function expectedDive(layers: TarEntry[][]): { efficiency: number; wastedBytes: number; userWastedPercent: number } {
  const sightings = new Map<string, number[]>();
  const below = new Map<string, { size: number; dir: boolean }>();
  layers.forEach((entries) => {
    const names = entries.map((e) => clean(e.name)).filter((n) => !base(n).startsWith('.wh..wh..'));
    for (const e of entries) {
      const n = clean(e.name);
      if (base(n).startsWith('.wh..wh..')) continue;
      if (names.some((o) => o.startsWith(`${n}/`))) continue;
      const whiteout = base(n).startsWith('.wh.');
      const path = whiteout ? join(dir(n), base(n).slice(4)) : n;
      let size = e.size;
      if (whiteout) {
        size = 0;
        if (below.get(path)?.dir) for (const [k, v] of below) if (isUnder(k, path)) size += v.size;
      }
      sightings.set(path, [...(sightings.get(path) ?? []), size]);
    }
    for (const e of entries) {
      const n = clean(e.name);
      if (base(n).startsWith('.wh..wh..')) continue;
      if (base(n).startsWith('.wh.')) {
        const path = join(dir(n), base(n).slice(4));
        for (const k of [...below.keys()]) if (isUnder(k, path)) below.delete(k);
      } else {
        below.set(n, { size: e.size, dir: e.type === 'directory' });
      }
    }
  });
  let min = 0;
  let all = 0;
  let wasted = 0;
  for (const sizes of sightings.values()) {
    const sum = sizes.reduce((a, b) => a + b, 0);
    min += Math.min(...sizes);
    all += sum;
    if (sizes.length > 1) wasted += sum;
  }
  const user = layers.slice(1).flat().reduce((s, e) => s + e.size, 0);
  return { efficiency: all === 0 ? 1 : min / all, wastedBytes: wasted, userWastedPercent: user === 0 ? 0 : wasted / user };
}

/** Hand-checked totals for the named images, so the plain computation is itself pinned. */
const KNOWN_WASTE: Record<string, number> = {
  'overwritten-twice': 1000 + 2000 + 5000,
  'opaque-dir': 4000 + 6000 + 700,
  'hard-links': 2000 + 3000 + 10000,
  'dir-and-file-swapped': 500 + 300,
  'deleted-dir': 3000,
};

describe('image waste equals an independent computation from the layer tars', () => {
  let t: TempRoot;
  const tars = new Map<string, TarEntry[][]>();

  before(async () => {
    t = await TempRoot.create();
    for (const [name, layers] of Object.entries(CORPUS)) {
      const { archive, layerTars } = await writeImage(t.dir, `corpus/${name}:1`, layers);
      const load = await t.strata(['load', '-q', '-i', archive]);
      assert.equal(load.code, 0, `${name}: ${load.stderr}`);
      tars.set(name, await Promise.all(layerTars.map(readTar)));
    }
  });

  after(async () => {
    await t?.cleanup();
  });

  for (const name of Object.keys(CORPUS)) {
    it(name, async () => {
      const r = await explorerCli(t.root, ['image', 'waste', `corpus/${name}:1`, '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      const layers = tars.get(name)!;
      const expected = expectedWaste(layers);
      const expectedBytes = expected.reduce((s, w) => s + w.bytes, 0);
      if (name in KNOWN_WASTE) assert.equal(expectedBytes, KNOWN_WASTE[name], 'the plain computation agrees with the hand count');
      assert.equal(report.wastedBytes, expectedBytes);
      const stored = layers.flat().filter((e) => e.type === 'file' && !base(clean(e.name)).startsWith('.wh.')).reduce((s, e) => s + e.size, 0);
      assert.equal(report.totalBytes, stored);
      // Item by item: same bytes, layers and reason; the path one of the file's names.
      const actual = [...report.items] as { path: string; bytes: number; addedIn: number; removedIn: number; reason: string }[];
      for (const want of expected) {
        const i = actual.findIndex(
          (a) => a.bytes === want.bytes && a.addedIn === want.addedIn && a.removedIn === want.removedIn && a.reason === want.reason && want.names.has(a.path),
        );
        assert.ok(i >= 0, `missing waste item ${JSON.stringify({ ...want, names: [...want.names] })} in ${JSON.stringify(report.items)}`);
        actual.splice(i, 1);
      }
      assert.deepEqual(actual, [], 'no unexpected waste items');
      const dive = expectedDive(layers);
      assert.ok(Math.abs(report.efficiency - dive.efficiency) < 1e-12, `efficiency ${report.efficiency} vs ${dive.efficiency}`);
      assert.equal(report.dive.wastedBytes, dive.wastedBytes);
      assert.ok(Math.abs(report.dive.userWastedPercent - dive.userWastedPercent) < 1e-12);
    });
  }

  it('charges the waste to the layer responsible, with its history line', async () => {
    const r = await explorerCli(t.root, ['image', 'waste', 'corpus/overwritten-twice:1', '--format', 'json']);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.items[0], { path: 'bin/tool', bytes: 5000, addedIn: 0, removedIn: 2, reason: 'deleted', createdBy: '/bin/sh -c #(nop) layer 2' });
    const layers = JSON.parse((await explorerCli(t.root, ['image', 'layers', 'corpus/overwritten-twice:1', '--format', 'json'])).stdout).layers;
    assert.deepEqual(layers.map((l: { wasteCaused: number }) => l.wasteCaused), [0, 1000, 7000]);
    assert.deepEqual(layers.map((l: { wasteStored: number }) => l.wasteStored), [6000, 2000, 0]);
  });

  it('--max-waste exits non-zero over the threshold, in bytes or percent', async () => {
    const img = 'corpus/overwritten-twice:1'; // 8000 of 11100 bytes wasted (72.07%)
    assert.equal((await explorerCli(t.root, ['image', 'waste', img, '--max-waste', '8000'])).code, 0);
    const over = await explorerCli(t.root, ['image', 'waste', img, '--max-waste', '7999']);
    assert.equal(over.code, 1);
    assert.match(over.stderr, /wastes 8000 bytes .* over --max-waste 7999 bytes/);
    assert.match(over.stdout, /Wasted 8kB of 11.1kB stored \(72\.07%\)/);
    assert.equal((await explorerCli(t.root, ['image', 'waste', img, '--max-waste', '75%'])).code, 0);
    assert.equal((await explorerCli(t.root, ['image', 'waste', img, '--max-waste', '7kB'])).code, 1);
    assert.equal((await explorerCli(t.root, ['image', 'waste', img, '--max-waste', '72%', '--format', 'json'])).code, 1);
    const bad = await explorerCli(t.root, ['image', 'waste', img, '--max-waste', 'lots']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid --max-waste "lots"/);
  });

  it('prints the per-layer table', async () => {
    const r = await explorerCli(t.root, ['image', 'layers', 'corpus/overwritten-twice:1']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^#\s+DIFF ID\s+SIZE\s+ENTRIES\s+ADDED\s+MODIFIED\s+DELETED\s+WASTES\s+CREATED BY$/);
    assert.equal(lines.length, 4);
    assert.match(lines[3], /^2\s+[0-9a-f]{12}\s+\S+\s+4\s+0\s+1\s+1\s+7kB\s+\/bin\/sh -c #\(nop\) layer 2$/);
  });
});
