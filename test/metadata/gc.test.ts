import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../src/engine/engine.js';
import { isStrataError } from '../../src/errors/errors.js';
import { writeDockerArchive, writeLayerTar } from '../fixtures/image-archive.js';
import { STRATA_BIN, TempRoot } from '../helpers/strata.js';

describe('garbage collection and leases', () => {
  let t: TempRoot;
  let engine: Engine;
  before(async () => {
    t = await TempRoot.create();
    engine = await Engine.open({ root: t.root });
  });
  after(async () => {
    await engine.close();
    await t.cleanup();
  });

  it('keeps leased content until the lease is released', async () => {
    const lease = engine.leases.create();
    const d = await engine.content.put('leased');
    lease.add('content', d);
    await engine.gc();
    assert.equal(await engine.content.exists(d), true, 'a live lease protects the blob');
    lease.release();
    const r = await engine.gc();
    assert.equal(await engine.content.exists(d), false);
    assert.ok(r.blobsRemoved >= 1);
  });

  it('ignores the lease of a process that died', async () => {
    const d = await engine.content.put('orphaned by a killed load');
    engine.db.prepare('INSERT INTO leases (id, created_at, expires_at, pid) VALUES (?, ?, ?, ?)').run('dead', Date.now(), Date.now() + 3600_000, 2 ** 22 + 17);
    engine.db.prepare("INSERT INTO lease_resources (lease_id, kind, ref) VALUES ('dead', 'content', ?)").run(d);
    await engine.gc();
    assert.equal(await engine.content.exists(d), false);
    assert.equal((engine.db.prepare("SELECT count(*) n FROM leases WHERE id = 'dead'").get() as { n: number }).n, 0);
  });

  it('never removes what a concurrent load is writing', async () => {
    const layers = [];
    for (let i = 0; i < 6; i++) {
      const path = join(t.dir, `l${i}.tar`);
      layers.push({ path, ...(await writeLayerTar(path, [{ name: `f${i}.bin`, random: 4_000_000 }, { name: `dir${i}/`, type: 'directory' }])) });
    }
    const archive = join(t.dir, 'img.tar');
    await writeDockerArchive(archive, layers, { repoTags: ['racing:1'] });
    const child = spawn(process.execPath, [STRATA_BIN, '--root', t.root, 'load', '-i', archive], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const exited = new Promise<number>((r) => child.once('close', (code) => r(code ?? 1)));
    let done = false;
    void exited.then(() => (done = true));
    let runs = 0;
    while (!done) {
      await engine.gc();
      runs++;
    }
    assert.equal(await exited, 0, stderr);
    assert.ok(runs > 1, `GC ran ${runs} times during the load`);
    const img = engine.images.resolve('racing:1');
    for (const l of img.layers) {
      assert.equal(await engine.content.exists(l.blobDigest), true, `layer blob ${l.blobDigest} survived`);
      assert.equal((await engine.snapshotter.stat(l.chainId)).kind, 'committed');
    }
    await engine.gc();
    assert.equal(engine.images.resolve('racing:1').id, img.id, 'the image survives GC once stored');
  });

  it('refuses to remove an image a container uses unless forced, and keeps its layers', async () => {
    const img = engine.images.resolve('racing:1');
    engine.db
      .prepare('INSERT INTO containers (id, name, image_id, snapshot_key, created_at) VALUES (?, ?, ?, ?, ?)')
      .run('c'.repeat(64), 'user', img.id, img.topLayer, Date.now());
    try {
      await assert.rejects(engine.images.remove('racing:1'), (e) => isStrataError(e, 'Conflict') && /container user is using its referenced image/.test((e as Error).message));
      const reports = await engine.images.remove('racing:1', { force: true });
      assert.deepEqual(reports, [{ Untagged: 'racing:1' }]);
      await engine.gc();
      assert.equal(engine.images.resolve(img.id.slice(7)).id, img.id, 'the image stays while its container exists');
      for (const l of img.layers) assert.equal((await engine.snapshotter.stat(l.chainId)).kind, 'committed');
    } finally {
      engine.db.prepare('DELETE FROM containers').run();
    }
  });
});
