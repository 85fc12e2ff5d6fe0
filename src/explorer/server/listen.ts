import { createServer, type Server } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { errors } from '../../errors/errors.js';
import type { Explorer } from '../explorer.js';
import { createExplorerHandler } from './handler.js';

export const DEFAULT_ADDR = '127.0.0.1:7878';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[V6]:PORT` or `:PORT` (loopback). */
export function parseAddress(addr: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.%\w]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw errors.invalidArgument(`invalid --addr "${addr}": expected HOST:PORT, [IPv6]:PORT or :PORT, e.g. ${DEFAULT_ADDR}`);
  }
  const host = m[1] ?? m[2];
  return { host: host === '' ? '127.0.0.1' : host, port };
}

/** The loopback range: 127.0.0.0/8, ::1 (and its IPv4-mapped form) and the name localhost. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  const family = isIP(h);
  return family !== 0 && LOOPBACK.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

/** A Host header naming a loopback address: anything else is refused, so a DNS-rebound page cannot read the explorer. */
function loopbackHostHeader(header: string | undefined): boolean {
  if (!header) return false;
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(header);
  return !!m && isLoopback(m[1] ?? m[2]);
}

export interface RunningExplorer {
  server: Server;
  /** The URL to open, e.g. http://127.0.0.1:7878/ */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the explorer. It has no authentication, so it listens on loopback
 * unless `allowRemote` is set; on loopback it also answers only requests
 * whose Host header is a loopback name.
 */
export async function listenExplorer(explorer: Explorer, opts: { addr?: string; allowRemote?: boolean } = {}): Promise<RunningExplorer> {
  const { host, port } = parseAddress(opts.addr ?? DEFAULT_ADDR);
  const loopback = isLoopback(host);
  if (!loopback && !opts.allowRemote) {
    throw errors.invalidArgument(
      `refusing to listen on ${host}: it is not a loopback address and the explorer has no authentication, ` +
        `so anyone who can reach it could read every image. Use --addr 127.0.0.1:PORT, or pass --allow-remote to listen there anyway.`,
    );
  }
  const handler = createExplorerHandler(explorer);
  const server = createServer((req, res) => {
    if (loopback && !loopbackHostHeader(req.headers.host)) {
      res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('misdirected request: this explorer answers only to loopback host names\n');
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'EADDRINUSE'
          ? errors.unavailable(`cannot listen on ${host}:${port}: the port is in use; pick another with --addr ${host}:PORT`)
          : errors.unavailable(`cannot listen on ${host}:${port}: ${e.message}`, { cause: e }),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const actualPort = typeof bound === 'object' && bound ? bound.port : port;
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;
  return {
    server,
    url: `http://${urlHost}:${actualPort}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
