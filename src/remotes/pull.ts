import { mediaTypeCompression } from '../archive/compression.js';
import { fullName, type Reference } from '../oci/reference.js';
import type { Engine } from '../engine/engine.js';
import { errors, isStrataError } from '../errors/errors.js';
import { chainIds } from '../images/ids.js';
import { MAX_CONFIG_BYTES, parseImageConfig } from '../images/register.js';
import { writeTx } from '../metadata/db.js';
import type { ImageLayer, ImageRecord } from '../metadata/images.js';
import type { Lease } from '../metadata/leases.js';
import type { Digest } from '../digest/digest.js';
import { BlobTransfer, fetchBlob } from './fetcher.js';
import { ingestLockDir } from './ingest-lock.js';
import { formatPlatform, type PlatformSpec } from './platform.js';
import type { ProgressFn } from './progress.js';
import { pullLayers } from './pull-layers.js';
import type { RepositoryClient, Remotes } from './registry.js';
import { resolveImage, type ResolvedImage } from './resolver.js';
import type { BlobSources } from './sources.js';

export interface PullOneOptions {
  platform: PlatformSpec;
  /** The platform was asked for (--platform): an image for another one is an error, not a warning. */
  strictPlatform?: boolean;
  concurrency: number;
  signal?: AbortSignal;
}

export interface PullOutcome {
  /** The fully qualified reference pulled ("localhost:5000/app:1"). */
  reference: string;
  /** The digest the reference resolved to (the index's, for a multi-platform image). */
  digest: Digest;
  image: ImageRecord;
  /** False when the tag already pointed at this image ("Image is up to date"). */
  updated: boolean;
}

/**
 * Resolves a reference against the registry's mirrors, then the registry.
 * A mirror that is down or lacks the image is skipped; the registry's own
 * answer is final.
 */
export async function resolveWithMirrors(remotes: Remotes, ref: Reference, platform: PlatformSpec, unreachableHint: string) {
  const reference = ref.digest ?? ref.tag!;
  const display = ref.digest ? `${fullName(ref)}@${ref.digest}` : `${fullName(ref)}:${ref.tag}`;
  let lastMirrorError: unknown;
  for (const ep of remotes.hosts.pullEndpoints(ref.domain)) {
    const client = remotes.repository(ep, ref.path, ['pull']);
    try {
      return { client, resolved: await resolveImage(client, reference, display, platform) };
    } catch (e) {
      if (ep.mirror && isStrataError(e)) {
        lastMirrorError = e;
        continue;
      }
      if (isStrataError(e, 'Unavailable') && /cannot reach registry/.test(e.message) && unreachableHint) {
        e.message += `. ${unreachableHint}`;
      }
      if (isStrataError(e, 'NotFound') && /manifest unknown|not found/.test(e.message) && !/no matching manifest/.test(e.message)) {
        throw errors.imageNotFound(`manifest for ${display} not found: ${e.message.replace(`manifest for ${display}: `, '')}`, { cause: lastMirrorError ?? e });
      }
      throw e;
    }
  }
  throw errors.internal('no endpoint to pull from');
}

/**
 * Pulls one image: its manifest (and index) and config into the content
 * store, its layers downloaded and unpacked at once, then the image, its tag
 * and its repo digest stored in one transaction. Until then nothing is
 * visible, and the lease keeps GC off what has been written.
 */
export async function pullImage(
  engine: Engine,
  remotes: Remotes,
  sources: BlobSources,
  ref: Reference,
  opts: PullOneOptions,
  progress: ProgressFn,
  unreachableHint = '',
): Promise<PullOutcome> {
  const reference = ref.digest ?? ref.tag!;
  progress({ id: '', status: `${reference}: Pulling from ${ref.path}` });
  const { client, resolved } = await resolveWithMirrors(remotes, ref, opts.platform, unreachableHint);
  const repo = fullName(ref);
  return engine.leases.with(async (lease) => {
    const { image, layers } = await fetchConfig(engine, client, resolved, lease, repo, opts.strictPlatform ? opts.platform : undefined);
    const tagName = ref.tag !== undefined && ref.digest === undefined ? `${repo}:${ref.tag}` : undefined;
    const before = tagName ? engine.imageStore.resolveTag(tagName) : engine.imageStore.get(image.id)?.id;
    const deps = { content: engine.content, snapshotter: engine.snapshotter, images: engine.imageStore, tmpDir: engine.tmpDir };
    const { sizes } = await pullLayers(deps, client, layers, lease, { concurrency: opts.concurrency, progress, signal: opts.signal });
    const record = { ...image, size: sizes.reduce((a, b) => a + b, 0) };
    writeTx(engine.db, () => {
      engine.imageStore.put(record);
      if (tagName) engine.imageStore.tag(tagName, record.id);
      engine.db
        .prepare('INSERT OR REPLACE INTO repo_digests (name, image_id, manifest_digest) VALUES (?, ?, ?)')
        .run(repo, record.id, resolved.top.digest);
    });
    await sources.add([record.id, ...layers.map((l) => l.blobDigest)], repo).catch(() => undefined);
    progress({ id: '', status: `Digest: ${resolved.top.digest}` });
    return { reference: tagName ?? `${repo}@${ref.digest}`, digest: resolved.top.digest, image: engine.imageStore.get(record.id)!, updated: before !== record.id };
  });
}

/** Stores the manifests and the config; returns the image record (size still 0) and its layers. */
async function fetchConfig(engine: Engine, client: RepositoryClient, resolved: ResolvedImage, lease: Lease, repo: string, platform?: PlatformSpec) {
  for (const m of [resolved.top, resolved.manifest]) {
    lease.add('content', m.digest);
    await engine.content.put(m.bytes, m.digest);
  }
  const desc = resolved.parsed.config;
  if (desc.size > MAX_CONFIG_BYTES) throw errors.invalidManifest(`${repo}: the image config is ${desc.size} bytes, more than 8 MiB`);
  await fetchBlob(client, { content: engine.content, lockDir: ingestLockDir(engine.tmpDir) }, lease, new BlobTransfer(desc.digest, desc.size));
  const configBytes = await engine.content.readAll(desc.digest, MAX_CONFIG_BYTES);
  const config = parseImageConfig(configBytes, `image config of ${repo}`);
  if (platform && config.os && config.architecture && (config.os !== platform.os || config.architecture !== platform.architecture)) {
    throw errors.notFound(`${repo} is an image for ${config.os}/${config.architecture}, not ${formatPlatform(platform)} (use --platform)`);
  }
  const diffIds = config.rootfs.diff_ids;
  const blobs = resolved.parsed.layers;
  if (diffIds.length !== blobs.length) {
    throw errors.invalidManifest(`${repo}: the config lists ${diffIds.length} layers (rootfs.diff_ids) but the manifest has ${blobs.length}`);
  }
  blobs.forEach((b) => {
    if (b.urls?.length) throw errors.unsupported(`${repo}: layer ${b.digest} is a foreign layer (only at ${b.urls[0]}); foreign layers are not supported`);
    mediaTypeCompression(b.mediaType); // refuses layer types we cannot apply before anything downloads
  });
  const chains = chainIds(diffIds);
  const layers: ImageLayer[] = blobs.map((b, i) => ({ diffId: diffIds[i], chainId: chains[i], blobDigest: b.digest, mediaType: b.mediaType, blobSize: b.size }));
  const image = {
    id: desc.digest,
    configSize: configBytes.length,
    created: typeof config.created === 'string' ? config.created : undefined,
    topLayer: chains[chains.length - 1],
    size: 0,
    layers,
  };
  return { image, layers };
}
