import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Client, errorCodes, sha256, withQuery } from './helpers/client.js';
import { startStrata, type InProcessRegistry } from './helpers/strata-registry.js';

/** A PATCH with a chunked body (no Content-Length), as streaming clients send. */
function chunkedPatch(base: string, location: string, parts: Buffer[]): Promise<number> {
  const u = new URL(location, base);
  return new Promise((resolve) => {
    const req = request({ host: u.hostname, port: u.port, method: 'PATCH', path: u.pathname + u.search, headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(-1));
    for (const p of parts) req.write(p);
    req.end();
  });
}

describe('quotas per repository glob', () => {
  let r: InProcessRegistry;
  let c: Client;
  before(async () => {
    r = await startStrata('filesystem', { quotas: [{ repository: 'small/*', maxBytes: 10_000 }] });
    c = new Client(r.base);
  });
  after(() => r.stop());

  it('refuses a monolithic or chunked push that would exceed the quota before storing it', async () => {
    await c.pushBlob('small/a', randomBytes(6000));
    const big = randomBytes(6000);
    const mono = await c.req('POST', `/v2/small/a/blobs/uploads/?digest=${sha256(big)}`, { body: big, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(mono.status, 403);
    assert.deepEqual(errorCodes(mono), ['DENIED']);
    assert.equal((await r.registry.uploads.list('small/a')).length, 0, 'no upload was created');

    const post = await c.req('POST', '/v2/small/a/blobs/uploads/');
    const loc = post.headers.get('location')!;
    const patch = await c.req('PATCH', loc, { body: big, headers: { 'Content-Range': `0-${big.length - 1}` } });
    assert.equal(patch.status, 403);
    const status = await c.req('GET', loc);
    assert.equal(status.headers.get('range'), '0-0', 'nothing of the refused chunk was written');
    const put = await c.req('PUT', withQuery(loc, `digest=${sha256(big)}`), { body: big });
    assert.equal(put.status, 403);
    assert.equal((await c.req('HEAD', `/v2/small/a/blobs/${sha256(big)}`)).status, 404);
  });

  it('cuts a chunked body without Content-Length at the remaining quota', async () => {
    const post = await c.req('POST', '/v2/small/b/blobs/uploads/');
    const code = await chunkedPatch(r.base, post.headers.get('location')!, [randomBytes(6000), randomBytes(6000)]);
    assert.ok(code === 403 || code === -1, `status ${code}`);
    const [u] = await r.registry.uploads.list('small/b');
    assert.ok((await r.registry.uploads.status('small/b', u.id)).offset <= 10_000);
  });

  it('refuses a manifest or a mount that would pass the quota; other repositories are unaffected', async () => {
    const free = await c.pushImage('free/app', 'v1', { layerBytes: 5000 });
    const mount = await c.req('POST', `/v2/small/a/blobs/uploads/?mount=${free.layerDigests[0]}&from=free/app`);
    assert.equal(mount.status, 403);
    await c.pushImage('free/app', 'v2', { layerBytes: 20_000 });
    const cfg = await c.pushBlob('small/c', Buffer.from('{}'));
    const layer = await c.pushBlob('small/c', randomBytes(9000));
    const m = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: 2 }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: 9000 }], annotations: { pad: 'x'.repeat(1200) } };
    const res = await c.req('PUT', '/v2/small/c/manifests/v1', { body: JSON.stringify(m), headers: { 'Content-Type': m.mediaType } });
    assert.equal(res.status, 403);
    assert.equal((await c.req('DELETE', `/v2/small/c/blobs/${layer}`)).status, 202);
    assert.equal((await c.req('DELETE', `/v2/small/a/blobs/${(await r.registry.layers.list('small/a'))[0]}`)).status, 202);
    assert.equal(await r.registry.quotas.usage('small/a'), 0);
  });
});
