import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const DISTRIBUTION_BIN = '/usr/bin/docker-registry';

/** Why Debian's docker-registry cannot run here, or undefined when it can. */
export function distributionUnavailable(): string | undefined {
  return existsSync(DISTRIBUTION_BIN) ? undefined : 'docker-registry is not installed (Debian package docker-registry)';
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface Distribution {
  base: string;
  dir: string;
  stop(): Promise<void>;
}

/** Debian's docker-registry (distribution 2.8) on 127.0.0.1 with filesystem storage and deletion on, in a temp dir. */
export async function startDistribution(extraConfig = ''): Promise<Distribution> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-distribution-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'storage')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: conformance
${extraConfig}`,
  );
  const proc: ChildProcess = spawn(DISTRIBUTION_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      for (let i = 0; i < 50 && proc.exitCode === null; i++) await sleep(100);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/v2/`)).status === 200) return { base, dir, stop };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`docker-registry did not start:\n${log}`);
}
