import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, unmountUnder, type RunResult } from './strata.js';

/** Debian's docker CLI speaks to Debian's dockerd; fall back to any docker on PATH. */
const DOCKER_CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

/**
 * A private Docker engine for one test file: its own data root, exec root and
 * socket, no bridge and no iptables rules, so it touches nothing of the host's
 * and leaves nothing behind when stopped.
 */
export class PrivateDocker {
  readonly dir: string;
  readonly socket: string;
  #proc: ChildProcess;

  private constructor(dir: string, proc: ChildProcess) {
    this.dir = dir;
    this.socket = join(dir, 'docker.sock');
    this.#proc = proc;
  }

  /** Why Docker cannot be used here, or undefined when it can. */
  static unavailable(): string | undefined {
    if (!existsSync('/usr/bin/dockerd') && !existsSync('/usr/sbin/dockerd')) {
      return 'dockerd is not installed (Debian package docker.io; scripts/setup.sh installs it)';
    }
    return undefined;
  }

  static async start(): Promise<PrivateDocker> {
    const dir = await mkdtemp(join(tmpdir(), 'strata-dockerd-'));
    const proc = spawn(
      'dockerd',
      [
        '--data-root', join(dir, 'data'),
        '--exec-root', join(dir, 'exec'),
        '--pidfile', join(dir, 'docker.pid'),
        '-H', `unix://${join(dir, 'docker.sock')}`,
        '--bridge', 'none',
        '--iptables=false',
        '--ip-masq=false',
        '--storage-driver', 'overlay2',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    proc.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
    const d = new PrivateDocker(dir, proc);
    for (let i = 0; i < 150; i++) {
      if (proc.exitCode !== null) break;
      if ((await d.docker(['version'])).code === 0) return d;
      await sleep(200);
    }
    await d.stop();
    throw new Error(`dockerd did not start:\n${log}`);
  }

  docker(args: string[], opts: { input?: string | Buffer } = {}): Promise<RunResult> {
    return run(DOCKER_CLI, args, { ...opts, env: { DOCKER_HOST: `unix://${this.socket}`, DOCKER_BUILDKIT: '0' } });
  }

  async stop(): Promise<void> {
    if (this.#proc.exitCode === null) {
      this.#proc.kill('SIGTERM');
      for (let i = 0; i < 100 && this.#proc.exitCode === null; i++) await sleep(100);
      if (this.#proc.exitCode === null) this.#proc.kill('SIGKILL');
    }
    await unmountUnder(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }
}
