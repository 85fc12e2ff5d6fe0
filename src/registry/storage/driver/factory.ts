import { resolve } from 'node:path';
import { errors } from '../../../errors/errors.js';
import type { StorageDriver } from './driver.js';
import { FilesystemDriver } from './filesystem.js';
import { InMemoryDriver } from './inmemory.js';
import type { S3DriverOptions } from './s3.js';

export type DriverSpec = { type: 'filesystem'; root: string } | { type: 'inmemory' } | ({ type: 's3' } & S3DriverOptions);

/**
 * Parses `--storage`: `filesystem:DIR`, `inmemory`, or
 * `s3://BUCKET[/PREFIX]?region=R&endpoint=URL&forcePathStyle=true`
 * (credentials come from the AWS SDK's usual environment and files).
 */
export function parseStorageFlag(flag: string): DriverSpec {
  if (flag === 'inmemory') return { type: 'inmemory' };
  if (flag.startsWith('filesystem:')) {
    const dir = flag.slice('filesystem:'.length);
    if (!dir) throw errors.invalidArgument('--storage filesystem: needs a directory, as in filesystem:/var/lib/strata-registry');
    return { type: 'filesystem', root: resolve(dir) };
  }
  if (flag.startsWith('s3://')) {
    const url = new URL(flag);
    const q = url.searchParams;
    return {
      type: 's3',
      bucket: url.hostname,
      rootDirectory: url.pathname.replace(/^\/+|\/+$/g, ''),
      region: q.get('region') ?? undefined,
      endpoint: q.get('endpoint') ?? undefined,
      forcePathStyle: q.get('forcePathStyle') === 'true',
    };
  }
  throw errors.invalidArgument(`--storage "${flag}" is not one of filesystem:DIR, inmemory or s3://BUCKET[/PREFIX]?region=&endpoint=`);
}

/** Opens a driver; the S3 SDK is loaded only when an S3 driver is asked for. */
export async function openDriver(spec: DriverSpec): Promise<StorageDriver> {
  switch (spec.type) {
    case 'filesystem':
      return new FilesystemDriver(spec.root);
    case 'inmemory':
      return new InMemoryDriver();
    case 's3': {
      const { S3Driver } = await import('./s3.js');
      return new S3Driver(spec);
    }
  }
}
