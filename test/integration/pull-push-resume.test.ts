import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DistributionService } from '../../src/engine/distribution.js';
import { Engine } from '../../src/engine/engine.js';
import { writeDockerArchive, writeLayerTar } from '../fixtures/image-archive.js';
import { TempRoot } from '../helpers/strata.js';
import { CountingProxy } from '../remotes/helpers/counting-proxy.js';
import { distChildArgs } from '../remotes/helpers/dist-child.js';
import { TestRegistry } from '../remotes/helpers/registry.js';

const MB = 1_000_000;

/** Bytes of regular files under a directory (the content store's blobs and ingests). */
async function bytesUnder(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && (e.name === 'data' || /^[0-9a-f]{64}$/.test(e.name))) n += (await stat(join(e.parentPath ?? e.path, e.name))).size;
  }
  return n;
}
const NO_CONFIG = { registries: {}, certsDirs: [] };

describe('SIGKILL in the middle of a 300 MB pull', { skip: TestRegistry.unavailable() }, () => {
  let t: TempRoot;
  let reg: TestRegistry;
  let proxy: CountingProxy;
  let total = 0;
  let imageId: string;

  before(async () => {
    t = await TempRoot.create();
    process.env.DOCKER_CONFIG = join(t.dir, 'docker-config');
    reg = await TestRegistry.start();
    proxy = await CountingProxy.start(reg.host);
    const layers = [];
    for (const [i, size] of [100, 100, 100].entries()) {
      const path = join(t.dir, `l${i}.tar`);
      layers.push({ path, ...(await writeLayerTar(path, [{ name: `big${i}.bin`, random: size * MB }])) });
      total += layers[i].size;
    }
    ({ imageId } = await writeDockerArchive(join(t.dir, 'img.tar'), layers, { repoTags: [`${reg.host}/big/app:1`] }));
    const engine = await Engine.open({ root: join(t.dir, 'src') });
    const dist = new DistributionService(engine, { config: NO_CONFIG });
    try {
      await engine.images.load(createReadStream(join(t.dir, 'img.tar')));
      await dist.push(`${reg.host}/big/app:1`);
    } finally {
      dist.close();
      await engine.close();
    }
  });

  after(async () => {
    await proxy?.stop();
    await reg?.stop();
    await t?.cleanup();
    delete process.env.DOCKER_CONFIG;
  });

  it('resumes with Range requests and transfers only the missing bytes', async () => {
    const name = `${proxy.host}/big/app:1`;
    const child = spawn(process.execPath, distChildArgs(t.root, 'pull', name), { stdio: 'ignore' });
    for (let i = 0; i < 3000 && proxy.bytes < total * 0.45 && child.exitCode === null; i++) await sleep(10);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    const first = proxy.bytes;
    assert.ok(first > total * 0.3 && first < total * 0.9, `killed after ${first} of ${total} bytes`);
    // Bytes in socket buffers at the kill are lost; what reached the disk must not move again.
    const onDisk = await bytesUnder(join(t.root, 'content'));
    assert.ok(onDisk > total * 0.2, `only ${onDisk} bytes reached the disk`);

    proxy.bytes = 0;
    const engine = await Engine.open({ root: t.root });
    const dist = new DistributionService(engine, { config: NO_CONFIG });
    try {
      assert.deepEqual(engine.images.list(), [], 'the killed pull left no image');
      const [pulled] = await dist.pull(name);
      assert.equal(pulled.image.id, imageId);
      // The killed process's half-extracted snapshot belongs to its dead lease: GC sweeps it, not the image.
      await engine.gc();
      for await (const s of engine.snapshotter.walk()) {
        if (s.kind === 'active') assert.fail(`active snapshot ${s.key} left after GC`);
      }
      assert.equal((await engine.snapshotter.stat(pulled.image.topLayer!)).kind, 'committed');
    } finally {
      dist.close();
      await engine.close();
    }
    const second = proxy.bytes;
    assert.ok(second <= total - onDisk + MB, `second pull moved ${second} bytes; ${total - onDisk} were missing`);
    assert.ok(second >= total - onDisk - MB, `second pull moved ${second} bytes; ${total - onDisk} were missing`);
  });

  it('lets two processes pull the same image at once, downloading each blob once', async () => {
    const root = join(t.dir, 'twice');
    proxy.bytes = 0;
    const name = `${proxy.host}/big/app:1`;
    const pulls = [0, 1].map(
      () =>
        new Promise<number>((done) => {
          const child = spawn(process.execPath, distChildArgs(root, 'pull', name), { stdio: 'ignore' });
          child.once('close', (code) => done(code ?? 1));
        }),
    );
    assert.deepEqual(await Promise.all(pulls), [0, 0]);
    assert.ok(proxy.bytes < total + 4 * MB, `moved ${proxy.bytes} bytes for a ${total}-byte image`);
    const engine = await Engine.open({ root });
    try {
      assert.equal(engine.images.resolve(name).id, imageId);
    } finally {
      await engine.close();
    }
  });
});
