import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './distribution.js';

const ENTRY = resolve(fileURLToPath(import.meta.url), '../serve-main.js');

export interface ServeProcess {
  base: string;
  host: string;
  proc: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `strata registry serve` in its own process on 127.0.0.1 and waits until it listens. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, [ENTRY, 'registry', 'serve', '--addr', `127.0.0.1:${port}`, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      for (let i = 0; i < 100 && proc.exitCode === null && proc.signalCode === null; i++) await sleep(100);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    return proc.exitCode;
  };
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) break;
    if (err.includes('"msg":"listening"')) {
      return { base: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, proc, stderr: () => err, stop };
    }
    await sleep(100);
  }
  await stop('SIGKILL');
  throw new Error(`strata registry serve did not start:\n${err}`);
}
