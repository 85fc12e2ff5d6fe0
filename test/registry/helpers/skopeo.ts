import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBusyboxRootfs } from '../../fixtures/busybox-rootfs.js';
import { writeDockerArchive } from '../../fixtures/image-archive.js';
import { run } from '../../helpers/strata.js';
import { Client } from './client.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** Writes a one-layer busybox image as a `docker save` archive. */
export async function busyboxArchive(dir: string): Promise<string> {
  const rootfs = join(dir, 'rootfs.tar');
  await writeBusyboxRootfs(rootfs);
  const archive = join(dir, 'busybox.tar');
  await writeDockerArchive(archive, [{ path: rootfs, diffId: sha(await readFile(rootfs)) }], { repoTags: ['busybox:latest'] });
  return archive;
}

export async function registryDigest(base: string, name: string, tag: string): Promise<string | null> {
  const r = await new Client(base).req('HEAD', `/v2/${name}/manifests/${tag}`, { headers: { Accept: ACCEPT } });
  return r.status === 200 ? r.headers.get('docker-content-digest') : null;
}

/** skopeo copy both ways (dir: keeps manifest bytes), inspect, list-tags and delete, against a registry at host. */
export async function skopeoRoundTrip(host: string, base: string, archive: string, work: string): Promise<void> {
  const tls = ['--dest-tls-verify=false'];
  const push = await run('skopeo', ['copy', '--quiet', ...tls, `docker-archive:${archive}`, `docker://${host}/lib/busybox:v1`]);
  assert.equal(push.code, 0, push.stderr);
  const digest = await registryDigest(base, 'lib/busybox', 'v1');
  assert.ok(digest);

  const inspect = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/lib/busybox:v1`]);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.equal(JSON.parse(inspect.stdout).Digest, digest);

  const pulled = join(work, 'pulled');
  const pull = await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${host}/lib/busybox:v1`, `dir:${pulled}`]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal(sha(await readFile(join(pulled, 'manifest.json'))), digest, 'pulled manifest bytes have the pushed digest');

  const again = await run('skopeo', ['copy', '--quiet', ...tls, `dir:${pulled}`, `docker://${host}/copy/busybox:v2`]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await registryDigest(base, 'copy/busybox', 'v2'), digest, 'pushing the pulled image back gives the same digest');

  const retag = await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', ...tls, `docker://${host}/lib/busybox:v1`, `docker://${host}/lib/busybox:v1.1`]);
  assert.equal(retag.code, 0, retag.stderr);
  const tags = await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${host}/lib/busybox`]);
  assert.equal(tags.code, 0, tags.stderr);
  assert.deepEqual(JSON.parse(tags.stdout).Tags, ['v1', 'v1.1']);

  const del = await run('skopeo', ['delete', '--tls-verify=false', `docker://${host}/copy/busybox:v2`]);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(await registryDigest(base, 'copy/busybox', 'v2'), null);
  assert.notEqual((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/copy/busybox:v2`])).code, 0);
}

