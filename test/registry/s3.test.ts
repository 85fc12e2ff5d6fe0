import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { driverConformance } from '../../src/registry/storage/driver/testsuite.js';
import { busyboxArchive, skopeoRoundTrip } from './helpers/skopeo.js';
import { registryConformance } from './conformance/suite.js';
import { s3Driver, startS3, type LocalS3 } from './helpers/s3.js';
import { startStrata, type InProcessRegistry } from './helpers/strata-registry.js';

/** The S3 driver against s3rver on loopback: the driver suite, the spec suite, and skopeo. */
let s3: LocalS3;
before(async () => {
  s3 = await startS3();
});
after(() => s3?.stop());

const prefix = () => `t-${randomBytes(4).toString('hex')}`;

driverConformance('s3', async () => ({ driver: s3Driver(s3, prefix()), cleanup: async () => undefined }), { bigBytes: 12 * 1024 * 1024 + 123 });

registryConformance('strata, s3 driver', () => startStrata(async () => s3Driver(s3, prefix())));

describe('real clients against strata on the s3 driver', () => {
  let r: InProcessRegistry;
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'strata-s3clients-'));
    r = await startStrata(async () => s3Driver(s3, prefix()));
  });
  after(async () => {
    await r?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('skopeo copy both ways, inspect, list-tags and delete keep digests identical', async () => {
    await skopeoRoundTrip(r.base.replace('http://', ''), r.base, await busyboxArchive(work), work);
  });
});
