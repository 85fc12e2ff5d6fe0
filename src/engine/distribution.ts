import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { errors, isStrataError } from '../errors/errors.js';
import { familiarString, fullName, parseNormalizedNamed, withDefaultTag, type Reference } from '../oci/reference.js';
import type { Index, Manifest } from '../oci/image.js';
import { CredentialStore, type Credentials } from '../remotes/credentials.js';
import { loadRegistriesConfig, type RegistriesConfig } from '../remotes/hosts.js';
import { copyBetweenRegistries, fetchImageBlobs } from '../remotes/copy.js';
import { ingestLockDir } from '../remotes/ingest-lock.js';
import { hostPlatform, parsePlatform } from '../remotes/platform.js';
import { noProgress, type ProgressFn } from '../remotes/progress.js';
import { pullImage, resolveWithMirrors, type PullOutcome } from '../remotes/pull.js';
import { pushImage, type PushOutcome } from '../remotes/push.js';
import { Remotes } from '../remotes/registry.js';
import { fetchManifest } from '../remotes/resolver.js';
import { drain, send } from '../remotes/transport.js';
import { BlobSources } from '../remotes/sources.js';
import { saveArchive } from '../images/archive-save.js';
import type { Engine } from './engine.js';

export interface PullOptions {
  /** os[/arch[/variant]]; this host's (linux/amd64 here) by default. */
  platform?: string;
  /** Every tag of the repository (`pull -a`). */
  allTags?: boolean;
  /** Blobs downloaded at once; 4 by default. */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface PushOptions {
  allTags?: boolean;
  concurrency?: number;
  /** Blobs up to this size go in one request (16 MiB by default); larger ones in chunks. */
  monolithicMax?: number;
  /** Chunk size of chunked uploads (64 MiB by default). */
  chunkSize?: number;
  signal?: AbortSignal;
}

const MiB = 1 << 20;

/**
 * Pull, push, login and copy between the local store and v2/OCI
 * registries. One instance holds the connection pools and token caches of
 * the operations it runs; close() releases them.
 *
 *   const dist = new DistributionService(engine);
 *   const [pulled] = await dist.pull('localhost:5000/app:1', {}, (e) => console.log(e.id, e.status));
 *   dist.close();
 */
export class DistributionService {
  readonly remotes: Remotes;
  readonly defaultRegistry: string;
  #engine: Engine;
  #sources: BlobSources;

  constructor(engine: Engine, opts: { config?: RegistriesConfig; credentials?: CredentialStore } = {}) {
    const config = opts.config ?? loadRegistriesConfig();
    this.#engine = engine;
    this.remotes = new Remotes(config, opts.credentials ?? new CredentialStore());
    this.#sources = new BlobSources(engine.root);
    // An engine opened with an explicit default wins; otherwise the registry configuration's.
    this.defaultRegistry = engine.defaultRegistry !== 'docker.io' ? engine.defaultRegistry : (config.defaultRegistry ?? engine.defaultRegistry);
  }

  #blobStore() {
    return { content: this.#engine.content, lockDir: ingestLockDir(this.#engine.tmpDir) };
  }

  /** A user's name made fully qualified; `tagged` adds ":latest" when there is neither tag nor digest. */
  parse(name: string, tagged = true): Reference {
    const ref = parseNormalizedNamed(name, { defaultDomain: this.defaultRegistry });
    return tagged ? withDefaultTag(ref) : ref;
  }

  #hint(ref: Reference): string {
    if (ref.domain !== this.defaultRegistry) return '';
    return (
      `${ref.domain} is the default registry for names without a registry host, and it cannot be reached from here. ` +
      'Name the registry (host:port/name), or set STRATA_DEFAULT_REGISTRY or "defaultRegistry" in /etc/strata/registries.json'
    );
  }

