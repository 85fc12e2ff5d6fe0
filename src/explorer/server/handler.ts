import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, isStrataError } from '../../errors/errors.js';
import type { Explorer } from '../explorer.js';
import { loadAssets, type Assets } from './assets.js';
import { renderError, renderPage, type Boot } from './pages.js';
import { integer, oneOf, parseQuery, text, treePath, VIEWS } from './query.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ExplorerHandlerOptions {
  /** Where the explorer is mounted, e.g. '/explore'; '' (the default) for the server's root. */
  prefix?: string;
}

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

const SORT_KEYS = ['name', 'created', 'layers', 'compressed', 'unpacked', 'unique', 'shared'] as const;
const PAGE_QUERY = { view: oneOf(...VIEWS), path: treePath };
const MAX_LIST = 100_000;

class Reply {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly body: string | Buffer,
    readonly headers: Record<string, string> = {},
  ) {}
}

const json = (value: unknown) => new Reply(200, 'application/json; charset=utf-8', JSON.stringify(value));

function statusOf(e: unknown): number {
  if (!isStrataError(e)) return 500;
  switch (e.kind) {
    case 'NotFound':
      return 404;
    case 'InvalidArgument':
      return 400;
    case 'Unavailable':
      return 503;
    default:
      return 500;
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw errors.invalidArgument(`malformed percent-encoding in the URL path: "${s.slice(0, 80)}"`);
  }
}

/** A layer number from the URL: anything else names no layer (404, not 400, as for an image). */
function layerNumber(s: string): number {
  if (!/^\d{1,6}$/.test(s)) throw errors.notFound(`no layer "${s.slice(0, 40)}": layers are numbered from 0`);
  return Number(s);
}

/**
 * The explorer as a plain node:http request handler, mountable under a path
 * prefix (`strata explore` mounts it at the root). Pages are an HTML shell
 * filled in by the bundled script from the JSON API:
 *
 *   GET /                                  images (?sort=&order=&q=)
 *   GET /images/REF[/layers/N]             one image (?view=layer|merged&path=/dir)
 *   GET /sharing, /containers
 *   GET /api/images, /api/images/REF, /api/images/REF/waste (?offset=&limit=)
 *   GET /api/images/REF/layers/N/tree      (?path=/dir&view=layer|merged&offset=&limit=)
 *   GET /api/sharing, /api/containers
 *   GET /api/containers/ID|NAME/changes    the writable layer's changes (docker diff)
 *
 * An unknown image, layer or path answers 404; a malformed query 400.
 */
