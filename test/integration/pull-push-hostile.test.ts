import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DistributionService } from '../../src/engine/distribution.js';
import { Engine } from '../../src/engine/engine.js';
import { isStrataError } from '../../src/errors/errors.js';
import { writeLayerTar } from '../fixtures/image-archive.js';
import { TempRoot } from '../helpers/strata.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * A registry that misbehaves on purpose, one repository per misdeed, plus
 * "good" which serves the same image correctly.
 */
async function hostileRegistry(layer: Buffer): Promise<{ server: Server; host: string }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
  const manifest = (layerDigest = sha(layer)) =>
    Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: layerDigest, size: layer.length }],
    }));
  const server = createServer((req, res) => {
    const m = /^\/v2\/([a-z]+)\/(manifests|blobs)\/(.+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (req.url === '/v2/') return void res.writeHead(200).end('{}');
    if (!m) return void res.writeHead(404).end();
    const [, repo, kind, ref] = m;
    if (kind === 'manifests') {
      const body = repo === 'bigmanifest' ? Buffer.alloc(5 << 20, ' ') : repo === 'missing' ? manifest(sha('nothing here')) : manifest();
      return void res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json', 'content-length': body.length }).end(body);
    }
    if (ref === sha(config)) return void res.writeHead(200, { 'content-length': config.length }).end(config);
    if (repo === 'missing' || ref !== sha(layer)) {
      return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
    }
    if (repo === 'redirect') return void res.writeHead(307, { location: `/v2/redirect/blobs/${ref}?hop=${Date.now()}${Math.random()}` }).end();
    if (repo === 'wrongdigest') {
      const bad = Buffer.from(layer);
      bad[bad.length - 2000] ^= 0xff;
      return void res.writeHead(200, { 'content-length': bad.length }).end(bad);
    }
    if (repo === 'truncated') {
      res.writeHead(200, { 'content-length': layer.length });
      res.write(layer.subarray(0, layer.length >> 1));
      return void setTimeout(() => res.destroy(), 20);
    }
    res.writeHead(200, { 'content-length': layer.length }).end(layer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  return { server, host: `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` };
}

describe('pulling from a hostile registry', () => {
  let t: TempRoot;
  let engine: Engine;
  let dist: DistributionService;
  let server: Server;
  let host: string;

  before(async () => {
    t = await TempRoot.create();
    process.env.DOCKER_CONFIG = join(t.dir, 'docker-config');
    await writeLayerTar(join(t.dir, 'layer.tar'), [{ name: 'f.bin', random: 300_000 }, { name: 'etc/', type: 'directory' }]);
    ({ server, host } = await hostileRegistry(readFileSync(join(t.dir, 'layer.tar'))));
    engine = await Engine.open({ root: t.root });
    dist = new DistributionService(engine, { config: { registries: {}, certsDirs: [] } });
  });

  after(async () => {
    try {
      dist?.close();
      await engine?.close();
      server?.closeAllConnections();
      await new Promise((r) => server?.close(r));
    } finally {
      await t?.cleanup();
      delete process.env.DOCKER_CONFIG;
    }
  });

  async function assertNothingVisible(): Promise<void> {
    assert.deepEqual(engine.images.list(), []);
    for await (const s of engine.snapshotter.walk()) assert.notEqual(s.kind, 'active', `snapshot ${s.key} was left behind`);
  }

  const cases: [string, RegExp, string][] = [
    ['wrongdigest', /digest sha256:[0-9a-f]{64}, expected sha256:/, 'STRATA_ERR_DIGEST_MISMATCH'],
    ['truncated', /download stopped at \d+ of \d+ bytes/, 'STRATA_ERR_UNAVAILABLE'],
    ['bigmanifest', /manifest for .*bigmanifest:1 is \d+ bytes, more than the 4194304 allowed/, 'STRATA_ERR_INVALID_MANIFEST'],
    ['redirect', /redirects in a loop/, 'STRATA_ERR_UNAVAILABLE'],
    ['missing', /blob unknown/, 'STRATA_ERR_NOT_FOUND'],
  ];
  for (const [repo, message, code] of cases) {
    it(`${repo}: fails clearly and leaves nothing visible`, async () => {
      await assert.rejects(dist.pull(`${host}/${repo}:1`), (e) => {
        assert.ok(isStrataError(e), String(e));
        assert.match(e.message, message);
        assert.equal(e.code, code);
        return true;
      });
      await assertNothingVisible();
    });
  }

  it('then pulls the same image from a well-behaved repository', async () => {
    const [pulled] = await dist.pull(`${host}/good:1`);
    assert.equal(engine.images.resolve(`${host}/good:1`).id, pulled.image.id);
    assert.equal((await engine.snapshotter.stat(pulled.image.topLayer!)).kind, 'committed');
  });

  it('pulls onto the vfs driver too, where each layer is applied onto a copy of its parent', async () => {
    const vfs = await Engine.open({ root: join(t.dir, 'vfs-root'), storageDriver: 'vfs' });
    const d = new DistributionService(vfs, { config: { registries: {}, certsDirs: [] } });
    try {
      await assert.rejects(d.pull(`${host}/wrongdigest:1`), /expected sha256:/);
      for await (const s of vfs.snapshotter.walk()) assert.notEqual(s.kind, 'active');
      const [pulled] = await d.pull(`${host}/good:1`);
      assert.equal((await vfs.snapshotter.stat(pulled.image.topLayer!)).kind, 'committed');
    } finally {
      d.close();
      await vfs.close();
    }
  });
});
