import type { Readable } from 'node:stream';
import { errors, isStrataError } from '../errors/errors.js';
import { Authorizer, repositoryScope, USER_AGENT } from './auth.js';
import { CredentialStore, type Credentials } from './credentials.js';
import { RegistryHosts, type Endpoint, type RegistriesConfig } from './hosts.js';
import { responseError } from './registry-errors.js';
import { Agents } from './tls.js';
import { drain, isNetworkError, send, type HttpResponse } from './transport.js';

/** Redirect chains longer than this are loops (Docker's Go client stops at 10 too). */
const MAX_REDIRECTS = 10;

export interface RequestOptions {
  headers?: Record<string, string>;
  /** A Buffer, or a factory so the body can be sent again after an auth challenge. */
  body?: Buffer | (() => Readable);
  /** Scopes beyond this repository's (a cross-repository mount also needs pull on the source). */
  extraScopes?: string[];
  /** Return these statuses as they are instead of failing (e.g. 404 for a HEAD). */
  accept?: number[];
  /** What the request is for, in error messages. */
  what?: string;
  signal?: AbortSignal;
}

/**
 * The registry side of one engine operation: connection pools, TLS trust,
 * credentials and, per registry host, the scheme and auth challenge learnt
 * from its /v2/ answer, shared by every repository client.
 */
export class Remotes {
  readonly hosts: RegistryHosts;
  readonly credentials: CredentialStore;
  readonly agents: Agents;
  #pings = new Map<string, Promise<URL>>();
  #authorizers = new Map<string, Authorizer>();
  #override = new Map<string, Credentials>();

  constructor(config: RegistriesConfig, credentials = new CredentialStore()) {
    this.hosts = new RegistryHosts(config);
    this.credentials = credentials;
    this.agents = new Agents(config.certsDirs);
  }

  /** Uses these credentials for a host instead of the stored ones (login checks them before storing). */
  useCredentials(host: string, creds: Credentials): void {
    this.#override.set(host, creds);
  }

  authorizer(ep: Endpoint): Authorizer {
    let a = this.#authorizers.get(ep.host);
    if (!a) {
      const over = this.#override.get(ep.host);
      a = new Authorizer(ep.host, this.agents, async () => over ?? (await this.credentials.get(ep.host)), ep.skipVerify);
      this.#authorizers.set(ep.host, a);
    }
    return a;
  }

  /** The registry's base URL, found by GET /v2/ (HTTPS first; plain HTTP where allowed). */
  base(ep: Endpoint): Promise<URL> {
    let p = this.#pings.get(ep.host);
    if (!p) {
      p = this.#ping(ep);
      this.#pings.set(ep.host, p);
      p.catch(() => this.#pings.delete(ep.host));
    }
    return p;
  }

  async #ping(ep: Endpoint): Promise<URL> {
    const schemes = ep.scheme ? [ep.scheme] : ep.allowHttp ? ['https', 'http'] : ['https'];
    let lastError: unknown;
    for (const scheme of schemes) {
      const url = new URL(`${scheme}://${ep.host}/v2/`);
      let res: HttpResponse;
      try {
        res = await send(this.agents, { method: 'GET', url, headers: { 'user-agent': USER_AGENT }, skipVerify: ep.skipVerify });
      } catch (e) {
        lastError = e;
        continue;
      }
      drain(res);
      if (res.status === 401) this.authorizer(ep).learn(res);
      else if (res.status !== 200) {
        throw errors.unavailable(`${ep.host} does not look like a registry: GET ${url} answered ${res.status} (expected 200 or 401)`);
      }
      return new URL(`${scheme}://${ep.host}/`);
    }
    const why = (lastError as Error | undefined)?.message ?? 'unknown error';
    const code = (lastError as { code?: string } | undefined)?.code ?? '';
    const tlsFailed = code === 'EPROTO' || code.startsWith('ERR_SSL');
    const hint = tlsFailed && !ep.allowHttp ? ' (is it a plain HTTP registry? Plain HTTP is used only for localhost and registries marked "insecure" in /etc/strata/registries.json)' : '';
    throw errors.unavailable(`cannot reach registry ${ep.host}: ${why}${hint}`, { cause: lastError });
  }

