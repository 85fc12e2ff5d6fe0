import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A free TCP port on 127.0.0.1 (bound and released; the registry takes it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface RegistryAuth {
  htpasswd?: string;
  token?: { realm: string; service: string; issuer: string; certPath: string };
}

/**
 * Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1 with its own
 * storage directory, for one test file; stop() kills it and removes the data.
 */
export class TestRegistry {
  readonly dir: string;
  readonly port: number;
  #proc: ChildProcess;

  private constructor(dir: string, port: number, proc: ChildProcess) {
    this.dir = dir;
    this.port = port;
    this.#proc = proc;
  }

  static unavailable(): string | undefined {
    return existsSync('/usr/bin/docker-registry') ? undefined : 'docker-registry is not installed (Debian package docker-registry)';
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(auth: RegistryAuth = {}): Promise<TestRegistry> {
    const dir = await mkdtemp(join(tmpdir(), 'strata-registry-'));
    const port = await freePort();
    const lines = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: strata-test-secret',
    ];
    if (auth.htpasswd) {
      await writeFile(join(dir, 'htpasswd'), auth.htpasswd);
      lines.push('auth:', '  htpasswd:', '    realm: strata-test', `    path: ${join(dir, 'htpasswd')}`);
    }
    if (auth.token) {
      const t = auth.token;
      lines.push('auth:', '  token:', `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.certPath}`);
    }
    await writeFile(join(dir, 'config.yml'), `${lines.join('\n')}\n`);
    const proc = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    proc.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
    const reg = new TestRegistry(dir, port, proc);
    for (let i = 0; i < 100; i++) {
      if (proc.exitCode !== null) break;
      if (await reachable(port)) return reg;
      await sleep(50);
    }
    await reg.stop();
    throw new Error(`docker-registry did not start:\n${log}`);
  }

  async stop(): Promise<void> {
    if (this.#proc.exitCode === null) {
      this.#proc.kill('SIGTERM');
      for (let i = 0; i < 50 && this.#proc.exitCode === null; i++) await sleep(100);
      if (this.#proc.exitCode === null) this.#proc.kill('SIGKILL');
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const r = request({ host: '127.0.0.1', port, path: '/v2/', method: 'GET' }, (res) => {
      res.resume();
      resolve(true);
    });
    r.on('error', () => resolve(false));
    r.end();
  });
}
