import { spawn } from 'node:child_process';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { errnoCode, errors, isStrataError } from '../errors/errors.js';

export type Compression = 'gzip' | 'zstd' | 'none';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
/** Formats `docker load` accepts that we do not; named so the error can say so. */
const OTHER_MAGIC: [string, number[]][] = [
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
];
const PEEK = 6;
const CHUNK = 64 * 1024;
const STDERR_LIMIT = 4096;
const OUTPUT_BUFFER = 4 * 1024 * 1024;

function startsWith(b: Buffer, magic: number[]): boolean {
  return b.length >= magic.length && magic.every((m, i) => b[i] === m);
}

export function detectCompression(firstBytes: Buffer): Compression {
  if (startsWith(firstBytes, GZIP_MAGIC)) return 'gzip';
  if (startsWith(firstBytes, ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

/** The compression a layer media type declares (OCI and Docker v2 schema 2 names). */
export function mediaTypeCompression(mediaType: string): Compression {
  switch (mediaType) {
    case 'application/vnd.oci.image.layer.v1.tar':
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar':
    case 'application/vnd.docker.image.rootfs.diff.tar':
      return 'none';
    case 'application/vnd.oci.image.layer.v1.tar+gzip':
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip':
    case 'application/vnd.docker.image.rootfs.diff.tar.gzip':
    case 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip':
      return 'gzip';
    case 'application/vnd.oci.image.layer.v1.tar+zstd':
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd':
    case 'application/vnd.docker.image.rootfs.diff.tar.zstd':
      return 'zstd';
  }
  throw errors.unsupported(`unsupported layer media type "${mediaType}": expected an OCI or Docker layer tar (+gzip/+zstd)`);
}

/** Reads until `n` bytes are buffered (or the stream ends) and puts them back. */
async function peek(input: Readable, n: number): Promise<Buffer> {
  const got: Buffer[] = [];
  let len = 0;
  while (len < n && !input.readableEnded) {
    const chunk: Buffer | null = input.read();
    if (chunk !== null) {
      got.push(chunk);
      len += chunk.length;
      continue;
    }
    if (input.destroyed) break;
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: unknown) => {
        input.off('readable', ready).off('end', ready).off('error', settle);
        if (err === undefined) resolve();
        else if (isStrataError(err)) reject(err);
        else reject(errors.corruptArchive(`reading layer stream: ${(err as Error).message}`, { cause: err }));
      };
      const ready = () => settle();
      input.on('readable', ready).on('end', ready).on('error', settle);
    });
  }
  const head = Buffer.concat(got);
  if (head.length > 0) input.unshift(head);
  return head;
}

/**
 * Decompresses a layer stream by its magic bytes (gzip with zlib, zstd with
 * the zstd binary); other input passes through unchanged. Any decoding
 * failure surfaces on the returned stream as corruptArchive.
 */
export async function decompressStream(input: Readable): Promise<Readable> {
  const head = await peek(input, PEEK);
  for (const [name, magic] of OTHER_MAGIC) {
    if (startsWith(head, magic)) throw errors.unsupported(`layer is ${name}-compressed; only gzip and zstd layers are supported`);
  }
  switch (detectCompression(head)) {
    case 'gzip':
      return viaZlib(input, createGunzip({ chunkSize: CHUNK }), 'gzip decompression failed', errors.corruptArchive);
    case 'zstd':
      return viaProcess(input, ['-d', '-c', '-q'], 'zstd decompression', errors.corruptArchive);
    case 'none':
      return input;
  }
}

/** Compresses a stream; 'none' returns the input itself. */
export function compressStream(input: Readable, kind: Compression): Readable {
  switch (kind) {
    case 'gzip':
      return viaZlib(input, createGzip({ chunkSize: CHUNK }), 'gzip compression failed', errors.internal);
    case 'zstd':
      // Single-threaded level 3 (zstd's default) so the output, and so the digest, is reproducible.
      return viaProcess(input, ['-c', '-q', '-3'], 'zstd compression', errors.internal);
    case 'none':
      return input;
  }
}

type Fail = (message: string, options?: { cause?: unknown }) => Error;

/**
 * The stream handed to the caller. Its large buffer lets the decoder (zlib's
 * thread pool, or the zstd process) run ahead while the consumer writes
 * files on the main thread. If the consumer gives up early, `stop` runs.
 */
function output(stop: () => void): PassThrough {
  const out = new PassThrough({ highWaterMark: OUTPUT_BUFFER });
  out.on('close', () => {
    if (!out.readableEnded) stop();
  });
  return out;
}

function viaZlib(input: Readable, codec: Transform, what: string, fail: Fail): Readable {
  const stop = () => {
    input.destroy();
    codec.destroy();
  };
  const out = output(stop);
  const onError = (e: Error) => {
    stop();
    out.destroy(isStrataError(e) ? e : fail(`${what}: ${e.message}`, { cause: e }));
  };
  input.on('error', onError);
  codec.on('error', onError);
  input.pipe(codec).pipe(out);
  return out;
}

/**
 * Runs the Debian `zstd` binary as a filter. The output ends only once zstd
 * has exited 0, so a corrupt frame fails the stream instead of truncating it.
 */
function viaProcess(input: Readable, args: string[], what: string, fail: Fail): Readable {
  const child = spawn('zstd', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = output(() => {
    child.kill();
    input.destroy();
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += s;
  });
  let inputError: Error | undefined;
  input.on('error', (e) => {
    inputError = e;
    child.kill();
  });
  child.stdin.on('error', () => {}); // EPIPE when zstd exits early; its status says why
  child.stdout.on('error', () => {}); // likewise
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  let settled = false;
  const finish = (status: number | string) => {
    if (settled) return;
    settled = true;
    if (inputError !== undefined) {
      out.destroy(isStrataError(inputError) ? inputError : fail(`${what}: reading input: ${inputError.message}`, { cause: inputError }));
    } else if (status === 'ENOENT') {
      out.destroy(errors.unavailable(`${what}: the zstd program is not installed (apt-get install zstd)`));
    } else if (status !== 0) {
      out.destroy(fail(`${what} failed (zstd exit status ${status}): ${stderr.trim() || 'no message'}`));
    } else {
      out.end();
    }
  };
  child.on('error', (e) => finish(errnoCode(e) ?? e.message));
  child.on('close', (code, signal) => finish(code ?? signal ?? 'unknown'));
  return out;
}
