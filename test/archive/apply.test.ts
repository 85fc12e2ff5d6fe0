import assert from 'node:assert/strict';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { applyLayer } from '../../src/archive/apply.js';
import { buildTar, streamOf, tempDir, type TarItem } from './helpers.js';

const T = new Date(1_500_000_000_000);
const dir = (name: string, extra = {}): TarItem => ({ header: { name, type: 'directory', mtime: T, ...extra } });
const file = (name: string, body: string, extra = {}): TarItem => ({ header: { name, type: 'file', mtime: T, ...extra }, body });

test('an entry replaces whatever is at its path, except a directory over a directory', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'was-dir/deep'), { recursive: true });
  writeFileSync(join(root, 'was-dir/deep/f'), 'old');
  writeFileSync(join(root, 'was-file'), 'old');
  mkdirSync(join(root, 'kept'));
  writeFileSync(join(root, 'kept/child'), 'from parent layer');
  writeFileSync(join(root, 'was-link-target'), 'x');
  const tar = await buildTar([
    file('was-dir', 'now a file'),
    dir('was-file/'),
    file('was-file/inside', 'y'),
    dir('kept/', { mode: 0o750, uid: 5, gid: 6 }),
    { header: { name: 'was-link-target', type: 'symlink', linkname: 'elsewhere' } },
  ]);
  await applyLayer(streamOf(tar), root, { format: 'plain' });
  assert.equal(readFileSync(join(root, 'was-dir'), 'utf8'), 'now a file');
  assert.equal(readFileSync(join(root, 'was-file/inside'), 'utf8'), 'y');
  assert.equal(readFileSync(join(root, 'kept/child'), 'utf8'), 'from parent layer');
  const kept = lstatSync(join(root, 'kept'));
  assert.deepEqual([kept.mode & 0o7777, kept.uid, kept.gid, kept.mtimeMs], [0o750, 5, 6, T.getTime()]);
  assert.ok(lstatSync(join(root, 'was-link-target')).isSymbolicLink());
});

test('rewriting a hard-linked file makes a new inode and leaves the other link alone', async (t) => {
  const root = tempDir(t);
  writeFileSync(join(root, 'a'), 'shared');
  linkSync(join(root, 'a'), join(root, 'b'));
  await applyLayer(streamOf(await buildTar([file('a', 'changed')])), root, { format: 'plain' });
  assert.equal(readFileSync(join(root, 'a'), 'utf8'), 'changed');
  assert.equal(readFileSync(join(root, 'b'), 'utf8'), 'shared');
});

test('hard links inside the layer share an inode, also to parent-layer files in plain form', async (t) => {
  const root = tempDir(t);
  writeFileSync(join(root, 'from-parent'), 'p');
  const tar = await buildTar([
    file('bin/ls', 'elf'),
    { header: { name: 'bin/dir', type: 'link', linkname: 'bin/ls' } },
    { header: { name: 'again', type: 'link', linkname: '/from-parent' } },
  ]);
  await applyLayer(streamOf(tar), root, { format: 'plain' });
  assert.equal(lstatSync(join(root, 'bin/ls')).ino, lstatSync(join(root, 'bin/dir')).ino);
  assert.equal(lstatSync(join(root, 'again')).ino, lstatSync(join(root, 'from-parent')).ino);
});

test('directory mtimes survive the creation of their children', async (t) => {
  const root = tempDir(t);
  const tar = await buildTar([dir('d/'), dir('d/e/'), file('d/e/f', 'x'), file('d/g', 'y'), dir('./', { mode: 0o755 })]);
  await applyLayer(streamOf(tar), root, { format: 'overlay' });
  for (const p of ['d', 'd/e', 'd/e/f', '']) assert.equal(lstatSync(join(root, p)).mtimeMs, T.getTime(), p || 'root');
});

test('owners are applied even where a setgid parent would pick the group', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'shared'));
  chownSync(join(root, 'shared'), 0, 50);
  chmodSync(join(root, 'shared'), 0o2775);
  const tar = await buildTar([
    file('shared/by-root', 'x', { uid: 0, gid: 0 }),
    dir('group/', { mode: 0o2770, gid: 60 }),
    file('group/by-root', 'y', { uid: 0, gid: 0 }),
    file('group/by-group', 'z', { uid: 0, gid: 60 }),
    file('implicit/under/root', 'w', { uid: 0, gid: 0 }),
  ]);
  await applyLayer(streamOf(tar), root, { format: 'plain' });
  assert.equal(lstatSync(join(root, 'shared/by-root')).gid, 0);
  assert.equal(lstatSync(join(root, 'group/by-root')).gid, 0);
  assert.equal(lstatSync(join(root, 'group/by-group')).gid, 60);
  assert.equal(lstatSync(join(root, 'implicit/under/root')).gid, 0);
  // Implied parents are created like Docker does: root-owned 0755.
  assert.equal(lstatSync(join(root, 'implicit')).mode & 0o7777, 0o755);
});

test('setuid and setgid survive the chown that would clear them', async (t) => {
  const root = tempDir(t);
  const tar = await buildTar([file('su', 's', { mode: 0o4755, uid: 1, gid: 2 }), file('wall', 'w', { mode: 0o2755, uid: 3, gid: 4 })]);
  await applyLayer(streamOf(tar), root, { format: 'overlay' });
  assert.equal(lstatSync(join(root, 'su')).mode & 0o7777, 0o4755);
  assert.equal(lstatSync(join(root, 'wall')).mode & 0o7777, 0o2755);
});

test('returns content bytes and entry count, and drains input after the end marker', async (t) => {
  const root = tempDir(t);
  const tar = await buildTar([dir('a/'), file('a/x', 'hello'), file('a/.wh.y', '')]);
  const input = new PassThrough();
  input.end(Buffer.concat([tar, Buffer.alloc(10 * 1024)])); // GNU tar pads records with zeros
  assert.deepEqual(await applyLayer(input, root, { format: 'overlay' }), { size: 5, entries: 3 });
  assert.equal(input.readableEnded, true);
});

test('an aborted signal stops the extraction', async (t) => {
  const root = tempDir(t);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(applyLayer(streamOf(await buildTar([file('x', 'y')])), root, { format: 'overlay', signal: controller.signal }), {
    name: 'AbortError',
  });
  const stalled = new Readable({ read() {} });
  stalled.push((await buildTar([file('first', 'x')])).subarray(0, 1024));
  const late = new AbortController();
  const pending = applyLayer(stalled, root, { format: 'overlay', signal: late.signal });
  setTimeout(() => late.abort(), 20);
  await assert.rejects(pending, { name: 'AbortError' });
  assert.equal(stalled.destroyed, true);
  assert.deepEqual(readdirSync(root), ['first']);
});

test('the target must be an existing directory', async (t) => {
  const root = tempDir(t);
  writeFileSync(join(root, 'file'), '');
  const tar = await buildTar([file('x', 'y')]);
  await assert.rejects(applyLayer(streamOf(tar), join(root, 'missing'), { format: 'plain' }), { code: 'STRATA_ERR_INVALID_ARGUMENT' });
  await assert.rejects(applyLayer(streamOf(tar), join(root, 'file'), { format: 'plain' }), { code: 'STRATA_ERR_INVALID_ARGUMENT' });
});
