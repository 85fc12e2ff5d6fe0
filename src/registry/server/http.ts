import type { IncomingMessage, ServerResponse } from 'node:http';
import { regError } from '../storage/errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length, ...headers });
  res.end(data);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number | string[]> = {}): void {
  res.writeHead(status, { 'Content-Length': 0, ...headers });
  res.end();
}

/** The declared body length; undefined for chunked bodies. A malformed header is a client error. */
export function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw regError('SIZE_INVALID', `Content-Length "${v.slice(0, 40)}" is not a number`);
  return Number(v);
}

/** Whether the request carries a body at all (length > 0 or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Reads a small body (manifests), failing with `tooLarge` past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const declared = contentLength(req);
  if (declared !== undefined && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  // Without destroyOnReturn the socket survives a refusal, so the client can read the 413.
  for await (const c of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw tooLarge();
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** How long a refused request may go on sending its body before its connection is cut. */
const DISCARD_MS = 10_000;

/**
 * After answering a request whose body is still arriving, reads and drops the
 * rest: clients that write their whole body before reading (fetch, for one)
 * would otherwise lose the answer to a connection reset. A body still coming
 * after `ms` has its connection cut.
 */
export function discardBody(req: IncomingMessage, ms = DISCARD_MS): void {
  if (req.destroyed) return;
  const timer = setTimeout(() => req.socket.destroy(), ms);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.resume();
}

export type ByteRange = { start: number; end: number };

/**
 * A single `bytes=` range of RFC 9110 against a representation of `size`
 * bytes: the range, 'unsatisfiable' (416), or undefined to send everything
 * (no header, or several ranges, which a server may ignore).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return header.includes(',') && header.startsWith('bytes=') ? undefined : 'unsatisfiable';
  const [, a, b] = m;
  if (a === '' && b === '') return 'unsatisfiable';
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || (b !== '' && Number(b) < start)) return 'unsatisfiable';
  return { start, end };
}

/** The upload chunk range `<start>-<end>` (inclusive) of the spec's PATCH; anything else is 416. */
export function parseContentRange(header: string | undefined): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw regError('BLOB_UPLOAD_INVALID', `Content-Range "${header.slice(0, 60)}" is invalid: expected <start>-<end>`, { status: 416 });
  }
  return { start: Number(m[1]), end: Number(m[2]) };
}

