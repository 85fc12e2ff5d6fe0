import assert from 'node:assert/strict';
import {
  appendFile, chmod, chown, lchown, link, lstat, mkdir, readdir, readFile, rename, rm, stat, symlink, unlink, utimes, writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withTempMount } from '../mount/linux.js';
import { linux } from '../native/linux.js';
import {
  collect, layer, onDisk, strataKind, tree, treeOf, withSnapshotter, type MakeSnapshotter, type SuiteEnv,
} from './testkit.js';

/**
 * The behaviour every storage driver shares, as node:test tests. Each test
 * gets its own temporary data root and database from `make`; nothing here
 * knows the driver's layout, so later drivers (btrfs, devicemapper) reuse it.
 */
export function snapshotterConformance(name: string, make: MakeSnapshotter): void {
  const test = (title: string, fn: (env: SuiteEnv) => Promise<void>) => it(title, () => withSnapshotter(make, fn));

  describe(`${name} snapshotter conformance`, () => {
    test('prepare, write, commit, and a child sees the parent without changing it', async (env) => {
      const { s } = env;
      await layer(env, 'A', undefined, async (dir) => {
        for (const f of ['keep', 'modify', 'delete', 'rename']) await writeFile(join(dir, f), f);
        await mkdir(join(dir, 'sub', 'deep'), { recursive: true });
        await writeFile(join(dir, 'sub', 'deep', 'f'), 'f');
        await symlink('keep', join(dir, 'link'));
      });
      assert.equal((await s.stat('A')).kind, 'committed');
      await assert.rejects(s.stat('A-active'), strataKind('NotFound'));
      const parentTree = {
        delete: 'delete', keep: 'keep', link: '-> keep', modify: 'modify', rename: 'rename',
        sub: '<dir>', 'sub/deep': '<dir>', 'sub/deep/f': 'f',
      };
      assert.deepEqual(await treeOf(env, 'A'), parentTree);

      await withTempMount(await s.prepare('b', 'A'), env.root, async (dir) => {
        assert.deepEqual(await tree(dir), parentTree);
        await writeFile(join(dir, 'modify'), 'new');
        await unlink(join(dir, 'delete'));
        await rename(join(dir, 'rename'), join(dir, 'renamed'));
        await writeFile(join(dir, 'added'), 'a');
        await rm(join(dir, 'sub'), { recursive: true });
      });
      const childTree = { added: 'a', keep: 'keep', link: '-> keep', modify: 'new', renamed: 'rename' };
      assert.deepEqual(await treeOf(env, 'b'), childTree);
      assert.deepEqual(await withTempMount(await s.view('va', 'A'), env.root, tree), parentTree);
      await s.commit('B', 'b');
      assert.deepEqual(await withTempMount(await s.view('vb', 'B'), env.root, tree), childTree);
      assert.equal((await s.stat('B')).parent, 'A');
    });

    test('keys are unique across active, view and committed snapshots', async ({ s }) => {
      await s.prepare('x');
      await assert.rejects(s.prepare('x'), strataKind('AlreadyExists'));
      await assert.rejects(s.view('x'), strataKind('AlreadyExists'));
      await s.commit('X', 'x');
      await assert.rejects(s.prepare('X'), strataKind('AlreadyExists'));
      await s.prepare('y', 'X');
      await assert.rejects(s.commit('X', 'y'), strataKind('AlreadyExists'));
      await s.prepare('x'); // free again once committed under another name
      await assert.rejects(s.prepare(''), strataKind('InvalidArgument'));
    });

    test('a parent must exist and be committed', async ({ s }) => {
      await assert.rejects(s.prepare('c', 'nope'), strataKind('NotFound'));
      await s.prepare('act');
      await assert.rejects(s.prepare('c', 'act'), strataKind('FailedPrecondition'));
      await assert.rejects(s.view('v', 'act'), strataKind('FailedPrecondition'));
      assert.deepEqual([...(await collect(s)).keys()], ['act']);
    });

    test('only active snapshots can be committed', async ({ s }) => {
      await assert.rejects(s.commit('N', 'missing'), strataKind('NotFound'));
      await s.prepare('a');
      await s.commit('A', 'a');
      await assert.rejects(s.commit('A2', 'A'), strataKind('FailedPrecondition'));
      await s.view('v', 'A');
      await assert.rejects(s.commit('V', 'v'), strataKind('FailedPrecondition'));
    });

    test('remove refuses snapshots with children and removes active ones', async ({ s }) => {
      await s.prepare('a');
      await s.commit('A', 'a');
      await s.prepare('b', 'A');
      await s.view('v', 'A');
      await assert.rejects(s.remove('A'), (e) => strataKind('Conflict')(e) && /"b", "v"/.test(String(e)));
      await s.remove('b');
      await s.remove('v');
      await s.remove('A');
      await assert.rejects(s.stat('A'), strataKind('NotFound'));
      await assert.rejects(s.remove('A'), strataKind('NotFound'));
      await s.prepare('b'); // a removed key can be reused
      assert.equal((await s.stat('b')).parent, undefined);
    });

    test('walk lists every snapshot with its kind and parent', async ({ s }) => {
      await s.prepare('a');
      await s.commit('A', 'a');
      await s.prepare('b', 'A');
      await s.view('v', 'A');
      await s.prepare('c');
      const all = await collect(s);
      assert.deepEqual(
        [...all.values()].map((i) => [i.key, i.kind, i.parent]).sort(),
        [['A', 'committed', undefined], ['b', 'active', 'A'], ['c', 'active', undefined], ['v', 'view', 'A']],
      );
    });

    test('stat reports labels and times; commit labels replace or carry over', async ({ s }) => {
      const before = Date.now();
      await s.prepare('a', undefined, { labels: { x: '1' } });
      const a = await s.stat('a');
      assert.deepEqual([a.key, a.kind, a.parent, a.labels], ['a', 'active', undefined, { x: '1' }]);
      assert.ok(a.created.getTime() >= before && a.updated.getTime() >= a.created.getTime());
      await s.commit('A', 'a', { labels: { y: '2' } });
      assert.deepEqual((await s.stat('A')).labels, { y: '2' });
      await s.prepare('b', 'A', { labels: { z: '3' } });
      await s.commit('B', 'b');
      const b = await s.stat('B');
      assert.deepEqual([b.kind, b.parent, b.labels], ['committed', 'A', { z: '3' }]);
      await assert.rejects(s.mounts('nope'), strataKind('NotFound'));
    });

    test('usage of a committed snapshot counts the bytes written, hard links once', async (env) => {
      await layer(env, 'A', undefined, async (dir) => {
        await writeFile(join(dir, 'data'), Buffer.alloc(10_000, 1));
        await link(join(dir, 'data'), join(dir, 'again'));
      });
      const u = await env.s.usage('A');
      assert.ok(u.size >= 10_000 && u.size < 20_000, `size ${u.size}`);
      assert.ok(u.inodes >= 1);
      await assert.rejects(env.s.usage('nope'), strataKind('NotFound'));
    });

    test('deep chains stack every layer in order', async (env) => {
      const depth = 24;
      for (let i = 0; i < depth; i++) {
        await layer(env, `L${i}`, i ? `L${i - 1}` : undefined, async (dir) => {
          await writeFile(join(dir, `layer-${i}`), String(i));
          await writeFile(join(dir, 'top'), String(i));
        });
      }
      await withTempMount(await env.s.prepare('c', `L${depth - 1}`), env.root, async (dir) => {
        assert.equal(await readFile(join(dir, 'top'), 'utf8'), String(depth - 1));
        for (let i = 0; i < depth; i++) assert.equal(await readFile(join(dir, `layer-${i}`), 'utf8'), String(i));
      });
    });

    test('views and committed snapshots mount read-only', async (env) => {
      const { s } = env;
      await layer(env, 'A', undefined, (dir) => writeFile(join(dir, 'f'), 'f'));
      await layer(env, 'B', 'A', (dir) => writeFile(join(dir, 'g'), 'g'));
      const erofs = { code: 'EROFS' };
      const cases = [
        { mounts: await s.view('v1', 'A'), files: ['f'] },
        { mounts: await s.view('v2', 'B'), files: ['f', 'g'] },
        { mounts: await s.view('v0'), files: [] },
        { mounts: await s.mounts('B'), files: ['f', 'g'] },
      ];
      for (const { mounts, files } of cases) {
        await withTempMount(mounts, env.root, async (dir) => {
          assert.deepEqual((await readdir(dir)).sort(), files);
          await assert.rejects(writeFile(join(dir, 'new'), 'x'), erofs);
          for (const f of files) await assert.rejects(unlink(join(dir, f)), erofs);
        });
      }
    });

    test('deleting lower files and directories in a child leaves the parent intact', async (env) => {
      await layer(env, 'A', undefined, async (dir) => {
        await mkdir(join(dir, 'd'));
        await writeFile(join(dir, 'd', 'f1'), '1');
        await writeFile(join(dir, 'd', 'f2'), '2');
        await writeFile(join(dir, 'top'), 't');
      });
      await layer(env, 'B', 'A', async (dir) => {
        await unlink(join(dir, 'top'));
        await rm(join(dir, 'd'), { recursive: true });
        await mkdir(join(dir, 'd'));
        await writeFile(join(dir, 'd', 'new'), 'n');
      });
      assert.deepEqual(await treeOf(env, 'B'), { d: '<dir>', 'd/new': 'n' });
      assert.deepEqual(await treeOf(env, 'A'), { d: '<dir>', 'd/f1': '1', 'd/f2': '2', top: 't' });
      await withTempMount(await env.s.prepare('c', 'B'), env.root, async (dir) => {
        assert.deepEqual(await tree(dir), { d: '<dir>', 'd/new': 'n' });
      });
    });

    test('hard links survive copy-up without touching the parent', async (env) => {
      await layer(env, 'A', undefined, async (dir) => {
        await writeFile(join(dir, 'a'), 'old');
        await link(join(dir, 'a'), join(dir, 'b'));
      });
      await layer(env, 'B', 'A', async (dir) => {
        assert.equal((await stat(join(dir, 'a'))).ino, (await stat(join(dir, 'b'))).ino);
        await writeFile(join(dir, 'a'), 'new');
        await link(join(dir, 'a'), join(dir, 'c'));
        assert.equal((await stat(join(dir, 'a'))).ino, (await stat(join(dir, 'c'))).ino);
        assert.equal(await readFile(join(dir, 'c'), 'utf8'), 'new');
      });
      await withTempMount(await env.s.view('va', 'A'), env.root, async (dir) => {
        assert.deepEqual(await tree(dir), { a: 'old', b: 'old' });
        assert.equal((await stat(join(dir, 'a'))).ino, (await stat(join(dir, 'b'))).ino);
      });
      const b = await treeOf(env, 'B');
      assert.deepEqual([b.a, b.c], ['new', 'new']);
    });

    test('owners, modes, times, xattrs and special files survive into children', async (env) => {
      const files = ['dev', 'fifo', 'suid', 'link', 'dir'];
      const meta = async (dir: string) => {
        const out: Record<string, unknown> = {};
        for (const f of files) {
          const st = await lstat(join(dir, f));
          out[f] = [st.mode, st.uid, st.gid, st.rdev, st.isSymbolicLink() ? 0 : st.mtimeMs];
        }
        out.xattr = linux.lgetxattr(join(dir, 'suid'), 'user.strata')?.toString();
        out.trusted = linux.lgetxattr(join(dir, 'dir'), 'trusted.strata')?.toString();
        return out;
      };
      let expected: Record<string, unknown> = {};
      await layer(env, 'A', undefined, async (dir) => {
        linux.mknod(join(dir, 'dev'), linux.S_IFCHR | 0o640, 1, 3);
        linux.mknod(join(dir, 'fifo'), linux.S_IFIFO | 0o600, 0, 0);
        await writeFile(join(dir, 'suid'), 'x');
        await chmod(join(dir, 'suid'), 0o4755);
        await chown(join(dir, 'suid'), 1234, 5678);
        linux.lsetxattr(join(dir, 'suid'), 'user.strata', Buffer.from('u'));
        await symlink('suid', join(dir, 'link'));
        await lchown(join(dir, 'link'), 42, 43);
        await mkdir(join(dir, 'dir'), { mode: 0o1777 });
        await chmod(join(dir, 'dir'), 0o1777);
        linux.lsetxattr(join(dir, 'dir'), 'trusted.strata', Buffer.from('t'));
        for (const f of ['dev', 'fifo', 'suid', 'dir']) await utimes(join(dir, f), 1_000_000, 1_000_000);
        expected = await meta(dir);
      });
      assert.deepEqual(expected.xattr, 'u');
      await withTempMount(await env.s.prepare('b', 'A'), env.root, async (dir) => {
        assert.deepEqual(await meta(dir), expected);
        // Copy-up of a file keeps what it did not change.
        await appendFile(join(dir, 'suid'), 'y');
        const st = await lstat(join(dir, 'suid'));
        assert.deepEqual([st.uid, st.gid, linux.lgetxattr(join(dir, 'suid'), 'user.strata')?.toString()], [1234, 5678, 'u']);
      });
    });

    test('cleanup removes directories orphaned by a crash, never live ones', async (env) => {
      const { s, db, root } = env;
      await layer(env, 'A', undefined, (dir) => writeFile(join(dir, 'f'), 'f'));
      await s.prepare('live', 'A');
      const before = await onDisk(root);
      await s.cleanup();
      assert.deepEqual(await onDisk(root), before, 'cleanup with nothing orphaned changes nothing');

      await withTempMount(await s.prepare('b', 'A'), root, (dir) => writeFile(join(dir, 'g'), 'g'));
      // A crash after remove() deleted the row but before it deleted the directory.
      db.prepare('DELETE FROM snapshots WHERE key = ?').run('b');
      assert.notDeepEqual(await onDisk(root), before);
      await s.cleanup();
      assert.deepEqual(await onDisk(root), before);
      assert.deepEqual(await treeOf(env, 'A'), { f: 'f' });
      assert.deepEqual(await treeOf(env, 'live'), { f: 'f' });
      assert.deepEqual([...(await collect(s)).keys()].sort(), ['A', 'live']);
    });
  });
}