  repository(ep: Endpoint, repository: string, actions: string[]): RepositoryClient {
    return new RepositoryClient(this, ep, repository, actions);
  }

  close(): void {
    this.agents.close();
  }
}

/** Requests against one repository of one endpoint, with auth and redirects handled. */
export class RepositoryClient {
  readonly remotes: Remotes;
  readonly endpoint: Endpoint;
  readonly repository: string;
  readonly actions: string[];

  constructor(remotes: Remotes, endpoint: Endpoint, repository: string, actions: string[]) {
    this.remotes = remotes;
    this.endpoint = endpoint;
    this.repository = repository;
    this.actions = actions;
  }

  /** "/v2/<repository>/<rest>" against the registry's base URL. */
  async url(rest: string): Promise<URL> {
    return new URL(`/v2/${this.repository}/${rest}`, await this.remotes.base(this.endpoint));
  }

  /**
   * Sends a request for `target` (a path under the repository or an absolute
   * URL from a Location header). A 401 is answered once with fresh
   * credentials; redirects are followed, and the Authorization header never
   * goes to another host (blob storage behind signed URLs).
   */
  async request(method: string, target: string | URL, opts: RequestOptions = {}): Promise<HttpResponse> {
    const start = typeof target === 'string' ? await this.url(target) : target;
    const what = opts.what ?? `${method} ${start.pathname}`;
    const auth = this.remotes.authorizer(this.endpoint);
    const scopes = [repositoryScope(this.repository, this.actions), ...(opts.extraScopes ?? [])];
    for (let attempt = 0; ; attempt++) {
      const res = await this.#follow(method, start, opts, await auth.header(scopes), what);
      if (res.status !== 401 || attempt > 0) return this.#check(res, opts, what);
      drain(res);
      auth.invalidate(scopes);
      if (!auth.learn(res)) return this.#check(res, opts, what);
    }
  }

  async #check(res: HttpResponse, opts: RequestOptions, what: string): Promise<HttpResponse> {
    if ((res.status >= 200 && res.status < 300) || opts.accept?.includes(res.status)) return res;
    const e = await responseError(res, what);
    if (res.status === 401 && (await this.remotes.credentials.get(this.endpoint.host).catch(() => undefined)) === undefined) {
      e.message += ` (run \`strata login ${this.endpoint.host}\`)`;
    }
    throw e;
  }

  async #follow(method: string, url: URL, opts: RequestOptions, authorization: string | undefined, what: string): Promise<HttpResponse> {
    const home = url.host;
    const seen = new Set<string>();
    for (let hops = 0; ; hops++) {
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...opts.headers };
      if (authorization && url.host === home) headers.authorization = authorization;
      const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : opts.body();
      let res: HttpResponse;
      try {
        res = await send(this.remotes.agents, { method, url, headers, body, signal: opts.signal, skipVerify: this.endpoint.skipVerify && url.host === home });
      } catch (e) {
        if (isStrataError(e) || opts.signal?.aborted) throw e;
        if (isNetworkError(e)) throw errors.unavailable(`${what}: ${(e as Error).message} (registry ${this.endpoint.host})`, { cause: e });
        throw e;
      }
      if (![301, 302, 303, 307, 308].includes(res.status) || !res.headers.location) return res;
      drain(res);
      if (hops >= MAX_REDIRECTS || seen.has(url.href)) {
        throw errors.unavailable(`${what}: registry ${this.endpoint.host} redirects in a loop (${hops + 1} redirects, last to ${url.href})`);
      }
      seen.add(url.href);
      url = new URL(res.headers.location, url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw errors.unavailable(`${what}: registry ${this.endpoint.host} redirected to an unsupported URL ${url.protocol}`);
      }
      if (res.status === 303) method = 'GET';
    }
  }
}
