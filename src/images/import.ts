import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decompressStream } from '../archive/compression.js';
import type { Lease } from '../metadata/leases.js';
import type { ImageConfig } from '../oci/image.js';
import { MediaTypes } from '../oci/media-types.js';
import { applyChanges } from './changes.js';
import { hostArch } from './archive-load.js';
import { prepareImage, type PreparedImage } from './register.js';
import type { UnpackDeps } from './unpack.js';

/**
 * `import`: a root filesystem tarball (plain, gzip or zstd) becomes a
 * one-layer image. The layer is stored uncompressed, so its blob digest is its
 * DiffID, as `docker import` records it.
 */
export async function importTarball(
  input: Readable,
  opts: { source: string; changes: string[]; message?: string },
  deps: UnpackDeps,
  lease: Lease,
): Promise<PreparedImage> {
  const writer = await deps.content.writer(`import-${process.pid}-${randomBytes(8).toString('hex')}`);
  let diffId;
  try {
    await pipeline(await decompressStream(input), writer.stream);
    diffId = await writer.commit({}, (d) => lease.add('content', d));
  } catch (e) {
    await writer.abort();
    throw e;
  }
  const created = new Date().toISOString();
  const config: ImageConfig = {
    architecture: hostArch(),
    config: applyChanges({}, opts.changes),
    created,
    history: [{ created, comment: opts.message || `Imported from ${opts.source}` }],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [diffId] },
  };
  const { size } = await deps.content.info(diffId);
  return prepareImage(
    deps,
    Buffer.from(JSON.stringify(config)),
    [{ digest: diffId, size, mediaType: MediaTypes.dockerLayer }],
    lease,
    `import of ${opts.source}`,
  );
}
