import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DistributionService } from '../../src/engine/distribution.js';
import { Engine } from '../../src/engine/engine.js';
import { writeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { writeDockerArchive, writeLayerTar } from '../fixtures/image-archive.js';
import { PrivateDocker } from '../helpers/dockerd.js';
import { run, TempRoot } from '../helpers/strata.js';
import { runDistributionCli } from '../remotes/helpers/cli.js';
import { TestRegistry } from '../remotes/helpers/registry.js';

const skip = PrivateDocker.unavailable() ?? TestRegistry.unavailable();
const NO_CONFIG = { registries: {}, certsDirs: [] };

describe('pull and push against docker-registry 2.8, with Docker and skopeo', { skip }, () => {
  let t: TempRoot;
  let reg: TestRegistry;
  let docker: PrivateDocker;
  let archive: string;
  let archiveId: string;

  before(async () => {
    t = await TempRoot.create();
    process.env.DOCKER_CONFIG = join(t.dir, 'docker-config');
    [reg, docker] = await Promise.all([TestRegistry.start(), PrivateDocker.start()]);
    const l0 = await writeLayerTar(join(t.dir, 'l0.tar'), [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/motd', content: 'from strata\n' },
      { name: 'data.bin', random: 3_000_000 },
    ]);
    const l1 = await writeLayerTar(join(t.dir, 'l1.tar'), [{ name: 'etc/motd', content: 'layer two\n' }, { name: '.wh.data.bin', content: '' }]);
    archive = join(t.dir, 'img.tar');
    ({ imageId: archiveId } = await writeDockerArchive(archive, [
      { path: join(t.dir, 'l0.tar'), ...l0 },
      { path: join(t.dir, 'l1.tar'), ...l1 },
    ], { repoTags: [`${reg.host}/strata/app:1`] }));
  });

  after(async () => {
    await Promise.all([reg?.stop(), docker?.stop()]);
    await t?.cleanup();
    delete process.env.DOCKER_CONFIG;
  });

  async function withEngine<T>(name: string, fn: (e: Engine, d: DistributionService) => Promise<T>): Promise<T> {
    const engine = await Engine.open({ root: join(t.dir, name) });
    const dist = new DistributionService(engine, { config: NO_CONFIG });
    try {
      return await fn(engine, dist);
    } finally {
      dist.close();
      await engine.close();
    }
  }

  it('pulls an image built and pushed by Docker with the same image ID and content', async () => {
    const rootfs = join(t.dir, 'busybox.tar');
    await writeBusyboxRootfs(rootfs);
    assert.equal((await docker.docker(['import', '-c', 'CMD ["sh"]', rootfs, 'base:1'])).code, 0);
    const ctx = join(t.dir, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'hello.txt'), 'hello from docker\n');
    await writeFile(join(ctx, 'Dockerfile'), 'FROM base:1\nCOPY hello.txt /hello.txt\nRUN rm /bin/vi\nCMD ["cat", "/hello.txt"]\n');
    const name = `${reg.host}/docker/built:1`;
    const build = await docker.docker(['build', '--network', 'none', '-q', '-t', name, ctx]);
    assert.equal(build.code, 0, build.stderr);
    const push = await docker.docker(['push', name]);
    assert.equal(push.code, 0, push.stderr);
    const dockerId = (await docker.docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
    const dockerDigest = (await docker.docker(['inspect', '-f', '{{index .RepoDigests 0}}', name])).stdout.trim();

    const root = join(t.dir, 'pull-docker');
    const cli = await runDistributionCli(root, ['pull', name]);
    assert.equal(cli.code, 0, cli.stderr);
    const lines = cli.stdout.trimEnd().split('\n');
    assert.equal(lines[0], '1: Pulling from docker/built');
    assert.ok(lines.some((l) => /^[0-9a-f]{12}: Pull complete$/.test(l)), cli.stdout);
    assert.equal(lines.at(-3), `Digest: ${dockerDigest.split('@')[1]}`);
    assert.equal(lines.at(-2), `Status: Downloaded newer image for ${name}`);
    assert.equal(lines.at(-1), name);
    await withEngine('pull-docker', async (engine) => {
      const img = engine.images.resolve(name);
      assert.equal(img.id, dockerId);
      assert.deepEqual(engine.images.repoDigestsOf(img.id), [dockerDigest]);
      const mounts = await engine.snapshotter.view('check', img.topLayer!);
      try {
        const lowers = mounts[0].options.find((o) => o.startsWith('lowerdir='))!.slice('lowerdir='.length).split(':');
        const copied = lowers.find((d) => existsSync(join(d, 'hello.txt')));
        assert.ok(copied, 'the COPY layer holds hello.txt');
        assert.equal(readFileSync(join(copied, 'hello.txt'), 'utf8'), 'hello from docker\n');
        assert.ok(lstatSync(join(lowers[0], 'bin/vi')).isCharacterDevice(), 'the RUN layer holds the whiteout of /bin/vi');
      } finally {
        await engine.snapshotter.remove('check');
      }
    });
    const again = await runDistributionCli(root, ['pull', name]);
    assert.match(again.stdout, /Already exists/);
    assert.match(again.stdout, new RegExp(`Status: Image is up to date for ${name.replace(/\./g, '\\.')}`));
  });

  it('pushes an image that docker pull and skopeo copy fetch with the same digest and ID', async () => {
    const name = `${reg.host}/strata/app:1`;
    const pushed = await withEngine('push', async (engine) => {
      await engine.images.load(createReadStream(archive));
      const cli = await runDistributionCli(join(t.dir, 'push'), ['push', name]);
      assert.equal(cli.code, 0, cli.stderr);
      return cli.stdout;
    });
    const lines = pushed.trimEnd().split('\n');
    assert.equal(lines[0], `The push refers to repository [${reg.host}/strata/app]`);
    assert.equal(lines.filter((l) => / Pushed$/.test(l)).length, 2, pushed);
    const m = /^1: digest: (sha256:[0-9a-f]{64}) size: (\d+)$/.exec(lines.at(-1)!);
    assert.ok(m, pushed);
    const digest = m[1];

    const pull = await docker.docker(['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, new RegExp(`Digest: ${digest}`));
    assert.equal((await docker.docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim(), archiveId);
    const dir = join(t.dir, 'skopeo-dir');
    const copy = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${name}`, `dir:${dir}`]);
    assert.equal(copy.code, 0, copy.stderr);
    const manifest = readFileSync(join(dir, 'manifest.json'));
    assert.equal(`sha256:${createHash('sha256').update(manifest).digest('hex')}`, digest);

    // Pushing again uploads nothing; another repository of the registry gets the blobs by mount.
    const again = await runDistributionCli(join(t.dir, 'push'), ['push', name]);
    assert.equal(again.stdout.match(/Layer already exists/g)?.length, 2, again.stdout);
    await withEngine('push', async (engine) => engine.images.tag(name, `${reg.host}/other/app:2`));
    const mounted = await runDistributionCli(join(t.dir, 'push'), ['push', `${reg.host}/other/app:2`]);
    assert.equal(mounted.stdout.match(/Mounted from strata\/app/g)?.length, 2, mounted.stdout);
  });

  it('round-trips through a fresh store: same ID, layers unpacked, repo digest recorded', async () => {
    const name = `${reg.host}/strata/app:1`;
    await withEngine('roundtrip', async (engine, dist) => {
      const [pulled] = await dist.pull(name);
      assert.equal(pulled.image.id, archiveId);
      assert.equal(pulled.updated, true);
      assert.equal(engine.images.resolve(`${reg.host}/strata/app@${pulled.digest}`).id, archiveId);
      const top = await engine.snapshotter.stat(pulled.image.topLayer!);
      assert.equal(top.kind, 'committed');
      assert.ok(existsSync(engine.content.blobPath(pulled.digest)), 'the manifest is kept in the content store');
      const inspected = (await dist.manifestInspect(name)) as { layers: unknown[] };
      assert.equal(inspected.layers.length, 2);
    });
  });

  it('copies between repositories without unpacking, keeping the digest', async () => {
    await withEngine('copy', async (engine, dist) => {
      const { digest } = await dist.copy(`docker://${reg.host}/strata/app:1`, `docker://${reg.host}/copied/app:1`);
      const theirs = await run('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${reg.host}/copied/app:1`]);
      assert.equal(theirs.stdout.trim(), digest);
      assert.equal(engine.images.list().length, 0, 'nothing was stored locally');
      const out = join(t.dir, 'copied.tar');
      await dist.copy(`docker://${reg.host}/copied/app:1`, `oci-archive:${out}`);
      const [loaded] = await engine.images.load(createReadStream(out));
      assert.equal(loaded.image.id, archiveId);
    });
  });
});
