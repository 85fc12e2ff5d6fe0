import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyLayer } from '../../src/archive/apply.js';
import { compressStream, decompressStream, detectCompression, mediaTypeCompression } from '../../src/archive/compression.js';
import { buildTar, collect, streamOf, tempDir } from './helpers.js';

test('detectCompression reads the magic bytes', () => {
  assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 0x08, 0])), 'gzip');
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(detectCompression(Buffer.from('bin/')), 'none');
  assert.equal(detectCompression(Buffer.alloc(0)), 'none');
});

test('mediaTypeCompression maps OCI and Docker layer types', () => {
  assert.equal(mediaTypeCompression('application/vnd.oci.image.layer.v1.tar'), 'none');
  assert.equal(mediaTypeCompression('application/vnd.oci.image.layer.v1.tar+gzip'), 'gzip');
  assert.equal(mediaTypeCompression('application/vnd.oci.image.layer.v1.tar+zstd'), 'zstd');
  assert.equal(mediaTypeCompression('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'), 'gzip');
  assert.equal(mediaTypeCompression('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'gzip');
  assert.equal(mediaTypeCompression('application/vnd.docker.image.rootfs.diff.tar'), 'none');
  assert.throws(() => mediaTypeCompression('application/vnd.oci.image.config.v1+json'), { code: 'STRATA_ERR_UNSUPPORTED' });
});

for (const kind of ['gzip', 'zstd', 'none'] as const) {
  test(`${kind}: compressStream then decompressStream returns the input`, async () => {
    const data = Buffer.concat([randomBytes(300_000), Buffer.alloc(700_000, 7)]);
    const packed = await collect(compressStream(streamOf(data), kind));
    assert.equal(detectCompression(packed), kind);
    if (kind !== 'none') assert.ok(packed.length < data.length);
    assert.ok((await collect(await decompressStream(streamOf(packed, 1000)))).equals(data));
  });

  test(`${kind}: a compressed layer applies after decompressStream`, async (t) => {
    const root = tempDir(t);
    const tar = await buildTar([{ header: { name: 'etc/hostname', type: 'file' }, body: 'strata' }]);
    const layer = await decompressStream(compressStream(streamOf(tar), kind));
    assert.deepEqual(await applyLayer(layer, root, { format: 'overlay' }), { size: 6, entries: 1 });
    assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'strata');
  });
}

test('gzip: corrupt and truncated streams fail as corrupt archives', async () => {
  const packed = await collect(compressStream(streamOf(randomBytes(100_000)), 'gzip'));
  const flipped = Buffer.from(packed);
  for (let i = 100; i < 200; i++) flipped[i] ^= 0x55;
  for (const bad of [flipped, packed.subarray(0, packed.length - 100)]) {
    await assert.rejects(collect(await decompressStream(streamOf(bad))), { code: 'STRATA_ERR_CORRUPT_ARCHIVE', message: /gzip/ });
  }
});

test('zstd: corrupt and truncated streams fail with zstd’s own message', async () => {
  const packed = await collect(compressStream(streamOf(randomBytes(100_000)), 'zstd'));
  const flipped = Buffer.from(packed);
  for (let i = 100; i < 200; i++) flipped[i] ^= 0x55;
  for (const bad of [flipped, packed.subarray(0, packed.length - 100)]) {
    await assert.rejects(collect(await decompressStream(streamOf(bad))), {
      code: 'STRATA_ERR_CORRUPT_ARCHIVE',
      message: /zstd decompression failed \(zstd exit status 1\): \S/,
    });
  }
});

test('a layer failing inside a zstd stream rejects promptly and stops zstd', async (t) => {
  const root = tempDir(t);
  const tar = await buildTar([
    { header: { name: 'big', type: 'file' }, body: randomBytes(2 << 20) },
    { header: { name: '../escape', type: 'file' }, body: 'x' },
  ]);
  const layer = await decompressStream(compressStream(streamOf(tar), 'zstd'));
  await assert.rejects(applyLayer(layer, root, { format: 'overlay' }), { code: 'STRATA_ERR_HOSTILE_ARCHIVE' });
});

test('xz and bzip2 layers are refused by name', async () => {
  await assert.rejects(decompressStream(streamOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 1, 2]))), {
    code: 'STRATA_ERR_UNSUPPORTED',
    message: /xz/,
  });
  await assert.rejects(decompressStream(streamOf(Buffer.from('BZh91AY&SY'))), { code: 'STRATA_ERR_UNSUPPORTED', message: /bzip2/ });
});

test('a gzip member that is not a tar fails in the tar reader as corrupt', async (t) => {
  const root = tempDir(t);
  const layer = await decompressStream(compressStream(streamOf(randomBytes(4096)), 'gzip'));
  await assert.rejects(applyLayer(layer, root, { format: 'overlay' }), { code: 'STRATA_ERR_CORRUPT_ARCHIVE', message: /checksum/ });
});
