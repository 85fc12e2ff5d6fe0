import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DRIVERS, openSnapshotter, supportedDrivers } from '../../src/snapshots/factory.js';
import { strataKind, withSnapshotter } from '../../src/snapshots/testkit.js';

describe('openSnapshotter', () => {
  it('opens every driver this host supports, names it, and says why the others cannot work', async (t) => {
    assert.deepEqual(DRIVERS, ['overlay', 'vfs', 'btrfs', 'fuse-overlayfs', 'devicemapper']);
    const root = await mkdtemp(join(tmpdir(), 'drivers-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const support = await supportedDrivers(root);
    assert.deepEqual(support.map((d) => d.name), [...DRIVERS]);
    for (const d of support) {
      if (!d.supported) {
        assert.match(d.reason ?? '', new RegExp(`^${d.name}: `));
        continue;
      }
      await withSnapshotter((root, db) => openSnapshotter(d.name, root, db), async ({ s }) => assert.equal(s.name, d.name));
    }
  });

  it('refuses unknown drivers, listing the known ones', () =>
    withSnapshotter(
      (root, db) => openSnapshotter('vfs', root, db),
      async ({ root, db }) => {
        await assert.rejects(
          openSnapshotter('aufs', root, db),
          (e) => strataKind('Unsupported')(e) && /"aufs".*overlay, vfs/.test(String(e)),
        );
      },
    ));
});
