import { Transform, type Readable } from 'node:stream';
import type { ContentStore } from '../content/store.js';
import { digestOf, type Digest } from '../digest/digest.js';
import { errors, isStrataError } from '../errors/errors.js';
import { repositoryScope } from './auth.js';
import type { RepositoryClient } from './registry.js';
import { drain, type HttpResponse } from './transport.js';

export type BlobPushOutcome = { kind: 'exists' } | { kind: 'mounted'; from: string } | { kind: 'pushed' };

export interface PushBlobOptions {
  /** Repositories of the same registry that hold the blob (tried for a cross-repository mount). */
  mountFrom: string[];
  /** Blobs up to this size go in one PUT; larger ones in PATCH chunks of chunkSize. */
  monolithicMax: number;
  chunkSize: number;
  onProgress?: (bytesSent: number) => void;
  signal?: AbortSignal;
}

/** Chunk uploads that fail are resumed from the registry's offset this many times. */
const CHUNK_ATTEMPTS = 4;

/**
 * Pushes one blob unless the registry has it: HEAD first, then a
 * cross-repository mount when another repository of the registry is known to
 * hold it, else an upload, monolithic for small blobs and chunked (PATCH with
 * Content-Range, resumed from the registry's Range after an error) for large.
 */
export async function pushBlob(client: RepositoryClient, content: ContentStore, blob: { digest: Digest; size: number }, opts: PushBlobOptions): Promise<BlobPushOutcome> {
  const what = `blob ${blob.digest}`;
  const head = await client.request('HEAD', `blobs/${blob.digest}`, { accept: [404], what, signal: opts.signal });
  drain(head);
  if (head.status === 200) return { kind: 'exists' };
  let session: URL | undefined;
  for (const from of opts.mountFrom) {
    const res = await client.request('POST', `blobs/uploads/?mount=${blob.digest}&from=${encodeURIComponent(from)}`, {
      headers: { 'content-length': '0' },
      extraScopes: [repositoryScope(from, ['pull'])],
      accept: [202, 401, 403, 404],
      what: `mount of ${what} from ${from}`,
      signal: opts.signal,
    });
    drain(res);
    if (res.status === 201) return { kind: 'mounted', from };
    if (res.status === 202) {
      session = location(res, what);
      break;
    }
  }
  session ??= await openSession(client, what, opts.signal);
  if (blob.size <= opts.monolithicMax) {
    const url = withDigest(session, blob.digest);
    const res = await client.request('PUT', url, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
      body: () => counted(content, blob.digest, 0, blob.size - 1, opts.onProgress),
      what: `upload of ${what}`,
      signal: opts.signal,
    });
    drain(res);
    return { kind: 'pushed' };
  }
  await uploadChunks(client, content, blob, session, opts);
  return { kind: 'pushed' };
}

async function uploadChunks(client: RepositoryClient, content: ContentStore, blob: { digest: Digest; size: number }, start: URL, opts: PushBlobOptions): Promise<void> {
  const what = `upload of blob ${blob.digest}`;
  let session = start;
  let offset = 0;
  let failures = 0;
  while (offset < blob.size) {
    const end = Math.min(offset + opts.chunkSize, blob.size) - 1;
    try {
      const res = await client.request('PATCH', session, {
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end}`, 'content-length': String(end - offset + 1) },
        body: () => counted(content, blob.digest, offset, end, opts.onProgress, offset),
        what,
        signal: opts.signal,
      });
      drain(res);
      session = location(res, what);
      offset = rangeEnd(res) ?? end + 1;
      failures = 0;
    } catch (e) {
      if (opts.signal?.aborted || isStrataError(e, 'Unauthenticated') || ++failures >= CHUNK_ATTEMPTS) throw e;
      // Ask the registry how much it kept and go on from there. A registry that
      // cannot resume this session (distribution refuses a stale upload state)
      // gets a new one, from the first byte.
      const status = await client.request('GET', session, { what: `status of ${what}`, signal: opts.signal, accept: [400, 404, 416] });
      drain(status);
      if (status.status < 300) {
        session = location(status, what);
        offset = rangeEnd(status) ?? 0;
      } else {
        session = await openSession(client, `blob ${blob.digest}`, opts.signal);
        offset = 0;
      }
    }
  }
  const res = await client.request('PUT', withDigest(session, blob.digest), { headers: { 'content-length': '0' }, what, signal: opts.signal });
  drain(res);
}

async function openSession(client: RepositoryClient, what: string, signal?: AbortSignal): Promise<URL> {
  const res = await client.request('POST', 'blobs/uploads/', { headers: { 'content-length': '0' }, what: `upload of ${what}`, signal });
  drain(res);
  return location(res, what);
}

/** The next offset from a `Range: 0-<last>` answer ("0-0" with nothing stored is also sent by some registries). */
function rangeEnd(res: HttpResponse): number | undefined {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(String(res.headers.range ?? ''));
  return m ? Number(m[1]) + 1 : undefined;
}

function location(res: HttpResponse, what: string): URL {
  const loc = res.headers.location;
  if (!loc) throw errors.unavailable(`${what}: the registry answered ${res.status} without a Location header`);
  return new URL(loc, res.url);
}

function withDigest(session: URL, digest: Digest): URL {
  const u = new URL(session);
  u.searchParams.set('digest', digest);
  return u;
}

function counted(content: ContentStore, digest: Digest, start: number, end: number, onProgress?: (n: number) => void, base = 0): Readable {
  let sent = base;
  const count = new Transform({
    transform(chunk: Buffer, _e, cb) {
      sent += chunk.length;
      onProgress?.(sent);
      cb(null, chunk);
    },
  });
  void content.reader(digest, { start, end }).then(
    (r) => {
      r.on('error', (e) => count.destroy(e));
      r.pipe(count);
    },
    (e: Error) => count.destroy(e),
  );
  return count;
}

/** PUTs a manifest under a tag or digest and checks the digest the registry computed. */
export async function pushManifest(client: RepositoryClient, reference: string, mediaType: string, bytes: Buffer, signal?: AbortSignal): Promise<Digest> {
  const digest = digestOf(bytes);
  const res = await client.request('PUT', `manifests/${reference}`, {
    headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
    body: bytes,
    what: `manifest ${reference}`,
    signal,
  });
  drain(res);
  const theirs = res.headers['docker-content-digest'];
  if (theirs && theirs !== digest) {
    throw errors.digestMismatch(`manifest ${reference}: the registry stored it as ${String(theirs)}, expected ${digest}`);
  }
  return digest;
}
