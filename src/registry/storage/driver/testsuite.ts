import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isStrataError, type ErrorKind } from '../../../errors/errors.js';
import { BaseDriver } from './base.js';
import type { StorageDriver } from './driver.js';

/** Opens a fresh, empty driver for one test and removes what it made. */
export type MakeDriver = () => Promise<{ driver: StorageDriver; cleanup: () => Promise<void> }>;

const kind = (k: ErrorKind) => (e: unknown) => isStrataError(e, k);

async function readAll(d: StorageDriver, path: string, offset?: number, end?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of (await d.reader(path, offset, end)) as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * What every StorageDriver must do, as node:test tests run through the base
 * decorator, the way the registry uses drivers. Nothing here knows a driver's
 * backing store, so a new driver gets the whole suite by calling this.
 */
export function driverConformance(name: string, make: MakeDriver, opts: { bigBytes?: number } = {}): void {
  const test = (title: string, fn: (d: StorageDriver) => Promise<void>) =>
    it(title, async () => {
      const { driver, cleanup } = await make();
      try {
        await fn(new BaseDriver(driver));
      } finally {
        await cleanup();
      }
    });

  describe(`${name} storage driver conformance`, () => {
    test('putContent then getContent and stat round-trip, and overwrite replaces', async (d) => {
      await d.putContent('/a/b/c.txt', Buffer.from('hello'));
      assert.equal((await d.getContent('/a/b/c.txt')).toString(), 'hello');
      const info = await d.stat('/a/b/c.txt');
      assert.equal(info.size, 5);
      assert.equal(info.isDir, false);
      assert.ok(Date.now() - info.modTime.getTime() < 60_000);
      assert.equal((await d.stat('/a/b')).isDir, true);
      await d.putContent('/a/b/c.txt', Buffer.from('hi'));
      assert.equal((await d.getContent('/a/b/c.txt')).toString(), 'hi');
      await d.putContent('/a/empty', Buffer.alloc(0));
      assert.equal((await d.getContent('/a/empty')).length, 0);
    });

    test('missing paths raise NotFound from every method', async (d) => {
      await assert.rejects(d.getContent('/missing'), kind('NotFound'));
      await assert.rejects(d.stat('/missing'), kind('NotFound'));
      await assert.rejects(d.list('/missing'), kind('NotFound'));
      await assert.rejects(d.reader('/missing'), kind('NotFound'));
      await assert.rejects(d.delete('/missing'), kind('NotFound'));
      await assert.rejects(d.move('/missing', '/other'), kind('NotFound'));
      await assert.rejects(d.writer('/missing', true), kind('NotFound'));
    });

    test('invalid paths are refused before the driver sees them', async (d) => {
      for (const p of ['', 'relative', '/a/../b', '/a/./b', '/a//b', '/a/', '/a b', '/a/%2e%2e', '/ä']) {
        await assert.rejects(d.putContent(p, Buffer.from('x')), kind('InvalidArgument'), p);
        await assert.rejects(d.getContent(p), kind('InvalidArgument'), p);
      }
    });

    test('list returns full paths of direct children, files and directories', async (d) => {
      await d.putContent('/l/x', Buffer.from('1'));
      await d.putContent('/l/y/z', Buffer.from('2'));
      await d.putContent('/l/y/w', Buffer.from('3'));
      assert.deepEqual((await d.list('/l')).sort(), ['/l/x', '/l/y']);
      assert.deepEqual((await d.list('/l/y')).sort(), ['/l/y/w', '/l/y/z']);
      assert.ok((await d.list('/')).includes('/l'));
    });

    test('reader streams from an offset and up to an inclusive end', async (d) => {
      const data = randomBytes(300_000);
      await d.putContent('/r/data', data);
      assert.ok((await readAll(d, '/r/data')).equals(data));
      assert.ok((await readAll(d, '/r/data', 1000)).equals(data.subarray(1000)));
      assert.ok((await readAll(d, '/r/data', 10, 19)).equals(data.subarray(10, 20)));
      assert.ok((await readAll(d, '/r/data', 299_999, 299_999)).equals(data.subarray(299_999)));
      await assert.rejects(d.reader('/r/data', -1), kind('InvalidArgument'));
    });

    test('writer streams, closes durably, resumes by append and commits', async (d) => {
      const a = randomBytes(70_000);
      const b = randomBytes(30_000);
      const w1 = await d.writer('/w/data', false);
      assert.equal(w1.size, 0);
      await w1.write(a.subarray(0, 50_000));
      await w1.write(a.subarray(50_000));
      assert.equal(w1.size, a.length);
      await w1.close();
      const w2 = await d.writer('/w/data', true);
      assert.equal(w2.size, a.length);
      await w2.write(b);
      await w2.commit();
      assert.equal((await d.stat('/w/data')).size, a.length + b.length);
      assert.ok((await d.getContent('/w/data')).equals(Buffer.concat([a, b])));
      await assert.rejects(w2.write(b));
    });

    test('a writer opened without append truncates, and cancel removes the file', async (d) => {
      await d.putContent('/t/data', Buffer.from('old content'));
      const w = await d.writer('/t/data', false);
      assert.equal(w.size, 0);
      await w.write(Buffer.from('new'));
      await w.commit();
      assert.equal((await d.getContent('/t/data')).toString(), 'new');
      const c = await d.writer('/t/cancelled', false);
      await c.write(Buffer.from('gone'));
      await c.cancel();
      await assert.rejects(d.stat('/t/cancelled'), kind('NotFound'));
    });

    test('move renames a file, replacing the destination, and creates parents', async (d) => {
      await d.putContent('/m/src', Buffer.from('content'));
      await d.putContent('/m2/deep/dst', Buffer.from('old'));
      await d.move('/m/src', '/m2/deep/dst');
      assert.equal((await d.getContent('/m2/deep/dst')).toString(), 'content');
      await assert.rejects(d.stat('/m/src'), kind('NotFound'));
      await d.putContent('/m/src2', Buffer.from('x'));
      await d.move('/m/src2', '/new/parent/dst');
      assert.equal((await d.getContent('/new/parent/dst')).toString(), 'x');
    });

    test('delete removes a file or a whole tree, and nothing else', async (d) => {
      await d.putContent('/d/keep', Buffer.from('k'));
      await d.putContent('/d/tree/a', Buffer.from('a'));
      await d.putContent('/d/tree/sub/b', Buffer.from('b'));
      await d.putContent('/d/treeish', Buffer.from('t'));
      await d.delete('/d/tree');
      await assert.rejects(d.stat('/d/tree/a'), kind('NotFound'));
      await assert.rejects(d.stat('/d/tree/sub/b'), kind('NotFound'));
      assert.equal((await d.getContent('/d/keep')).toString(), 'k');
      assert.equal((await d.getContent('/d/treeish')).toString(), 't');
      await d.delete('/d/keep');
      await assert.rejects(d.getContent('/d/keep'), kind('NotFound'));
    });

    test('large content streams through a writer in many chunks', async (d) => {
      const size = opts.bigBytes ?? 12 * 1024 * 1024;
      const chunk = randomBytes(1024 * 1024);
      const w = await d.writer('/big/data', false);
      for (let i = 0; i < Math.ceil(size / chunk.length); i++) await w.write(chunk.subarray(0, Math.min(chunk.length, size - i * chunk.length)));
      await w.commit();
      assert.equal((await d.stat('/big/data')).size, size);
      const tail = await readAll(d, '/big/data', size - 10);
      assert.ok(tail.equals(chunk.subarray((size - 10) % chunk.length, ((size - 1) % chunk.length) + 1)));
    });

    test('concurrent putContent to different paths do not interfere', async (d) => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => d.putContent(`/c/${i}`, Buffer.from(String(i)))));
      for (let i = 0; i < 20; i++) assert.equal((await d.getContent(`/c/${i}`)).toString(), String(i));
    });
  });
}
