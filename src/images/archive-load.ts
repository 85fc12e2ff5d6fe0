import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { decompressStream, detectCompression } from '../archive/compression.js';
import type { ContentStore } from '../content/store.js';
import { isDigest, parseDigest, type Digest } from '../digest/digest.js';
import { errors } from '../errors/errors.js';
import type { Lease } from '../metadata/leases.js';
import type { Index, Manifest } from '../oci/image.js';
import { isIndexType, MediaTypes } from '../oci/media-types.js';
import { prepareImage, type LayerBlob, type PreparedImage } from './register.js';
import type { UnpackDeps } from './unpack.js';

/** JSON documents of an archive (manifest.json, index.json, configs) are small. */
const MAX_DOCUMENT_BYTES = 8 << 20;

export interface LoadedImage {
  image: PreparedImage;
  /** Repository:tag names as written in the archive, not yet normalised. */
  names: string[];
}

interface ArchiveIndex {
  /** Small documents by path. */
  documents: Map<string, Buffer>;
  /** Blobs ingested into the content store, by archive path. */
  blobs: Map<string, { digest: Digest; size: number }>;
  /** Symlinks by path (docker save links a repeated layer to its first copy). */
  links: Map<string, string>;
}

/**
 * Loads an archive in Docker's `docker save` format (legacy manifest.json
 * with <id>/layer.tar, or the newer one with blobs/sha256) or an OCI image
 * layout (index.json), plain or compressed. One streaming pass ingests every
 * blob into the content store with its digest verified on the way; then each
 * image's layers are unpacked. The caller stores the images; until then
 * nothing is visible, and on failure the lease lets GC reclaim the blobs.
 */
export async function loadArchive(
  input: Readable,
  deps: UnpackDeps,
  lease: Lease,
): Promise<LoadedImage[]> {
  const index = await ingestArchive(input, deps.content, lease);
  const docs = index.documents;
  if (docs.has('manifest.json')) return loadDockerArchive(index, deps, lease);
  if (docs.has('index.json')) return loadOciLayout(index, deps, lease);
  throw errors.invalidArgument(
    'the archive has neither manifest.json (docker save format) nor index.json (OCI image layout): is it an image archive? (`import` takes a root filesystem tarball)',
  );
}

async function ingestArchive(input: Readable, content: ContentStore, lease: Lease): Promise<ArchiveIndex> {
  const documents = new Map<string, Buffer>();
  const blobs = new Map<string, { digest: Digest; size: number }>();
  const links = new Map<string, string>();
  const extract = tarStream.extract();
  const tar = await decompressStream(input);
  tar.on('error', (e) => extract.destroy(e));
  tar.pipe(extract);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = cleanName(h.name);
      if (h.type === 'symlink' || h.type === 'link') {
        const target = h.type === 'symlink' ? posix.join(posix.dirname(name), h.linkname ?? '') : cleanName(h.linkname ?? '');
        links.set(name, cleanName(target));
        entry.resume();
      } else if (h.type !== 'file' && h.type !== 'contiguous-file') {
        entry.resume();
      } else if (isDocument(name)) {
        documents.set(name, await readSmall(entry as unknown as Readable, name));
      } else {
        const blobDigest = digestFromPath(name);
        if (blobDigest || name.endsWith('/layer.tar') || name.endsWith('.tar')) {
          blobs.set(name, await ingestBlob(entry as unknown as Readable, h.size ?? 0, blobDigest, content, lease));
        } else {
          entry.resume();
        }
      }
    }
  } catch (e) {
    if (e instanceof Error && !('kind' in e)) {
      throw errors.corruptArchive(`the image archive is not a valid tar stream: ${e.message}`, { cause: e });
    }
    throw e;
  }
  return { documents, blobs, links };
}

