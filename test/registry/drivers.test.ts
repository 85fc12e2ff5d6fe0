import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemDriver } from '../../src/registry/storage/driver/filesystem.js';
import { InMemoryDriver } from '../../src/registry/storage/driver/inmemory.js';
import { driverConformance } from '../../src/registry/storage/driver/testsuite.js';

driverConformance('inmemory', async () => ({ driver: new InMemoryDriver(), cleanup: async () => undefined }));

driverConformance('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-regfs-'));
  return { driver: new FilesystemDriver(join(dir, 'root')), cleanup: () => rm(dir, { recursive: true, force: true }) };
});
