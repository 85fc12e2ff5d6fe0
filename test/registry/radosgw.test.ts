import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { driverConformance } from '../../src/registry/storage/driver/testsuite.js';
import { S3Driver } from '../../src/registry/storage/driver/s3.js';
import { CephCluster, CephStartError } from './helpers/ceph.js';
import { registryConformance } from './conformance/suite.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';
import { busyboxArchive, skopeoRoundTrip } from './helpers/skopeo.js';

/**
 * The integration suite for the S3 driver against Ceph's radosgw on a
 * one-node cluster: the driver suite, the distribution spec suite and skopeo,
 * through `strata registry serve --storage s3://...`. Skipped, saying why,
 * when Ceph is not installed or the cluster does not come up in 90 s.
 */
const BUCKET = 'registry';
let cluster: CephCluster | undefined;
let skip = CephCluster.unavailable();
if (!skip) {
  const started = Date.now();
  try {
    cluster = await CephCluster.start(90_000);
    await cluster.createBucket(BUCKET).catch((e: Error) => {
      throw new CephStartError(`creating the S3 bucket ${BUCKET}: ${e.message}`);
    });
    console.log(`ceph cluster with radosgw up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    await cluster?.stop();
    cluster = undefined;
    if (!(e instanceof CephStartError)) throw e;
    skip = `the one-node Ceph cluster did not come up: ${e.message}`;
    console.log(`skipping: ${skip.split('\n')[0]}`);
  }
}
after(() => cluster?.stop());

const prefix = () => `t-${randomBytes(4).toString('hex')}`;

/** `strata registry serve` on the s3 driver, credentials from the environment as users give them. */
async function serve(root: string): Promise<ServeProcess> {
  const c = cluster!;
  const storage = `s3://${BUCKET}/${root}?region=us-east-1&endpoint=${encodeURIComponent(c.endpoint)}&forcePathStyle=true`;
  return startServe(['--storage', storage, '--log-level', 'warn'], { AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey });
}

if (skip || !cluster) {
  it('s3 driver on Ceph radosgw', { skip: skip ?? 'no cluster' }, () => undefined);
} else {
  const c = cluster;
  driverConformance(
    's3 on radosgw',
    async () => ({
      driver: new S3Driver({ bucket: BUCKET, rootDirectory: prefix(), endpoint: c.endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, partSize: 5 * 1024 * 1024 }),
      cleanup: async () => undefined,
    }),
    { bigBytes: 12 * 1024 * 1024 + 123 },
  );

  registryConformance('strata registry serve, s3 driver on radosgw', async () => {
    const reg = await serve(prefix());
    return { base: reg.base, stop: async () => void (await reg.stop()) };
  });

  describe('skopeo against strata registry serve on radosgw', () => {
    let work: string;
    let reg: ServeProcess;
    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'strata-rgwclients-'));
      reg = await serve(prefix());
    });
    after(async () => {
      await reg?.stop();
      await rm(work, { recursive: true, force: true });
    });

    it('skopeo copy both ways, inspect, list-tags and delete keep digests identical', async () => {
      await skopeoRoundTrip(reg.host, reg.base, await busyboxArchive(work), work);
    });
  });
}
