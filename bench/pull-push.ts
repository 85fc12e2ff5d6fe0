/**
 * Cold pull and push of the ~290 MB 4-layer image against a local
 * docker-registry 2.8, Strata against `docker pull/push` and Podman in the
 * same run. Targets (issue 5): pull <= 0.35x Docker and 0.5x Podman; push
 * <= 0.3x Docker and 0.8x Podman.
 *
 *   node dist/bench/pull-push.js [RUNS]
 *
 * The registry is seeded with `skopeo copy`, which gzips the layers as
 * Docker's push would. Each push goes to a fresh registry so nothing is
 * already there. Strata runs in its own process, as the CLI would.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bigImageArchive } from './fixtures.js';
import { PrivateDocker } from '../test/helpers/dockerd.js';
import { run, TempRoot, type RunResult } from '../test/helpers/strata.js';
import { distChildArgs } from '../test/remotes/helpers/dist-child.js';
import { TestRegistry } from '../test/remotes/helpers/registry.js';

const runs = Number(process.argv[2] ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Each timed step starts with no dirty pages of the previous one still being written back. */
async function timed(what: string, fn: () => Promise<RunResult>): Promise<number> {
  await run('sync', []);
  const t0 = process.hrtime.bigint();
  const r = await fn();
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Podman with its own storage; containers.conf keeps nofile under this machine's hard limit. */
async function podmanSetup(): Promise<((args: string[]) => Promise<RunResult>) | undefined> {
  if (!existsSync('/usr/bin/podman')) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-podman-'));
  await writeFile(join(dir, 'containers.conf'), '[containers]\ndefault_ulimits = ["nofile=10000:10000"]\n');
  const podman = (args: string[]) =>
    run('podman', ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'overlay', ...args], {
      env: { CONTAINERS_CONF: join(dir, 'containers.conf') },
    });
  return Object.assign(podman, { dir });
}

const archive = await bigImageArchive();
const mb = statSync(archive).size / 1e6;
const docker = await PrivateDocker.start();
const seeded = await TestRegistry.start();
const podman = await podmanSetup();
const times: Record<string, number[]> = {};
const add = (k: string, v: number) => (times[k] ??= []).push(v);
const strataSrc = await TempRoot.create('strata-bench-src-');
try {
  const ref = `${seeded.host}/bench/big:1`;
  const seed = await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${ref}`]);
  if (seed.code !== 0) throw new Error(`seeding the registry failed: ${seed.stderr}`);
  for (let i = 0; i < runs; i++) {
    const root = await TempRoot.create('strata-bench-');
    try {
      add('strata pull', await timed('strata pull', () => run(process.execPath, distChildArgs(root.root, 'pull', ref))));
    } finally {
      await root.cleanup();
    }
    add('docker pull', await timed('docker pull', () => docker.docker(['pull', '-q', ref])));
    await docker.docker(['rmi', '-f', ref]);
    await docker.docker(['image', 'prune', '-f']);
    if (podman) {
      add('podman pull', await timed('podman pull', () => podman(['pull', '-q', '--tls-verify=false', ref])));
      await podman(['rmi', '-f', ref]);
    }
    const skopeoDir = await mkdtemp(join(tmpdir(), 'strata-bench-skopeo-'));
    add('skopeo copy (no extraction)', await timed('skopeo copy', () => run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${skopeoDir}:x`])));
    await rm(skopeoDir, { recursive: true, force: true });
  }

  // Sources for the push runs, loaded only now so the pulls above start cold.
  const load = await strataSrc.strata(['load', '-q', '-i', archive]);
  if (load.code !== 0) throw new Error(`strata load failed: ${load.stderr}`);
  if ((await docker.docker(['load', '-q', '-i', archive])).code !== 0) throw new Error('docker load failed');
  if (podman && (await podman(['load', '-q', '-i', archive])).code !== 0) throw new Error('podman load failed');
  for (let i = 0; i < runs; i++) {
    for (const who of ['strata', 'docker', 'podman'] as const) {
      if (who === 'podman' && !podman) continue;
      const target = await TestRegistry.start();
      try {
        const dst = `${target.host}/bench/big:1`;
        if (who === 'strata') {
          const tag = await strataSrc.strata(['tag', 'strata-bench/big:1', dst]);
          if (tag.code !== 0) throw new Error(tag.stderr);
          add('strata push', await timed('strata push', () => run(process.execPath, distChildArgs(strataSrc.root, 'push', dst))));
          await strataSrc.strata(['rmi', dst]);
        } else if (who === 'docker') {
          await docker.docker(['tag', 'strata-bench/big:1', dst]);
          add('docker push', await timed('docker push', () => docker.docker(['push', '-q', dst])));
          await docker.docker(['rmi', dst]);
        } else {
          await podman!(['tag', 'strata-bench/big:1', dst]);
          add('podman push', await timed('podman push', () => podman!(['push', '-q', '--tls-verify=false', dst])));
          await podman!(['rmi', dst]);
        }
      } finally {
        await target.stop();
      }
    }
  }
} finally {
  await strataSrc.cleanup();
  await seeded.stop();
  await docker.stop();
  if (podman) await rm((podman as unknown as { dir: string }).dir, { recursive: true, force: true });
}

console.log(`image: ${mb.toFixed(0)} MB (4 layers), ${runs} runs each, medians`);
for (const [k, v] of Object.entries(times)) {
  const m = median(v);
  console.log(`${k.padEnd(28)} ${m.toFixed(2)} s (${(mb / m).toFixed(0)} MB/s)  runs: ${v.map((x) => x.toFixed(2)).join(' ')}`);
}
const ratio = (a: string, b: string, target: number) => {
  if (!times[a] || !times[b]) return;
  console.log(`ratio ${a} / ${b}: ${(median(times[a]) / median(times[b])).toFixed(2)} (target <= ${target})`);
};
ratio('strata pull', 'docker pull', 0.35);
ratio('strata pull', 'podman pull', 0.5);
ratio('strata push', 'docker push', 0.3);
ratio('strata push', 'podman push', 0.8);
