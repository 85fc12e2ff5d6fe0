import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidName } from '../../storage/names.js';
import type { Action } from '../context.js';
import { sendJson } from '../http.js';
import type { Acl } from './acl.js';
import type { TokenAuthOptions } from './authorizer.js';
import { basicCredentials, type Htpasswd } from './htpasswd.js';
import type { AccessEntry } from './jwt.js';

/** The token spec says never less than 60 seconds. */
export const DEFAULT_TOKEN_TTL_S = 300;

/**
 * Parses one scope of the token spec's grammar. The name may hold a `:` (a
 * registry host with a port), so the type is before the first `:` and the
 * actions after the last.
 */
export function parseScope(s: string): AccessEntry | undefined {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = s.slice(0, first).replace(/\(.*\)$/, '');
  return { type, name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',').filter(Boolean) };
}

/** What the ACL lets `user` have of a requested scope: the intersection, possibly empty (never an error). */
function grant(acl: Acl, user: string | undefined, s: AccessEntry): AccessEntry | undefined {
  if (s.type === 'registry' && s.name === 'catalog') return { type: 'registry', name: 'catalog', actions: ['*'] };
  if (s.type !== 'repository' || !isValidName(s.name)) return undefined;
  const allowed = acl.actions(user, s.name);
  const actions = s.actions.includes('*') ? [...allowed] : s.actions.filter((a) => allowed.has(a as Action));
  return { type: 'repository', name: s.name, actions };
}

/**
 * The realm endpoint: GET <realm>?service=&scope=... authenticates Basic
 * credentials (anonymous without them), intersects each requested scope with
 * the ACL, and returns a signed JWT holding that access.
 */
export class TokenIssuer {
  readonly #opts: TokenAuthOptions;
  readonly #htpasswd: Htpasswd;
  readonly #ttl: number;

  constructor(opts: TokenAuthOptions, htpasswd: Htpasswd, ttlSeconds = DEFAULT_TOKEN_TTL_S) {
    this.#opts = opts;
    this.#htpasswd = htpasswd;
    this.#ttl = Math.max(60, ttlSeconds);
  }

  /** Handles the request; returns the authenticated user for the request log. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<string | undefined> {
    const realm = `Basic realm="${this.#opts.service}"`;
    if (req.method !== 'GET') {
      sendJson(res, 405, { errors: [{ code: 'UNSUPPORTED', message: 'the token endpoint answers GET' }] }, { Allow: 'GET' });
      return undefined;
    }
    const creds = basicCredentials(req.headers.authorization);
    if (creds && !(await this.#htpasswd.verify(creds.user, creds.password))) {
      sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'wrong user name or password' }] }, { 'WWW-Authenticate': realm });
      return creds.user;
    }
    const service = url.searchParams.get('service');
    if (service !== null && service !== this.#opts.service) {
      sendJson(res, 400, { errors: [{ code: 'DENIED', message: `this token server issues tokens for service "${this.#opts.service}", not "${service}"` }] });
      return creds?.user;
    }
    const user = creds?.user;
    const access: AccessEntry[] = [];
    for (const param of url.searchParams.getAll('scope')) {
      for (const s of param.split(' ').filter(Boolean)) {
        const parsed = parseScope(s);
        const g = parsed && grant(this.#opts.acl, user, parsed);
        if (g) access.push(g);
      }
    }
    const now = Math.floor(Date.now() / 1000);
    const token = this.#opts.signer.sign({
      iss: this.#opts.issuer,
      sub: user ?? '',
      aud: this.#opts.service,
      iat: now,
      nbf: now,
      exp: now + this.#ttl,
      access,
    });
    sendJson(res, 200, { token, access_token: token, expires_in: this.#ttl, issued_at: new Date(now * 1000).toISOString() });
    return user;
  }
}
