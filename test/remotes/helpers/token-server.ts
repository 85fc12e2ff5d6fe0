import { execFileSync } from 'node:child_process';
import { createSign, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * A token server as ../shared/specs/registry-token-auth describes: GET
 * /token?service=&scope= with optional Basic credentials answers a JWT
 * (RS256, certificate in x5c) granting the requested actions to a known user
 * and nothing to anyone else. It counts the tokens it issued.
 */
export class TokenServer {
  readonly certPath: string;
  readonly service = 'strata-test-registry';
  readonly issuer = 'strata-test-issuer';
  issued = 0;
  #server: Server;
  #port = 0;

  private constructor(certPath: string, server: Server) {
    this.certPath = certPath;
    this.#server = server;
  }

  get realm(): string {
    return `http://127.0.0.1:${this.#port}/token`;
  }

  static async start(dir: string, users: Record<string, string>): Promise<TokenServer> {
    const keyPath = join(dir, 'token.key');
    const certPath = join(dir, 'token.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=strata-token'], { stdio: 'ignore' });
    const key = readFileSync(keyPath, 'utf8');
    const der = readFileSync(certPath, 'utf8').replace(/-----[^-]+-----|\s/g, '');
    let ts: TokenServer;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const auth = req.headers.authorization;
      let user: string | undefined;
      if (auth?.startsWith('Basic ')) {
        const [u, p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
        if (users[u] !== p) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
          return;
        }
        user = u;
      }
      const access = user
        ? url.searchParams.getAll('scope').flatMap((s) => {
            const m = /^repository:(.+):([a-z,*]+)$/.exec(s);
            return m ? [{ type: 'repository', name: m[1], actions: m[2].split(',') }] : [];
          })
        : [];
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [der] }));
      const claims = b64url(JSON.stringify({ iss: ts.issuer, sub: user ?? '', aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
      const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key);
      ts.issued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${header}.${claims}.${b64url(signature)}`, expires_in: 300 }));
    });
    ts = new TokenServer(certPath, server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const a = server.address();
    ts.#port = typeof a === 'object' && a ? a.port : 0;
    return ts;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }
}