  async pull(name: string, opts: PullOptions = {}, progress: ProgressFn = noProgress): Promise<PullOutcome[]> {
    const ref = this.parse(name, !opts.allTags);
    if (opts.allTags && (ref.tag || ref.digest)) throw errors.invalidArgument('tag can\'t be used with --all-tags/-a');
    const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
    const one = { platform, strictPlatform: !!opts.platform, concurrency: opts.concurrency ?? 4, signal: opts.signal };
    const refs = opts.allTags ? (await this.listTags(ref)).map((tag) => ({ ...ref, tag })) : [ref];
    const out: PullOutcome[] = [];
    for (const r of refs) {
      const pulled = await pullImage(this.#engine, this.remotes, this.#sources, r, one, progress, this.#hint(r));
      const what = familiarString(r, { defaultDomain: this.defaultRegistry });
      progress({ id: '', status: pulled.updated ? `Status: Downloaded newer image for ${what}` : `Status: Image is up to date for ${what}` });
      out.push(pulled);
    }
    return out;
  }

  /** Tags of a repository, as the registry lists them (GET /v2/<name>/tags/list). */
  async listTags(ref: Reference): Promise<string[]> {
    const client = this.remotes.repository(this.remotes.hosts.endpoint(ref.domain), ref.path, ['pull']);
    const res = await client.request('GET', 'tags/list', { what: `tags of ${fullName(ref)}` });
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c as Buffer);
    const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { tags?: string[] | null };
    return (doc.tags ?? []).sort();
  }

  async push(name: string, opts: PushOptions = {}, progress: ProgressFn = noProgress): Promise<PushOutcome[]> {
    const ref = this.parse(name, !opts.allTags);
    if (ref.digest) throw errors.invalidArgument(`cannot push a digest reference (${name}): push a tag`);
    const repo = fullName(ref);
    const tags = opts.allTags
      ? this.#engine.imageStore.allTags().map((t) => t.name).filter((t) => t.startsWith(`${repo}:`)).sort()
      : [`${repo}:${ref.tag}`];
    if (tags.length === 0) throw errors.imageNotFound(`An image does not exist locally with the tag: ${repo}`);
    const one = { concurrency: opts.concurrency ?? 4, monolithicMax: opts.monolithicMax ?? 16 * MiB, chunkSize: opts.chunkSize ?? 64 * MiB, signal: opts.signal };
    const images = tags.map((t) => {
      try {
        return { tag: t.slice(repo.length + 1), image: this.#engine.images.resolve(t) };
      } catch (e) {
        if (isStrataError(e, 'NotFound')) throw errors.imageNotFound(`An image does not exist locally with the tag: ${t}`);
        throw e;
      }
    });
    progress({ id: '', status: `The push refers to repository [${repo}]` });
    const out: PushOutcome[] = [];
    for (const { tag, image } of images) {
      out.push(await this.#withHint(ref, () => pushImage(this.#engine, this.remotes, this.#sources, image, { ...ref, tag }, one, progress)));
    }
    return out;
  }

  async #withHint<T>(ref: Reference, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isStrataError(e, 'Unavailable') && /cannot reach registry/.test(e.message) && this.#hint(ref)) e.message += `. ${this.#hint(ref)}`;
      throw e;
    }
  }

  /** "host:port" for a login server as users write it ("https://host/", "index.docker.io" too). */
  registryOf(server: string | undefined): string {
    if (!server) return this.defaultRegistry;
    const s = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    return s === 'index.docker.io' || s === 'registry-1.docker.io' ? 'docker.io' : s;
  }

