import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { openDatabase } from '../../src/metadata/db.js';
import { ID_PATTERN, MetaStore } from '../../src/snapshots/metastore.js';
import { strataKind } from '../../src/snapshots/testkit.js';

it('metastore: ids, parent chains, and writers sharing one database', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ms-'));
  // Two connections stand in for two CLI processes on one data root.
  const db1 = openDatabase(join(dir, 'strata.db'));
  const db2 = openDatabase(join(dir, 'strata.db'));
  t.after(async () => {
    db1.close();
    db2.close();
    await rm(dir, { recursive: true, force: true });
  });
  const a = new MetaStore(db1);
  const b = new MetaStore(db2);
  const ids: string[] = [];
  let parent: string | undefined;
  for (let i = 0; i < 4; i++) {
    const { record, parentIds } = (i % 2 ? a : b).create(`k${i}`, 'active', parent);
    assert.match(record.id, ID_PATTERN);
    assert.deepEqual(parentIds, [...ids].reverse());
    (i % 2 ? b : a).commit(`L${i}`, `k${i}`, { size: i, inodes: i });
    ids.push(record.id);
    parent = `L${i}`;
  }
  assert.deepEqual(a.parentChain('L3'), [ids[2], ids[1], ids[0]]);
  assert.deepEqual(b.get('L2').usage, { size: 2, inodes: 2 });
  assert.throws(() => b.create('L1', 'view', undefined), strataKind('AlreadyExists'));
  assert.throws(() => a.create('x', 'view', 'L3', {}, () => { throw new Error('too deep'); }), /too deep/);
  assert.equal(b.find('x'), undefined, 'a refused create writes nothing');
  assert.throws(() => b.remove('L0'), (e) => strataKind('Conflict')(e) && /"L1"/.test(String(e)));
  assert.deepEqual(new Set(b.liveIds()), new Set(ids));
});
