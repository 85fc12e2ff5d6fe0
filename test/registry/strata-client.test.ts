import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TempRoot, type RunResult } from '../helpers/strata.js';
import { s3Driver, startS3, type LocalS3 } from './helpers/s3.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';
import { busyboxArchive, registryDigest } from './helpers/skopeo.js';
import { startStrata, type InProcessRegistry } from './helpers/strata-registry.js';

const ok = (r: RunResult, what: string): string => {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
};

async function inspect(root: TempRoot, ref: string): Promise<{ Id: string; RepoDigests: string[] }> {
  return (JSON.parse(ok(await root.strata(['inspect', ref]), `inspect ${ref}`)) as { Id: string; RepoDigests: string[] }[])[0];
}

/** `strata push` from one data root, `strata pull` by tag and by digest into a fresh one: same image ID and digest. */
async function strataRoundTrip(host: string, base: string, archive: string): Promise<void> {
  const from = await TempRoot.create('strata-regclient-push-');
  const to = await TempRoot.create('strata-regclient-pull-');
  try {
    ok(await from.strata(['load', '-q', '-i', archive]), 'load');
    const ref = `${host}/strata/busybox:v1`;
    ok(await from.strata(['tag', 'busybox:latest', ref]), 'tag');
    const { Id: id } = await inspect(from, ref);
    const push = ok(await from.strata(['push', ref]), 'push');
    const pushed = /v1: digest: (sha256:[0-9a-f]{64})/.exec(push)?.[1];
    assert.ok(pushed, push);
    assert.equal(await registryDigest(base, 'strata/busybox', 'v1'), pushed);
    assert.deepEqual((await inspect(from, ref)).RepoDigests, [`${host}/strata/busybox@${pushed}`]);

    const pull = ok(await to.strata(['pull', ref]), 'pull');
    assert.match(pull, new RegExp(`Digest: ${pushed}`));
    const pulled = await inspect(to, ref);
    assert.equal(pulled.Id, id);
    assert.deepEqual(pulled.RepoDigests, [`${host}/strata/busybox@${pushed}`]);
    const byDigest = `${host}/strata/busybox@${pushed}`;
    ok(await to.strata(['rmi', ref]), 'rmi');
    ok(await to.strata(['pull', '-q', byDigest]), 'pull by digest');
    assert.equal((await inspect(to, byDigest)).Id, id);
  } finally {
    await to.cleanup();
    await from.cleanup();
  }
}

describe("Strata's own client against strata registry", () => {
  let work: string;
  let archive: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'strata-regclient-'));
    archive = await busyboxArchive(work);
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('filesystem driver: strata push, then strata pull into a fresh root', async () => {
    let reg: ServeProcess | undefined;
    try {
      reg = await startServe(['--storage', `filesystem:${join(work, 'storage')}`, '--log-level', 'warn']);
      await strataRoundTrip(reg.host, reg.base, archive);
    } finally {
      await reg?.stop();
    }
  });

  it('s3 driver: strata push, then strata pull into a fresh root', async () => {
    let s3: LocalS3 | undefined;
    let reg: InProcessRegistry | undefined;
    try {
      s3 = await startS3();
      const local = s3;
      reg = await startStrata(async () => s3Driver(local, 'strata'));
      await strataRoundTrip(reg.base.replace('http://', ''), reg.base, archive);
    } finally {
      await reg?.stop();
      await s3?.stop();
    }
  });
});
