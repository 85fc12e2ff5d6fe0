import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './distribution.js';

const BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph'];

interface Exec {
  code: number | null;
  stdout: string;
  /** stdout and stderr as they came, for error messages. */
  out: string;
}

/** Runs a command with a time limit: SIGKILL when it runs over (a ceph command without a monitor waits for ever). */
function exec(cmd: string, args: string[], timeoutMs: number): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, out });
    });
  });
}

/** Thrown when the cluster does not come up: names the stage and carries the daemon's log tail. */
export class CephStartError extends Error {}

/**
 * A one-node Ceph cluster (Debian's 16.2 "pacific") in a temp dir, for the S3
 * driver's integration tests: one monitor, one memstore OSD and radosgw with
 * the beast frontend, all on loopback, auth none, pools of size one. Every
 * daemon runs in the foreground as this process's child, so stop() (or this
 * process exiting) ends them all.
 */
export class CephCluster {
  readonly dir: string;
  readonly endpoint: string;
  readonly accessKeyId = `STRATA${randomBytes(6).toString('hex').toUpperCase()}`;
  readonly secretAccessKey = randomBytes(20).toString('base64url');
  readonly #conf: string;
  readonly #daemons: { name: string; proc: ChildProcess; stderr: string }[] = [];
  readonly #onExit = () => this.#killNow();
  readonly #onSignal = (signal: NodeJS.Signals) => {
    this.#killNow();
    this.#unhook();
    process.kill(process.pid, signal);
  };

  private constructor(dir: string, rgwPort: number) {
    this.dir = dir;
    this.endpoint = `http://127.0.0.1:${rgwPort}`;
    this.#conf = join(dir, 'ceph.conf');
    process.on('exit', this.#onExit);
    process.once('SIGINT', this.#onSignal);
    process.once('SIGTERM', this.#onSignal);
  }

  #unhook(): void {
    process.off('exit', this.#onExit);
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }

  /** Why Ceph cannot run here, or undefined when it can. */
  static unavailable(): string | undefined {
    const missing = BINARIES.filter((b) => !existsSync(`/usr/bin/${b}`));
    return missing.length ? `${missing.join(', ')} not installed (Debian packages ceph-mon ceph-osd radosgw ceph-common)` : undefined;
  }

  /** Brings the cluster up and makes an S3 user, within timeoutMs; on failure stops what started and throws CephStartError. */
  static async start(timeoutMs = 90_000): Promise<CephCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'strata-ceph-'));
    const c = new CephCluster(dir, await freePort());
    try {
      await c.#bootstrap(Date.now() + timeoutMs);
      return c;
    } catch (e) {
      await c.stop();
      throw e instanceof CephStartError ? e : new CephStartError(`ceph: ${(e as Error).message}`, { cause: e });
    }
  }

  async #bootstrap(deadline: number): Promise<void> {
    const left = () => Math.max(1000, deadline - Date.now());
    const must = async (stage: string, cmd: string, args: string[]): Promise<string> => {
      const r = await exec(cmd, args, Math.min(left(), 30_000));
      if (r.code !== 0) throw new CephStartError(`${stage}: ${cmd} ${args.join(' ')} exited ${r.code ?? 'on timeout'}:\n${r.out.slice(-2000)}`);
      return r.stdout;
    };
    const until = async (stage: string, daemon: string, ok: () => Promise<boolean>): Promise<void> => {
      while (Date.now() < deadline) {
        const d = this.#daemons.find((x) => x.name === daemon);
        if (d && (d.proc.exitCode !== null || d.proc.signalCode !== null)) throw new CephStartError(`${stage}: ${daemon} exited (${d.proc.exitCode ?? d.proc.signalCode}):\n${this.#logTail(daemon)}`);
        if (await ok()) return;
        await sleep(500);
      }
      throw new CephStartError(`${stage}: not done after the time limit:\n${this.#logTail(daemon)}`);
    };
    const ceph = (args: string[]) => exec('ceph', ['--conf', this.#conf, '--connect-timeout', '5', ...args], 10_000);

    const fsid = randomUUID();
    const monAddr = `v2:127.0.0.1:${await freePort()}`;
    await Promise.all(['run', 'log', 'crash', 'mon', 'osd', 'rgw'].map((d) => mkdir(join(this.dir, d))));
    await writeFile(this.#conf, cephConf(this.dir, fsid, monAddr, this.endpoint.replace('http://', '')));

    await must('monitor map', 'monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[${monAddr}]`, join(this.dir, 'monmap')]);
    await must('monitor mkfs', 'ceph-mon', ['--conf', this.#conf, '--mkfs', '-i', 'a', '--monmap', join(this.dir, 'monmap')]);
    this.#spawn('mon.a', 'ceph-mon', ['-i', 'a']);
    await until('monitor quorum', 'mon.a', async () => (await ceph(['quorum_status'])).code === 0);

    const uuid = randomUUID();
    const id = (await must('osd id', 'ceph', ['--conf', this.#conf, 'osd', 'new', uuid])).trim();
    await mkdir(join(this.dir, 'osd', `ceph-${id}`));
    await must('osd mkfs', 'ceph-osd', ['--conf', this.#conf, '-i', id, '--mkfs', '--osd-uuid', uuid]);
    this.#spawn(`osd.${id}`, 'ceph-osd', ['-i', id]);
    await until('osd up', `osd.${id}`, async () => {
      const r = await ceph(['osd', 'stat', '--format', 'json']);
      return r.code === 0 && /"num_up_osds":\s*1\b/.test(r.stdout);
    });

    this.#spawn('client.rgw', 'radosgw', ['-n', 'client.rgw']);
    await until('radosgw listening', 'client.rgw', async () => {
      try {
        return (await fetch(`${this.endpoint}/`, { signal: AbortSignal.timeout(2000) })).status === 200;
      } catch {
        return false;
      }
    });
    await must('S3 user', 'radosgw-admin', [
      '--conf', this.#conf, '-n', 'client.admin', 'user', 'create', '--uid', 'strata', '--display-name', 'Strata tests',
      '--access-key', this.accessKeyId, '--secret-key', this.secretAccessKey,
    ]);
  }

  #spawn(name: string, cmd: string, args: string[]): void {
    const proc = spawn(cmd, ['--conf', this.#conf, '-f', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const daemon = { name, proc, stderr: '' };
    proc.stderr!.on('data', (c: Buffer) => (daemon.stderr = (daemon.stderr + c.toString()).slice(-2000)));
    proc.on('error', (e) => (daemon.stderr += `\n${e.message}`)); // then the readiness check reports its exit
    this.#daemons.push(daemon);
  }

  #logTail(name: string): string {
    const stderr = this.#daemons.find((d) => d.name === name)?.stderr ?? '';
    try {
      return `${stderr}${readFileSync(join(this.dir, 'log', `${name}.log`), 'utf8').split('\n').slice(-25).join('\n')}`;
    } catch {
      return `${stderr}(no log for ${name})`;
    }
  }

  s3Client(): S3Client {
    return new S3Client({
      region: 'us-east-1',
      endpoint: this.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey },
    });
  }

  async createBucket(name: string): Promise<void> {
    const s3 = this.s3Client();
    try {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
    } finally {
      s3.destroy();
    }
  }

  /** Stops radosgw, then the OSD, then the monitor (each SIGTERM, SIGKILL after 5 s), and removes the temp dir. */
  async stop(): Promise<void> {
    for (const { proc } of [...this.#daemons].reverse()) {
      if (proc.exitCode !== null || proc.signalCode !== null) continue;
      proc.kill('SIGTERM');
      for (let i = 0; i < 50 && proc.exitCode === null && proc.signalCode === null; i++) await sleep(100);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    this.#unhook();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Last resort when the test process exits or is killed without stop(): no daemon outlives it. */
  #killNow(): void {
    for (const { proc } of this.#daemons) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function cephConf(dir: string, fsid: string, monAddr: string, rgwAddr: string): string {
  return `[global]
fsid = ${fsid}
mon host = ${monAddr}
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
# radosgw asks for "secure" mode on its monitor connection, which auth none cannot give.
ms mon client mode = crc secure
ms bind msgr1 = false
keyring = /dev/null
run dir = ${dir}/run
admin socket = ${dir}/run/$name.$pid.asok
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
crash dir = ${dir}/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
[mon]
mon data = ${dir}/mon/$cluster-$id
mon cluster log file = ${dir}/log/cluster.log
[osd]
osd data = ${dir}/osd/$cluster-$id
osd objectstore = memstore
memstore device bytes = 1073741824
[client.rgw]
# Without TCP_NODELAY every response waits for a delayed ACK (~40 ms a request).
rgw data = ${dir}/rgw
rgw frontends = beast endpoint=${rgwAddr} tcp_nodelay=1
`;
}
