import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { errnoCode, errors } from '../errors/errors.js';

/**
 * Registry host settings. There is no implicit Docker Hub: the default
 * registry for names without a host, per-registry mirrors and the registries
 * that may be reached over plain HTTP come from one JSON file,
 * /etc/strata/registries.json (or $STRATA_REGISTRIES_CONFIG):
 *
 *   {
 *     "defaultRegistry": "registry.example.com",
 *     "registries": {
 *       "registry.example.com": { "mirrors": ["mirror.local:5000"] },
 *       "build-cache:5000": { "insecure": true }
 *     }
 *   }
 *
 * $STRATA_DEFAULT_REGISTRY overrides "defaultRegistry". TLS trust follows
 * Docker's certs.d layout: <dir>/<host[:port]>/*.crt are extra CAs and
 * *.cert/*.key pairs client certificates, with <dir> = /etc/strata/certs.d
 * and ~/.config/strata/certs.d (or the config's "certsDirs").
 */
export interface RegistryHostConfig {
  /** Plain HTTP allowed, and TLS certificates not verified (as Docker's insecure-registries). */
  insecure?: boolean;
  /** Hosts (host[:port] or scheme://host[:port]) tried before the registry itself, for pulls. */
  mirrors?: string[];
}

export interface RegistriesConfig {
  defaultRegistry?: string;
  registries: Record<string, RegistryHostConfig>;
  certsDirs: string[];
}

export const REGISTRIES_CONFIG = '/etc/strata/registries.json';

export function defaultCertsDirs(): string[] {
  return ['/etc/strata/certs.d', join(homedir(), '.config/strata/certs.d')];
}

export function loadRegistriesConfig(env: NodeJS.ProcessEnv = process.env): RegistriesConfig {
  const path = env.STRATA_REGISTRIES_CONFIG ?? REGISTRIES_CONFIG;
  let raw: Partial<RegistriesConfig> = {};
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<RegistriesConfig>;
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') {
      throw errors.invalidArgument(`registry configuration ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (typeof raw !== 'object' || raw === null) throw errors.invalidArgument(`registry configuration ${path}: expected a JSON object`);
  return {
    defaultRegistry: env.STRATA_DEFAULT_REGISTRY || raw.defaultRegistry,
    registries: raw.registries ?? {},
    certsDirs: raw.certsDirs ?? defaultCertsDirs(),
  };
}

/** A place to send requests for a registry: the registry itself or one of its mirrors. */
export interface Endpoint {
  /** host[:port] as used in URLs. */
  host: string;
  /** Plain HTTP may be used (after HTTPS fails to connect). */
  allowHttp: boolean;
  /** TLS certificates are not verified. */
  skipVerify: boolean;
  /** Set when the scheme is fixed by configuration ("http://mirror:5000"). */
  scheme?: 'http' | 'https';
  mirror: boolean;
}

/** Loopback hosts are reachable over plain HTTP, as Docker allows them. */
export function isLoopback(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

export class RegistryHosts {
  readonly config: RegistriesConfig;

  constructor(config: RegistriesConfig) {
    this.config = config;
  }

  #endpoint(host: string, mirror: boolean): Endpoint {
    const m = /^(https?):\/\/([^/]+)\/?$/.exec(host);
    const bare = m ? m[2] : host;
    const insecure = this.config.registries[bare]?.insecure === true;
    return {
      host: bare,
      allowHttp: insecure || isLoopback(bare) || m?.[1] === 'http',
      skipVerify: insecure,
      scheme: m ? (m[1] as 'http' | 'https') : undefined,
      mirror,
    };
  }

  /** Where to pull from: the configured mirrors in order, then the registry. */
  pullEndpoints(registry: string): Endpoint[] {
    const mirrors = this.config.registries[registry]?.mirrors ?? [];
    return [...mirrors.map((h) => this.#endpoint(h, true)), this.#endpoint(registry, false)];
  }

  /** Pushes and logins always go to the registry itself. */
  endpoint(registry: string): Endpoint {
    return this.#endpoint(registry, false);
  }
}
