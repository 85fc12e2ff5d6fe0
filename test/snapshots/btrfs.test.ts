import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withTempMount } from '../../src/mount/linux.js';
import { openSnapshotter, supportedDrivers } from '../../src/snapshots/factory.js';
import { layer, strataKind, withSnapshotter, type SuiteEnv } from '../../src/snapshots/testkit.js';
import { snapshotterConformance } from '../../src/snapshots/testsuite.js';
import type { DB } from '../../src/metadata/db.js';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const haveBtrfsProgs = (() => {
  try {
    sh('btrfs', ['--version']);
    return true;
  } catch {
    return false;
  }
})();
const skip = haveBtrfsProgs ? false : 'btrfs-progs is not installed (apt-get install btrfs-progs)';

/**
 * Puts a fresh 1 GB btrfs filesystem on `dir`, backed by the sparse image
 * `image`. The loop device is detached right after mounting: the kernel then
 * frees it by itself at unmount, so a failing test cannot leak it.
 */
function mountBtrfsImage(image: string, dir: string): void {
  sh('truncate', ['-s', '1G', image]);
  sh('mkfs.btrfs', ['-q', image]);
  const loop = sh('losetup', ['--find', '--show', image]).trim();
  try {
    execFileSync('mkdir', ['-p', dir]);
    sh('mount', ['-t', 'btrfs', loop, dir]);
  } finally {
    sh('losetup', ['-d', loop]);
  }
}

/** Loop devices still attached to `image`: none once its filesystem is unmounted. */
const loopsOf = (image: string) => sh('losetup', ['-j', image]).trim();

const make = async (root: string, db: DB) => {
  mountBtrfsImage(join(root, 'btrfs.img'), join(root, 'btrfs'));
  return openSnapshotter('btrfs', root, db);
};

const idOf = (env: SuiteEnv, key: string) =>
  (env.db.prepare('SELECT id FROM snapshots WHERE key = ?').get(key) as { id: string }).id;
const subvolume = (env: SuiteEnv, key: string) => join(env.root, 'btrfs', 'subvolumes', idOf(env, key));
const show = (path: string) => {
  const out = sh('btrfs', ['subvolume', 'show', path]);
  const field = (name: string) => out.match(new RegExp(`^\\s*${name}:\\s*(.*)$`, 'm'))?.[1].trim();
  return { uuid: field('UUID'), parentUuid: field('Parent UUID'), flags: field('Flags') };
};

if (haveBtrfsProgs) snapshotterConformance('btrfs', make);