export function createExplorerHandler(explorer: Explorer, opts: ExplorerHandlerOptions = {}): RequestHandler {
  const prefix = (opts.prefix ?? '').replace(/\/+$/, '');
  if (prefix && !/^\/[A-Za-z0-9._~\-/]*$/.test(prefix)) throw errors.invalidArgument(`invalid explorer path prefix "${prefix}"`);
  const assets: Assets = loadAssets();
  const base = `${prefix}/`;

  const page = (title: string, boot: Boot) => new Reply(200, 'text/html; charset=utf-8', renderPage(assets.shell, base, title, boot));

  async function route(segs: string[], query: URLSearchParams): Promise<Reply> {
    const [first, ...rest] = segs;
    if (first === 'api') return api(rest, query);
    if (segs.length === 1 && first === '') {
      const q = parseQuery(query, { sort: oneOf(...SORT_KEYS), order: oneOf('asc', 'desc'), q: text(200) });
      return page('Images', { page: 'images', ...q });
    }
    if (first === 'images' && (rest.length === 1 || (rest.length === 3 && rest[1] === 'layers'))) {
      const img = explorer.resolve(rest[0]);
      const layer = rest.length === 3 ? layerNumber(rest[2]) : undefined;
      if (layer !== undefined) explorer.checkLayer(img, layer);
      const q = parseQuery(query, PAGE_QUERY);
      return page(`Image ${rest[0]}`, { page: 'image', image: img.id, layer, layerCount: img.layers.length, ...q });
    }
    if (segs.length === 1 && (first === 'sharing' || first === 'containers')) {
      parseQuery(query, {});
      return page(first === 'sharing' ? 'Sharing' : 'Containers', { page: first });
    }
    if (first === 'static' && rest.length === 1 && assets.files.has(rest[0])) {
      const a = assets.files.get(rest[0])!;
      return new Reply(200, a.type, a.body, { 'Cache-Control': 'no-cache' });
    }
    throw errors.notFound(`no page at /${segs.join('/')}`);
  }

  async function api(segs: string[], query: URLSearchParams): Promise<Reply> {
    const [first, ref, third, n, fifth] = segs;
    if (first === 'images') {
      if (segs.length === 1) return (parseQuery(query, {}), json(explorer.images()));
      if (segs.length === 2) return (parseQuery(query, {}), json(await explorer.image(ref)));
      if (segs.length === 3 && third === 'waste') {
        const q = parseQuery(query, { offset: integer(0, MAX_LIST), limit: integer(1, MAX_LIST) });
        const { waste, ...rest } = await explorer.waste(ref);
        const offset = q.offset ?? 0;
        const items = waste.items.slice(offset, offset + (q.limit ?? 1000));
        return json({ ...rest, waste: { ...waste, items, offset, count: waste.items.length } });
      }
      if (segs.length === 5 && third === 'layers' && fifth === 'tree') {
        const layer = layerNumber(n);
        const q = parseQuery(query, { path: treePath, view: oneOf(...VIEWS), offset: integer(0, MAX_LIST), limit: integer(1, MAX_LIST) });
        return json(await explorer.tree(ref, { layer, view: q.view ?? 'layer', path: q.path ?? '', offset: q.offset, limit: q.limit }));
      }
    }
    if (segs.length === 1 && first === 'sharing') return (parseQuery(query, {}), json(explorer.sharing()));
    if (first === 'containers') {
      if (segs.length === 1) return (parseQuery(query, {}), json(await explorer.containers()));
      if (segs.length === 3 && third === 'changes') return (parseQuery(query, {}), json(await explorer.containerChanges(ref)));
    }
    throw errors.notFound(`no API endpoint /api/${segs.join('/')}`);
  }

  function send(req: IncomingMessage, res: ServerResponse, r: Reply): void {
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
    res.writeHead(r.status, {
      'Content-Type': r.type,
      'Content-Length': String(body.length),
      'Cache-Control': 'no-store',
      ...SECURITY_HEADERS,
      ...r.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  function failure(e: unknown, isApi: boolean): Reply {
    const status = statusOf(e);
    const message = status === 500 && !isStrataError(e) ? `internal error: ${(e as Error).message}` : (e as Error).message;
    if (isApi) {
      const code = isStrataError(e) ? e.code : 'STRATA_ERR_INTERNAL';
      return new Reply(status, 'application/json; charset=utf-8', JSON.stringify({ error: { status, code, message } }));
    }
    return new Reply(status, 'text/html; charset=utf-8', renderError(assets.shell, base, status, message));
  }

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://explorer.invalid');
    const path = url.pathname;
    const inside = path === prefix || path.startsWith(base);
    const isApi = inside && path.slice(prefix.length).startsWith('/api/');
    const respond = async (): Promise<Reply> => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return new Reply(405, 'text/plain; charset=utf-8', 'method not allowed: the explorer is read-only\n', { Allow: 'GET, HEAD' });
      }
      if (!inside) throw errors.notFound(`no page at ${path}`);
      if (path === prefix) return new Reply(308, 'text/plain; charset=utf-8', '', { Location: base });
      return route(path.slice(base.length).split('/').map(decodeSegment), url.searchParams);
    };
    respond().then(
      (r) => send(req, res, r),
      (e) => send(req, res, failure(e, isApi)),
    );
  };
}
