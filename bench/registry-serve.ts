/**
 * `strata registry serve` against Debian's docker-registry (distribution 2.8)
 * in one run, both on filesystem storage on loopback, loaded by wrk with 32
 * connections. Targets (issue 6): manifest GET by tag at least 2x
 * distribution's requests per second; 1 MiB blob GET at least its throughput.
 *
 *   node dist/bench/registry-serve.js [SECONDS] [ROUNDS]
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../src/registry/server/config.js';
import { serveRegistry } from '../src/registry/server/serve.js';
import { Client, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST } from '../test/registry/helpers/client.js';
import { freePort, startDistribution } from '../test/registry/helpers/distribution.js';

const seconds = Number(process.argv[2] ?? 10);
const rounds = Number(process.argv[3] ?? 2);
const run = promisify(execFile);

interface WrkResult {
  rps: number;
  mbps: number;
  errors: number;
}

/** wrk's summary: Requests/sec, Transfer/sec and non-2xx/socket errors. */
async function wrk(url: string, headers: string[]): Promise<WrkResult> {
  const args = ['-t2', '-c32', `-d${seconds}s`, ...headers.flatMap((h) => ['-H', h]), url];
  const { stdout } = await run('wrk', args);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const t = /Transfer\/sec:\s+([\d.]+)(\w+)/.exec(stdout);
  const unit: Record<string, number> = { B: 1e-6, KB: 1.024e-3, MB: 1.048576, GB: 1073.741824 };
  const mbps = t ? Number(t[1]) * (unit[t[2]] ?? 1) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = non2xx + (sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0);
  return { rps, mbps, errors };
}

async function seed(base: string): Promise<{ blob: string }> {
  const c = new Client(base);
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const layer = randomBytes(1024 * 1024);
  const cd = await c.pushBlob('bench/app', config);
  const ld = await c.pushBlob('bench/app', layer);
  const m = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: cd, size: config.length }, layers: [{ mediaType: OCI_LAYER, digest: ld, size: layer.length }] };
  await c.pushManifest('bench/app', 'latest', m, OCI_MANIFEST);
  return { blob: ld };
}

const dir = await mkdtemp(join(tmpdir(), 'strata-regbench-'));
const port = await freePort();
const strata = await serveRegistry(
  parseConfig(`http: {addr: "127.0.0.1:${port}"}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'storage')}}}\nlog: {level: warn}\n`),
);
const distribution = await startDistribution();
try {
  const targets = { strata: `http://127.0.0.1:${port}`, distribution: distribution.base };
  const blobs = { strata: (await seed(targets.strata)).blob, distribution: (await seed(targets.distribution)).blob };
  const accept = `Accept: ${OCI_MANIFEST}`;
  const best: Record<string, Record<string, WrkResult>> = { manifest: {}, blob: {} };
  for (let round = 1; round <= rounds; round++) {
    for (const name of ['distribution', 'strata'] as const) {
      const m = await wrk(`${targets[name]}/v2/bench/app/manifests/latest`, [accept]);
      const b = await wrk(`${targets[name]}/v2/bench/app/blobs/${blobs[name]}`, []);
      console.log(`round ${round} ${name.padEnd(12)} manifest ${m.rps.toFixed(0)} req/s (${m.errors} errors)   1 MiB blob ${b.rps.toFixed(0)} req/s ${b.mbps.toFixed(0)} MB/s (${b.errors} errors)`);
      if (!best.manifest[name] || m.rps > best.manifest[name].rps) best.manifest[name] = m;
      if (!best.blob[name] || b.mbps > best.blob[name].mbps) best.blob[name] = b;
    }
  }
  const mr = best.manifest.strata.rps / best.manifest.distribution.rps;
  const br = best.blob.strata.mbps / best.blob.distribution.mbps;
  console.log(`manifest GET by tag: strata ${best.manifest.strata.rps.toFixed(0)} req/s, distribution ${best.manifest.distribution.rps.toFixed(0)} req/s: ${mr.toFixed(2)}x (target >= 2x) ${mr >= 2 ? 'PASS' : 'FAIL'}`);
  console.log(`1 MiB blob GET: strata ${best.blob.strata.mbps.toFixed(0)} MB/s, distribution ${best.blob.distribution.mbps.toFixed(0)} MB/s: ${br.toFixed(2)}x (target >= 1x) ${br >= 1 ? 'PASS' : 'FAIL'}`);
} finally {
  await strata.close(1000);
  await distribution.stop();
  await rm(dir, { recursive: true, force: true });
}
