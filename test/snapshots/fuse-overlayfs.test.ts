import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { link, lstat, mkdir, mkdtemp, readdir, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { applyLayer } from '../../src/archive/apply.js';
import { OVERLAY_OPAQUE_XATTR } from '../../src/archive/whiteouts.js';
import { unmount } from '../../src/mount/linux.js';
import type { Mount } from '../../src/mount/mount.js';
import { linux } from '../../src/native/linux.js';
import { openSnapshotter } from '../../src/snapshots/factory.js';
import { FUSE_OVERLAYFS_TYPE, mountFuseOverlayfs } from '../../src/mount/fuse.js';
import { probeFuseOverlayfs } from '../../src/snapshots/fuse-overlayfs/probe.js';
import { layer, tree, withSnapshotter, type SuiteEnv } from '../../src/snapshots/testkit.js';
import { snapshotterConformance } from '../../src/snapshots/testsuite.js';
import type { DB } from '../../src/metadata/db.js';
import { writeLayerTar } from '../fixtures/image-archive.js';

const make = (root: string, db: DB) => openSnapshotter('fuse-overlayfs', root, db);

/** Why this host cannot run fuse-overlayfs at all (no /dev/fuse, not installed), or false. */
async function unsupported(): Promise<string | false> {
  const dir = await mkdtemp(join(tmpdir(), 'fo-probe-'));
  try {
    await probeFuseOverlayfs(dir);
    return false;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether mountAt (src/mount/linux.ts), which the conformance suite mounts through, performs fuse-overlayfs mounts. */
const why = await unsupported();
const skip = why || false;
if (!why) snapshotterConformance('fuse-overlayfs', make);

/** Mounts through the helper directly, so these tests do not depend on mountAt. */
async function withFuseMount<T>(mounts: Mount[], root: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(root, 'mnt-'));
  try {
    for (const m of mounts) {
      if (m.type === FUSE_OVERLAYFS_TYPE) mountFuseOverlayfs(m, dir);
      else linux.mount(m.source, dir, null, linux.MS_BIND, null);
    }
    try {
      return await fn(dir);
    } finally {
      unmount(dir);
    }
  } finally {
    // rmdir, never a recursive rm: if the unmount failed, the mounted snapshot must survive.
    await rmdir(dir);
  }
}

const idOf = (env: SuiteEnv, key: string) =>
  (env.db.prepare('SELECT id FROM snapshots WHERE key = ?').get(key) as { id: string }).id;

describe('fuse-overlayfs driver', { skip }, () => {
  it('keeps overlay2’s layout and hands out fuse.fuse-overlayfs mounts (read-only ones marked ro)', () =>
    withSnapshotter(make, async (env) => {
      const { s } = env;
      const home = join(env.root, 'fuse-overlayfs');
      const l = (k: string) => join(home, 'l', idOf(env, k));
      const diff = (k: string) => join(home, idOf(env, k), 'diff');
      assert.deepEqual(await s.prepare('a'), [{ type: 'bind', source: diff('a'), options: ['rw', 'rbind'] }]);
      await s.commit('A', 'a');
      assert.deepEqual(await s.prepare('b', 'A'), [
        {
          type: FUSE_OVERLAYFS_TYPE,
          source: 'fuse-overlayfs',
          options: [`lowerdir=${l('A')}`, `upperdir=${diff('b')}`, `workdir=${join(home, idOf(env, 'b'), 'work')}`],
        },
      ]);
      await s.commit('B', 'b');
      assert.deepEqual(await s.view('vb', 'B'), [
        { type: FUSE_OVERLAYFS_TYPE, source: 'fuse-overlayfs', options: ['ro', `lowerdir=${l('B')}:${l('A')}`] },
      ]);
      assert.deepEqual((await readdir(join(home, idOf(env, 'B')))).sort(), ['diff', 'link', 'lower', 'merged', 'work']);
      const status = new Map(await s.status());
      assert.doesNotMatch(status.get('Backing Filesystem') ?? '', /unknown|fuse/);
    }));

  it('reads layers unpacked in the overlay format: 0/0 device whiteouts and trusted.overlay.opaque', () =>
    withSnapshotter(make, async (env) => {
      await layer(env, 'A', undefined, async (dir) => {
        await mkdir(join(dir, 'd'));
        await writeFile(join(dir, 'd', 'old'), 'o');
        await writeFile(join(dir, 'x'), 'x');
        await writeFile(join(dir, 'keep'), 'k');
      });
      const mounts = await env.s.prepare('b', 'A');
      const upper = mounts[0].options.find((o) => o.startsWith('upperdir='))!.slice('upperdir='.length);
      const tar = join(env.root, 'layer.tar');
      await writeLayerTar(tar, [
        { name: '.wh.x', content: '' },
        { name: 'd/', type: 'directory' },
        { name: 'd/.wh..wh..opq', content: '' },
        { name: 'd/new', content: 'n' },
      ]);
      await applyLayer(createReadStream(tar), upper, { format: 'overlay' });
      await rm(tar);
      await env.s.commit('B', 'b');
      await withFuseMount(await env.s.view('v', 'B'), env.root, async (dir) => {
        assert.deepEqual(await tree(dir), { d: '<dir>', 'd/new': 'n', keep: 'k' });
      });
    }));

  it('writes deletions as 0/0 devices and opaque dirs with the xattr plus marker files the archive differ must skip', () =>
    withSnapshotter(make, async (env) => {
      await layer(env, 'A', undefined, async (dir) => {
        await mkdir(join(dir, 'd'));
        await writeFile(join(dir, 'd', 'f'), 'f');
        await writeFile(join(dir, 'x'), 'x');
      });
      const mounts = await env.s.prepare('b', 'A');
      await withFuseMount(mounts, env.root, async (dir) => {
        await unlink(join(dir, 'x'));
        await rm(join(dir, 'd'), { recursive: true });
        await mkdir(join(dir, 'd'));
        assert.deepEqual(await readdir(join(dir, 'd')), [], 'markers are hidden in the mount');
      });
      const upper = join(env.root, 'fuse-overlayfs', idOf(env, 'b'), 'diff');
      const x = await lstat(join(upper, 'x'));
      assert.ok(x.isCharacterDevice() && x.rdev === 0, 'a deletion is a 0/0 character device, as overlayfs writes it');
      assert.equal(linux.lgetxattr(join(upper, 'd'), OVERLAY_OPAQUE_XATTR)?.toString(), 'y');
      // fuse-overlayfs 1.10 also leaves these two in an opaque directory; a diff of the upperdir must not ship them.
      assert.deepEqual((await readdir(join(upper, 'd'))).sort(), ['.wh..opq', '.wh..wh..opq']);
    }));

  it('a committed copy-up reads as itself, not as the lower file it was copied from', () =>
    withSnapshotter(make, async (env) => {
      await layer(env, 'A', undefined, async (dir) => {
        await writeFile(join(dir, 'a'), 'old');
        await link(join(dir, 'a'), join(dir, 'b'));
      });
      await withFuseMount(await env.s.prepare('b', 'A'), env.root, (dir) => writeFile(join(dir, 'a'), 'new'));
      await env.s.commit('B', 'b');
      await withFuseMount(await env.s.view('v', 'B'), env.root, async (dir) => {
        assert.deepEqual(await tree(dir), { a: 'new', b: 'old' });
      });
    }));
});