function cleanName(name: string): string {
  return posix.normalize(name).replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

function isDocument(name: string): boolean {
  return (
    name === 'manifest.json' ||
    name === 'index.json' ||
    name === 'oci-layout' ||
    name === 'repositories' ||
    (name.endsWith('.json') && !name.startsWith('blobs/'))
  );
}

function digestFromPath(name: string): Digest | undefined {
  const m = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(name);
  const d = m ? `${m[1]}:${m[2]}` : undefined;
  return d && isDigest(d) ? d : undefined;
}

async function readSmall(entry: Readable, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of entry) {
    size += (c as Buffer).length;
    if (size > MAX_DOCUMENT_BYTES) throw errors.invalidManifest(`archive entry "${name}" is larger than 8 MiB`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Streams one tar entry into the content store. A blob named by its digest
 * that is already stored is skipped; an interrupted ingest of it resumes
 * where the last one stopped, so only the missing bytes are written.
 */
async function ingestBlob(
  entry: Readable,
  size: number,
  expected: Digest | undefined,
  content: ContentStore,
  lease: Lease,
): Promise<{ digest: Digest; size: number }> {
  if (expected) {
    lease.add('content', expected);
    if (await content.exists(expected)) {
      entry.resume();
      await new Promise((resolve) => entry.once('end', resolve));
      return { digest: expected, size };
    }
  }
  const ref = expected ? `load-${expected}` : `load-${process.pid}-${randomBytes(8).toString('hex')}`;
  const writer = await content.writer(ref, { total: size });
  try {
    const skip = writer.offset <= size ? writer.offset : 0;
    if (skip !== writer.offset) {
      await writer.abort();
      return ingestBlob(entry, size, expected, content, lease);
    }
    await pipeline(entry, skipBytes(skip), writer.stream);
    const digest = await writer.commit({ digest: expected, size }, (d) => lease.add('content', d));
    return { digest, size };
  } catch (e) {
    if (!expected) await writer.abort();
    throw e;
  }
}

function skipBytes(n: number): Transform {
  let left = n;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (left === 0) return cb(null, chunk);
      if (chunk.length <= left) {
        left -= chunk.length;
        return cb();
      }
      const rest = chunk.subarray(left);
      left = 0;
      cb(null, rest);
    },
  });
}

function parseJson<T>(buf: Buffer, where: string): T {
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (e) {
    throw errors.invalidManifest(`${where} is not valid JSON: ${(e as Error).message}`);
  }
}

function resolvePath(index: ArchiveIndex, path: string): string {
  let p = cleanName(path);
  for (let hops = 0; index.links.has(p); hops++) {
    if (hops > 16) throw errors.invalidManifest(`archive path "${path}" is a symlink loop`);
    p = index.links.get(p)!;
  }
  return p;
}

async function documentOrBlob(index: ArchiveIndex, content: ContentStore, path: string, where: string): Promise<Buffer> {
  const p = resolvePath(index, path);
  const doc = index.documents.get(p);
  if (doc) return doc;
  const blob = index.blobs.get(p);
  if (blob) return content.readAll(blob.digest, MAX_DOCUMENT_BYTES);
  throw errors.invalidManifest(`${where}: "${path}" is not in the archive`);
}

async function layerBlob(index: ArchiveIndex, content: ContentStore, path: string, where: string): Promise<LayerBlob> {
  const blob = index.blobs.get(resolvePath(index, path));
  if (!blob) throw errors.invalidManifest(`${where}: layer "${path}" is not in the archive`);
  return { digest: blob.digest, size: blob.size, mediaType: await sniffLayerType(content, blob.digest) };
}

async function sniffLayerType(content: ContentStore, digest: Digest): Promise<string> {
  const head = await content.reader(digest, { start: 0, end: 5 });
  const chunks: Buffer[] = [];
  for await (const c of head) chunks.push(c as Buffer);
  const kind = detectCompression(Buffer.concat(chunks));
  if (kind === 'gzip') return MediaTypes.dockerLayerGzip;
  if (kind === 'zstd') return MediaTypes.ociLayerZstd;
  return MediaTypes.dockerLayer;
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function loadDockerArchive(
  index: ArchiveIndex,
  deps: UnpackDeps,
  lease: Lease,
): Promise<LoadedImage[]> {
  const entries = parseJson<DockerManifestEntry[]>(index.documents.get('manifest.json')!, 'manifest.json');
  if (!Array.isArray(entries)) throw errors.invalidManifest('manifest.json: expected a JSON array of images');
  const out: LoadedImage[] = [];
  for (const [i, e] of entries.entries()) {
    const where = `manifest.json[${i}]`;
    if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers)) {
      throw errors.invalidManifest(`${where}: needs "Config" and "Layers"`);
    }
    const config = await documentOrBlob(index, deps.content, e.Config, where);
    const blobs = [];
    for (const l of e.Layers) blobs.push(await layerBlob(index, deps.content, String(l), where));
    const names = (e.RepoTags ?? []).map(String);
    out.push({ image: await prepareImage(deps, config, blobs, lease, where), names });
  }
  return out;
}

