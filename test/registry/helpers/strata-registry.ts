import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryServer, type ServerOptions } from '../../../src/registry/server/app.js';
import { Logger } from '../../../src/registry/server/log.js';
import type { StorageDriver } from '../../../src/registry/storage/driver/driver.js';
import { FilesystemDriver } from '../../../src/registry/storage/driver/filesystem.js';
import { InMemoryDriver } from '../../../src/registry/storage/driver/inmemory.js';
import { Registry, type RegistryOptions } from '../../../src/registry/storage/registry.js';

export interface InProcessRegistry {
  base: string;
  registry: Registry;
  server: RegistryServer;
  dir: string;
  stop(): Promise<void>;
}

/** Strata's registry in this process on 127.0.0.1:<free port>, quiet unless STRATA_TEST_LOG is set. */
export async function startStrata(
  kind: 'inmemory' | 'filesystem' | ((dir: string) => Promise<StorageDriver>),
  opts: Omit<ServerOptions, 'registry'> & RegistryOptions = {},
): Promise<InProcessRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-registry-'));
  const driver = kind === 'inmemory' ? new InMemoryDriver() : kind === 'filesystem' ? new FilesystemDriver(join(dir, 'storage')) : await kind(dir);
  const registry = await Registry.open(driver, opts);
  const server = new RegistryServer({ logger: new Logger(process.env.STRATA_TEST_LOG ? 'info' : 'error'), ...opts, registry });
  const addr = await server.listen('127.0.0.1', 0);
  return {
    base: `http://127.0.0.1:${addr.port}`,
    registry,
    server,
    dir,
    async stop() {
      await server.close(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
