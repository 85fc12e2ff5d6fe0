import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { pathNotFound } from './base.js';
import type { FileInfo, FileWriter, StorageDriver } from './driver.js';

export interface S3DriverOptions {
  bucket: string;
  /** Key prefix under which the registry lives (no leading or trailing slash). */
  rootDirectory?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Multipart part size; S3 needs at least 5 MiB for every part but the last. */
  partSize?: number;
  /**
   * List directories with `Delimiter=/` (default). Turn off for S3
   * implementations that drop nested common prefixes (s3rver); listing then
   * reads every key below the directory.
   */
  delimiterListing?: boolean;
}

const MIN_PART = 5 * 1024 * 1024;

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.$metadata?.httpStatusCode === 404;
}

/**
 * Any S3-compatible service. Whole files are single PUTs; writers stream
 * through a multipart upload once they pass one part, and an append re-reads
 * the existing object into the new upload (S3 objects cannot grow in place).
 */
export class S3Driver implements StorageDriver {
  readonly name = 's3';
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #partSize: number;
  readonly #delimiterListing: boolean;

  constructor(opts: S3DriverOptions) {
    this.#delimiterListing = opts.delimiterListing ?? true;
    this.#bucket = opts.bucket;
    this.#prefix = opts.rootDirectory ? `${opts.rootDirectory.replace(/^\/+|\/+$/g, '')}/` : '';
    this.#partSize = Math.max(MIN_PART, opts.partSize ?? 8 * 1024 * 1024);
    this.#s3 = new S3Client({
      region: opts.region ?? 'us-east-1',
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle,
      credentials: opts.accessKeyId && opts.secretAccessKey ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } : undefined,
    });
  }

  #key(path: string): string {
    return this.#prefix + path.slice(1);
  }

  #path(key: string): string {
    return `/${key.slice(this.#prefix.length).replace(/\/$/, '')}`;
  }

  async getContent(path: string): Promise<Buffer> {
    try {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(path) }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (e) {
      throw isNotFound(e) ? pathNotFound(this.name, path) : e;
    }
  }

  async putContent(path: string, content: Uint8Array): Promise<void> {
    await this.#s3.send(new PutObjectCommand({ Bucket: this.#bucket, Key: this.#key(path), Body: content, ContentLength: content.length }));
  }

  async reader(path: string, offset = 0, end?: number): Promise<Readable> {
    const info = await this.stat(path);
    if (info.isDir) throw pathNotFound(this.name, path);
    const last = Math.min(end ?? info.size - 1, info.size - 1);
    if (offset > last) return Readable.from([]);
    const out = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(path), Range: `bytes=${offset}-${last}` }));
    return out.Body as Readable;
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const w = new S3Writer(this.#s3, this.#bucket, this.#key(path), this.#partSize);
    if (append) {
      for await (const chunk of (await this.reader(path)) as AsyncIterable<Buffer>) await w.write(chunk);
    }
    return w;
  }

  /**
   * A listing finds an object at exactly the key (a file), else any key
   * below `key/` (a directory). A HEAD of a "directory" key fails on some S3
   * implementations instead of answering 404, so stat never sends one.
   */
  async stat(path: string): Promise<FileInfo> {
    if (path === '/') return { path, size: 0, modTime: new Date(0), isDir: true };
    const key = this.#key(path);
    let token: string | undefined;
    do {
      const l = await this.#s3.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: key, Delimiter: '/', ContinuationToken: token }));
      const file = l.Contents?.find((c) => c.Key === key);
      if (file) return { path, size: file.Size ?? 0, modTime: file.LastModified ?? new Date(0), isDir: false };
      token = l.IsTruncated ? l.NextContinuationToken : undefined;
    } while (token);
    const below = await this.#s3.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: `${key}/` }));
    if ((below.KeyCount ?? below.Contents?.length ?? 0) > 0) return { path, size: 0, modTime: new Date(0), isDir: true };
    throw pathNotFound(this.name, path);
  }

  async list(path: string): Promise<string[]> {
    const prefix = path === '/' ? this.#prefix : `${this.#key(path)}/`;
    const out = new Set<string>();
    const delimiter = this.#delimiterListing ? '/' : undefined;
    let token: string | undefined;
    do {
      const l = await this.#s3.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }));
      for (const p of l.CommonPrefixes ?? []) if (p.Prefix) out.add(this.#path(p.Prefix));
      for (const c of l.Contents ?? []) {
        if (c.Key) out.add(this.#path(prefix + c.Key.slice(prefix.length).split('/')[0]));
      }
      token = l.IsTruncated ? l.NextContinuationToken : undefined;
    } while (token);
    if (out.size === 0 && path !== '/') throw pathNotFound(this.name, path);
    return [...out];
  }

  async move(source: string, dest: string): Promise<void> {
    await this.stat(source);
    await this.#s3.send(new CopyObjectCommand({ Bucket: this.#bucket, Key: this.#key(dest), CopySource: encodeURI(`${this.#bucket}/${this.#key(source)}`) }));
    await this.#s3.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(source) }));
  }

  async delete(path: string): Promise<void> {
    const keys: string[] = [];
    const info = await this.stat(path);
    if (!info.isDir) keys.push(this.#key(path));
    let token: string | undefined;
    do {
      const l = await this.#s3.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: `${this.#key(path)}/`, ContinuationToken: token }));
      for (const c of l.Contents ?? []) if (c.Key) keys.push(c.Key);
      token = l.IsTruncated ? l.NextContinuationToken : undefined;
    } while (token);
    for (let i = 0; i < keys.length; i += 1000) {
      await this.#s3.send(new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
    }
  }
}

/** Buffers one part at a time; small files end as one PUT, large ones as a multipart upload. */
class S3Writer implements FileWriter {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #key: string;
  readonly #partSize: number;
  #buffer: Buffer[] = [];
  #buffered = 0;
  #size = 0;
  #uploadId?: string;
  #parts: { ETag: string; PartNumber: number }[] = [];
  #done = false;

  constructor(s3: S3Client, bucket: string, key: string, partSize: number) {
    this.#s3 = s3;
    this.#bucket = bucket;
    this.#key = key;
    this.#partSize = partSize;
  }

  get size(): number {
    return this.#size;
  }

  #check(): void {
    if (this.#done) throw new Error(`writer for ${this.#key} already closed`);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#check();
    this.#buffer.push(Buffer.from(chunk));
    this.#buffered += chunk.length;
    this.#size += chunk.length;
    while (this.#buffered >= this.#partSize) await this.#flushPart(this.#partSize);
  }

  async #flushPart(bytes: number): Promise<void> {
    const all = Buffer.concat(this.#buffer);
    const part = all.subarray(0, bytes);
    this.#buffer = all.length > bytes ? [all.subarray(bytes)] : [];
    this.#buffered = all.length - bytes;
    this.#uploadId ??= (await this.#s3.send(new CreateMultipartUploadCommand({ Bucket: this.#bucket, Key: this.#key }))).UploadId;
    const PartNumber = this.#parts.length + 1;
    const out = await this.#s3.send(new UploadPartCommand({ Bucket: this.#bucket, Key: this.#key, UploadId: this.#uploadId, PartNumber, Body: part, ContentLength: part.length }));
    this.#parts.push({ ETag: out.ETag!, PartNumber });
  }

  async #finish(): Promise<void> {
    this.#check();
    this.#done = true;
    if (!this.#uploadId) {
      const body = Buffer.concat(this.#buffer);
      await this.#s3.send(new PutObjectCommand({ Bucket: this.#bucket, Key: this.#key, Body: body, ContentLength: body.length }));
      return;
    }
    this.#done = false;
    if (this.#buffered > 0) await this.#flushPart(this.#buffered);
    this.#done = true;
    await this.#s3.send(new CompleteMultipartUploadCommand({ Bucket: this.#bucket, Key: this.#key, UploadId: this.#uploadId, MultipartUpload: { Parts: this.#parts } }));
  }

  close(): Promise<void> {
    return this.#finish();
  }

  commit(): Promise<void> {
    return this.#finish();
  }

  async cancel(): Promise<void> {
    this.#check();
    this.#done = true;
    if (this.#uploadId) await this.#s3.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: this.#key, UploadId: this.#uploadId }));
    await this.#s3.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key }));
  }
}
