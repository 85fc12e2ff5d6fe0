import type { IncomingMessage } from 'node:http';
import { DistributionError } from '../../storage/errors.js';
import type { Action } from '../context.js';
import type { Acl } from './acl.js';
import { basicCredentials, type Htpasswd } from './htpasswd.js';
import type { AccessEntry, TokenSigner } from './jwt.js';

/** What a request needs: the token spec's resource scopes. */
export type Scope = AccessEntry;

/** Who the caller is and what else they may do. */
export interface Grant {
  user?: string;
  can(name: string, action: Action): boolean;
}

/** A 401 or 403 with the challenge the client must answer. */
export class AuthError extends DistributionError {
  readonly challenge?: string;
  constructor(code: 'UNAUTHORIZED' | 'DENIED', message: string, challenge?: string, detail?: unknown) {
    super(code, message, { detail });
    this.challenge = challenge;
  }
}

export interface Authorizer {
  authorize(req: IncomingMessage, required: Scope[], realmBase: string): Promise<Grant>;
}

export const scopeString = (s: Scope): string => `${s.type}:${s.name}:${s.actions.join(',')}`;
const detail = (required: Scope[]) => required.flatMap((s) => s.actions.map((a) => ({ Type: s.type, Name: s.name, Action: a })));

export class NoAuth implements Authorizer {
  async authorize(): Promise<Grant> {
    return { can: () => true };
  }
}

/** Whether `can` satisfies every scope; catalog access is open to whoever got this far (entries are filtered). */
function satisfies(required: Scope[], can: (name: string, action: Action) => boolean): boolean {
  return required.every((s) => s.type === 'registry' || s.actions.every((a) => can(s.name, a as Action)));
}

/** HTTP Basic against an htpasswd file; with an ACL, per-repository rules and anonymous pulls. */
export class BasicAuth implements Authorizer {
  readonly #htpasswd: Htpasswd;
  readonly #realm: string;
  readonly #acl?: Acl;

  constructor(htpasswd: Htpasswd, realm: string, acl?: Acl) {
    this.#htpasswd = htpasswd;
    this.#realm = realm;
    this.#acl = acl;
  }

  async authorize(req: IncomingMessage, required: Scope[]): Promise<Grant> {
    const challenge = `Basic realm="${this.#realm}"`;
    const creds = basicCredentials(req.headers.authorization);
    if (creds && !(await this.#htpasswd.verify(creds.user, creds.password))) {
      throw new AuthError('UNAUTHORIZED', 'authentication required: wrong user name or password', challenge, detail(required));
    }
    const user = creds?.user;
    const acl = this.#acl;
    const can = (name: string, action: Action): boolean => (acl ? acl.actions(user, name).has(action) : user !== undefined);
    if (user === undefined && (!acl || required.length === 0 || !satisfies(required, can))) {
      throw new AuthError('UNAUTHORIZED', 'authentication required', challenge, detail(required));
    }
    if (!satisfies(required, can)) {
      throw new AuthError('DENIED', `requested access to the resource is denied for ${user}`, undefined, detail(required));
    }
    return { user, can };
  }
}

export interface TokenAuthOptions {
  signer: TokenSigner;
  service: string;
  issuer: string;
  /** Absolute realm URL; by default the registry's own token endpoint at the request's host. */
  realm?: string;
  acl: Acl;
}

/** Bearer tokens issued by the built-in token endpoint (token-issuer.ts) and checked here without a callback. */
export class TokenAuth implements Authorizer {
  readonly opts: TokenAuthOptions;

  constructor(opts: TokenAuthOptions) {
    this.opts = opts;
  }

  async authorize(req: IncomingMessage, required: Scope[], realmBase: string): Promise<Grant> {
    const { service, issuer, signer, acl } = this.opts;
    const realm = this.opts.realm ?? realmBase;
    const challenge = (error?: string): string =>
      `Bearer realm="${realm}",service="${service}"` +
      (required.length ? `,scope="${required.map(scopeString).join(' ')}"` : '') +
      (error ? `,error="${error}"` : '');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) throw new AuthError('UNAUTHORIZED', 'authentication required', challenge(), detail(required));
    const claims = signer.verify(m[1], { iss: issuer, aud: service });
    if (!claims) throw new AuthError('UNAUTHORIZED', 'the bearer token is invalid or expired; request a new one', challenge('invalid_token'), detail(required));
    const user = claims.sub === '' ? undefined : claims.sub;
    const granted = (name: string, action: string): boolean =>
      claims.access.some((a) => a.type === 'repository' && a.name === name && (a.actions.includes(action) || a.actions.includes('*')));
    if (!satisfies(required, granted)) {
      throw new AuthError('UNAUTHORIZED', 'the bearer token does not grant the access this request needs', challenge('insufficient_scope'), detail(required));
    }
    return { user, can: (name, action) => granted(name, action) || acl.actions(user, name).has(action) };
  }
}
