import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withTempMount } from '../../src/mount/linux.js';
import type { DB } from '../../src/metadata/db.js';
import { openDatabase } from '../../src/metadata/db.js';
import { DevmapperSnapshotter } from '../../src/snapshots/devmapper/devmapper.js';
import { parseDmOptions } from '../../src/snapshots/devmapper/options.js';
import { openSnapshotter, supportedDrivers } from '../../src/snapshots/factory.js';
import { layer, strataKind, treeOf, withSnapshotter, type SuiteEnv } from '../../src/snapshots/testkit.js';
import { snapshotterConformance } from '../../src/snapshots/testsuite.js';
import { writeFile } from 'node:fs/promises';

/**
 * Where the kernel has dm-thin-pool this runs the conformance suite on
 * loop-backed thin pools it makes and removes; elsewhere it checks the clear
 * refusal, and test/vm/devmapper.test.ts runs this same file inside a VM.
 */
const why = await DevmapperSnapshotter.checkSupported().then(
  () => false as const,
  (e: Error) => e.message,
);

// Small sizes keep formatting the base device quick; the pool files are sparse either way.
const OPTS = { 'dm.loopdatasize': '2G', 'dm.loopmetadatasize': '64M', 'dm.basesize': '64M' };
const make = (root: string, db: DB) => openSnapshotter('devicemapper', root, db, OPTS);
const sh = (cmd: string, ...args: string[]) =>
  execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, DM_DISABLE_UDEV: '1' } });
const idOf = (env: SuiteEnv, key: string) =>
  (env.db.prepare('SELECT id FROM snapshots WHERE key = ?').get(key) as { id: string }).id;
/** Device-mapper devices and loop devices: none may outlive a test. */
const leftovers = () => [sh('dmsetup', 'ls').trim(), sh('losetup', '-a').trim()].filter((s) => s && !/No devices found/.test(s));

describe('devicemapper options', () => {
  it('default to Docker’s sizes and check what they are given', () => {
    const GiB = 1024 ** 3;
    assert.deepEqual(parseDmOptions({}), { loopDataSize: 100 * GiB, loopMetadataSize: 2 * GiB, baseSize: 10 * GiB });
    assert.deepEqual(parseDmOptions({ 'dm.datadev': '/dev/sdb', 'dm.metadatadev': '/dev/sdc', 'dm.basesize': '20G' }), {
      loopDataSize: 100 * GiB, loopMetadataSize: 2 * GiB, dataDev: '/dev/sdb', metadataDev: '/dev/sdc', baseSize: 20 * GiB,
    });
    assert.throws(() => parseDmOptions({ 'dm.datadev': '/dev/sdb' }), strataKind('InvalidArgument'));
    assert.throws(() => parseDmOptions({ 'dm.basesize': 'huge' }), strataKind('InvalidArgument'));
    assert.throws(() => parseDmOptions({ 'dm.basesize': '1M' }), /too small/);
  });

  it('belong to their driver', () =>
    withSnapshotter(
      (root, db) => openSnapshotter('vfs', root, db),
      async ({ root, db }) => {
        await assert.rejects(
          openSnapshotter('vfs', root, db, { 'dm.basesize': '20G' }),
          (e) => strataKind('InvalidArgument')(e) && /"dm.basesize" for the vfs storage driver; it takes none/.test(String(e)),
        );
      },
    ));
});

if (why) {
  describe('devicemapper without dm-thin-pool', () => {
    it('refuses to open, naming the missing kernel support', async (t) => {
      const root = await mkdtemp(join(tmpdir(), 'dm-'));
      const db = openDatabase(join(root, 'strata.db'));
      t.after(async () => {
        db.close();
        await rm(root, { recursive: true, force: true });
      });
      await assert.rejects(
        openSnapshotter('devicemapper', root, db),
        (e) => strataKind('Unsupported')(e) && /dm.thin.pool/.test(String(e)) && /modprobe dm_thin_pool/.test(String(e)),
      );
      const dm = (await supportedDrivers(root)).find((d) => d.name === 'devicemapper');
      assert.equal(dm?.supported, false);
      assert.match(dm?.reason ?? '', /dm.thin.pool/);
    });
    it('devicemapper snapshotter conformance', { skip: `${why.split(';')[0]}; test/vm/devmapper.test.ts runs it in a VM` }, () => {});
  });
} else {
  snapshotterConformance('devicemapper', make);

  describe('devicemapper driver', () => {
    it('makes every snapshot a thin snapshot of its parent, mounted as ext4 from /dev/mapper', () =>
      withSnapshotter(make, async (env) => {
        const { s } = env;
        await layer(env, 'A', undefined, (dir) => writeFile(join(dir, 'f'), 'f'));
        const pool = new Map(await s.status()).get('Pool Name')!;
        const prefix = pool.replace(/-pool$/, '');
        const mounts = await s.prepare('b', 'A');
        assert.deepEqual(mounts, [{ type: 'ext4', source: `/dev/mapper/${prefix}-${idOf(env, 'b')}`, options: ['rw'] }]);
        assert.deepEqual(await s.mounts('A'), [{ type: 'ext4', source: `/dev/mapper/${prefix}-${idOf(env, 'A')}`, options: ['ro'] }]);
        const table = sh('dmsetup', 'table', `${prefix}-${idOf(env, 'b')}`).trim().split(' ');
        assert.equal(table[2], 'thin');
        assert.equal(table[0], '0');
        assert.equal(Number(table[1]) * 512, 64 * 1024 * 1024, 'a thin device has the base device’s size');
        assert.deepEqual(await treeOf(env, 'b'), { f: 'f' }, 'a fresh layer holds no lost+found');
      }));

    it('reports the pool like docker info and leaves no device behind after close', () =>
      withSnapshotter(
        async (root, db) => {
          const s = await make(root, db);
          await layer({ root, db, s }, 'A', undefined, (dir) => writeFile(join(dir, 'big'), Buffer.alloc(4 << 20, 1)));
          const status = new Map(await s.status());
          assert.deepEqual(
            [...status.keys()],
            [
              'Pool Name', 'Pool Blocksize', 'Base Device Size', 'Backing Filesystem', 'Data Space Used', 'Data Space Total',
              'Data Space Available', 'Metadata Space Used', 'Metadata Space Total', 'Metadata Space Available',
              'Thin Pool Low Water Mark', 'Data loop file', 'Metadata loop file', 'Library Version',
            ],
          );
          assert.equal(status.get('Pool Blocksize'), '65.54kB');
          assert.equal(status.get('Base Device Size'), '67.11MB');
          assert.equal(status.get('Data Space Total'), '2.147GB');
          assert.equal(status.get('Data loop file'), join(root, 'devicemapper', 'devicemapper', 'data'));
          assert.notEqual(leftovers().length, 0, 'the pool is active while the driver is open');
          await s.close();
          assert.deepEqual(leftovers(), [], 'close deactivated every device and the pool, detaching its loop devices');
          // Reopening the same pool (thin_check on its metadata) finds the layer again.
          return make(root, db);
        },
        async (env) => {
          assert.equal((await env.s.usage('A')).size, 4 << 20);
          await withTempMount(await env.s.view('v', 'A'), env.root, async () => {
            await assert.rejects(env.s.remove('v'), (e) => strataKind('Conflict')(e) && /in use/.test(String(e)));
          });
          await env.s.remove('v');
        },
      ));
  });

  it('leaves no device-mapper or loop device behind', () => assert.deepEqual(leftovers(), []));
}
