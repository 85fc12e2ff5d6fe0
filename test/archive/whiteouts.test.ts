import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyLayer } from '../../src/archive/apply.js';
import { tarDirectory } from '../../src/archive/create.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, classifyWhiteout } from '../../src/archive/whiteouts.js';
import { withTempMount } from '../../src/mount/linux.js';
import { linux } from '../../src/native/linux.js';
import { buildTar, collect, streamOf, tempDir, type TarItem } from './helpers.js';

const dir = (name: string): TarItem => ({ header: { name, type: 'directory' } });
const file = (name: string, body = ''): TarItem => ({ header: { name, type: 'file' }, body });

/** The base layer every test deletes from. */
const BASE: TarItem[] = [
  dir('etc/'),
  file('etc/passwd', 'root'),
  file('etc/group', 'root'),
  dir('usr/'),
  dir('usr/bin/'),
  file('usr/bin/old', 'old'),
  dir('usr/lib/'),
  dir('usr/lib/a/'),
  file('usr/lib/a/b', 'b'),
  dir('a/'),
  dir('a/b/'),
  dir('a/b/c/'),
  file('a/b/c/bar', 'bar'),
  dir('opt/'),
  file('opt/x', 'x'),
];

/** Deletes etc/passwd, makes usr opaque with one new file, and recreates a/b/c with the marker last (spec example). */
const CHANGES: TarItem[] = [
  dir('etc/'),
  { header: { name: 'etc/.wh.passwd', type: 'file', uid: 12, gid: 34 }, body: '' },
  dir('usr/'),
  file(`usr/${OPAQUE_WHITEOUT}`),
  dir('usr/bin/'),
  file('usr/bin/new', 'new'),
  dir('a/'),
  dir('a/b/'),
  dir('a/b/c/'),
  file('a/b/c/foo', 'foo'),
  file(`a/${OPAQUE_WHITEOUT}`),
  file('gone/.wh.nothing'),
];