  /** Checks the credentials against the registry (its token server for Bearer auth), then stores them. */
  async login(server: string | undefined, creds: Credentials): Promise<{ registry: string; storedIn: string }> {
    const registry = this.registryOf(server);
    this.remotes.useCredentials(registry, creds);
    const ep = this.remotes.hosts.endpoint(registry);
    const ref: Reference = { domain: registry, path: 'x' };
    await this.#withHint(ref, async () => {
      const base = await this.remotes.base(ep);
      const auth = this.remotes.authorizer(ep);
      if (!auth.challenge) return; // the registry needs no credentials; store them anyway, as Docker does
      const header = await auth.header([]);
      if (auth.challenge.scheme === 'basic') {
        const res = await send(this.remotes.agents, { method: 'GET', url: new URL('/v2/', base), headers: header ? { authorization: header } : {}, skipVerify: ep.skipVerify });
        drain(res);
        if (res.status === 401) throw errors.unauthorized(`login to ${registry} failed: incorrect username or password`);
      }
    });
    return { registry, storedIn: await this.remotes.credentials.store(registry, creds) };
  }

  async logout(server: string | undefined): Promise<{ registry: string; removed: boolean }> {
    const registry = this.registryOf(server);
    return { registry, removed: await this.remotes.credentials.erase(registry) };
  }

  /** The manifest or index a reference names, parsed, as `docker manifest inspect` shows it. */
  async manifestInspect(name: string): Promise<Manifest | Index> {
    const ref = this.parse(name);
    const client = this.remotes.repository(this.remotes.hosts.endpoint(ref.domain), ref.path, ['pull']);
    const m = await this.#withHint(ref, () => fetchManifest(client, ref.digest ?? ref.tag!, fullName(ref)));
    return JSON.parse(m.bytes.toString('utf8')) as Manifest | Index;
  }

  /**
   * Copies an image without unpacking it, skopeo-style. Locations are
   * `docker://REF` (a registry), `strata:REF` (the local store) or
   * `oci-archive:PATH` (an OCI layout tar that `load` and skopeo read).
   * Registry to registry keeps the manifest bytes, so the digest is kept.
   */
  async copy(src: string, dst: string, opts: PullOptions = {}, progress: ProgressFn = noProgress): Promise<{ digest?: string }> {
    const from = splitLocation(src);
    const to = splitLocation(dst);
    const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
    if (from.kind === 'docker' && to.kind === 'docker') {
      const s = this.parse(from.rest);
      const d = this.parse(to.rest);
      const { client } = await resolveWithMirrors(this.remotes, s, platform, this.#hint(s));
      return this.#engine.leases.with((lease) =>
        copyBetweenRegistries(this.#blobStore(), lease, client, s, this.remotes, d, this.#sources, { platform, concurrency: opts.concurrency ?? 4 }, progress),
      );
    }
    if (from.kind === 'docker' && to.kind === 'strata') {
      const [pulled] = await this.pull(from.rest, opts, progress);
      this.#engine.images.tag(pulled.image.id, to.rest);
      return { digest: pulled.digest };
    }
    if (from.kind === 'strata' && to.kind === 'docker') {
      const image = this.#engine.images.resolve(from.rest);
      const d = this.parse(to.rest);
      const pushed = await pushImage(this.#engine, this.remotes, this.#sources, image, d, { concurrency: opts.concurrency ?? 4, monolithicMax: 16 * MiB, chunkSize: 64 * MiB }, progress);
      return { digest: pushed.digest };
    }
    if (to.kind === 'oci-archive' && (from.kind === 'docker' || from.kind === 'strata')) {
      const tmp = `${to.rest}.strata-tmp-${process.pid}`;
      try {
        if (from.kind === 'strata') await this.#engine.images.save([from.rest], createWriteStream(tmp));
        else {
          const s = this.parse(from.rest);
          const { client, resolved } = await resolveWithMirrors(this.remotes, s, platform, this.#hint(s));
          await this.#engine.leases.with(async (lease) => {
            const image = await fetchImageBlobs(this.#blobStore(), lease, client, resolved, opts.concurrency ?? 4, progress);
            const tagged = `${fullName(s)}:${s.tag ?? 'latest'}`;
            await saveArchive([{ image: { ...image, loadedAt: new Date() }, names: s.digest ? [] : [tagged], familiar: (n) => n }], this.#engine.content, createWriteStream(tmp));
          });
        }
        await rename(tmp, to.rest);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
      return {};
    }
    throw errors.unsupported(`image copy from ${from.kind}: to ${to.kind}: is not supported (supported: docker:// to docker://, strata:, oci-archive:; strata: to docker://, oci-archive:)`);
  }

  close(): void {
    this.remotes.close();
  }
}

function splitLocation(s: string): { kind: 'docker' | 'strata' | 'oci-archive'; rest: string } {
  if (s.startsWith('docker://')) return { kind: 'docker', rest: s.slice('docker://'.length) };
  if (s.startsWith('strata:')) return { kind: 'strata', rest: s.slice('strata:'.length) };
  if (s.startsWith('oci-archive:')) return { kind: 'oci-archive', rest: s.slice('oci-archive:'.length) };
  throw errors.invalidArgument(`"${s}": expected docker://REFERENCE, strata:REFERENCE or oci-archive:PATH`);
}
