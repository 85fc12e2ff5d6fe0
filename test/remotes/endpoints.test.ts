import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DistributionService } from '../../src/engine/distribution.js';
import { Engine } from '../../src/engine/engine.js';
import { isStrataError } from '../../src/errors/errors.js';
import { writeLayerTar } from '../fixtures/image-archive.js';
import { TempRoot } from '../helpers/strata.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const BASIC = `Basic ${Buffer.from('carol:pw').toString('base64')}`;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

async function close(server: Server | undefined): Promise<void> {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
}

describe('endpoints: redirects to blob storage, mirrors, the default registry', () => {
  let t: TempRoot;
  let registry: Server;
  let storage: Server;
  let host: string;
  const storageSaw: IncomingHttpHeaders[] = [];

  before(async () => {
    t = await TempRoot.create();
    process.env.DOCKER_CONFIG = join(t.dir, 'docker-config');
    await writeLayerTar(join(t.dir, 'layer.tar'), [{ name: 'f', content: 'x' }]);
    const layer = readFileSync(join(t.dir, 'layer.tar'));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }],
    }));
    storage = createServer((req, res) => {
      storageSaw.push(req.headers);
      const blob = req.url?.includes(sha(layer).slice(7)) ? layer : config;
      res.writeHead(200, { 'content-length': blob.length }).end(blob);
    });
    const storageHost = await listen(storage);
    // The registry wants Basic credentials and sends blob downloads to the storage host.
    registry = createServer((req, res) => {
      if (req.headers.authorization !== BASIC) {
        return void res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
      }
      if (req.url === '/v2/') return void res.writeHead(200).end();
      if (req.url?.startsWith('/v2/app/manifests/')) {
        return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': manifest.length }).end(manifest);
      }
      const m = /^\/v2\/app\/blobs\/sha256:([0-9a-f]{64})$/.exec(req.url ?? '');
      if (m) return void res.writeHead(307, { location: `http://${storageHost}/signed/${m[1]}?sig=abc` }).end();
      res.writeHead(404).end();
    });
    host = await listen(registry);
  });

  after(async () => {
    await close(registry);
    await close(storage);
    await t.cleanup();
    delete process.env.DOCKER_CONFIG;
  });

  it('follows redirects to blob storage without sending it the Authorization header', async () => {
    const engine = await Engine.open({ root: join(t.dir, 'r1') });
    const dist = new DistributionService(engine, { config: { registries: {}, certsDirs: [] } });
    try {
      dist.remotes.useCredentials(host, { username: 'carol', password: 'pw' });
      const [pulled] = await dist.pull(`${host}/app:1`);
      assert.equal(engine.images.resolve(`${host}/app:1`).id, pulled.image.id);
      assert.ok(storageSaw.length >= 2, 'config and layer came from storage');
      assert.ok(storageSaw.every((h) => h.authorization === undefined), 'no Authorization went to the storage host');
    } finally {
      dist.close();
      await engine.close();
    }
  });

  it('pulls through a mirror when the registry itself is unreachable', async () => {
    const engine = await Engine.open({ root: join(t.dir, 'r2') });
    const dist = new DistributionService(engine, { config: { registries: { 'origin.invalid:5000': { mirrors: [`http://${host}`] } }, certsDirs: [] } });
    try {
      dist.remotes.useCredentials(host, { username: 'carol', password: 'pw' });
      const [pulled] = await dist.pull('origin.invalid:5000/app:1');
      assert.equal(pulled.reference, 'origin.invalid:5000/app:1');
      assert.equal(engine.images.resolve('origin.invalid:5000/app:1').id, pulled.image.id);
    } finally {
      dist.close();
      await engine.close();
    }
  });

  it('says plainly that an unreachable default registry is the default one', async () => {
    const engine = await Engine.open({ root: join(t.dir, 'r3') });
    const dist = new DistributionService(engine, { config: { defaultRegistry: '127.0.0.1:9', registries: {}, certsDirs: [] } });
    try {
      await assert.rejects(dist.pull('busybox'), (e) => {
        assert.ok(isStrataError(e, 'Unavailable'));
        assert.match(e.message, /cannot reach registry 127\.0\.0\.1:9: .*ECONNREFUSED/);
        assert.match(e.message, /default registry for names without a registry host/);
        assert.match(e.message, /STRATA_DEFAULT_REGISTRY/);
        return true;
      });
    } finally {
      dist.close();
      await engine.close();
    }
  });
});
