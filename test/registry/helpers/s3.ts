import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { S3Driver, type S3DriverOptions } from '../../../src/registry/storage/driver/s3.js';

export interface LocalS3 {
  endpoint: string;
  options(prefix: string): S3DriverOptions;
  stop(): Promise<void>;
}

/** s3rver (an S3 implementation in Node) on 127.0.0.1 with one bucket, data in a temp dir. */
export async function startS3(): Promise<LocalS3> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: 'registry' }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    options: (prefix) => ({
      bucket: 'registry',
      rootDirectory: prefix,
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      partSize: 5 * 1024 * 1024,
      // s3rver skips keys nested below a common prefix when a delimiter is given.
      delimiterListing: false,
    }),
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function s3Driver(s3: LocalS3, prefix: string): S3Driver {
  return new S3Driver(s3.options(prefix));
}
