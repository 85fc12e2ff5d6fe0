import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, errorCodes, OCI_MANIFEST, sha256 } from './helpers/client.js';
import { startStrata, type InProcessRegistry } from './helpers/strata-registry.js';

/** Sends the path exactly as written (fetch would normalise `..`). */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await walk(p)));
  }
  return out;
}

describe('hostile requests get 4xx and write nothing outside the storage root', () => {
  let r: InProcessRegistry;
  let c: Client;
  before(async () => {
    r = await startStrata('filesystem');
    c = new Client(r.base);
  });
  after(() => r.stop());

  it('names with .., encoded dots, upper case or too long are NAME_INVALID', async () => {
    for (const path of [
      '/v2/a/../b/tags/list',
      '/v2/../../etc/tags/list',
      '/v2/%2e%2e/x/tags/list',
      '/v2/a/%2E%2E/%2E%2E/x/blobs/uploads/',
      '/v2/a%2f..%2fb/manifests/latest',
      '/v2/Upper/tags/list',
      '/v2/a/_layers/b/tags/list',
      `/v2/${'a'.repeat(256)}/tags/list`,
    ]) {
      const res = await raw(r.base, 'GET', path);
      assert.equal(res.status, 400, path);
      assert.match(res.body, /NAME_INVALID/, path);
    }
    const post = await raw(r.base, 'POST', '/v2/x/../../../../tmp/evil/blobs/uploads/', { 'Content-Length': '0' });
    assert.equal(post.status, 400);
  });

  it('bad digests, tags and upload ids are 4xx', async () => {
    for (const d of ['sha256:zz', 'sha256:' + 'a'.repeat(63), 'md5:' + 'a'.repeat(32), '..', 'sha256:..%2f..']) {
      const res = await c.req('GET', `/v2/ok/blobs/${d}`);
      assert.ok(res.status >= 400 && res.status < 500, `${d}: ${res.status}`);
    }
    assert.deepEqual(errorCodes(await c.req('GET', '/v2/ok/blobs/sha256:zz')), ['DIGEST_INVALID']);
    assert.equal((await c.req('GET', `/v2/ok/manifests/${'t'.repeat(129)}`)).status, 400);
    assert.equal((await c.req('GET', '/v2/ok/manifests/-bad')).status, 400);
    for (const id of ['..', 'not-a-uuid', '%2e%2e']) {
      const res = await raw(r.base, 'PATCH', `/v2/ok/blobs/uploads/${id}`, { 'Content-Length': '1' }, 'x');
      assert.equal(res.status, 404, id);
    }
    const post = await c.req('POST', '/v2/ok/blobs/uploads/');
    const loc = post.headers.get('location')!;
    const forged = loc.replace(/_state=[^&]+/, '_state=eyJuYW1lIjoiZXZpbCJ9.AAAA');
    assert.deepEqual(errorCodes(await c.req('PATCH', forged, { body: 'x' })), ['BLOB_UPLOAD_INVALID']);
    assert.equal((await c.req('PUT', loc + '&digest=sha256:nothex', { body: 'x' })).status, 400);
  });

  it('malformed ranges are 416, both on blob GET and upload PATCH', async () => {
    const img = await c.pushImage('ok/app', 'v1');
    for (const range of ['bytes=abc', 'bytes=5-2', 'items=0-1', 'bytes=-0', 'bytes=999999-']) {
      const res = await c.req('GET', `/v2/ok/app/blobs/${img.layerDigests[0]}`, { headers: { Range: range } });
      assert.equal(res.status, 416, range);
      assert.equal(res.headers.get('content-range'), `bytes */${img.layers[0].length}`);
    }
    const post = await c.req('POST', '/v2/ok/app/blobs/uploads/');
    for (const cr of ['abc', '10-5', '0-', '-5']) {
      const res = await c.req('PATCH', post.headers.get('location')!, { body: 'hello', headers: { 'Content-Range': cr } });
      assert.equal(res.status, 416, cr);
    }
  });

  it('oversized, non-JSON and schema 1 manifests are rejected', async () => {
    const big = await c.req('PUT', '/v2/ok/app/manifests/big', { body: 'x'.repeat(4 * 1024 * 1024 + 1), headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(big.status, 413);
    for (const body of ['not json', '[]', '{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}', `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":{"digest":"sha256:zz","size":1,"mediaType":"x"}}`]) {
      const res = await c.req('PUT', '/v2/ok/app/manifests/bad', { body, headers: { 'Content-Type': OCI_MANIFEST } });
      assert.equal(res.status, 400, body);
      assert.deepEqual(errorCodes(res), ['MANIFEST_INVALID'], body);
    }
    const mismatch = await c.req('PUT', `/v2/ok/app/manifests/${sha256('other')}`, { body: '{}', headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(mismatch.status, 400);
  });

  it('left every file under the storage root', async () => {
    const entries = await walk(r.dir);
    assert.ok(entries.length > 0);
    for (const e of entries) assert.ok(e.startsWith(join(r.dir, 'storage')), e);
    assert.ok(!entries.some((e) => /evil|etc/.test(e.slice(r.dir.length))), entries.join('\n'));
  });
});