describe('btrfs driver', { skip }, () => {
  it('keeps each snapshot as a subvolume, a child a snapshot of its parent, committed ones read-only', () =>
    withSnapshotter(make, async (env) => {
      const { s } = env;
      await layer(env, 'A', undefined, (dir) => writeFile(join(dir, 'f'), 'f'));
      assert.deepEqual(await s.prepare('b', 'A'), [{ type: 'bind', source: subvolume(env, 'b'), options: ['rw', 'rbind'] }]);
      await s.view('v', 'A');
      const [a, b, v] = ['A', 'b', 'v'].map((k) => show(subvolume(env, k)));
      assert.equal(a.flags, 'readonly');
      assert.equal(b.flags, '-');
      assert.equal(v.flags, 'readonly');
      assert.equal(b.parentUuid, a.uuid, 'the child is a snapshot of its parent');
      assert.equal(v.parentUuid, a.uuid);
      assert.deepEqual(await readdir(subvolume(env, 'b')), ['f'], 'a snapshot holds the whole tree');
      assert.deepEqual(await s.mounts('A'), [{ type: 'bind', source: subvolume(env, 'A'), options: ['ro', 'rbind'] }]);
      await s.remove('b');
      await s.remove('v');
      assert.deepEqual(await readdir(join(env.root, 'btrfs', 'subvolumes')), [idOf(env, 'A')]);
    }));

  it('usage without quotas is what a snapshot changed against its parent', () =>
    withSnapshotter(make, async (env) => {
      await layer(env, 'A', undefined, async (dir) => {
        await writeFile(join(dir, 'data'), Buffer.alloc(10_000, 1));
        await mkdir(join(dir, 'd'));
        await writeFile(join(dir, 'd', 'keep'), 'k');
      });
      assert.deepEqual(await env.s.usage('A'), { size: 10_001, inodes: 3 });
      await layer(env, 'B', 'A', (dir) => writeFile(join(dir, 'x'), '12345'));
      assert.deepEqual(await env.s.usage('B'), { size: 5, inodes: 1 });
      await withTempMount(await env.s.prepare('c', 'B'), env.root, async (dir) => {
        await writeFile(join(dir, 'd', 'keep'), 'changed');
        await writeFile(join(dir, 'y'), 'abc');
      });
      // d/keep rewritten in place and y added; d itself is unchanged.
      assert.deepEqual(await env.s.usage('c'), { size: 10, inodes: 2 });
      const status = new Map(await env.s.status());
      assert.equal(status.get('Backing Filesystem'), 'btrfs');
      assert.match(status.get('Quotas') ?? '', /^disabled/);
      assert.match(status.get('Build Version') ?? '', /btrfs-progs v\d/);
    }));

  it('usage comes from quota groups where quotas are enabled', () =>
    withSnapshotter(make, async (env) => {
      sh('btrfs', ['quota', 'enable', join(env.root, 'btrfs')]);
      const s = await openSnapshotter('btrfs', env.root, env.db);
      assert.match(new Map(await s.status()).get('Quotas') ?? '', /^enabled/);
      await layer({ ...env, s }, 'A', undefined, (dir) => writeFile(join(dir, 'big'), Buffer.alloc(1 << 20, 7)));
      const a = await s.usage('A');
      // Exclusive bytes: the file's extents plus the subvolume's own tree blocks.
      assert.ok(a.size >= 1 << 20 && a.size < (1 << 20) + 256 * 1024, `size ${a.size}`);
      assert.equal(a.inodes, 1);
      await layer({ ...env, s }, 'B', 'A', (dir) => writeFile(join(dir, 'small'), Buffer.alloc(100_000, 1)));
      const b = await s.usage('B');
      assert.ok(b.size >= 100_000 && b.size < 100_000 + 256 * 1024, `size ${b.size}: the shared 1 MB is not counted`);
    }));

  it('btrfs.image loop-mounts an image file, and the loop device goes with the unmount', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'btrfs-image-'));
    const image = join(dir, 'strata.img');
    // withSnapshotter unmounts the data root's btrfs/ whatever happens.
    t.after(() => rm(dir, { recursive: true, force: true }));
    sh('truncate', ['-s', '1G', image]);
    sh('mkfs.btrfs', ['-q', image]);
    await withSnapshotter(
      async (root, db) => {
        // The data root on ext4 is refused without the option, naming the way out.
        await assert.rejects(
          openSnapshotter('btrfs', root, db),
          (e) => strataKind('Unsupported')(e) && /is on extfs, not btrfs/.test(String(e)) && /btrfs\.image=FILE/.test(String(e)),
        );
        return openSnapshotter('btrfs', root, db, { 'btrfs.image': image });
      },
      async (env) => {
        await layer(env, 'A', undefined, (d) => writeFile(join(d, 'f'), 'f'));
        const status = new Map(await env.s.status());
        assert.equal(status.get('Backing Filesystem'), 'btrfs');
        assert.equal(status.get('Image File'), image);
        assert.notEqual(loopsOf(image), '');
        // A second open (another CLI process) finds the image mounted and the option remembered.
        const again = await openSnapshotter('btrfs', env.root, env.db);
        assert.equal((await again.stat('A')).kind, 'committed');
        await assert.rejects(
          openSnapshotter('btrfs', env.root, env.db, { 'btrfs.image': '/elsewhere.img' }),
          strataKind('FailedPrecondition'),
        );
      },
    );
    assert.equal(loopsOf(image), '', 'unmounting the data root freed the loop device');
  });

  it('supportedDrivers explains why btrfs does not fit an ext4 data root', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'btrfs-sup-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const btrfs = (await supportedDrivers(dir)).find((d) => d.name === 'btrfs');
    assert.equal(btrfs?.supported, false);
    assert.match(btrfs?.reason ?? '', /not btrfs.*btrfs\.image=FILE/);
    assert.ok(!(await readdir(dir)).includes('btrfs'), 'checking btrfs creates nothing');
  });
});
