import type { Engine } from '../engine/engine.js';
import { shortId, type Digest } from '../digest/digest.js';
import { writeTx } from '../metadata/db.js';
import type { ImageRecord } from '../metadata/images.js';
import type { Reference } from '../oci/reference.js';
import { fullName } from '../oci/reference.js';
import { manifestFor } from './manifest-build.js';
import { runLimited, type ProgressFn } from './progress.js';
import { pushBlob, pushManifest } from './pusher.js';
import type { Remotes } from './registry.js';
import type { BlobSources } from './sources.js';

export interface PushOneOptions {
  concurrency: number;
  /** Blobs up to this size are uploaded in one request, larger ones in chunks of chunkSize. */
  monolithicMax: number;
  chunkSize: number;
  signal?: AbortSignal;
}

export interface PushOutcome {
  tag: string;
  digest: Digest;
  size: number;
}

const PROGRESS_INTERVAL_MS = 200;

/**
 * Pushes a local image under `ref` (a tag): every blob the registry lacks,
 * `concurrency` at a time, then the manifest. Blobs are pushed as stored:
 * layers loaded from `docker save` archives stay uncompressed (Docker would
 * gzip them, at the cost of CPU time and a new blob digest per push). The
 * manifest's digest is recorded as the image's repo digest.
 */
export async function pushImage(
  engine: Engine,
  remotes: Remotes,
  sources: BlobSources,
  image: ImageRecord,
  ref: Reference,
  opts: PushOneOptions,
  progress: ProgressFn,
): Promise<PushOutcome> {
  const repo = fullName(ref);
  const client = remotes.repository(remotes.hosts.endpoint(ref.domain), ref.path, ['pull', 'push']);
  const manifest = await manifestFor(image, engine.imageStore.repoDigestsOf(image.id), engine.content);
  const layerIds = new Map<Digest, string>(image.layers.map((l) => [l.blobDigest, shortId(l.diffId)]));
  const blobs = new Map<Digest, number>([[image.id, image.configSize], ...image.layers.map((l): [Digest, number] => [l.blobDigest, l.blobSize])]);
  for (const id of new Set(layerIds.values())) progress({ id, status: 'Preparing' });
  [...layerIds.values()].slice(opts.concurrency).forEach((id) => progress({ id, status: 'Waiting' }));
  await runLimited(
    [...blobs.entries()],
    opts.concurrency,
    async ([digest, size], signal) => {
      const id = layerIds.get(digest);
      let last = 0;
      const outcome = await pushBlob(client, engine.content, { digest, size }, {
        mountFrom: await sources.mountCandidates(digest, ref.domain, ref.path),
        monolithicMax: opts.monolithicMax,
        chunkSize: opts.chunkSize,
        signal,
        onProgress: (sent) => {
          if (id && Date.now() - last > PROGRESS_INTERVAL_MS) {
            last = Date.now();
            progress({ id, status: 'Pushing', current: sent, total: size });
          }
        },
      });
      if (!id) return;
      if (outcome.kind === 'exists') progress({ id, status: 'Layer already exists' });
      else if (outcome.kind === 'mounted') progress({ id, status: `Mounted from ${outcome.from}` });
      else progress({ id, status: 'Pushed' });
    },
    opts.signal,
  );
  const tag = ref.tag ?? 'latest';
  const digest = await pushManifest(client, tag, manifest.mediaType, manifest.bytes, opts.signal);
  await engine.leases.with(async (lease) => {
    lease.add('content', digest);
    await engine.content.put(manifest.bytes, digest);
    writeTx(engine.db, () => {
      engine.db.prepare('INSERT OR REPLACE INTO repo_digests (name, image_id, manifest_digest) VALUES (?, ?, ?)').run(repo, image.id, digest);
    });
  });
  await sources.add([...blobs.keys()], repo).catch(() => undefined);
  progress({ id: '', status: `${tag}: digest: ${digest} size: ${manifest.bytes.length}` });
  return { tag, digest, size: manifest.bytes.length };
}
