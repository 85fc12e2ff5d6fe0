import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DRIVERS, openSnapshotter } from '../../src/snapshots/factory.js';
import { strataKind, withSnapshotter } from '../../src/snapshots/testkit.js';

describe('openSnapshotter', () => {
  it('opens every known driver and names it', async () => {
    assert.deepEqual(DRIVERS, ['overlay', 'vfs']);
    for (const name of DRIVERS) {
      await withSnapshotter((root, db) => openSnapshotter(name, root, db), async ({ s }) => assert.equal(s.name, name));
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
