import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Digest } from '../../src/digest/digest.js';
import { collectGarbage } from '../../src/registry/storage/gc.js';
import { Client, OCI_INDEX, OCI_MANIFEST, sha256, type TestImage } from './helpers/client.js';
import { startStrata, type InProcessRegistry } from './helpers/strata-registry.js';

const HOUR = 3600_000;
const later = () => new Date(Date.now() + 2 * HOUR);

async function stored(r: InProcessRegistry): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const d of r.registry.blobs.walk()) out.add(d);
  return out;
}

async function artifactFor(c: Client, name: string, subject: TestImage): Promise<string> {
  const empty = await c.pushBlob(name, Buffer.from('{}'));
  const m = { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 }, layers: [], subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size } };
  return (await c.pushManifest(name, sha256(JSON.stringify(m)), m, OCI_MANIFEST)).digest;
}

/** Pulls a tag and checks every digest; returns the digests it reached. */
async function pullVerify(c: Client, name: string, tag: string): Promise<string[]> {
  const accept = [OCI_MANIFEST, OCI_INDEX].join(', ');
  const m = await c.req('GET', `/v2/${name}/manifests/${tag}`, { headers: { Accept: accept } });
  assert.equal(m.status, 200, `${name}:${tag}`);
  const digest = m.headers.get('docker-content-digest')!;
  assert.equal(sha256(m.body), digest);
  const doc = m.json<{ config?: { digest: string }; layers?: { digest: string }[]; manifests?: { digest: string }[] }>();
  const reached = [digest];
  for (const d of [doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest)].filter((x): x is string => !!x)) {
    const b = await c.req('GET', `/v2/${name}/blobs/${d}`);
    assert.equal(b.status, 200, `${name} blob ${d}`);
    assert.equal(`sha256:${createHash('sha256').update(b.body).digest('hex')}`, d);
    reached.push(d);
  }
  for (const child of doc.manifests ?? []) reached.push(...(await pullVerify(c, name, child.digest)));
  return reached;
}

