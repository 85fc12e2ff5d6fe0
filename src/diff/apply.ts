import { once } from 'node:events';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { applyLayer } from '../archive/apply.js';
import { decompressStream } from '../archive/compression.js';
import type { ContentStore } from '../content/store.js';
import type { Digest } from '../digest/digest.js';
import { VerifyingStream } from '../digest/verifier.js';
import { withTempMount } from '../mount/linux.js';
import { directPath, overlayUpperDir, type Mount } from '../mount/mount.js';

export interface ApplyResult {
  /** The digest of the uncompressed tar: the layer's DiffID. */
  diffId: Digest;
  entries: number;
}

/**
 * Applies a layer blob to the mounts of a prepared snapshot. Fast paths write
 * straight into an overlay upperdir (whiteouts as overlay devices) or into the
 * single directory of a bind mount; anything else is mounted temporarily.
 * The uncompressed stream is hashed on the way, so a wrong DiffID fails the
 * apply and the caller discards the snapshot.
 */
export async function applyBlob(
  content: ContentStore,
  blob: Digest,
  mounts: Mount[],
  opts: { expectedDiffId?: Digest; tmpDir: string; signal?: AbortSignal },
): Promise<ApplyResult> {
  const upper = overlayUpperDir(mounts);
  if (upper) return applyStream(await content.reader(blob), upper, 'overlay', opts.expectedDiffId);
  const direct = directPath(mounts);
  if (direct) return applyStream(await content.reader(blob), direct, 'plain', opts.expectedDiffId);
  return withTempMount(mounts, opts.tmpDir, async (dir) =>
    applyStream(await content.reader(blob), dir, 'plain', opts.expectedDiffId),
  );
}

/** Checks that a blob decompresses to the expected DiffID, reading it once without unpacking. */
export async function verifyDiffId(content: ContentStore, blob: Digest, expectedDiffId: Digest): Promise<void> {
  const tar = await decompressStream(await content.reader(blob));
  await pipeline(tar, new VerifyingStream({ expectedDigest: expectedDiffId, what: `layer ${blob} DiffID` }), new Writable({ write: (_c, _e, cb) => cb() }));
}

export async function applyStream(
  blobStream: Readable,
  dir: string,
  format: 'overlay' | 'plain',
  expectedDiffId?: Digest,
): Promise<ApplyResult> {
  const tar = await decompressStream(blobStream);
  const verifier = new VerifyingStream({ expectedDigest: expectedDiffId, what: 'layer DiffID' });
  tar.on('error', (e) => verifier.destroy(e));
  tar.pipe(verifier);
  const ended = once(verifier, 'end');
  ended.catch(() => undefined); // surfaced below; avoids an unhandled rejection if apply fails first
  const { entries } = await applyLayer(verifier, dir, { format });
  // Tar padding after the end-of-archive marker still counts toward the DiffID.
  verifier.resume();
  await ended;
  return { diffId: verifier.digest!, entries };
}
