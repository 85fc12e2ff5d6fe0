import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withTempMount } from '../../src/mount/linux.js';
import { overlayUpperDir } from '../../src/mount/mount.js';
import { openSnapshotter } from '../../src/snapshots/factory.js';
import { MAX_LOWERS, OPTIONS_LIMIT, OverlayLayout } from '../../src/snapshots/overlay/layout.js';
import { OverlaySnapshotter } from '../../src/snapshots/overlay/overlay.js';
import { probeOverlay } from '../../src/snapshots/overlay/probe.js';
import { layer, strataKind, withSnapshotter, type SuiteEnv } from '../../src/snapshots/testkit.js';
import { snapshotterConformance } from '../../src/snapshots/testsuite.js';

const make = (root: string, db: Parameters<typeof openSnapshotter>[2]) => openSnapshotter('overlay', root, db);

snapshotterConformance('overlay', make);

const idOf = (env: SuiteEnv, key: string) =>
  (env.db.prepare('SELECT id FROM snapshots WHERE key = ?').get(key) as { id: string }).id;

describe('overlay driver', () => {
  it("lays snapshots out like Docker's overlay2", () =>
    withSnapshotter(make, async (env) => {
      const home = join(env.root, 'overlay');
      await layer(env, 'A', undefined, (dir) => writeFile(join(dir, 'f'), 'f'));
      await layer(env, 'B', 'A', (dir) => writeFile(join(dir, 'g'), 'g'));
      await env.s.prepare('c', 'B');
      const [a, b, c] = ['A', 'B', 'c'].map((k) => idOf(env, k));
      for (const id of [a, b, c]) {
        assert.equal(await readFile(join(home, id, 'link'), 'utf8'), id);
        assert.equal(await readlink(join(home, 'l', id)), `../${id}/diff`);
        assert.ok((await stat(join(home, id, 'diff'))).isDirectory());
      }
      assert.deepEqual((await readdir(join(home, a))).sort(), ['diff', 'link']);
      assert.deepEqual((await readdir(join(home, b))).sort(), ['diff', 'link', 'lower', 'merged', 'work']);
      assert.equal(await readFile(join(home, b, 'lower'), 'utf8'), `l/${a}`);
      assert.equal(await readFile(join(home, c, 'lower'), 'utf8'), `l/${b}:l/${a}`);
      assert.deepEqual(await readdir(join(home, a, 'diff')), ['f']);
      assert.deepEqual(await readdir(join(home, b, 'diff')), ['g']);
    }));

  it('hands out binds for single layers and overlays through l/ links otherwise', () =>
    withSnapshotter(make, async (env) => {
      const { s } = env;
      const home = join(env.root, 'overlay');
      const l = (k: string) => join(home, 'l', idOf(env, k));
      const diff = (k: string) => join(home, idOf(env, k), 'diff');
      const extra = ['index=off', 'redirect_dir=off']; // both known to the kernels Strata supports
      assert.deepEqual(await s.prepare('a'), [{ type: 'bind', source: diff('a'), options: ['rw', 'rbind'] }]);
      await s.commit('A', 'a');
      assert.deepEqual(await s.mounts('A'), [{ type: 'bind', source: diff('A'), options: ['ro', 'rbind'] }]);
      assert.deepEqual(await s.view('va', 'A'), [{ type: 'bind', source: diff('A'), options: ['ro', 'rbind'] }]);
      assert.deepEqual(await s.view('v0'), [{ type: 'bind', source: diff('v0'), options: ['ro', 'rbind'] }]);
      assert.deepEqual(await s.prepare('b', 'A'), [
        {
          type: 'overlay',
          source: 'overlay',
          options: [...extra, `lowerdir=${l('A')}`, `upperdir=${diff('b')}`, `workdir=${join(home, idOf(env, 'b'), 'work')}`],
        },
      ]);
      await s.commit('B', 'b');
      const ro = [{ type: 'overlay', source: 'overlay', options: [...extra, `lowerdir=${l('B')}:${l('A')}`] }];
      assert.deepEqual(await s.mounts('B'), ro);
      assert.deepEqual(await s.view('vb', 'B'), ro);
    }));

  it('caps lower layers at 128, which fit a page of mount options once relative to the overlay home', () => {
    const features = { indexOff: true, redirectDirOff: true };
    const layout = new OverlayLayout('/var/lib/strata/overlay');
    // Absolute lowerdirs would take 53 bytes a layer; relative `l/<id>` ones take 29, so 128 fit.
    assert.equal(layout.maxLowers(features), MAX_LOWERS);
    assert.ok(layout.optionsLength(MAX_LOWERS, features) <= OPTIONS_LIMIT);
    layout.checkDepth('k', MAX_LOWERS, features);
    assert.throws(
      () => layout.checkDepth('k', MAX_LOWERS + 1, features),
      (e) => strataKind('Unsupported')(e) && /limit of 128/.test(String(e)),
    );
    // A home so long that even relative paths overflow would be refused with the number that fits.
    const deep = new OverlayLayout(`/${'d'.repeat(200)}/overlay`);
    assert.equal(deep.maxLowers(features), MAX_LOWERS, 'relative paths do not depend on the home');
  });

  it('mounts the deepest chain that fits for real, and refuses one more layer', () =>
    withSnapshotter(make, async (env) => {
      const { s, root } = env;
      const features = await probeOverlay(root);
      const max = new OverlayLayout(join(root, 'overlay')).maxLowers(features);
      assert.equal(max, MAX_LOWERS, `only ${max} layers fit under ${root}`);
      // Layers are filled through their upperdirs: mounting each one is what the suite already covers.
      for (let i = 0; i <= max; i++) {
        const mounts = await s.prepare(`k${i}`, i ? `L${i - 1}` : undefined);
        const upper = overlayUpperDir(mounts) ?? mounts[0].source;
        await writeFile(join(upper, `layer-${i}`), String(i));
        await s.commit(`L${i}`, `k${i}`);
      }
      const top = await s.prepare('top', `L${max - 1}`);
      assert.equal(top[0].options.find((o) => o.startsWith('lowerdir='))?.split(':').length, max);
      await withTempMount(top, root, async (dir) => {
        const names = await readdir(dir);
        assert.equal(names.length, max, 'every lower layer is visible: none was cut off');
        for (let i = 0; i < max; i++) assert.equal(await readFile(join(dir, `layer-${i}`), 'utf8'), String(i));
      });
      await assert.rejects(
        s.prepare('too-deep', `L${max}`),
        (e) => strataKind('Unsupported')(e) && /limit of 128/.test(String(e)),
      );
      await assert.rejects(s.stat('too-deep'), strataKind('NotFound'));
    }));

  it('usage counts only the snapshot’s own diff, hard links once', () =>
    withSnapshotter(make, async (env) => {
      await layer(env, 'A', undefined, async (dir) => {
        await writeFile(join(dir, 'data'), Buffer.alloc(10_000));
        await mkdir(join(dir, 'd'));
        await rename(join(dir, 'data'), join(dir, 'd', 'data'));
        await link(join(dir, 'd', 'data'), join(dir, 'again'));
      });
      assert.deepEqual(await env.s.usage('A'), { size: 10_000, inodes: 2 });
      await layer(env, 'B', 'A', (dir) => writeFile(join(dir, 'x'), '12345'));
      assert.deepEqual(await env.s.usage('B'), { size: 5, inodes: 1 });
      await withTempMount(await env.s.prepare('c', 'B'), env.root, (dir) => writeFile(join(dir, 'y'), 'abc'));
      assert.deepEqual(await env.s.usage('c'), { size: 3, inodes: 1 });
    }));

  it('renaming a lower directory fails with EXDEV, so upperdirs stay plain diffs', () =>
    withSnapshotter(make, async (env) => {
      await layer(env, 'A', undefined, async (dir) => {
        await mkdir(join(dir, 'd'));
        await writeFile(join(dir, 'd', 'f'), 'f');
      });
      await withTempMount(await env.s.prepare('b', 'A'), env.root, async (dir) => {
        await assert.rejects(rename(join(dir, 'd'), join(dir, 'e')), { code: 'EXDEV' });
      });
    }));

  it('reports status like docker info', () =>
    withSnapshotter(make, async ({ s }) => {
      const status = new Map(await s.status());
      assert.deepEqual([...status.keys()], ['Backing Filesystem', 'Supports d_type', 'Using metacopy', 'Native Overlay Diff']);
      assert.doesNotMatch(status.get('Backing Filesystem') ?? '', /unknown|overlayfs/);
      assert.deepEqual([status.get('Using metacopy'), status.get('Native Overlay Diff')], ['false', 'true']);
    }));

  it('checkSupported accepts a plain directory and refuses a data root on overlayfs', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ov-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await OverlaySnapshotter.checkSupported(join(dir, 'good'));
    for (const d of ['lower', 'upper', 'work']) await mkdir(join(dir, d));
    const mounts = [
      {
        type: 'overlay',
        source: 'overlay',
        options: [`lowerdir=${dir}/lower`, `upperdir=${dir}/upper`, `workdir=${dir}/work`],
      },
    ];
    await withTempMount(mounts, dir, async (merged) => {
      await assert.rejects(
        OverlaySnapshotter.checkSupported(join(merged, 'root')),
        (e) => strataKind('Unsupported')(e) && /on overlayfs/.test(String(e)) && /vfs/.test(String(e)),
      );
    });
  });
});