function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      out.push(r);
      if (lstatSync(join(root, r)).isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

const MERGED = ['a', 'a/b', 'a/b/c', 'a/b/c/foo', 'etc', 'etc/group', 'opt', 'opt/x', 'usr', 'usr/bin', 'usr/bin/new'];

test('classifyWhiteout names regular entries, whiteouts and opaque markers', () => {
  assert.deepEqual(classifyWhiteout('passwd', 'etc/passwd'), { kind: 'none' });
  assert.deepEqual(classifyWhiteout(`${WHITEOUT_PREFIX}passwd`, 'etc/.wh.passwd'), { kind: 'whiteout', target: 'passwd' });
  assert.deepEqual(classifyWhiteout(OPAQUE_WHITEOUT, 'usr/.wh..wh..opq'), { kind: 'opaque' });
  for (const bad of ['.wh.', '.wh..', '.wh...']) assert.throws(() => classifyWhiteout(bad, `x/${bad}`), { code: 'STRATA_ERR_HOSTILE_ARCHIVE' });
});

test('plain: whiteouts delete, opaque markers delete what the layer did not unpack', async (t) => {
  const root = tempDir(t);
  await applyLayer(streamOf(await buildTar(BASE)), root, { format: 'plain' });
  await applyLayer(streamOf(await buildTar(CHANGES)), root, { format: 'plain' });
  assert.deepEqual(tree(root), MERGED);
  assert.equal(existsSync(join(root, 'gone')), false, 'a whiteout under a missing directory creates nothing');
});

test('plain: a whited-out directory can be recreated by later entries', async (t) => {
  const root = tempDir(t);
  await applyLayer(streamOf(await buildTar(BASE)), root, { format: 'plain' });
  const tar = await buildTar([dir('usr/'), dir('usr/lib/'), file('usr/.wh.lib'), file('usr/lib/x/fresh', 'f'), file('.wh.a'), dir('a/')]);
  await applyLayer(streamOf(tar), root, { format: 'plain' });
  assert.deepEqual(
    tree(root).filter((p) => p.startsWith('usr') || p.startsWith('a')),
    ['a', 'usr', 'usr/bin', 'usr/bin/old', 'usr/lib', 'usr/lib/x', 'usr/lib/x/fresh'],
  );
});

test('overlay: whiteouts become 0/0 character devices, opaque markers an xattr', async (t) => {
  const root = tempDir(t);
  await applyLayer(streamOf(await buildTar(CHANGES)), root, { format: 'overlay' });
  const wh = lstatSync(join(root, 'etc/passwd'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.deepEqual([wh.uid, wh.gid], [12, 34]);
  assert.equal(linux.lgetxattr(join(root, 'usr'), 'trusted.overlay.opaque')?.toString(), 'y');
  assert.equal(linux.lgetxattr(join(root, 'a'), 'trusted.overlay.opaque')?.toString(), 'y');
  assert.equal(linux.lgetxattr(join(root, 'etc'), 'trusted.overlay.opaque'), null);
  assert.ok(lstatSync(join(root, 'gone/nothing')).isCharacterDevice());
  assert.ok(!tree(root).some((p) => p.includes(WHITEOUT_PREFIX)), 'no .wh. names on disk');
});

test('overlay: tarDirectory turns whiteouts and opaque dirs back into .wh. entries', async (t) => {
  const root = tempDir(t);
  await applyLayer(streamOf(await buildTar(CHANGES)), root, { format: 'overlay' });
  const tar = await collect(tarDirectory(root, { format: 'overlay' }));
  const listing = execFileSync('tar', ['-tvf', '-', '--numeric-owner'], { input: tar, encoding: 'utf8' });
  const names = listing.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(5).join(' '));
  assert.deepEqual(names, [
    'a/',
    `a/${OPAQUE_WHITEOUT}`,
    'a/b/',
    'a/b/c/',
    'a/b/c/foo',
    'etc/',
    'etc/.wh.passwd',
    'gone/',
    'gone/.wh.nothing',
    'usr/',
    `usr/${OPAQUE_WHITEOUT}`,
    'usr/bin/',
    'usr/bin/new',
  ]);
  assert.match(listing, /-rw------- 12\/34 +0 .* etc\/\.wh\.passwd/);
  assert.ok(!tar.includes('trusted.overlay'), 'overlay xattrs never reach the tar');
  // tar → overlay → tar is stable.
  const again = tempDir(t);
  await applyLayer(streamOf(tar), again, { format: 'overlay' });
  assert.ok((await collect(tarDirectory(again, { format: 'overlay' }))).equals(tar));
});

test('overlay: the kernel honours what applyLayer writes, and tarDirectory reads what the kernel writes', async (t) => {
  const base = tempDir(t);
  const [lower, upper, work] = ['lower', 'upper', 'work'].map((d) => join(base, d));
  for (const d of [lower, upper, work]) mkdirSync(d);
  await applyLayer(streamOf(await buildTar(BASE)), lower, { format: 'plain' });
  // Without gone/.wh.nothing: overlayfs lists whiteouts in directories no lower layer has.
  await applyLayer(streamOf(await buildTar(CHANGES.slice(0, -1))), upper, { format: 'overlay' });
  const mount = { type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`] };
  await withTempMount([mount], base, async (merged) => {
    assert.deepEqual(tree(merged), MERGED);
    // Let overlayfs write a whiteout (possibly a hard link to its shared
    // whiteout inode) and an opaque directory of its own.
    rmSync(join(merged, 'etc/group'));
    rmSync(join(merged, 'opt'), { recursive: true });
    mkdirSync(join(merged, 'opt'));
    writeFileSync(join(merged, 'opt/y'), 'y');
  });
  const tar = await collect(tarDirectory(upper, { format: 'overlay' }));
  const listing = execFileSync('tar', ['-tvf', '-'], { input: tar, encoding: 'utf8' });
  const names = listing.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(5).join(' '));
  for (const n of ['etc/.wh.group', 'etc/.wh.passwd', 'opt/', `opt/${OPAQUE_WHITEOUT}`, 'opt/y']) {
    assert.ok(names.includes(n), `${n} missing from ${names.join(' ')}`);
  }
  assert.ok(!listing.includes(' link to '), 'whiteouts are never hard links');
});
