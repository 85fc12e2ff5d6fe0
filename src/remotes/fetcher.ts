import { Transform, type TransformCallback } from 'node:stream';
import type { ContentStore, ContentWriter } from '../content/store.js';
import type { Digest } from '../digest/digest.js';
import { errors, isStrataError } from '../errors/errors.js';
import type { Lease } from '../metadata/leases.js';
import { lockIngest } from './ingest-lock.js';
import type { RepositoryClient } from './registry.js';
import { drain, type HttpResponse } from './transport.js';

/** Attempts per blob; each retry resumes with a Range request from the bytes already on disk. */
const ATTEMPTS = 4;

/**
 * The observable state of one blob download, for the extraction that follows
 * it through the ingest file and for progress reporting.
 */
export class BlobTransfer {
  readonly digest: Digest;
  readonly size: number;
  /** Bytes accepted into the ingest (on resume, counted from what was already there). */
  offset = 0;
  /** Bytes received over the network by this process. */
  received = 0;
  /** Every byte is in the ingest file or the blob is committed. */
  flushed = false;
  committed = false;
  error?: unknown;
  #waiters: (() => void)[] = [];

  constructor(digest: Digest, size: number) {
    this.digest = digest;
    this.size = size;
  }

  /** Resolves at the next change of state (more bytes, flushed, committed, failed). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Resolves once the blob is committed (verified); rejects with the download's error. */
  async done(): Promise<void> {
    while (!this.committed) {
      if (this.error !== undefined) throw this.error;
      await this.changed();
    }
  }
}

/** Where fetched blobs go, and where the per-blob download locks live. */
export interface BlobStore {
  content: ContentStore;
  lockDir: string;
}

/** Fails as soon as a response runs past the bytes still expected. */
function sizeGuard(limit: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) cb(errors.sizeMismatch(`${what}: the registry sent more than the ${limit} bytes expected`));
      else cb(null, chunk);
    },
  });
}

/**
 * Downloads a blob into the content store under ref = its digest, so an
 * interrupted download (dropped connection, Ctrl-C, SIGKILL) resumes from the
 * ingest's offset with a Range request. The content writer hashes while the
 * bytes stream and commit refuses a wrong size or digest, so nothing
 * unverified is ever visible. Progress and the end are published on `t`.
 */
export async function fetchBlob(
  client: RepositoryClient,
  store: BlobStore,
  lease: Lease,
  t: BlobTransfer,
  signal?: AbortSignal,
): Promise<void> {
  const { content } = store;
  try {
    lease.add('content', t.digest);
    if (!(await content.exists(t.digest))) {
      const release = await lockIngest(store.lockDir, t.digest, signal);
      try {
        // Another pull may have fetched it while we waited for the lock.
        if (!(await content.exists(t.digest))) await download(client, content, lease, t, signal);
      } finally {
        await release();
      }
    }
    t.offset = t.size;
    t.flushed = true;
    t.committed = true;
  } catch (e) {
    t.error = e;
    throw e;
  } finally {
    t.notify();
  }
}

async function download(client: RepositoryClient, content: ContentStore, lease: Lease, t: BlobTransfer, signal?: AbortSignal): Promise<void> {
  const what = `blob ${t.digest}`;
  let writer = await content.writer(t.digest, { total: t.size });
  if (writer.offset > t.size) {
    await writer.abort();
    writer = await content.writer(t.digest, { total: t.size });
  }
  // The writer counts bytes as its file stream takes them; t.offset counts those handed to it.
  t.offset = writer.offset;
  t.notify();
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS && t.offset < t.size; attempt++) {
    signal?.throwIfAborted();
    const before = t.offset;
    try {
      await transferOnce(client, writer, t, what, signal);
    } catch (e) {
      // Wrong bytes cannot be resumed from: start over next time.
      if (isStrataError(e, 'DataLoss') || isStrataError(e, 'NotFound') || isStrataError(e, 'Unauthenticated') || signal?.aborted) {
        if (isStrataError(e, 'DataLoss')) await writer.abort();
        else writer.stream.destroy();
        throw e;
      }
      lastError = e;
    }
    if (t.offset > before) attempt = 0; // progress renews the budget of retries
  }
  if (t.offset < t.size) {
    writer.stream.destroy();
    const why = lastError instanceof Error ? lastError.message : 'the connection closed early';
    throw errors.unavailable(`${what}: download stopped at ${t.offset} of ${t.size} bytes: ${why}`, { cause: lastError });
  }
  await new Promise<void>((resolve, reject) => {
    writer.stream.once('error', reject);
    writer.stream.end(() => resolve());
  });
  t.flushed = true;
  t.notify();
  await writer.commit({ digest: t.digest, size: t.size }, (d) => lease.add('content', d));
}

/** One GET (ranged when resuming); appends what arrives to the writer without ending it. */
async function transferOnce(client: RepositoryClient, writer: ContentWriter, t: BlobTransfer, what: string, signal?: AbortSignal): Promise<void> {
  const from = t.offset;
  const res = await client.request('GET', `blobs/${t.digest}`, {
    headers: from > 0 ? { range: `bytes=${from}-` } : {},
    what,
    signal,
  });
  let skip = 0;
  if (from > 0 && res.status === 206) {
    const start = Number(/bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''))?.[1] ?? NaN);
    if (start !== from) {
      drain(res);
      throw errors.unavailable(`${what}: asked for bytes from ${from}, the registry sent a range starting at ${start}`);
    }
  } else if (from > 0) {
    skip = from; // the registry ignored Range: drop what we already have
  }
  await appendBody(res, writer, t, skip, sizeGuard(t.size - from + skip, what));
}

function appendBody(res: HttpResponse, writer: ContentWriter, t: BlobTransfer, skip: number, guard: Transform): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (e?: unknown) => {
      if (settled) return;
      settled = true;
      writer.stream.off('error', finish);
      res.body.destroy();
      if (e) reject(e);
      else resolve();
    };
    guard.on('data', (chunk: Buffer) => {
      t.received += chunk.length;
      let c = chunk;
      if (skip > 0) {
        const n = Math.min(skip, c.length);
        skip -= n;
        c = c.subarray(n);
      }
      if (c.length === 0) return;
      if (!writer.stream.write(c)) {
        guard.pause();
        writer.stream.once('drain', () => guard.resume());
      }
      t.offset += c.length;
      t.notify();
    });
    guard.on('end', () => finish());
    guard.on('error', finish);
    res.body.on('error', finish);
    res.body.on('aborted', () => finish(errors.unavailable('the connection closed before the whole body arrived')));
    writer.stream.on('error', finish);
    res.body.pipe(guard);
  });
}
