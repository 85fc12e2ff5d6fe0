import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyLayer } from '../../src/archive/apply.js';
import { buildTar, fixChecksum, layerWithSentinel, streamOf } from './helpers.js';

async function expectCorrupt(tar: Buffer, layer: string, message: RegExp) {
  await assert.rejects(applyLayer(streamOf(tar, 700), layer, { format: 'overlay' }), (e: unknown) => {
    assert.equal((e as { code?: string }).code, 'STRATA_ERR_CORRUPT_ARCHIVE', String(e));
    assert.match((e as Error).message, message);
    return true;
  });
}

const good = () =>
  buildTar([
    { header: { name: 'first', type: 'file' }, body: 'a'.repeat(1000) },
    { header: { name: 'second', type: 'file' }, body: 'b'.repeat(10) },
  ]);

test('a stream ending inside an entry body is corrupt and names the entry', async (t) => {
  const { layer, check } = layerWithSentinel(t);
  await expectCorrupt((await good()).subarray(0, 512 + 600), layer, /layer entry "first": stream ends inside the entry's data/);
  check();
});

test('a stream ending inside a header is corrupt', async (t) => {
  const { layer } = layerWithSentinel(t);
  await expectCorrupt((await good()).subarray(0, 1536 + 100), layer, /stream ends inside a header \(after entry "first"\)/);
});

test('a stream without the end-of-archive marker is corrupt', async (t) => {
  const { layer } = layerWithSentinel(t);
  const tar = await good();
  await expectCorrupt(tar.subarray(0, tar.length - 1024), layer, /without the end-of-archive marker \(after entry "second"\)/);
});

test('an empty stream is corrupt', async (t) => {
  const { layer } = layerWithSentinel(t);
  await expectCorrupt(Buffer.alloc(0), layer, /without the end-of-archive marker/);
});

test('a header with a bad checksum is corrupt', async (t) => {
  const { layer } = layerWithSentinel(t);
  const tar = await good();
  tar[1536 + 3] ^= 0x20; // inside the second header's name
  await expectCorrupt(tar, layer, /header checksum mismatch at byte 1536 \(after entry "first"\)/);
});

test('random bytes are not a tar', async (t) => {
  const { layer } = layerWithSentinel(t);
  await expectCorrupt(Buffer.from('this is certainly not a tar archive'.repeat(40)), layer, /checksum/);
});

test('non-octal numeric fields are corrupt', async (t) => {
  const { layer } = layerWithSentinel(t);
  const tar = await good();
  tar.write('0009', 108, 'latin1'); // uid
  fixChecksum(tar.subarray(0, 512));
  await expectCorrupt(tar, layer, /invalid octal uid/);
});

test('negative base-256 sizes are corrupt', async (t) => {
  const { layer } = layerWithSentinel(t);
  const tar = await good();
  tar.fill(0xff, 124, 136);
  fixChecksum(tar.subarray(0, 512));
  await expectCorrupt(tar, layer, /base-256 size/);
});

test('malformed PAX records are corrupt', async (t) => {
  const { layer } = layerWithSentinel(t);
  const tar = await buildTar([{ header: { name: 'p', type: 'file', pax: { 'user.note': 'x' } }, body: 'x' }]);
  tar.write('99', 512, 'latin1'); // the first record's length now runs past the data
  await expectCorrupt(tar, layer, /malformed PAX record/);
});

test('unknown entry types are refused as unsupported', async (t) => {
  const { layer } = layerWithSentinel(t);
  const tar = await good();
  tar.write('S', 156, 'latin1'); // GNU sparse
  fixChecksum(tar.subarray(0, 512));
  await assert.rejects(applyLayer(streamOf(tar), layer, { format: 'overlay' }), { code: 'STRATA_ERR_UNSUPPORTED', message: /layer entry "first"/ });
});

test('a symlink header with a size field has no body, as in Go', async (t) => {
  const { layer } = layerWithSentinel(t);
  // The "body" of the symlink is really the next header; Go (and so Docker) reads it as one.
  const tar = await buildTar([
    { header: { name: 'l', type: 'symlink', linkname: 'first' } },
    { header: { name: 'first', type: 'file' }, body: 'ok' },
  ]);
  tar.write(`${(512).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  fixChecksum(tar.subarray(0, 512));
  assert.deepEqual(await applyLayer(streamOf(tar), layer, { format: 'overlay' }), { size: 2, entries: 2 });
});
