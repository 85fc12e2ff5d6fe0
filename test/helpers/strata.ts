import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unmount } from '../../src/mount/linux.js';

/** The repository's bin/strata, resolved from dist/test/helpers. */
export const STRATA_BIN = resolve(fileURLToPath(import.meta.url), '../../../../bin/strata');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, feeding `input` (a string, Buffer or file stream) to stdin. */
export function run(cmd: string, args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    child.stdin.on('error', () => undefined); // the command may exit before reading
    child.stdin.end(opts.input);
  });
}

/** A private data root for one test, removed (after unmounting anything left under it) by `cleanup`. */
export class TempRoot {
  readonly dir: string;
  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(prefix = 'strata-test-'): Promise<TempRoot> {
    return new TempRoot(await mkdtemp(join(tmpdir(), prefix)));
  }

  get root(): string {
    return join(this.dir, 'root');
  }

  strata(args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return run(process.execPath, [STRATA_BIN, '--root', this.root, ...args], opts);
  }

  async cleanup(): Promise<void> {
    await unmountUnder(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Unmounts every mount at or below dir, deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) unmount(m);
}
