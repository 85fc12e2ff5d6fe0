import type { Readable, Writable } from 'node:stream';
import type { Digest } from '../digest/digest.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
  createdAt: Date;
}

export interface IngestStatus {
  ref: string;
  offset: number;
  total?: number;
  startedAt: Date;
}

/**
 * An open ingest. Bytes written through `stream` land in the ingest's staging
 * file; nothing is visible to readers until `commit` has checked size and
 * digest and renamed the file into place. A writer opened for a ref that
 * already has data resumes from its offset (after re-hashing what is there).
 */
export interface ContentWriter {
  readonly ref: string;
  /** Bytes already in the ingest when it was opened, plus those written since. */
  readonly offset: number;
  readonly stream: Writable;
  /**
   * Verifies and publishes the blob. A blob that already exists is a success.
   * `beforePublish` runs once the digest is known and before the blob becomes
   * visible: the place to record it in a lease so GC cannot race the commit.
   */
  commit(expected?: { digest?: Digest; size?: number }, beforePublish?: (digest: Digest) => void): Promise<Digest>;
  abort(): Promise<void>;
}

/**
 * The content store addresses blobs by digest. Writers ingest under a ref,
 * verify while bytes stream, and commit atomically; readers see only
 * committed blobs.
 */
export interface ContentStore {
  info(digest: Digest): Promise<BlobInfo>;
  exists(digest: Digest): Promise<boolean>;
  /** Reads a committed blob; `start`/`end` are inclusive byte offsets as in fs streams. */
  reader(digest: Digest, range?: { start?: number; end?: number }): Promise<Readable>;
  readAll(digest: Digest, maxBytes: number): Promise<Buffer>;
  writer(ref: string, opts?: { total?: number }): Promise<ContentWriter>;
  /** Writes a small in-memory blob in one go. */
  put(data: Buffer | string, expected?: Digest): Promise<Digest>;
  delete(digest: Digest): Promise<void>;
  walk(): AsyncIterable<BlobInfo>;
  ingests(): Promise<IngestStatus[]>;
  abortIngest(ref: string): Promise<void>;
}
