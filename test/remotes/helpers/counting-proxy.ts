import { createServer, request, type Server } from 'node:http';

/** A reverse proxy in front of a registry that counts the body bytes it relays to clients. */
export class CountingProxy {
  bytes = 0;
  #server: Server;
  readonly port: number;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(target: string): Promise<CountingProxy> {
    const [hostname, port] = target.split(':');
    let proxy: CountingProxy;
    const server = createServer((req, res) => {
      const up = request({ hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        // pipe keeps backpressure, so what is counted is what the client is taking, not a buffer here.
        r.on('data', (c: Buffer) => (proxy.bytes += c.length));
        r.pipe(res);
        r.on('error', () => res.destroy());
      });
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy());
      req.pipe(up);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const a = server.address();
    proxy = new CountingProxy(server, typeof a === 'object' && a ? a.port : 0);
    return proxy;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }
}
