import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { LocalContentStore } from '../../src/content/local-store.js';
import { digestOf } from '../../src/digest/digest.js';
import { isStrataError } from '../../src/errors/errors.js';

describe('local content store', () => {
  let dir: string;
  let store: LocalContentStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-content-'));
    store = await LocalContentStore.open(dir);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('ingests, verifies and commits; readers see only committed blobs', async () => {
    const data = Buffer.from('hello content store');
    const expected = digestOf(data);
    const w = await store.writer('ref-1');
    w.stream.write(data.subarray(0, 5));
    assert.equal(await store.exists(expected), false, 'not visible while ingesting');
    assert.equal((await store.ingests()).length, 1);
    w.stream.write(data.subarray(5));
    assert.equal(await w.commit({ digest: expected, size: data.length }), expected);
    assert.deepEqual(await store.readAll(expected, 1024), data);
    assert.deepEqual(await store.ingests(), []);
  });

  it('treats committing an existing blob as success and leaves the stored file alone', async () => {
    const data = Buffer.from('same bytes');
    const d = await store.put(data);
    const before = (await store.info(d)).createdAt;
    const w = await store.writer('ref-dup');
    await pipeline(Readable.from([data]), w.stream);
    assert.equal(await w.commit({ digest: d }), d);
    assert.equal((await store.info(d)).createdAt.getTime(), before.getTime());
  });

  it('refuses a wrong digest or size and leaves nothing behind', async () => {
    const w = await store.writer('ref-bad');
    await pipeline(Readable.from([Buffer.from('abc')]), w.stream);
    await assert.rejects(w.commit({ digest: digestOf('abd') }), (e) => isStrataError(e) && e.code === 'STRATA_ERR_DIGEST_MISMATCH');
    const w2 = await store.writer('ref-bad2');
    await pipeline(Readable.from([Buffer.from('abc')]), w2.stream);
    await assert.rejects(w2.commit({ size: 4 }), (e) => isStrataError(e) && e.code === 'STRATA_ERR_SIZE_MISMATCH');
    assert.equal(await store.exists(digestOf('abc')), false);
    assert.deepEqual(await store.ingests(), []);
  });

  it('resumes an ingest by its ref from its offset', async () => {
    const data = Buffer.alloc(3 << 20, 7);
    const first = await store.writer('ref-resume', { total: data.length });
    await new Promise<void>((res) => first.stream.write(data.subarray(0, 1 << 20), () => res()));
    await new Promise<void>((res) => first.stream.end(() => res())); // the first writer stops here, as if killed
    const [status] = await store.ingests();
    assert.equal(status.ref, 'ref-resume');
    assert.equal(status.offset, 1 << 20);
    assert.equal(status.total, data.length);
    const second = await store.writer('ref-resume');
    assert.equal(second.offset, 1 << 20);
    await pipeline(Readable.from([data.subarray(second.offset)]), second.stream);
    assert.equal(await second.commit({ digest: digestOf(data), size: data.length }), digestOf(data));
  });

  it('accepts sha512 digests', async () => {
    const data = Buffer.from('sha512 content');
    const d512 = `sha512:${createHash('sha512').update(data).digest('hex')}` as const;
    const w = await store.writer('ref-512');
    await pipeline(Readable.from([data]), w.stream);
    assert.equal(await w.commit({ digest: d512 }), d512);
    assert.deepEqual(await store.readAll(d512, 100), data);
    const walked = [];
    for await (const b of store.walk()) walked.push(b.digest);
    assert.ok(walked.includes(d512));
  });

  it('deletes blobs and reports missing ones as NotFound', async () => {
    const d = await store.put('to delete');
    await store.delete(d);
    await assert.rejects(store.info(d), (e) => isStrataError(e, 'NotFound'));
    await assert.rejects(store.delete(d), (e) => isStrataError(e, 'NotFound'));
    assert.ok(!(await readdir(join(dir, 'blobs/sha256'))).includes(d.slice(7)));
  });
});