async function loadOciLayout(index: ArchiveIndex, deps: UnpackDeps, lease: Lease): Promise<LoadedImage[]> {
  const top = parseJson<Index>(index.documents.get('index.json')!, 'index.json');
  if (!Array.isArray(top?.manifests)) throw errors.invalidManifest('index.json: has no "manifests" array');
  const out: LoadedImage[] = [];
  for (const [i, desc] of top.manifests.entries()) {
    const where = `index.json manifests[${i}]`;
    const digest = parseDigest(String(desc.digest), `${where} digest`);
    const manifest = await pickManifest(index, deps.content, digest, desc.mediaType, where);
    const name = desc.annotations?.['io.containerd.image.name'] ?? refNameAsTag(desc.annotations?.['org.opencontainers.image.ref.name']);
    const config = await readBlob(index, deps.content, manifest.config.digest, `${where} config`);
    const blobs = manifest.layers.map((l, j) => {
      const d = parseDigest(String(l.digest), `${where} layers[${j}]`);
      if (!index.blobs.has(blobPath(d))) throw errors.invalidManifest(`${where}: layer ${d} is not in the archive`);
      return { digest: d, size: l.size, mediaType: l.mediaType };
    });
    out.push({ image: await prepareImage(deps, config, blobs, lease, where), names: name ? [name] : [] });
  }
  return out;
}

/** org.opencontainers.image.ref.name may be a whole reference or only a tag; only the former names an image. */
function refNameAsTag(ref: string | undefined): string | undefined {
  return ref && /[/:]/.test(ref) && !/^[\w][\w.-]*$/.test(ref) ? ref : undefined;
}

function blobPath(d: Digest): string {
  return `blobs/${d.replace(':', '/')}`;
}

async function readBlob(index: ArchiveIndex, content: ContentStore, digest: Digest, where: string): Promise<Buffer> {
  if (!index.blobs.has(blobPath(digest))) throw errors.invalidManifest(`${where}: blob ${digest} is not in the archive`);
  return content.readAll(digest, MAX_DOCUMENT_BYTES);
}

/** Follows an index or manifest list down to the manifest for this host's platform. */
async function pickManifest(
  index: ArchiveIndex,
  content: ContentStore,
  digest: Digest,
  mediaType: string | undefined,
  where: string,
  depth = 0,
): Promise<Manifest> {
  if (depth > 4) throw errors.invalidManifest(`${where}: indexes nested too deeply`);
  const doc = parseJson<Manifest & Index>(await readBlob(index, content, digest, where), `${where} (${digest})`);
  if (isIndexType(mediaType) || isIndexType(doc.mediaType) || Array.isArray(doc.manifests)) {
    const list = doc.manifests ?? [];
    const pick =
      list.find((m) => m.platform?.os === 'linux' && m.platform.architecture === hostArch()) ??
      list.find((m) => !m.platform) ??
      list[0];
    if (!pick) throw errors.invalidManifest(`${where}: index ${digest} lists no manifests`);
    return pickManifest(index, content, parseDigest(String(pick.digest)), pick.mediaType, where, depth + 1);
  }
  if (!doc.config || !Array.isArray(doc.layers)) {
    throw errors.invalidManifest(`${where}: manifest ${digest} has no config or layers`);
  }
  parseDigest(String(doc.config.digest), `${where} config digest`);
  return doc;
}

export function hostArch(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
  return map[process.arch] ?? process.arch;
}
