import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { regError } from '../storage/errors.js';
import type { Registry } from '../storage/registry.js';
import { AuthError, NoAuth, type Authorizer, type Scope } from './auth/authorizer.js';
import type { TokenIssuer } from './auth/token-issuer.js';
import type { Action, RequestContext } from './context.js';
import { errorResponse } from './errcode.js';
import { deleteBlob, getBlob } from './handlers/blobs.js';
import { listCatalog, listReferrers, listTags } from './handlers/discovery.js';
import { deleteManifest, getManifest, putManifest } from './handlers/manifests.js';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from './handlers/uploads.js';
import { discardBody, sendJson } from './http.js';
import { Logger } from './log.js';
import { route, type Route } from './routes.js';

export const TOKEN_PATH = '/auth/token';

export interface ServerOptions {
  registry: Registry;
  authorizer?: Authorizer;
  tokenIssuer?: TokenIssuer;
  /** Deletion of manifests, tags and blobs (default on). */
  deleteEnabled?: boolean;
  logger?: Logger;
  tls?: { cert: Buffer; key: Buffer };
}

type Handler = (ctx: RequestContext, r: Route) => Promise<void>;
const repo = (r: Route): string => ('name' in r ? r.name : '');
const arg = (r: Route): string => (r.kind === 'manifest' ? r.reference : r.kind === 'blob' || r.kind === 'referrers' ? r.digest : r.kind === 'upload' ? r.id : '');

/** Handler and required actions for each route and method; a missing method is 405. */
const TABLE: Partial<Record<Route['kind'], Record<string, [Handler, Action[]]>>> = {
  manifest: {
    GET: [(c, r) => getManifest(c, repo(r), arg(r)), ['pull']],
    HEAD: [(c, r) => getManifest(c, repo(r), arg(r)), ['pull']],
    PUT: [(c, r) => putManifest(c, repo(r), arg(r)), ['pull', 'push']],
    DELETE: [(c, r) => deleteManifest(c, repo(r), arg(r)), ['delete']],
  },
  blob: {
    GET: [(c, r) => getBlob(c, repo(r), arg(r)), ['pull']],
    HEAD: [(c, r) => getBlob(c, repo(r), arg(r)), ['pull']],
    DELETE: [(c, r) => deleteBlob(c, repo(r), arg(r)), ['delete']],
  },
  uploads: { POST: [(c, r) => startUpload(c, repo(r)), ['pull', 'push']] },
  upload: {
    GET: [(c, r) => uploadStatus(c, repo(r), arg(r)), ['pull', 'push']],
    PATCH: [(c, r) => patchUpload(c, repo(r), arg(r)), ['pull', 'push']],
    PUT: [(c, r) => finishUpload(c, repo(r), arg(r)), ['pull', 'push']],
    DELETE: [(c, r) => cancelUpload(c, repo(r), arg(r)), ['pull', 'push']],
  },
  tags: { GET: [(c, r) => listTags(c, repo(r)), ['pull']] },
  referrers: { GET: [(c, r) => listReferrers(c, repo(r), arg(r)), ['pull']] },
  catalog: { GET: [(c) => listCatalog(c), []] },
  base: { GET: [async (c) => sendJson(c.res, 200, {}), []], HEAD: [async (c) => sendJson(c.res, 200, {}), []] },
};

/**
 * The distribution API over node:http: routing, auth, error mapping and
 * request logs. Handlers stream blobs straight between sockets and storage.
 */
export class RegistryServer {
  readonly server: Server;
  readonly #opts: ServerOptions;
  readonly #auth: Authorizer;
  readonly #log: Logger;
  readonly #scheme: 'http' | 'https';
  #inflight = 0;

  constructor(opts: ServerOptions) {
    this.#opts = opts;
    this.#auth = opts.authorizer ?? new NoAuth();
    this.#log = opts.logger ?? new Logger('info');
    this.#scheme = opts.tls ? 'https' : 'http';
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    this.server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttpServer(handler);
    this.server.keepAliveTimeout = 30_000;
    this.server.requestTimeout = 0;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /**
   * Stops accepting connections, lets in-flight requests (uploads included)
   * finish for up to `graceMs`, then cuts the rest. Uploads cut off keep their
   * data in storage and resume after a restart.
   */
  async close(graceMs = 30_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (this.#inflight > 0 && Date.now() < deadline) await sleep(50);
    this.server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#inflight++;
    const started = process.hrtime.bigint();
    const fields: Record<string, unknown> = {};
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    res.once('close', () => {
      this.#inflight--;
      if (!this.#log.enabled('info')) return;
      this.#log.log('info', 'request', {
        method: req.method,
        path: (req.url ?? '').split('?')[0],
        status: res.statusCode,
        length: res.getHeader('content-length'),
        duration_ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        remote: req.socket.remoteAddress,
        user_agent: req.headers['user-agent'],
        completed: res.writableFinished,
        ...fields,
      });
    });
    try {
      const url = new URL(req.url ?? '/', 'http://registry.invalid');
      // Route on the path as sent: URL parsing would resolve `a/../b` into `b`.
      const r = route((req.url ?? '/').split('?')[0], TOKEN_PATH);
      if (!r) throw regError('UNSUPPORTED', `no such endpoint: ${req.method} ${url.pathname.slice(0, 200)}`, { status: 404 });
      if (r.kind === 'token') {
        if (!this.#opts.tokenIssuer) throw regError('UNSUPPORTED', 'this registry does not issue tokens', { status: 404 });
        fields.user = await this.#opts.tokenIssuer.handle(req, res, url);
        return;
      }
      if ('name' in r) fields.repository = r.name;
      const entry = TABLE[r.kind]?.[req.method ?? ''];
      if (!entry) {
        res.setHeader('Allow', Object.keys(TABLE[r.kind] ?? {}).join(', '));
        throw regError('UNSUPPORTED', `${req.method} is not supported on ${url.pathname.slice(0, 200)}`);
      }
      const [handler, actions] = entry;
      const required: Scope[] =
        r.kind === 'catalog' ? [{ type: 'registry', name: 'catalog', actions: ['*'] }] : 'name' in r ? [{ type: 'repository', name: r.name, actions }] : [];
      const host = req.headers.host ?? 'localhost';
      const grant = await this.#auth.authorize(req, required, `${this.#scheme}://${host}${TOKEN_PATH}`);
      fields.user = grant.user;
      await handler({ req, res, url, reg: this.#opts.registry, can: grant.can, deleteEnabled: this.#opts.deleteEnabled ?? true }, r);
    } catch (e) {
      this.#fail(req, res, e, fields);
    }
  }

  #fail(req: IncomingMessage, res: ServerResponse, e: unknown, fields: Record<string, unknown>): void {
    const er = errorResponse(e);
    fields.error = er.body.errors[0]?.code;
    if (er.internal) this.#log.log('error', 'request failed', { method: req.method, path: (req.url ?? '').split('?')[0], error: (e as Error)?.stack ?? String(e) });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    if (e instanceof AuthError && e.challenge) headers['WWW-Authenticate'] = e.challenge;
    sendJson(res, er.status, er.body, headers);
    if (!req.complete) discardBody(req);
  }
}
