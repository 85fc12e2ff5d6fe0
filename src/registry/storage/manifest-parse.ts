import { isDigest, type Digest } from '../../digest/digest.js';
import type { Descriptor } from '../../oci/image.js';
import { isIndexType, isManifestType, MediaTypes } from '../../oci/media-types.js';
import { regError } from './errors.js';

/** What the registry needs from a manifest: its type, what it references, and its referrer fields. */
export interface ParsedManifest {
  mediaType: string;
  /** Config and layers of an image manifest. */
  blobs: Descriptor[];
  /** Children of an index or manifest list. */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** The artifactType a referrers list shows: the field, else an image manifest's config type. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** distribution's limit, and the spec's minimum: larger manifests get 413. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const invalid = (why: string): Error => regError('MANIFEST_INVALID', `manifest invalid: ${why}`);

function descriptor(v: unknown, where: string): Descriptor {
  if (typeof v !== 'object' || v === null) throw invalid(`${where} is not a descriptor object`);
  const d = v as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw invalid(`${where}.mediaType is missing`);
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) throw invalid(`${where}.digest "${String(d.digest).slice(0, 150)}" is not a valid digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`${where}.size must be a non-negative integer`);
  if (d.urls !== undefined && (!Array.isArray(d.urls) || d.urls.some((u) => typeof u !== 'string'))) throw invalid(`${where}.urls must be a list of strings`);
  return d as unknown as Descriptor;
}

function annotations(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Object.values(v).some((x) => typeof x !== 'string')) throw invalid('annotations must map strings to strings');
  return v as Record<string, string>;
}

/**
 * Parses manifest bytes pushed with `contentType`. Accepts OCI image
 * manifests and indexes and Docker schema 2 manifests and lists; the body's
 * `mediaType`, when present, must agree with the Content-Type.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw invalid(`not JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('not a JSON object');
  const m = doc as Record<string, unknown>;
  if (m.schemaVersion !== 2) throw invalid(`schemaVersion ${JSON.stringify(m.schemaVersion)} is not supported (only 2; Docker schema 1 is not accepted)`);
  const ct = contentType?.split(';')[0].trim();
  const known = (t: string | undefined): boolean => isManifestType(t) || isIndexType(t);
  if (m.mediaType !== undefined && typeof m.mediaType !== 'string') throw invalid('mediaType must be a string');
  if (typeof m.mediaType === 'string' && known(ct) && m.mediaType !== ct) {
    throw invalid(`its mediaType ${m.mediaType} does not match the Content-Type ${ct}`);
  }
  const mediaType = (m.mediaType as string | undefined) ?? (known(ct) ? ct! : Array.isArray(m.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest);
  if (!known(mediaType)) throw invalid(`media type ${mediaType} is not a manifest or index type this registry accepts`);
  const subject = m.subject === undefined ? undefined : descriptor(m.subject, 'subject');
  if (m.artifactType !== undefined && typeof m.artifactType !== 'string') throw invalid('artifactType must be a string');
  if (isIndexType(mediaType)) {
    if (!Array.isArray(m.manifests)) throw invalid('an index needs a "manifests" list');
    const manifests = m.manifests.map((d, i) => descriptor(d, `manifests[${i}]`));
    return { mediaType, blobs: [], manifests, subject, artifactType: m.artifactType as string | undefined, annotations: annotations(m.annotations) };
  }
  if (Array.isArray(m.manifests)) throw invalid(`an image manifest (${mediaType}) cannot have a "manifests" list`);
  const config = descriptor(m.config, 'config');
  if (m.layers !== undefined && !Array.isArray(m.layers)) throw invalid('"layers" must be a list');
  const layers = ((m.layers as unknown[] | undefined) ?? []).map((d, i) => descriptor(d, `layers[${i}]`));
  return {
    mediaType,
    blobs: [config, ...layers],
    manifests: [],
    subject,
    artifactType: (m.artifactType as string | undefined) || config.mediaType,
    annotations: annotations(m.annotations),
  };
}

/** Blobs a manifest needs to be present in the repository (foreign layers with urls are fetched elsewhere). */
export function requiredBlobs(p: ParsedManifest): Digest[] {
  return p.blobs.filter((d) => !d.urls?.length).map((d) => d.digest);
}
