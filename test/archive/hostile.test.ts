import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyLayer, type LayerFormat } from '../../src/archive/apply.js';
import { isStrataError } from '../../src/errors/errors.js';
import { buildTar, fixChecksum, layerWithSentinel, streamOf, type TarItem } from './helpers.js';

const FORMATS: LayerFormat[] = ['overlay', 'plain'];

/** Applies `tar` and expects a hostile-archive error whose message names `entry`. */
async function expectHostile(tar: Buffer, layer: string, format: LayerFormat, entry: string, code = 'STRATA_ERR_HOSTILE_ARCHIVE') {
  await assert.rejects(applyLayer(streamOf(tar), layer, { format }), (e: unknown) => {
    assert.ok(isStrataError(e), `expected a StrataError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, new RegExp(`layer entry "${entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
    return true;
  });
}

const file = (name: string, body = 'pwned'): TarItem => ({ header: { name, type: 'file' }, body });
const symlink = (name: string, linkname: string): TarItem => ({ header: { name, type: 'symlink', linkname } });
const dir = (name: string): TarItem => ({ header: { name, type: 'directory' } });
const hardlink = (name: string, linkname: string): TarItem => ({ header: { name, type: 'link', linkname } });

const cases: { name: string; entry: string; items: (sentinel: string) => TarItem[] }[] = [
  { name: '../ escaping the root', entry: '../sentinel/pwned', items: () => [file('../sentinel/pwned')] },
  { name: '.. inside a path escaping the root', entry: 'a/../../sentinel/pwned', items: () => [dir('a/'), file('a/../../sentinel/pwned')] },
  { name: '.. after an absolute prefix', entry: '/../sentinel/pwned', items: () => [file('/../sentinel/pwned')] },
  {
    name: 'a file written through a symlink to an absolute path',
    entry: 'evil/pwned',
    items: (s) => [symlink('evil', s), file('evil/pwned')],
  },
  {
    name: 'a file written through a relative symlink escaping the root',
    entry: 'evil/pwned',
    items: () => [symlink('evil', '../sentinel'), file('evil/pwned')],
  },
  {
    name: 'a parent component deeper in the path that is an escaping symlink',
    entry: 'd/e/evil/x/pwned',
    items: () => [dir('d/'), dir('d/e/'), symlink('d/e/evil', '../../..'), file('d/e/evil/x/pwned')],
  },
  {
    name: 'a chain of symlinks that ends outside',
    entry: 'a/pwned',
    items: () => [symlink('b', '../sentinel'), symlink('a', 'b'), file('a/pwned')],
  },
  {
    name: 'a symlink to / used as a directory',
    entry: 'root/sentinel/pwned',
    items: () => [symlink('root', '/'), file('root/sentinel/pwned')],
  },
  { name: 'a symlink loop', entry: 'loop/pwned', items: () => [symlink('loop', 'loop2'), symlink('loop2', 'loop'), file('loop/pwned')] },
  { name: 'a directory created through an escaping symlink', entry: 'evil/newdir/', items: () => [symlink('evil', '..'), dir('evil/newdir/')] },
  { name: 'a symlink created through an escaping symlink', entry: 'evil/sl', items: () => [symlink('evil', '..'), symlink('evil/sl', 'x')] },
  { name: 'a hard link to a path outside the root', entry: 'hl', items: () => [hardlink('hl', '../sentinel/keep')] },
  { name: 'a hard link to an absent target', entry: 'hl', items: () => [hardlink('hl', 'nope')] },
  {
    name: 'a hard link whose target resolves through an escaping symlink',
    entry: 'hl',
    items: () => [symlink('evil', '../sentinel'), hardlink('hl', 'evil/keep')],
  },
  {
    name: 'a hard link through an absolute symlink',
    entry: 'hl',
    items: (s) => [symlink('evil', s), hardlink('hl', 'evil/keep')],
  },
  { name: 'a hard link to a directory', entry: 'hl', items: () => [dir('d/'), hardlink('hl', 'd')] },
  { name: 'a hard link to the root', entry: 'hl', items: () => [hardlink('hl', './')] },
  { name: 'a hard link to itself', entry: 'hl', items: () => [file('hl'), hardlink('hl', 'hl')] },
  { name: 'a whiteout named ".wh."', entry: 'a/.wh.', items: () => [dir('a/'), file('a/.wh.', '')] },
  { name: 'a whiteout of "."', entry: 'a/.wh..', items: () => [dir('a/'), file('a/.wh..', '')] },
  { name: 'a whiteout of ".."', entry: 'a/.wh...', items: () => [dir('a/'), file('a/.wh...', '')] },
  { name: 'a whiteout at the root of ".."', entry: '.wh...', items: () => [file('.wh...', '')] },
  { name: 'a whiteout through an escaping symlink', entry: 'evil/.wh.keep', items: () => [symlink('evil', '../sentinel'), file('evil/.wh.keep', '')] },
  {
    name: 'an opaque whiteout through an escaping symlink',
    entry: 'evil/.wh..wh..opq',
    items: () => [symlink('evil', '../sentinel'), file('evil/.wh..wh..opq', '')],
  },
  { name: 'a file replacing the layer root', entry: './', items: () => [{ header: { name: './', type: 'file' }, body: 'x' }] },
];

for (const format of FORMATS) {
  for (const c of cases) {
    test(`${format}: refuses ${c.name}`, async (t) => {
      const { layer, sentinel, check } = layerWithSentinel(t);
      await expectHostile(await buildTar(c.items(sentinel)), layer, format, c.entry);
      check();
    });
  }
}

test('plain: refuses writing through a symlink already in the parent tree', async (t) => {
  const { layer, sentinel, check } = layerWithSentinel(t);
  symlinkSync(sentinel, join(layer, 'evil'));
  await expectHostile(await buildTar([file('evil/pwned')]), layer, 'plain', 'evil/pwned');
  await expectHostile(await buildTar([file('evil/.wh.keep', '')]), layer, 'plain', 'evil/.wh.keep');
  check();
});

test('an absolute entry name is taken relative to the layer root', async (t) => {
  const { layer, check } = layerWithSentinel(t);
  await applyLayer(streamOf(await buildTar([file('/abs/file', 'ok')])), layer, { format: 'overlay' });
  assert.equal(readFileSync(join(layer, 'abs/file'), 'utf8'), 'ok');
  check();
});

test('entries replacing an escaping symlink replace the link, never its target', async (t) => {
  const { layer, sentinel, check } = layerWithSentinel(t);
  const tar = await buildTar([
    symlink('f', join(sentinel, 'keep')),
    file('f', 'new'),
    symlink('d', sentinel),
    dir('d/'),
    file('d/inside', 'x'),
  ]);
  await applyLayer(streamOf(tar), layer, { format: 'plain' });
  assert.equal(readFileSync(join(layer, 'f'), 'utf8'), 'new');
  assert.equal(readFileSync(join(layer, 'd/inside'), 'utf8'), 'x');
  check();
});

test('relative symlinks that stay inside the layer are followed', async (t) => {
  const { layer, check } = layerWithSentinel(t);
  const tar = await buildTar([dir('usr/'), dir('usr/lib/'), symlink('lib', 'usr/lib'), file('lib/libc.so', 'elf')]);
  await applyLayer(streamOf(tar), layer, { format: 'plain' });
  assert.equal(readFileSync(join(layer, 'usr/lib/libc.so'), 'utf8'), 'elf');
  check();
});

/** One ustar header with a base-256 size, followed by nothing. */
function absurdSizeTar(size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write('huge', 0);
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  block[124] = 0x80;
  let v = size;
  for (let i = 135; i > 124; i--) {
    block[i] = v % 256;
    v = Math.floor(v / 256);
  }
  block.write('00000000000\0', 136);
  block.write('0', 156);
  block.write('ustar\x0000', 257, 'latin1');
  return Buffer.concat([fixChecksum(block), Buffer.alloc(1024)]);
}

test('refuses an entry claiming an absurd size before writing it', async (t) => {
  const { layer, check } = layerWithSentinel(t);
  await expectHostile(absurdSizeTar(100 * 1024 ** 3), layer, 'overlay', 'huge');
  assert.equal(existsSync(join(layer, 'huge')), false);
  check();
});

test('refuses a PAX header larger than 1 MiB', async (t) => {
  const { layer, check } = layerWithSentinel(t);
  const tar = await buildTar([{ header: { name: 'p', pax: { comment: 'x'.repeat(2 * 1024 * 1024) } }, body: 'x' }]);
  await expectHostile(tar, layer, 'overlay', 'PaxHeader');
  check();
});

test('refuses a GNU long name larger than 1 MiB', async (t) => {
  const { layer, check } = layerWithSentinel(t);
  const long = Buffer.alloc(512);
  long.write('././@LongLink', 0);
  long.write('0000644\0', 100);
  long.write(`${(2 * 1024 * 1024).toString(8).padStart(11, '0')}\0`, 124);
  long.write('L', 156);
  long.write('ustar  \0', 257, 'latin1');
  fixChecksum(long);
  await expectHostile(Buffer.concat([long, Buffer.alloc(2 * 1024 * 1024 + 1024, 0x61)]), layer, 'overlay', '././@LongLink');
  check();
});

test('refuses a PAX path containing a NUL byte', async (t) => {
  const { layer, check } = layerWithSentinel(t);
  const tar = await buildTar([{ header: { name: 'x', pax: { path: 'a\0/../../sentinel/pwned' } }, body: 'x' }]);
  await expectHostile(tar, layer, 'overlay', 'a\0/../../sentinel/pwned');
  check();
});

test('a directory replaced by an escaping symlink is not written through later', async (t) => {
  for (const format of FORMATS) {
    const { layer, sentinel, check } = layerWithSentinel(t);
    await expectHostile(await buildTar([dir('a/'), file('a/b', 'x'), symlink('a', sentinel), file('a/c')]), layer, format, 'a/c');
    check();
  }
});

test('deferred directory times never follow a symlink that replaced the directory', async (t) => {
  for (const format of FORMATS) {
    const { layer, sentinel, check } = layerWithSentinel(t);
    const tar = await buildTar([
      { header: { name: 'a/', type: 'directory', mtime: new Date(0) } },
      { header: { name: 'a/keep/', type: 'directory', mtime: new Date(0) } },
      symlink('a', sentinel),
    ]);
    await applyLayer(streamOf(tar), layer, { format });
    check();
  }
});
