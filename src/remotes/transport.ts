import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { errors } from '../errors/errors.js';
import type { Agents } from './tls.js';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A Buffer, or a stream with its length in headers['content-length']. */
  body?: Buffer | Readable;
  skipVerify?: boolean;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: URL;
}

/** A connection that stays silent this long is dead (the registry or the network stalled). */
const IDLE_TIMEOUT_MS = 60_000;

/**
 * Sends one HTTP request and resolves once the response headers arrive; the
 * body is left to stream. No redirects, no auth: the registry client adds them.
 */
export function send(agents: Agents, req: HttpRequest): Promise<HttpResponse> {
  const https = req.url.protocol === 'https:';
  const fn = https ? httpsRequest : httpRequest;
  const agent = https ? agents.https(req.url.host, req.skipVerify === true) : agents.http();
  return new Promise((resolve, reject) => {
    const r = fn(req.url, { method: req.method, headers: req.headers, agent, signal: req.signal });
    r.setTimeout(IDLE_TIMEOUT_MS, () => r.destroy(errors.unavailable(`${req.method} ${req.url}: no data for ${IDLE_TIMEOUT_MS / 1000} s`)));
    r.on('error', (e) => reject(e));
    r.on('response', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url }));
    const body = req.body;
    if (body === undefined) r.end();
    else if (Buffer.isBuffer(body)) r.end(body);
    else {
      body.on('error', (e) => r.destroy(e));
      body.pipe(r);
    }
  });
}

/** Reads a whole response body, failing past `limit` bytes without buffering them. */
export async function readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (declared > limit) {
    res.body.destroy();
    throw errors.invalidManifest(`${what} is ${declared} bytes, more than the ${limit} allowed`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res.body) {
    size += (c as Buffer).length;
    if (size > limit) {
      res.body.destroy();
      throw errors.invalidManifest(`${what} is more than the ${limit} bytes allowed`);
    }
    chunks.push(c as Buffer);
  }
  if (!Number.isNaN(declared) && size !== declared) {
    throw errors.unavailable(`${what}: the connection closed after ${size} of ${declared} bytes`);
  }
  return Buffer.concat(chunks);
}

/** Discards a body so its keep-alive connection can be reused. */
export function drain(res: HttpResponse): void {
  res.body.resume();
}

/** "connect ECONNREFUSED 127.0.0.1:5000" and friends: a network failure, not a protocol answer. */
export function isNetworkError(e: unknown): boolean {
  const code = (e as { code?: string } | undefined)?.code;
  return typeof code === 'string' && /^(E[A-Z]+|ERR_SSL_.*|ERR_TLS_.*|UND_ERR_.*|HPE_.*)$/.test(code) && !code.startsWith('ERR_INVALID');
}
