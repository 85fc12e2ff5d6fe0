import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DistributionService } from '../../src/engine/distribution.js';
import { Engine } from '../../src/engine/engine.js';
import { writeDockerArchive, writeLayerTar } from '../fixtures/image-archive.js';
import { run, TempRoot } from '../helpers/strata.js';
import { TestRegistry } from './helpers/registry.js';

const MiB = 1 << 20;

/** Relays to the registry, but cuts the second PATCH after 1 MiB of its body. */
async function flakyProxy(target: string): Promise<{ server: Server; host: string; cut: () => number }> {
  const [hostname, port] = target.split(':');
  let patches = 0;
  let cuts = 0;
  const server = createServer((req, res) => {
    const up = request({ hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    if (req.method === 'PATCH' && ++patches === 2) {
      let seen = 0;
      req.on('data', (c: Buffer) => {
        seen += c.length;
        if (seen > MiB && !up.destroyed) {
          cuts++;
          up.destroy();
          req.socket.destroy();
        }
      });
    }
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  return { server, host: `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, cut: () => cuts };
}

describe('chunked push', { skip: TestRegistry.unavailable() }, () => {
  let t: TempRoot;
  let reg: TestRegistry;
  let proxy: Awaited<ReturnType<typeof flakyProxy>>;

  before(async () => {
    t = await TempRoot.create();
    process.env.DOCKER_CONFIG = join(t.dir, 'docker-config');
    reg = await TestRegistry.start();
    proxy = await flakyProxy(reg.host);
  });

  after(async () => {
    proxy?.server.closeAllConnections();
    await new Promise((r) => proxy?.server.close(r));
    await reg?.stop();
    await t?.cleanup();
    delete process.env.DOCKER_CONFIG;
  });

  it('recovers a chunked upload after a dropped connection (from the registry offset, or anew when it cannot resume)', async () => {
    const l0 = await writeLayerTar(join(t.dir, 'l0.tar'), [{ name: 'big.bin', random: 12 * MiB }]);
    const name = `${proxy.host}/chunked/app:1`;
    const { imageId } = await writeDockerArchive(join(t.dir, 'img.tar'), [{ path: join(t.dir, 'l0.tar'), ...l0 }], { repoTags: [name] });
    const engine = await Engine.open({ root: t.root });
    const dist = new DistributionService(engine, { config: { registries: {}, certsDirs: [] } });
    try {
      await engine.images.load(createReadStream(join(t.dir, 'img.tar')));
      const [pushed] = await dist.push(name, { monolithicMax: MiB, chunkSize: 4 * MiB });
      assert.equal(proxy.cut(), 1, 'the proxy cut one PATCH');
      const inspect = await run('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${reg.host}/chunked/app:1`]);
      assert.equal(inspect.stdout.trim(), pushed.digest);
      const config = await run('skopeo', ['inspect', '--tls-verify=false', '--config', '--raw', `docker://${reg.host}/chunked/app:1`]);
      assert.equal(`sha256:${createHash('sha256').update(config.stdout).digest('hex')}`, imageId);
    } finally {
      dist.close();
      await engine.close();
    }
  });
});
