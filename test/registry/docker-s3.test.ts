import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { PrivateDocker } from '../helpers/dockerd.js';
import { dockerRoundTrip } from './helpers/docker.js';
import { s3Driver, startS3, type LocalS3 } from './helpers/s3.js';
import { busyboxArchive } from './helpers/skopeo.js';
import { startStrata, type InProcessRegistry } from './helpers/strata-registry.js';

it('docker push and docker pull round-trip with identical digests on the s3 driver', { skip: PrivateDocker.unavailable() }, async () => {
  let work: string | undefined;
  let s3: LocalS3 | undefined;
  let reg: InProcessRegistry | undefined;
  let docker: PrivateDocker | undefined;
  try {
    work = await mkdtemp(join(tmpdir(), 'strata-regdocker-s3-'));
    const archive = await busyboxArchive(work);
    s3 = await startS3();
    const local = s3;
    reg = await startStrata(async () => s3Driver(local, 'docker'));
    docker = await PrivateDocker.start();
    await dockerRoundTrip(docker, reg.base.replace('http://', ''), reg.base, archive);
  } finally {
    await docker?.stop();
    await reg?.stop();
    await s3?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  }
});
