import { digestOf, parseDigest, type Digest } from '../digest/digest.js';
import { errors } from '../errors/errors.js';
import type { ImageRecord } from '../metadata/images.js';
import type { Lease } from '../metadata/leases.js';
import type { ImageConfig } from '../oci/image.js';
import { chainIds } from './ids.js';
import { unpackLayers, type UnpackDeps } from './unpack.js';

export interface LayerBlob {
  digest: Digest;
  mediaType: string;
  size: number;
}

/** Configs are small JSON documents; anything bigger is hostile or broken. */
export const MAX_CONFIG_BYTES = 8 << 20;

export function parseImageConfig(bytes: Buffer, where: string): ImageConfig {
  if (bytes.length > MAX_CONFIG_BYTES) throw errors.invalidManifest(`${where}: image config is larger than 8 MiB`);
  let config: ImageConfig;
  try {
    config = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw errors.invalidManifest(`${where}: image config is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof config !== 'object' || config === null || !config.rootfs || !Array.isArray(config.rootfs.diff_ids)) {
    throw errors.invalidManifest(`${where}: image config has no rootfs.diff_ids`);
  }
  config.rootfs.diff_ids.forEach((d, i) => parseDigest(String(d), `${where}: rootfs.diff_ids[${i}]`));
  return config;
}

export type PreparedImage = Omit<ImageRecord, 'loadedAt'>;

/**
 * Prepares an image: stores its config blob and unpacks its layers by
 * chainID, under the lease. Nothing of the image is visible until the caller
 * stores the returned record (with its tags) in one transaction.
 */
export async function prepareImage(
  deps: UnpackDeps,
  configBytes: Buffer,
  blobs: LayerBlob[],
  lease: Lease,
  where = 'image',
): Promise<PreparedImage> {
  const config = parseImageConfig(configBytes, where);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== blobs.length) {
    throw errors.invalidManifest(
      `${where}: the config lists ${diffIds.length} layers (rootfs.diff_ids) but the manifest has ${blobs.length}`,
    );
  }
  const id = digestOf(configBytes);
  lease.add('content', id);
  await deps.content.put(configBytes, id);
  const chains = chainIds(diffIds);
  const layers = blobs.map((b, i) => ({
    diffId: diffIds[i],
    chainId: chains[i],
    blobDigest: b.digest,
    mediaType: b.mediaType,
    blobSize: b.size,
  }));
  const sizes = await unpackLayers(deps, layers, lease);
  return {
    id,
    configSize: configBytes.length,
    created: typeof config.created === 'string' ? config.created : undefined,
    topLayer: chains[chains.length - 1],
    size: sizes.reduce((a, b) => a + b, 0),
    layers,
  };
}
