import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, errorCodes, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, sha256, withQuery, DOCKER_LIST, DOCKER_MANIFEST } from '../helpers/client.js';

export interface Target {
  base: string;
  stop(): Promise<void>;
}

/**
 * Tests written from the distribution spec's text (spec.md), grouped as the
 * spec groups its requirements. `differences` names tests a target is known
 * to fail, with why: they run as `todo`, so the report lists them without
 * failing the run.
 */
export function registryConformance(target: string, start: () => Promise<Target>, differences: Record<string, string> = {}): void {
  let t: Target;
  let c: Client;
  const repo = () => `conformance/${randomBytes(4).toString('hex')}`;
  const test = (title: string, fn: () => Promise<void>) => it(title, { todo: differences[title] }, fn);

  describe(`distribution spec conformance: ${target}`, () => {
    before(async () => {
      t = await start();
      c = new Client(t.base);
    });
    after(() => t?.stop());

    it('GET /v2/ answers 200', async () => {
      assert.equal((await c.req('GET', '/v2/')).status, 200);
    });

    describe('pull', () => {
      test('manifests by tag and by digest: 200, the pushed bytes, Content-Type and Docker-Content-Digest', async () => {
        const img = await c.pushImage(repo(), 'v1');
        for (const ref of [img.tag, img.digest]) {
          const r = await c.req('GET', `/v2/${img.name}/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } });
          assert.equal(r.status, 200);
          assert.ok(r.body.equals(img.bytes));
          assert.equal(r.headers.get('content-type'), OCI_MANIFEST);
          assert.equal(r.headers.get('docker-content-digest'), img.digest);
        }
      });

      test('HEAD of a manifest: 200 with Content-Length and Docker-Content-Digest, no body', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const r = await c.req('HEAD', `/v2/${img.name}/manifests/${img.tag}`, { headers: { Accept: OCI_MANIFEST } });
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('content-length'), String(img.size));
        assert.equal(r.headers.get('docker-content-digest'), img.digest);
        assert.equal(r.body.length, 0);
      });

      test('missing manifests and repositories answer 404', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const r = await c.req('GET', `/v2/${img.name}/manifests/nope`, { headers: { Accept: OCI_MANIFEST } });
        assert.equal(r.status, 404);
        assert.deepEqual(errorCodes(r), ['MANIFEST_UNKNOWN']);
        assert.equal((await c.req('GET', `/v2/${img.name}/manifests/${sha256('x')}`, { headers: { Accept: OCI_MANIFEST } })).status, 404);
        assert.equal((await c.req('GET', `/v2/${repo()}/manifests/latest`)).status, 404);
        assert.equal((await c.req('HEAD', `/v2/${img.name}/manifests/nope`)).status, 404);
      });

      test('blobs: GET gives the bytes with Docker-Content-Digest, HEAD gives Content-Length, missing is 404', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const g = await c.req('GET', `/v2/${img.name}/blobs/${img.layerDigests[0]}`);
        assert.equal(g.status, 200);
        assert.ok(g.body.equals(img.layers[0]));
        assert.equal(g.headers.get('docker-content-digest'), img.layerDigests[0]);
        const h = await c.req('HEAD', `/v2/${img.name}/blobs/${img.configDigest}`);
        assert.equal(h.status, 200);
        assert.equal(h.headers.get('content-length'), String(img.config.length));
        assert.equal(h.headers.get('docker-content-digest'), img.configDigest);
        const m = await c.req('GET', `/v2/${img.name}/blobs/${sha256('missing')}`);
        assert.equal(m.status, 404);
        assert.deepEqual(errorCodes(m), ['BLOB_UNKNOWN']);
        assert.equal((await c.req('HEAD', `/v2/${img.name}/blobs/${sha256('missing')}`)).status, 404);
      });

      test('blob Range requests answer 206 with Content-Range; unsatisfiable ranges 416', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const d = img.layerDigests[0];
        const r = await c.req('GET', `/v2/${img.name}/blobs/${d}`, { headers: { Range: 'bytes=10-19' } });
        assert.equal(r.status, 206);
        assert.ok(r.body.equals(img.layers[0].subarray(10, 20)));
        assert.equal(r.headers.get('content-range'), `bytes 10-19/${img.layers[0].length}`);
        const tail = await c.req('GET', `/v2/${img.name}/blobs/${d}`, { headers: { Range: 'bytes=-5' } });
        assert.equal(tail.status, 206);
        assert.ok(tail.body.equals(img.layers[0].subarray(-5)));
        const open = await c.req('GET', `/v2/${img.name}/blobs/${d}`, { headers: { Range: 'bytes=2000-' } });
        assert.equal(open.status, 206);
        assert.ok(open.body.equals(img.layers[0].subarray(2000)));
        assert.equal((await c.req('GET', `/v2/${img.name}/blobs/${d}`, { headers: { Range: 'bytes=99999-' } })).status, 416);
      });

      test('a blob pushed to one repository is not readable through another', async () => {
        const img = await c.pushImage(repo(), 'v1');
        assert.equal((await c.req('GET', `/v2/${repo()}/blobs/${img.layerDigests[0]}`)).status, 404);
      });
    });

    describe('push', () => {
      test('POST then PUT: 202 with a Location, then 201 with a pullable Location', async () => {
        const name = repo();
        const data = randomBytes(5000);
        const post = await c.req('POST', `/v2/${name}/blobs/uploads/`);
        assert.equal(post.status, 202);
        const loc = post.headers.get('location');
        assert.ok(loc);
        const put = await c.req('PUT', withQuery(loc, `digest=${sha256(data)}`), { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
        assert.equal(put.status, 201);
        const blobLoc = put.headers.get('location')!;
        const g = await c.req('GET', new URL(blobLoc, t.base).href);
        assert.ok(g.body.equals(data));
      });

      test('a single POST with ?digest= stores the blob: 201 and a Location', async () => {
        const name = repo();
        const data = randomBytes(3000);
        const r = await c.req('POST', `/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
        assert.equal(r.status, 201);
        assert.ok(r.headers.get('location'));
        assert.ok((await c.req('GET', `/v2/${name}/blobs/${sha256(data)}`)).body.equals(data));
      });

      test('chunked: PATCH chunks in order with Content-Range, GET status, final chunk in the PUT', async () => {
        const name = repo();
        const data = randomBytes(30_000);
        const post = await c.req('POST', `/v2/${name}/blobs/uploads/`, { headers: { 'Content-Length': '0' } });
        assert.equal(post.status, 202);
        let loc = post.headers.get('location')!;
        const chunks = [data.subarray(0, 10_000), data.subarray(10_000, 20_000)];
        let offset = 0;
        for (const ch of chunks) {
          const p = await c.req('PATCH', loc, {
            body: ch,
            headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + ch.length - 1}`, 'Content-Length': String(ch.length) },
          });
          assert.equal(p.status, 202);
          offset += ch.length;
          assert.equal(p.headers.get('range'), `0-${offset - 1}`);
          loc = p.headers.get('location')!;
        }
        const s = await c.req('GET', loc);
        assert.equal(s.status, 204);
        assert.equal(s.headers.get('range'), `0-${offset - 1}`);
        loc = s.headers.get('location') ?? loc;
        const last = data.subarray(20_000);
        const put = await c.req('PUT', withQuery(loc, `digest=${sha256(data)}`), {
          body: last,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `20000-${data.length - 1}`, 'Content-Length': String(last.length) },
        });
        assert.equal(put.status, 201);
        assert.ok((await c.req('GET', `/v2/${name}/blobs/${sha256(data)}`)).body.equals(data));
      });

      test('a chunk out of order answers 416', async () => {
        const name = repo();
        const post = await c.req('POST', `/v2/${name}/blobs/uploads/`, { headers: { 'Content-Length': '0' } });
        const loc = post.headers.get('location')!;
        const first = await c.req('PATCH', loc, { body: Buffer.alloc(100, 1), headers: { 'Content-Range': '0-99', 'Content-Type': 'application/octet-stream' } });
        assert.equal(first.status, 202);
        const skip = await c.req('PATCH', first.headers.get('location')!, { body: Buffer.alloc(100, 2), headers: { 'Content-Range': '200-299', 'Content-Type': 'application/octet-stream' } });
        assert.equal(skip.status, 416);
      });

      test('a PUT whose digest does not match the content answers 400 DIGEST_INVALID', async () => {
        const name = repo();
        const post = await c.req('POST', `/v2/${name}/blobs/uploads/`);
        const r = await c.req('PUT', withQuery(post.headers.get('location')!, `digest=${sha256('other')}`), { body: Buffer.from('content'), headers: { 'Content-Type': 'application/octet-stream' } });
        assert.equal(r.status, 400);
        assert.deepEqual(errorCodes(r), ['DIGEST_INVALID']);
      });

      test('an invalid digest parameter answers 400', async () => {
        const name = repo();
        const post = await c.req('POST', `/v2/${name}/blobs/uploads/`);
        const r = await c.req('PUT', withQuery(post.headers.get('location')!, 'digest=sha256:nothex'), { body: Buffer.from('x'), headers: { 'Content-Type': 'application/octet-stream' } });
        assert.equal(r.status, 400);
      });

      test('DELETE of an upload cancels it: 204, then its status is 404', async () => {
        const name = repo();
        const post = await c.req('POST', `/v2/${name}/blobs/uploads/`);
        const loc = post.headers.get('location')!;
        assert.equal((await c.req('DELETE', loc)).status, 204);
        const s = await c.req('GET', loc);
        assert.equal(s.status, 404);
        assert.deepEqual(errorCodes(s), ['BLOB_UPLOAD_UNKNOWN']);
      });

      test('mount from another repository: 201 when it has the blob, 202 (an upload) when not', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const dest = repo();
        const d = img.layerDigests[0];
        const m = await c.req('POST', `/v2/${dest}/blobs/uploads/?mount=${d}&from=${img.name}`);
        assert.equal(m.status, 201);
        assert.ok(m.headers.get('location'));
        assert.ok((await c.req('GET', `/v2/${dest}/blobs/${d}`)).body.equals(img.layers[0]));
        const miss = await c.req('POST', `/v2/${dest}/blobs/uploads/?mount=${sha256('nothing')}&from=${img.name}`);
        assert.equal(miss.status, 202);
        assert.ok(miss.headers.get('location'));
      });

      test('manifests are stored byte for byte; 201 with Location and the Docker-Content-Digest of the bytes', async () => {
        const name = repo();
        const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
        const cd = await c.pushBlob(name, config);
        const text = `{\n  "schemaVersion": 2,\n  "mediaType": "${OCI_MANIFEST}",\n  "config": {"mediaType": "${OCI_CONFIG}", "digest": "${cd}", "size": ${config.length}},\n  "layers": []\n}\n`;
        const { digest, res } = await c.pushManifest(name, 'exact', text, OCI_MANIFEST);
        assert.ok(res.headers.get('location'));
        assert.equal(res.headers.get('docker-content-digest'), digest);
        const g = await c.req('GET', `/v2/${name}/manifests/exact`, { headers: { Accept: OCI_MANIFEST } });
        assert.equal(g.body.toString(), text);
      });

      test('a manifest can be pushed by digest', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const other = JSON.parse(img.bytes.toString());
        other.annotations = { 'org.example': 'by-digest' };
        const bytes = Buffer.from(JSON.stringify(other));
        const r = await c.req('PUT', `/v2/${img.name}/manifests/${sha256(bytes)}`, { body: bytes, headers: { 'Content-Type': OCI_MANIFEST } });
        assert.equal(r.status, 201);
        assert.equal(r.headers.get('docker-content-digest'), sha256(bytes));
        assert.equal((await c.req('GET', `/v2/${img.name}/manifests/${sha256(bytes)}`, { headers: { Accept: OCI_MANIFEST } })).status, 200);
      });

      test('pushing by digest with ?tag= creates the tags and lists them in OCI-Tag', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const r = await c.req('PUT', `/v2/${img.name}/manifests/${img.digest}?tag=a&tag=b`, { body: img.bytes, headers: { 'Content-Type': OCI_MANIFEST } });
        assert.equal(r.status, 201);
        assert.deepEqual(r.headers.get('oci-tag')?.split(/,\s*/).sort(), ['a', 'b']);
        assert.equal((await c.req('GET', `/v2/${img.name}/manifests/b`, { headers: { Accept: OCI_MANIFEST } })).status, 200);
      });

      test('a manifest naming blobs the repository lacks is rejected with MANIFEST_BLOB_UNKNOWN', async () => {
        const name = repo();
        const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256('no-config'), size: 9 }, layers: [] };
        const r = await c.req('PUT', `/v2/${name}/manifests/v1`, { body: JSON.stringify(manifest), headers: { 'Content-Type': OCI_MANIFEST } });
        assert.equal(r.status, 400);
        assert.ok(errorCodes(r).includes('MANIFEST_BLOB_UNKNOWN'));
      });

      test('a manifest whose subject does not exist is accepted, with OCI-Subject', async () => {
        const name = repo();
        const config = Buffer.from('{}');
        const cd = await c.pushBlob(name, config);
        const subject = { mediaType: OCI_MANIFEST, digest: sha256('absent'), size: 123 };
        const m = { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: cd, size: 2 }, layers: [], subject };
        const { res } = await c.pushManifest(name, sha256(JSON.stringify(m)), m, OCI_MANIFEST);
        assert.equal(res.headers.get('oci-subject'), subject.digest);
      });

      test('a manifest over 4 MiB answers 413', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const big = JSON.parse(img.bytes.toString());
        big.annotations = { pad: 'x'.repeat(4 * 1024 * 1024 + 10) };
        const r = await c.req('PUT', `/v2/${img.name}/manifests/big`, { body: JSON.stringify(big), headers: { 'Content-Type': OCI_MANIFEST } });
        assert.equal(r.status, 413);
      });

      test('Docker schema 2 manifests and manifest lists, and OCI indexes, keep their media types', async () => {
        const name = repo();
        const d = await c.pushImage(name, 'docker', { docker: true });
        const o = await c.pushImage(name, 'oci');
        const list = { schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [{ mediaType: DOCKER_MANIFEST, digest: d.digest, size: d.size, platform: { architecture: 'amd64', os: 'linux' } }] };
        const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: o.digest, size: o.size, platform: { architecture: 'arm64', os: 'linux' } }] };
        await c.pushManifest(name, 'list', list, DOCKER_LIST);
        await c.pushManifest(name, 'index', index, OCI_INDEX);
        const accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(', ');
        for (const [tag, type] of [['docker', DOCKER_MANIFEST], ['oci', OCI_MANIFEST], ['list', DOCKER_LIST], ['index', OCI_INDEX]]) {
          const r = await c.req('GET', `/v2/${name}/manifests/${tag}`, { headers: { Accept: accept } });
          assert.equal(r.status, 200, tag);
          assert.equal(r.headers.get('content-type'), type, tag);
        }
      });

      test('an index naming a manifest the repository lacks is rejected', async () => {
        const name = repo();
        const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('none'), size: 10 }] };
        const r = await c.req('PUT', `/v2/${name}/manifests/idx`, { body: JSON.stringify(index), headers: { 'Content-Type': OCI_INDEX } });
        assert.equal(r.status, 400);
        assert.ok(errorCodes(r).includes('MANIFEST_BLOB_UNKNOWN'));
      });
    });

    describe('content discovery', () => {
      test('tags/list: all tags in lexical order with the repository name', async () => {
        const img = await c.pushImage(repo(), 'b');
        for (const tag of ['a', 'C', 'c', '1.0']) await c.pushManifest(img.name, tag, img.bytes.toString(), OCI_MANIFEST);
        const r = await c.req('GET', `/v2/${img.name}/tags/list`);
        assert.equal(r.status, 200);
        assert.deepEqual(r.json(), { name: img.name, tags: ['1.0', 'C', 'a', 'b', 'c'] });
      });

      test('tags/list?n= returns n tags with a Link rel="next"; last= continues after that tag', async () => {
        const img = await c.pushImage(repo(), 't1');
        for (const tag of ['t2', 't3', 't4', 't5']) await c.pushManifest(img.name, tag, img.bytes.toString(), OCI_MANIFEST);
        const p1 = await c.req('GET', `/v2/${img.name}/tags/list?n=2`);
        assert.deepEqual(p1.json<{ tags: string[] }>().tags, ['t1', 't2']);
        const link = p1.headers.get('link');
        assert.match(link ?? '', /rel="next"/);
        const next = /<([^>]+)>/.exec(link!)![1];
        const p2 = await c.req('GET', new URL(next, t.base).href);
        assert.deepEqual(p2.json<{ tags: string[] }>().tags, ['t3', 't4']);
        const p3 = await c.req('GET', `/v2/${img.name}/tags/list?n=5&last=t4`);
        assert.deepEqual(p3.json<{ tags: string[] }>().tags, ['t5']);
        assert.equal(p3.headers.get('link'), null);
        const p4 = await c.req('GET', `/v2/${img.name}/tags/list?last=t2`);
        assert.deepEqual(p4.json<{ tags: string[] }>().tags, ['t3', 't4', 't5']);
      });

      test('tags/list?n=0 returns an empty list and no Link', async () => {
        const img = await c.pushImage(repo(), 'x');
        const r = await c.req('GET', `/v2/${img.name}/tags/list?n=0`);
        assert.equal(r.status, 200);
        assert.deepEqual(r.json<{ tags: string[] | null }>().tags ?? [], []);
        assert.equal(r.headers.get('link'), null);
      });

      test('tags/list of an unknown repository answers 404', async () => {
        const r = await c.req('GET', `/v2/${repo()}/tags/list`);
        assert.equal(r.status, 404);
        assert.deepEqual(errorCodes(r), ['NAME_UNKNOWN']);
      });

      test('_catalog lists repositories, paginated with n and last', async () => {
        const a = await c.pushImage(repo(), 'x');
        const b = await c.pushImage(repo(), 'x');
        const all = (await c.req('GET', '/v2/_catalog')).json<{ repositories: string[] }>().repositories;
        assert.ok(all.includes(a.name) && all.includes(b.name));
        assert.deepEqual(all, [...all].sort());
        const p1 = await c.req('GET', '/v2/_catalog?n=1');
        assert.equal(p1.json<{ repositories: string[] }>().repositories.length, 1);
        assert.match(p1.headers.get('link') ?? '', /rel="next"/);
      });
    });

    describe('content management', () => {
      test('DELETE of a tag answers 202, then the tag is gone and the manifest stays', async () => {
        const img = await c.pushImage(repo(), 'v1');
        await c.pushManifest(img.name, 'v2', img.bytes.toString(), OCI_MANIFEST);
        assert.equal((await c.req('DELETE', `/v2/${img.name}/manifests/v1`)).status, 202);
        assert.equal((await c.req('GET', `/v2/${img.name}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } })).status, 404);
        assert.equal((await c.req('GET', `/v2/${img.name}/manifests/${img.digest}`, { headers: { Accept: OCI_MANIFEST } })).status, 200);
      });

      test('DELETE of a manifest by digest answers 202; the digest and its tags then 404', async () => {
        const img = await c.pushImage(repo(), 'v1');
        assert.equal((await c.req('DELETE', `/v2/${img.name}/manifests/${img.digest}`)).status, 202);
        assert.equal((await c.req('GET', `/v2/${img.name}/manifests/${img.digest}`, { headers: { Accept: OCI_MANIFEST } })).status, 404);
        assert.equal((await c.req('GET', `/v2/${img.name}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } })).status, 404);
      });

      test('DELETE of a missing manifest answers 404', async () => {
        const img = await c.pushImage(repo(), 'v1');
        assert.equal((await c.req('DELETE', `/v2/${img.name}/manifests/${sha256('nothing')}`)).status, 404);
      });

      test('DELETE of a blob answers 202, then the blob is 404; a missing blob is 404', async () => {
        const img = await c.pushImage(repo(), 'v1');
        assert.equal((await c.req('DELETE', `/v2/${img.name}/blobs/${img.layerDigests[0]}`)).status, 202);
        assert.equal((await c.req('GET', `/v2/${img.name}/blobs/${img.layerDigests[0]}`)).status, 404);
        assert.equal((await c.req('DELETE', `/v2/${img.name}/blobs/${sha256('none')}`)).status, 404);
      });
    });

    describe('referrers', () => {
      const artifact = async (name: string, subject: { digest: string; size: number }, artifactType?: string, annotations?: Record<string, string>) => {
        const empty = await c.pushBlob(name, Buffer.from('{}'));
        const layer = await c.pushBlob(name, Buffer.from(`sig ${randomBytes(4).toString('hex')}`));
        const m: Record<string, unknown> = {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: artifactType ? 'application/vnd.oci.empty.v1+json' : 'application/vnd.example.config+json', digest: empty, size: 2 },
          layers: [{ mediaType: OCI_LAYER, digest: layer, size: 12 }],
          subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
        };
        if (artifactType) m.artifactType = artifactType;
        if (annotations) m.annotations = annotations;
        const bytes = Buffer.from(JSON.stringify(m));
        await c.pushManifest(name, sha256(bytes), bytes.toString(), OCI_MANIFEST);
        return { digest: sha256(bytes), size: bytes.length };
      };

      test('lists manifests whose subject is the digest, with artifactType and annotations, as an OCI index', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const sbom = await artifact(img.name, img, 'application/vnd.example.sbom', { 'org.example.format': 'json' });
        const r = await c.req('GET', `/v2/${img.name}/referrers/${img.digest}`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('content-type'), OCI_INDEX);
        const idx = r.json<{ schemaVersion: number; mediaType: string; manifests: Record<string, unknown>[] }>();
        assert.equal(idx.schemaVersion, 2);
        assert.equal(idx.mediaType, OCI_INDEX);
        assert.deepEqual(idx.manifests, [
          { mediaType: OCI_MANIFEST, digest: sbom.digest, size: sbom.size, artifactType: 'application/vnd.example.sbom', annotations: { 'org.example.format': 'json' } },
        ]);
      });

      test('without an artifactType the config media type stands in', async () => {
        const img = await c.pushImage(repo(), 'v1');
        await artifact(img.name, img);
        const idx = (await c.req('GET', `/v2/${img.name}/referrers/${img.digest}`)).json<{ manifests: { artifactType?: string }[] }>();
        assert.equal(idx.manifests[0]?.artifactType, 'application/vnd.example.config+json');
      });

      test('the artifactType filter applies and says so in OCI-Filters-Applied', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const sig = await artifact(img.name, img, 'application/vnd.example.sig');
        await artifact(img.name, img, 'application/vnd.example.sbom');
        const r = await c.req('GET', `/v2/${img.name}/referrers/${img.digest}?artifactType=application/vnd.example.sig`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('oci-filters-applied'), 'artifactType');
        assert.deepEqual(r.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest), [sig.digest]);
      });

      test('no referrers is an empty index, not 404; a malformed digest is 400', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const r = await c.req('GET', `/v2/${img.name}/referrers/${img.digest}`);
        assert.equal(r.status, 200);
        assert.deepEqual(r.json<{ manifests: unknown[] }>().manifests, []);
        assert.equal((await c.req('GET', `/v2/${img.name}/referrers/sha256:zz`)).status, 400);
      });

      test('deleting a referrer removes it from the list', async () => {
        const img = await c.pushImage(repo(), 'v1');
        const a = await artifact(img.name, img, 'application/vnd.example.sig');
        assert.equal((await c.req('DELETE', `/v2/${img.name}/manifests/${a.digest}`)).status, 202);
        assert.deepEqual((await c.req('GET', `/v2/${img.name}/referrers/${img.digest}`)).json<{ manifests: unknown[] }>().manifests, []);
      });
    });
  });
}
