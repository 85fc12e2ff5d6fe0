import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, unmountUnder, type RunResult } from '../../helpers/strata.js';
import { Client, OCI_MANIFEST } from './client.js';
import { registryDigest } from './skopeo.js';

const PODMAN = '/usr/bin/podman';

/**
 * Podman with everything of its own in one temp dir: image storage (vfs),
 * run root, libpod tmp dir, containers.conf and registries.conf. The open
 * files limit is set below the hard limit, as podman cannot raise it here.
 */
export class PrivatePodman {
  readonly dir: string;
  readonly #env: NodeJS.ProcessEnv;

  private constructor(dir: string) {
    this.dir = dir;
    this.#env = {
      CONTAINERS_CONF: join(dir, 'containers.conf'),
      CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
      CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
      TMPDIR: join(dir, 'tmp'),
    };
  }

  /** Why podman cannot be used here, or undefined when it can. */
  static unavailable(): string | undefined {
    return existsSync(PODMAN) ? undefined : 'podman is not installed (Debian package podman)';
  }

  /** `insecure` lists host:port registries reached over plain HTTP. */
  static async start(insecure: string[]): Promise<PrivatePodman> {
    const dir = await mkdtemp(join(tmpdir(), 'strata-podman-'));
    const p = new PrivatePodman(dir);
    try {
      await mkdir(join(dir, 'tmp'));
      await mkdir(join(dir, 'networks'));
      await writeFile(
        join(dir, 'containers.conf'),
        [
          '[containers]',
          'default_ulimits = ["nofile=10000:10000"]',
          '[network]',
          `network_config_dir = "${join(dir, 'networks')}"`,
          '[engine]',
          'cgroup_manager = "cgroupfs"',
          'events_logger = "none"',
          `tmp_dir = "${join(dir, 'libpod')}"`,
          '',
        ].join('\n'),
      );
      await writeFile(
        join(dir, 'registries.conf'),
        ['unqualified-search-registries = []', ...insecure.flatMap((h) => ['[[registry]]', `location = "${h}"`, 'insecure = true']), ''].join('\n'),
      );
      await writeFile(
        join(dir, 'storage.conf'),
        ['[storage]', 'driver = "vfs"', `graphroot = "${join(dir, 'root')}"`, `runroot = "${join(dir, 'runroot')}"`, ''].join('\n'),
      );
    } catch (e) {
      await p.stop();
      throw e;
    }
    return p;
  }

  podman(args: string[]): Promise<RunResult> {
    const storage = ['--root', join(this.dir, 'root'), '--runroot', join(this.dir, 'runroot'), '--storage-driver', 'vfs', '--tmpdir', join(this.dir, 'libpod')];
    return run(PODMAN, [...storage, ...args], { env: this.#env });
  }

  async stop(): Promise<void> {
    await unmountUnder(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * `podman push` (Docker schema 2 as loaded, then converted to OCI) and
 * `podman pull` by tag and by digest: the registry's digest, podman's digest
 * file and the pulled image's digest and ID all agree.
 */
export async function podmanRoundTrip(podman: PrivatePodman, host: string, base: string, archive: string): Promise<void> {
  const ok = (r: RunResult, what: string): string => {
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const inspect = async (ref: string) => ok(await podman.podman(['image', 'inspect', '--format', '{{.Id}} {{.Digest}}', ref]), `inspect ${ref}`).split(' ');
  ok(await podman.podman(['load', '-q', '-i', archive]), 'load');
  const [id] = await inspect('localhost/busybox:latest');
  const ref = `${host}/podman/busybox:v1`;
  ok(await podman.podman(['tag', 'localhost/busybox:latest', ref]), 'tag');

  const digestFile = join(podman.dir, 'digest');
  ok(await podman.podman(['push', '--quiet', '--digestfile', digestFile, ref]), 'push');
  const pushed = (await readFile(digestFile, 'utf8')).trim();
  assert.match(pushed, /^sha256:[0-9a-f]{64}$/);
  assert.equal(await registryDigest(base, 'podman/busybox', 'v1'), pushed);

  ok(await podman.podman(['rmi', ref, 'localhost/busybox:latest']), 'rmi');
  ok(await podman.podman(['pull', '--quiet', ref]), 'pull');
  assert.deepEqual(await inspect(ref), [id, pushed], 'the pulled image has the pushed ID and digest');
  const byDigest = `${host}/podman/busybox@${pushed}`;
  ok(await podman.podman(['pull', '--quiet', byDigest]), 'pull by digest');
  assert.deepEqual(await inspect(byDigest), [id, pushed]);

  const oci = `${host}/podman/busybox:oci`;
  ok(await podman.podman(['tag', ref, oci]), 'tag oci');
  ok(await podman.podman(['push', '--quiet', '--format', 'oci', '--digestfile', digestFile, oci]), 'push --format oci');
  const ociDigest = (await readFile(digestFile, 'utf8')).trim();
  assert.notEqual(ociDigest, pushed, 'converted to an OCI manifest');
  assert.equal(await registryDigest(base, 'podman/busybox', 'oci'), ociDigest);
  ok(await podman.podman(['rmi', '--all', '--force']), 'rmi --all');
  // The conversion rewrites the config too, so the OCI image's ID is its new config's digest.
  const manifest = await new Client(base).req('GET', '/v2/podman/busybox/manifests/oci', { headers: { Accept: OCI_MANIFEST } });
  assert.equal(manifest.headers.get('content-type'), OCI_MANIFEST);
  const ociId = manifest.json<{ config: { digest: string } }>().config.digest.replace('sha256:', '');
  ok(await podman.podman(['pull', '--quiet', oci]), 'pull oci');
  assert.deepEqual(await inspect(oci), [ociId, ociDigest]);
}
