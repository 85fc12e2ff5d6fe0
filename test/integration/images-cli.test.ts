import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { writeDockerArchive, writeLayerTar } from '../fixtures/image-archive.js';
import { TempRoot } from '../helpers/strata.js';

describe('image commands on one data root', () => {
  let t: TempRoot;
  let rootfs: string;
  let imageId: string;

  before(async () => {
    t = await TempRoot.create();
    rootfs = join(t.dir, 'busybox.tar');
    await writeBusyboxRootfs(rootfs);
  });
  after(async () => t.cleanup());

  it('imports a rootfs tarball with --change and --message and prints the image ID', async () => {
    const r = await t.strata(['import', '--change', 'CMD ["sh"]', '-c', 'ENV FOO=bar', '-c', 'LABEL team=storage', '-m', 'from the host', rootfs, 'busybox:latest']);
    assert.equal(r.code, 0, r.stderr);
    imageId = r.stdout.trim();
    assert.match(imageId, /^sha256:[a-f0-9]{64}$/);
  });

  it('lists it with docker columns, quiet IDs, digests, no-trunc and formats', async () => {
    const r = await t.strata(['images']);
    assert.equal(r.code, 0, r.stderr);
    const [header, row] = r.stdout.trimEnd().split('\n');
    assert.match(header, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.match(row, new RegExp(`^busybox\\s+latest\\s+${imageId.slice(7, 19)}\\s+(Less than a second|About a minute|\\d+ seconds?) ago\\s+\\d+(\\.\\d+)?[kM]B$`));
    assert.equal((await t.strata(['images', '-q'])).stdout, `${imageId.slice(7, 19)}\n`);
    assert.equal((await t.strata(['images', '-q', '--no-trunc'])).stdout, `${imageId}\n`);
    assert.match((await t.strata(['images', '--digests'])).stdout.split('\n')[0], /DIGEST/);
    assert.equal((await t.strata(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, 'busybox:latest\n');
    const json = JSON.parse((await t.strata(['images', '--format', 'json'])).stdout);
    assert.equal(json.Repository, 'busybox');
    assert.equal(json.ID, imageId.slice(7, 19));
  });

  it('shows history with the import comment', async () => {
    const r = await t.strata(['history', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(lines[1], new RegExp(`^${imageId.slice(7, 19)}\\s+.* ago\\s+\\S+\\s+from the host$`));
    assert.equal((await t.strata(['history', '-q', 'busybox'])).stdout, `${imageId.slice(7, 19)}\n`);
  });

  it('inspects in Docker\'s JSON shape', async () => {
    const r = await t.strata(['inspect', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    const [img] = JSON.parse(r.stdout);
    assert.equal(img.Id, imageId);
    assert.deepEqual(img.RepoTags, ['busybox:latest']);
    assert.deepEqual(img.Config.Cmd, ['sh']);
    assert.deepEqual(img.Config.Env, ['FOO=bar']);
    assert.deepEqual(img.Config.Labels, { team: 'storage' });
    assert.equal(img.RootFS.Layers.length, 1);
    assert.equal(img.GraphDriver.Name, 'overlay');
    assert.ok(existsSync(img.GraphDriver.Data.UpperDir), 'UpperDir exists');
    assert.ok(existsSync(join(img.GraphDriver.Data.UpperDir, 'bin/busybox')));
    assert.equal((await t.strata(['inspect', '-f', '{{.Os}}/{{.Architecture}}', 'busybox'])).stdout, 'linux/amd64\n');
    const missing = await t.strata(['inspect', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such object: nope/);
  });

  it('tags, filters by reference and label, and untags before deleting', async () => {
    assert.equal((await t.strata(['tag', 'busybox', 'example.com:5000/team/bb:v1'])).code, 0);
    assert.equal((await t.strata(['images', '--filter', 'reference=example.com:5000/team/*', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, 'example.com:5000/team/bb:v1\n');
    assert.equal((await t.strata(['images', '-q', '--filter', 'label=team=storage'])).stdout, `${imageId.slice(7, 19)}\n`);
    assert.equal((await t.strata(['images', '-q', '--filter', 'label=team=other'])).stdout, '');
    const rm1 = await t.strata(['rmi', 'example.com:5000/team/bb:v1']);
    assert.equal(rm1.stdout, 'Untagged: example.com:5000/team/bb:v1\n');
    assert.equal((await t.strata(['images', '-q'])).stdout.trim(), imageId.slice(7, 19));
  });

  it('refuses an ID referenced in several repositories unless forced', async () => {
    await t.strata(['tag', 'busybox', 'other:1']);
    const r = await t.strata(['rmi', imageId.slice(7, 19)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /must be forced\) - image is referenced in multiple repositories/);
    await t.strata(['rmi', 'other:1']);
  });

  it('saves and loads back with tags kept', async () => {
    const archive = join(t.dir, 'saved.tar');
    assert.equal((await t.strata(['save', '-o', archive, 'busybox'])).code, 0);
    const [{ RootFS }] = JSON.parse((await t.strata(['inspect', 'busybox'])).stdout);
    const rm = await t.strata(['rmi', 'busybox']);
    // As Docker: the tag, the image, then each layer removed with it (by ChainID; one layer here).
    assert.equal(rm.stdout, `Untagged: busybox:latest\nDeleted: ${imageId}\nDeleted: ${RootFS.Layers[0]}\n`);
    assert.equal((await t.strata(['images', '-q'])).stdout, '');
    const load = await t.strata(['load', '-i', archive]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout, 'Loaded image: busybox:latest\n');
    assert.equal((await t.strata(['images', '-q', '--no-trunc'])).stdout, `${imageId}\n`);
  });

  it('loads an archive from stdin and reports untagged images by ID', async () => {
    const layer = join(t.dir, 'l.tar');
    const { diffId } = await writeLayerTar(layer, [{ name: 'hello.txt', content: 'hi\n' }]);
    const archive = join(t.dir, 'untagged.tar');
    const { imageId: id } = await writeDockerArchive(archive, [{ path: layer, diffId }]);
    const { readFile } = await import('node:fs/promises');
    const r = await t.strata(['load'], { input: await readFile(archive) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Loaded image ID: ${id}\n`);
    const dangling = await t.strata(['images', '--filter', 'dangling=true', '--format', '{{.Repository}} {{.Tag}} {{.ID}}']);
    assert.equal(dangling.stdout, `<none> <none> ${id.slice(7, 19)}\n`);
    const prune = await t.strata(['image', 'prune', '-f']);
    assert.match(prune.stdout, new RegExp(`Deleted: ${id}`));
    assert.match(prune.stdout, /Total reclaimed space: /);
  });

  it('saves several images in one archive and loads them back, gzip-compressed, from stdin', async () => {
    await t.strata(['import', rootfs, 'multi-a:1']);
    await t.strata(['import', '-c', 'CMD ["true"]', rootfs, 'multi-b:2']);
    await t.strata(['tag', 'multi-b:2', 'multi-b:latest']);
    const archive = join(t.dir, 'multi.tar');
    assert.equal((await t.strata(['save', '-o', archive, 'multi-a:1', 'multi-b'])).code, 0);
    const { gzipSync } = await import('node:zlib');
    const { readFile } = await import('node:fs/promises');
    const other = await TempRoot.create();
    try {
      const r = await other.strata(['load'], { input: gzipSync(await readFile(archive)) });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n').sort(), ['Loaded image: multi-a:1', 'Loaded image: multi-b:2', 'Loaded image: multi-b:latest']);
      const names = (await other.strata(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n').sort();
      assert.deepEqual(names, ['multi-a:1', 'multi-b:2', 'multi-b:latest']);
    } finally {
      await other.cleanup();
    }
  });

  it('imports from a URL and from stdin', async () => {
    const { createServer } = await import('node:http');
    const { createReadStream } = await import('node:fs');
    const server = createServer((_req, res) => createReadStream(rootfs).pipe(res)).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as { port: number };
      const r = await t.strata(['import', `http://127.0.0.1:${port}/busybox.tar`, 'from-url:1']);
      assert.equal(r.code, 0, r.stderr);
      assert.match((await t.strata(['history', '--format', '{{.Comment}}', 'from-url:1'])).stdout, new RegExp(`Imported from http://127.0.0.1:${port}/busybox.tar`));
    } finally {
      server.close();
    }
    const { readFile } = await import('node:fs/promises');
    const r = await t.strata(['import', '-', 'from-stdin:1'], { input: await readFile(rootfs) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await t.strata(['history', '--format', '{{.Comment}}', 'from-stdin:1'])).stdout, 'Imported from -\n');
    const missing = await t.strata(['import', join(t.dir, 'nope.tar')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot open .*nope\.tar/);
  });

  it('answers usage errors as the docker CLI does', async () => {
    const bad = await t.strata(['images', '--bogus']);
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, "unknown flag: --bogus\nSee 'strata images --help'.\n");
    const args = await t.strata(['tag', 'only-one']);
    assert.equal(args.code, 1);
    assert.match(args.stderr, /^"strata tag" requires exactly 2 arguments\.\nSee 'strata tag --help'\./);
    const missing = await t.strata(['history', 'nope:1']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: No such image: nope:1\n');
    const badRef = await t.strata(['tag', 'busybox', 'UPPER:case']);
    assert.equal(badRef.code, 1);
    assert.match(badRef.stderr, /invalid reference format/);
  });

  it('keeps the storage driver of a data root', async () => {
    const r = await t.strata(['--storage-driver', 'vfs', 'images']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /holds data of the "overlay" storage driver; it cannot be used with "vfs"/);
    const info = await t.strata(['info']);
    assert.match(info.stdout, /Storage Driver: overlay\n  Backing Filesystem: /);
    assert.match(info.stdout, new RegExp(`Docker Root Dir: ${t.root}`));
  });
});
