import { errors } from '../errors/errors.js';
import type { Credentials } from './credentials.js';
import { drain, readBody, send, type HttpResponse } from './transport.js';
import type { Agents } from './tls.js';

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/**
 * Parses WWW-Authenticate (RFC 7235): `Bearer realm="...",service="...",scope="a b"`.
 * Quoted values may hold commas and escaped quotes.
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const h of Array.isArray(header) ? header : header ? [header] : []) {
    const re = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+)))?\s*,?/gy;
    let current: Challenge | undefined;
    for (let m = re.exec(h); m !== null && m[0] !== ''; m = re.exec(h)) {
      const [, name, quoted, token] = m;
      if (quoted === undefined && token === undefined) {
        const scheme = name.toLowerCase();
        current = scheme === 'basic' || scheme === 'bearer' ? { scheme, params: {} } : undefined;
        if (current) out.push(current);
      } else if (current) {
        current.params[name.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : token!;
      }
    }
  }
  return out;
}

/** `repository:<name>:<actions>`, as the token spec's scope grammar writes it. */
export function repositoryScope(repository: string, actions: string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Tokens are refreshed this long before they expire, so a long pull never sends a stale one. */
const EXPIRY_MARGIN_MS = 10_000;

/**
 * Authorization for one registry host: the challenge learnt from its /v2/
 * answer, the user's credentials, and Bearer tokens cached per scope set.
 */
export class Authorizer {
  readonly registry: string;
  #agents: Agents;
  #creds: () => Promise<Credentials | undefined>;
  #challenge?: Challenge;
  #tokens = new Map<string, Promise<CachedToken>>();
  #loaded?: Promise<Credentials | undefined>;
  #skipVerify: boolean;

  constructor(registry: string, agents: Agents, creds: () => Promise<Credentials | undefined>, skipVerify = false) {
    this.registry = registry;
    this.#agents = agents;
    this.#creds = creds;
    this.#skipVerify = skipVerify;
  }

  get challenge(): Challenge | undefined {
    return this.#challenge;
  }

  #credentials(): Promise<Credentials | undefined> {
    this.#loaded ??= this.#creds();
    return this.#loaded;
  }

  /** Learns the scheme from a 401's WWW-Authenticate; false when it offers none we speak. */
  learn(res: HttpResponse): boolean {
    const ch = parseChallenges(res.headers['www-authenticate']);
    const picked = ch.find((c) => c.scheme === 'bearer') ?? ch.find((c) => c.scheme === 'basic');
    if (picked) this.#challenge = picked;
    return picked !== undefined;
  }

  /** The Authorization header for a request needing `scopes`, or undefined (anonymous, no challenge yet). */
  async header(scopes: string[]): Promise<string | undefined> {
    const ch = this.#challenge;
    if (!ch) return undefined;
    const creds = await this.#credentials();
    if (ch.scheme === 'basic') {
      if (!creds?.username) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
    }
    const key = scopeKey(scopes);
    let p = this.#tokens.get(key);
    if (p) {
      const t = await p.catch(() => undefined);
      if (t && t.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return `Bearer ${t.token}`;
      this.#tokens.delete(key);
    }
    p = this.#fetchToken(ch, scopes, creds);
    this.#tokens.set(key, p);
    p.catch(() => this.#tokens.delete(key));
    return `Bearer ${(await p).token}`;
  }

  /** Forgets the token of a scope set, after the registry refused it. */
  invalidate(scopes: string[]): void {
    this.#tokens.delete(scopeKey(scopes));
  }

  async #fetchToken(ch: Challenge, scopes: string[], creds: Credentials | undefined): Promise<CachedToken> {
    const realm = ch.params.realm;
    if (!realm) throw errors.unavailable(`registry ${this.registry} asked for a Bearer token without saying where to get it (no realm)`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw errors.unavailable(`registry ${this.registry} gave an invalid token realm "${realm}"`);
    }
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    let body: Buffer | undefined;
    let method = 'GET';
    if (creds?.identityToken) {
      // A refresh token goes to the OAuth2 endpoint (POST), never in a query string.
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'strata' });
      if (ch.params.service) form.set('service', ch.params.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      body = Buffer.from(form.toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(body.length);
    } else {
      if (ch.params.service) url.searchParams.set('service', ch.params.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      url.searchParams.set('client_id', 'strata');
      if (creds?.username) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
    }
    const started = Date.now();
    let res: HttpResponse;
    try {
      res = await send(this.#agents, { method, url, headers, body, skipVerify: this.#skipVerify });
    } catch (e) {
      throw errors.unavailable(`cannot reach the token server ${url.origin} of registry ${this.registry}: ${(e as Error).message}`, { cause: e });
    }
    if (res.status === 401 || res.status === 403) {
      drain(res);
      throw errors.unauthorized(
        creds
          ? `login to ${this.registry} failed: the token server ${url.origin} refused the credentials (incorrect username or password)`
          : `registry ${this.registry} requires authentication: run \`strata login ${this.registry}\``,
      );
    }
    if (res.status !== 200) {
      const text = (await readBody(res, 64 << 10, 'token response').catch(() => Buffer.alloc(0))).toString().slice(0, 200);
      throw errors.unavailable(`token server ${url.origin} of registry ${this.registry} answered ${res.status}: ${text}`);
    }
    let doc: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      doc = JSON.parse((await readBody(res, 1 << 20, 'token response')).toString('utf8'));
    } catch (e) {
      throw errors.unavailable(`token server ${url.origin} sent an invalid token response: ${(e as Error).message}`);
    }
    const token = doc.token ?? doc.access_token;
    if (!token) throw errors.unavailable(`token server ${url.origin} sent a response without a token`);
    // Counted from our clock, not issued_at: the token server's clock may differ from ours.
    return { token, expiresAt: started + Math.max(60, doc.expires_in ?? 60) * 1000 };
  }
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}

export const USER_AGENT = 'strata/0.1 (registry client)';