describe('online garbage collection', () => {
  it('marks from tags through indexes and referrers, sweeps the rest, and --dry-run deletes nothing', async () => {
    const r = await startStrata('filesystem');
    try {
      const c = new Client(r.base);
      const kept = await c.pushImage('gc/app', 'v1');
      const sig = await artifactFor(c, 'gc/app', kept);
      const child = await c.pushImage('gc/multi', 'tmp');
      await c.pushManifest('gc/multi', 'index', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: child.size }] }, OCI_INDEX);
      await c.req('DELETE', '/v2/gc/multi/manifests/tmp');
      const dropped = await c.pushImage('gc/app', 'old');
      await c.req('DELETE', '/v2/gc/app/manifests/old');
      const orphan = await c.pushBlob('gc/app', randomBytes(100));
      const upload = (await c.req('POST', '/v2/gc/app/blobs/uploads/')).headers.get('location')!;

      const young = await collectGarbage(r.registry);
      assert.equal(young.deletedBlobs.length + young.deletedManifests.length, 0, 'everything is inside the grace period');

      const before = await stored(r);
      const dry = await collectGarbage(r.registry, { now: later(), dryRun: true });
      assert.deepEqual(await stored(r), before);
      assert.deepEqual(dry.deletedManifests, [{ repository: 'gc/app', digest: dropped.digest }]);
      const garbage = [dropped.digest, ...dropped.layerDigests, dropped.configDigest, orphan].sort();
      assert.deepEqual(dry.deletedBlobs.map((b) => b.digest).sort(), garbage);
      assert.equal(dry.freedBytes, dry.deletedBlobs.reduce((n, b) => n + b.size, 0));

      const real = await collectGarbage(r.registry, { now: later() });
      assert.deepEqual(real.deletedBlobs.map((b) => b.digest).sort(), garbage);
      const left = await stored(r);
      for (const d of garbage) assert.ok(!left.has(d), d);
      for (const d of [kept.digest, sig, child.digest, ...kept.layerDigests, ...child.layerDigests]) assert.ok(left.has(d), d);
      await pullVerify(c, 'gc/app', 'v1');
      await pullVerify(c, 'gc/multi', 'index');
      assert.equal((await c.req('GET', `/v2/gc/app/manifests/${sig}`, { headers: { Accept: OCI_MANIFEST } })).status, 200);
      assert.equal((await c.req('GET', `/v2/gc/app/blobs/${orphan}`)).status, 404);
      assert.equal((await c.req('GET', upload)).status, 204, 'an upload in progress is kept');
      const purge = await collectGarbage(r.registry, { now: later(), uploadMaxAgeMs: HOUR });
      assert.equal(purge.purgedUploads.length, 1);
      assert.equal((await c.req('GET', upload)).status, 404);
    } finally {
      await r.stop();
    }
  });

  it('under load: pushes and pulls keep working while GC runs, tagged images verify and garbage is gone', async () => {
    const grace = 1500;
    const r = await startStrata('filesystem', { linkRefreshMs: 200 });
    try {
      const c = new Client(r.base);
      const stable: TestImage[] = [];
      for (let i = 0; i < 3; i++) stable.push(await c.pushImage(`load/stable${i}`, 'v1'));
      const garbageBlobs: string[] = [];
      for (let i = 0; i < 3; i++) {
        const g = await c.pushImage('load/churn', `g${i}`);
        await c.req('DELETE', `/v2/load/churn/manifests/${g.digest}`);
        garbageBlobs.push(...g.layerDigests, g.configDigest, g.digest);
      }
      const reusable = randomBytes(3000);
      const reusableDigest = await c.pushBlob('load/churn', reusable);
      await sleep(grace + 200);

      // At least 3 rounds per pusher however slow the machine, more while time remains.
      const deadline = Date.now() + 3000;
      let pushing = true;
      const errors: string[] = [];
      const pushed: { name: string; tag: string }[] = [];
      const pusher = async (k: number) => {
        for (let i = 0; i < 3 || (i < 20 && Date.now() < deadline); i++) {
          const name = `load/push${k}`;
          try {
            // Reuse an old unreferenced blob the way clients do: HEAD, and skip the upload if present.
            const head = await c.req('HEAD', `/v2/load/churn/blobs/${reusableDigest}`);
            if (head.status !== 200) await c.pushBlob('load/churn', reusable);
            const img = await c.pushImage('load/churn', `k${k}-${i}`);
            const m = JSON.parse(img.bytes.toString());
            m.layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: reusableDigest, size: reusable.length });
            await c.pushManifest('load/churn', `r${k}-${i}`, m, OCI_MANIFEST);
            pushed.push({ name: 'load/churn', tag: `r${k}-${i}` });
            await c.pushImage(name, `t${i}`);
            pushed.push({ name, tag: `t${i}` });
            if (i % 2 === 1) await c.req('DELETE', `/v2/load/churn/manifests/k${k}-${i}`);
          } catch (e) {
            errors.push(`pusher ${k}: ${(e as Error).message}`);
          }
        }
      };
      const puller = async (k: number) => {
        while (pushing) {
          try {
            await pullVerify(c, stable[k].name, 'v1');
          } catch (e) {
            errors.push(`puller ${k}: ${(e as Error).message}`);
          }
        }
      };
      let runs = 0;
      const collector = async () => {
        while (pushing) {
          await collectGarbage(r.registry, { gracePeriodMs: grace });
          runs++;
        }
      };
      const pushers = Promise.all([pusher(0), pusher(1)]).finally(() => (pushing = false));
      await Promise.all([pushers, puller(0), puller(1), puller(2), collector()]);
      assert.deepEqual(errors, []);
      assert.ok(runs >= 1, `GC ran ${runs} times`);
      assert.ok(pushed.length >= 12);

      await sleep(grace + 200);
      await collectGarbage(r.registry, { gracePeriodMs: grace });
      const reachable = new Set<string>();
      for (const name of await r.registry.repositories()) {
        for (const tag of await r.registry.tags.list(name).catch(() => [] as string[])) {
          for (const d of await pullVerify(c, name, tag)) reachable.add(d);
        }
      }
      for (const p of pushed) assert.ok(reachable.has((await r.registry.tags.resolve(p.name, p.tag).catch(() => 'gone')) as Digest), `${p.name}:${p.tag}`);
      const left = await stored(r);
      assert.deepEqual([...left].sort(), [...reachable].sort(), 'exactly the reachable blobs remain');
      for (const d of garbageBlobs) assert.ok(!left.has(d));
    } finally {
      await r.stop();
    }
  });
});
