import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RegistryServer } from '../../src/registry/server/app.js';
import { Logger } from '../../src/registry/server/log.js';
import { FilesystemDriver } from '../../src/registry/storage/driver/filesystem.js';
import { InMemoryDriver } from '../../src/registry/storage/driver/inmemory.js';
import { pathFor } from '../../src/registry/storage/paths.js';
import { referrersTag } from '../../src/registry/storage/referrers.js';
import { Registry } from '../../src/registry/storage/registry.js';
import { Client, OCI_INDEX, OCI_MANIFEST, sha256, withQuery } from './helpers/client.js';
import { startStrata } from './helpers/strata-registry.js';

describe('registry storage', () => {
  it('an upload survives a restart of the server: PATCH resumes at the stored offset and commit re-hashes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-regrestart-'));
    try {
      const data = randomBytes(200_000);
      const open = async () => {
        const reg = await Registry.open(new FilesystemDriver(join(dir, 'storage')));
        const server = new RegistryServer({ registry: reg, logger: new Logger('error') });
        const addr = await server.listen('127.0.0.1', 0);
        return { server, c: new Client(`http://127.0.0.1:${addr.port}`) };
      };
      const first = await open();
      const post = await first.c.req('POST', '/v2/r/app/blobs/uploads/');
      const p1 = await first.c.req('PATCH', post.headers.get('location')!, { body: data.subarray(0, 120_000), headers: { 'Content-Range': '0-119999' } });
      assert.equal(p1.status, 202);
      const loc = p1.headers.get('location')!;
      await first.server.close();

      const second = await open();
      const status = await second.c.req('GET', loc.replace(/^\//, '/'));
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), '0-119999');
      const p2 = await second.c.req('PATCH', loc, { body: data.subarray(120_000), headers: { 'Content-Range': `120000-${data.length - 1}` } });
      assert.equal(p2.status, 202);
      const put = await second.c.req('PUT', withQuery(p2.headers.get('location')!, `digest=${sha256(data)}`));
      assert.equal(put.status, 201);
      assert.ok((await second.c.req('GET', `/v2/r/app/blobs/${sha256(data)}`)).body.equals(data));
      await second.server.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stores blobs once, linked per repository, under distribution\'s layout', async () => {
    const driver = new InMemoryDriver();
    const r = await startStrata(async () => driver);
    try {
      const c = new Client(r.base);
      const img = await c.pushImage('one/app', 'v1');
      await c.req('POST', `/v2/two/app/blobs/uploads/?mount=${img.layerDigests[0]}&from=one/app`);
      const d = img.layerDigests[0] as `sha256:${string}`;
      assert.equal((await driver.list(pathFor({ kind: 'blobDir', digest: d }))).length, 1);
      assert.equal((await driver.getContent(`/docker/registry/v2/repositories/two/app/_layers/sha256/${d.slice(7)}/link`)).toString(), d);
      assert.equal((await driver.getContent(`/docker/registry/v2/repositories/one/app/_manifests/tags/v1/current/link`)).toString(), img.digest);
    } finally {
      await r.stop();
    }
  });

  it('lists referrers recorded only in a fallback-scheme tag index, if they name the subject', async () => {
    const driver = new InMemoryDriver();
    const r = await startStrata(async () => driver);
    try {
      const c = new Client(r.base);
      const img = await c.pushImage('fb/app', 'v1');
      const empty = await c.pushBlob('fb/app', Buffer.from('{}'));
      const sig = { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 }, layers: [], subject: { mediaType: OCI_MANIFEST, digest: img.digest, size: img.size } };
      const { digest: sigDigest, bytes } = await c.pushManifest('fb/app', sha256(JSON.stringify(sig)), sig, OCI_MANIFEST);
      // As if pushed before the referrers API existed: no referrer link, only the client-maintained tag.
      await driver.delete(pathFor({ kind: 'referrersOf', name: 'fb/app', subject: img.digest as `sha256:${string}` }));
      assert.deepEqual((await c.req('GET', `/v2/fb/app/referrers/${img.digest}`)).json<{ manifests: unknown[] }>().manifests, []);
      const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sigDigest, size: bytes.length, artifactType: 'application/vnd.example.sig' }, { mediaType: OCI_MANIFEST, digest: img.digest, size: img.size }] };
      await c.pushManifest('fb/app', referrersTag(img.digest), index, OCI_INDEX);
      const list = (await c.req('GET', `/v2/fb/app/referrers/${img.digest}`)).json<{ manifests: { digest: string }[] }>();
      assert.deepEqual(list.manifests.map((m) => m.digest), [sigDigest], 'the image itself has no subject and is left out');
    } finally {
      await r.stop();
    }
  });

  it('builds referrers tags as the spec\'s table shows', () => {
    assert.equal(referrersTag(`sha256:${'a'.repeat(64)}`), `sha256-${'a'.repeat(64)}`);
    assert.equal(referrersTag(`sha512:${'a'.repeat(128)}`), `sha512-${'a'.repeat(64)}`);
    assert.equal(
      referrersTag('test+algorithm+using+algorithm+separators+and+lots+of+characters+to+excercise+overall+truncation:alsoSome=InTheEncodedSectionToShowHyphenReplacementAndLotsAndLotsOfCharactersToExcerciseEncodedTruncation'),
      'test-algorithm-using-algorithm-s-alsoSome-InTheEncodedSectionToShowHyphenReplacementAndLotsAndLot',
    );
  });
});
