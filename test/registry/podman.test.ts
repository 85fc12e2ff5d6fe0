import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PrivatePodman, podmanRoundTrip } from './helpers/podman.js';
import { s3Driver, startS3, type LocalS3 } from './helpers/s3.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';
import { busyboxArchive } from './helpers/skopeo.js';
import { startStrata, type InProcessRegistry } from './helpers/strata-registry.js';

/** podman push / pull against `strata registry serve` on the filesystem driver, and against the S3 driver on s3rver. */
describe('podman against strata registry', { skip: PrivatePodman.unavailable() }, () => {
  let work: string;
  let archive: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'strata-regpodman-'));
    archive = await busyboxArchive(work);
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('filesystem driver: push and pull by tag and digest keep digests and image ID', async () => {
    let reg: ServeProcess | undefined;
    let podman: PrivatePodman | undefined;
    try {
      reg = await startServe(['--storage', `filesystem:${join(work, 'storage')}`, '--log-level', 'warn']);
      podman = await PrivatePodman.start([reg.host]);
      await podmanRoundTrip(podman, reg.host, reg.base, archive);
    } finally {
      await podman?.stop();
      await reg?.stop();
    }
  });

  it('s3 driver: push and pull by tag and digest keep digests and image ID', async () => {
    let s3: LocalS3 | undefined;
    let reg: InProcessRegistry | undefined;
    let podman: PrivatePodman | undefined;
    try {
      s3 = await startS3();
      const local = s3;
      reg = await startStrata(async () => s3Driver(local, `podman-${randomBytes(4).toString('hex')}`));
      const host = reg.base.replace('http://', '');
      podman = await PrivatePodman.start([host]);
      await podmanRoundTrip(podman, host, reg.base, archive);
    } finally {
      await podman?.stop();
      await reg?.stop();
      await s3?.stop();
    }
  });
});
