import assert from 'node:assert/strict';
import { link, lstat, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withTempMount } from '../../src/mount/linux.js';
import { openSnapshotter } from '../../src/snapshots/factory.js';
import { layer, strataKind, withSnapshotter, type SuiteEnv } from '../../src/snapshots/testkit.js';
import { snapshotterConformance } from '../../src/snapshots/testsuite.js';

const make = (root: string, db: Parameters<typeof openSnapshotter>[2]) => openSnapshotter('vfs', root, db);

snapshotterConformance('vfs', make);

const idOf = (env: SuiteEnv, key: string) =>
  (env.db.prepare('SELECT id FROM snapshots WHERE key = ?').get(key) as { id: string }).id;

describe('vfs driver', () => {
  it('keeps each snapshot as a full directory under vfs/dir, bind-mounted', () =>
    withSnapshotter(make, async (env) => {
      const { s, root } = env;
      const dirOf = (key: string) => join(root, 'vfs', 'dir', idOf(env, key));
      assert.deepEqual(await s.prepare('a'), [{ type: 'bind', source: dirOf('a'), options: ['rw', 'rbind'] }]);
      await withTempMount(await s.mounts('a'), root, (dir) => writeFile(join(dir, 'f'), 'f'));
      await s.commit('A', 'a');
      assert.deepEqual(await s.mounts('A'), [{ type: 'bind', source: dirOf('A'), options: ['ro', 'rbind'] }]);
      assert.deepEqual(await s.view('v', 'A'), [{ type: 'bind', source: dirOf('v'), options: ['ro', 'rbind'] }]);
      assert.deepEqual(await readdir(dirOf('v')), ['f']);
      await s.prepare('b', 'A');
      assert.deepEqual(await readdir(dirOf('b')), ['f']);
      assert.notEqual((await lstat(join(dirOf('b'), 'f'))).ino, (await lstat(join(dirOf('A'), 'f'))).ino, 'a copy, not a link');
      const [[label, fs]] = await s.status();
      assert.equal(label, 'Backing Filesystem');
      assert.doesNotMatch(fs, /unknown/);
    }));

  it('usage of a child counts its whole copy, hard links once', () =>
    withSnapshotter(make, async (env) => {
      await layer(env, 'A', undefined, async (dir) => {
        await writeFile(join(dir, 'data'), Buffer.alloc(10_000));
        await link(join(dir, 'data'), join(dir, 'again'));
      });
      assert.deepEqual(await env.s.usage('A'), { size: 10_000, inodes: 1 });
      await layer(env, 'B', 'A', (dir) => writeFile(join(dir, 'x'), '12345'));
      assert.deepEqual(await env.s.usage('B'), { size: 10_005, inodes: 2 });
      await env.s.prepare('c', 'B');
      assert.deepEqual(await env.s.usage('c'), { size: 10_005, inodes: 2 });
    }));

  it('a failed copy leaves neither a row nor a directory', () =>
    withSnapshotter(make, async (env) => {
      await layer(env, 'A', undefined, (dir) => writeFile(join(dir, 'f'), 'f'));
      await rm(join(env.root, 'vfs', 'dir', idOf(env, 'A')), { recursive: true });
      await assert.rejects(env.s.prepare('b', 'A'), (e) => strataKind('Unavailable')(e) && /cp exit/.test(String(e)));
      await assert.rejects(env.s.stat('b'), strataKind('NotFound'));
      assert.deepEqual(await readdir(join(env.root, 'vfs', 'dir')), []);
    }));
});
