import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { PrivateDocker } from '../helpers/dockerd.js';
import { run, TempRoot } from '../helpers/strata.js';

const skip = PrivateDocker.unavailable();

describe('interoperability with Docker (Debian docker.io) and skopeo', { skip }, () => {
  let t: TempRoot;
  let docker: PrivateDocker;
  let dockerId: string;
  let dockerLayers: string[];

  before(async () => {
    t = await TempRoot.create();
    docker = await PrivateDocker.start();
    const rootfs = join(t.dir, 'busybox.tar');
    await writeBusyboxRootfs(rootfs);
    assert.equal((await docker.docker(['import', '-c', 'CMD ["sh"]', rootfs, 'interop-base:1'])).code, 0);
    const ctx = join(t.dir, 'ctx');
    await mkdir(join(ctx, 'dir/sub'), { recursive: true });
    await writeFile(join(ctx, 'dir/sub/hello.txt'), 'hello from docker\n');
    await writeFile(join(ctx, 'Dockerfile'), [
      'FROM interop-base:1',
      'COPY dir /data',
      'RUN mkdir -p /var/x && echo run > /var/x/out && ln -s /data/sub/hello.txt /link && rm /bin/vi',
      'ENV GREETING=hi',
      'CMD ["cat", "/data/sub/hello.txt"]',
      '',
    ].join('\n'));
    const build = await docker.docker(['build', '--network', 'none', '-q', '-t', 'interop:1', ctx]);
    assert.equal(build.code, 0, build.stderr);
    dockerId = (await docker.docker(['inspect', '-f', '{{.Id}}', 'interop:1'])).stdout.trim();
    dockerLayers = JSON.parse((await docker.docker(['inspect', '-f', '{{json .RootFS.Layers}}', 'interop:1'])).stdout);
  });

  after(async () => {
    await docker?.stop();
    await t?.cleanup();
  });

  it('loads `docker save` output with the same image ID and layers', async () => {
    const archive = join(t.dir, 'docker-saved.tar');
    assert.equal((await docker.docker(['save', '-o', archive, 'interop:1'])).code, 0);
    const load = await t.strata(['load', '-i', archive]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout, 'Loaded image: interop:1\n');
    const [img] = JSON.parse((await t.strata(['inspect', 'interop:1'])).stdout);
    assert.equal(img.Id, dockerId);
    assert.deepEqual(img.RootFS.Layers, dockerLayers);
    assert.deepEqual(img.Config.Cmd, ['cat', '/data/sub/hello.txt']);
    // Docker's history rows, in the same order, with the same CREATED BY lines.
    const ours = (await t.strata(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'interop:1'])).stdout;
    const theirs = (await docker.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'interop:1'])).stdout;
    assert.equal(ours, theirs);
    // The unpacked top layer holds what the RUN step wrote, and the deletion as an overlay whiteout.
    const upper = img.GraphDriver.Data.UpperDir;
    const { lstatSync, readFileSync } = await import('node:fs');
    assert.equal(readFileSync(join(upper, 'var/x/out'), 'utf8'), 'run\n');
    const wh = lstatSync(join(upper, 'bin/vi'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'bin/vi is a 0/0 whiteout device');
  });

  it('saves an archive that Docker loads with the same ID and runs', async () => {
    const archive = join(t.dir, 'strata-saved.tar');
    assert.equal((await t.strata(['save', '-o', archive, 'interop:1'])).code, 0);
    assert.equal((await docker.docker(['rmi', 'interop:1'])).code, 0);
    const load = await docker.docker(['load', '-i', archive]);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: interop:1/);
    assert.equal((await docker.docker(['inspect', '-f', '{{.Id}}', 'interop:1'])).stdout.trim(), dockerId);
    const ran = await docker.docker(['run', '--rm', '--network', 'none', 'interop:1']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, 'hello from docker\n');
  });

  it('loads an OCI archive written by skopeo copy docker-daemon: oci-archive:', async () => {
    const archive = join(t.dir, 'skopeo.tar');
    const copy = await run('skopeo', [
      'copy', '--src-daemon-host', `unix://${docker.socket}`,
      'docker-daemon:interop:1', `oci-archive:${archive}:interop-oci:2`,
    ]);
    assert.equal(copy.code, 0, copy.stderr);
    const other = await TempRoot.create();
    try {
      const load = await other.strata(['load', '-i', archive]);
      assert.equal(load.code, 0, load.stderr);
      // skopeo rewrites Docker's config as an OCI config, so the ID is that config's digest.
      const raw = await run('skopeo', ['inspect', '--raw', `oci-archive:${archive}:interop-oci:2`]);
      assert.equal(raw.code, 0, raw.stderr);
      const id = (await other.strata(['images', '-q', '--no-trunc'])).stdout.trim();
      assert.equal(id, JSON.parse(raw.stdout).config.digest);
      const [img] = JSON.parse((await other.strata(['inspect', id])).stdout);
      assert.deepEqual(img.RootFS.Layers, dockerLayers);
    } finally {
      await other.cleanup();
    }
  });
});
