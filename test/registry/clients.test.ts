import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PrivateDocker } from '../helpers/dockerd.js';
import { run } from '../helpers/strata.js';
import { busyboxArchive, registryDigest, skopeoRoundTrip } from './helpers/skopeo.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';

describe('real clients against strata registry serve (filesystem driver)', () => {
  let work: string;
  let archive: string;
  let reg: ServeProcess;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'strata-regclients-'));
    archive = await busyboxArchive(work);
    reg = await startServe(['--storage', `filesystem:${join(work, 'storage')}`, '--log-level', 'warn']);
  });
  after(async () => {
    await reg?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('skopeo copy both ways, inspect, list-tags and delete keep digests identical', () => skopeoRoundTrip(reg.host, reg.base, archive, work));

  it('docker push and docker pull round-trip with identical digests', { skip: PrivateDocker.unavailable() }, async () => {
    const docker = await PrivateDocker.start();
    try {
      assert.equal((await docker.docker(['load', '-q', '-i', archive])).code, 0);
      const ref = `${reg.host}/docker/busybox:v1`;
      assert.equal((await docker.docker(['tag', 'busybox:latest', ref])).code, 0);
      const push = await docker.docker(['push', ref]);
      assert.equal(push.code, 0, push.stderr);
      const pushed = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
      assert.ok(pushed, push.stdout);
      assert.equal(await registryDigest(reg.base, 'docker/busybox', 'v1'), pushed);
      const id = (await docker.docker(['inspect', '-f', '{{.Id}}', ref])).stdout.trim();
      assert.equal((await docker.docker(['rmi', ref, 'busybox:latest'])).code, 0);
      const pull = await docker.docker(['pull', ref]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(pull.stdout, new RegExp(`Digest: ${pushed}`));
      assert.equal((await docker.docker(['inspect', '-f', '{{.Id}}', ref])).stdout.trim(), id);
      const viaSkopeo = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]);
      assert.equal(JSON.parse(viaSkopeo.stdout).Digest, pushed);
    } finally {
      await docker.stop();
    }
  });
});
