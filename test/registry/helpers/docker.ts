import assert from 'node:assert/strict';
import type { PrivateDocker } from '../../helpers/dockerd.js';
import { run } from '../../helpers/strata.js';
import { registryDigest } from './skopeo.js';

/**
 * `docker push` then `docker pull` of the busybox archive: the digest docker
 * prints, the registry's and skopeo's agree, and the pulled image keeps its ID.
 */
export async function dockerRoundTrip(docker: PrivateDocker, host: string, base: string, archive: string): Promise<void> {
  assert.equal((await docker.docker(['load', '-q', '-i', archive])).code, 0);
  const ref = `${host}/docker/busybox:v1`;
  assert.equal((await docker.docker(['tag', 'busybox:latest', ref])).code, 0);
  const push = await docker.docker(['push', ref]);
  assert.equal(push.code, 0, push.stderr);
  const pushed = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
  assert.ok(pushed, push.stdout);
  assert.equal(await registryDigest(base, 'docker/busybox', 'v1'), pushed);
  const id = (await docker.docker(['inspect', '-f', '{{.Id}}', ref])).stdout.trim();
  assert.equal((await docker.docker(['rmi', ref, 'busybox:latest'])).code, 0);
  const pull = await docker.docker(['pull', ref]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, new RegExp(`Digest: ${pushed}`));
  assert.equal((await docker.docker(['inspect', '-f', '{{.Id}}', ref])).stdout.trim(), id);
  const repoDigests = (await docker.docker(['inspect', '-f', '{{json .RepoDigests}}', ref])).stdout.trim();
  assert.deepEqual(JSON.parse(repoDigests), [`${host}/docker/busybox@${pushed}`]);
  const viaSkopeo = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]);
  assert.equal(JSON.parse(viaSkopeo.stdout).Digest, pushed);
}
