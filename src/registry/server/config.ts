import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { errors } from '../../errors/errors.js';
import { parseStorageFlag, type DriverSpec } from '../storage/driver/factory.js';
import type { QuotaRule } from '../storage/quota.js';
import { isLogLevel, type LogLevel } from './log.js';

/**
 * `strata registry serve --config FILE`: YAML (JSON is YAML too), shaped like
 * distribution's config where they overlap. Relative paths are relative to the file.
 *
 *   http:    { addr: "127.0.0.1:5000", secret: "...", tls: { certificate: FILE, key: FILE } }
 *   storage: { filesystem: { rootdirectory: DIR } | inmemory: {} |
 *              s3: { bucket, region, regionendpoint, forcepathstyle, accesskey, secretkey, rootdirectory },
 *              delete: { enabled: true } }
 *   auth:    { htpasswd: { realm, path: FILE }, acl: FILE,
 *              token: { service, issuer, key: PEM FILE, realm: URL, expiration: SECONDS } }
 *   quotas:  [ { repository: "team/*", maxBytes: 1073741824 } ]
 *   gc:      { interval: SECONDS, gracePeriod: SECONDS }
 *   log:     { level: info }
 */
export interface RegistryConfig {
  addr: string;
  secret?: string;
  tls?: { cert: string; key: string };
  storage: DriverSpec;
  deleteEnabled: boolean;
  auth?: {
    htpasswd: string;
    realm: string;
    acl?: string;
    token?: { service: string; issuer: string; key?: string; realm?: string; expiration?: number };
  };
  quotas: QuotaRule[];
  gc?: { intervalSeconds: number; gracePeriodSeconds?: number };
  logLevel: LogLevel;
}

export const DEFAULT_ADDR = '127.0.0.1:5000';
export const DEFAULT_STORAGE = '/var/lib/strata-registry';

type Obj = Record<string, unknown>;

export function parseConfig(text: string, file = 'config', base = process.cwd()): RegistryConfig {
  const bad = (why: string) => errors.invalidArgument(`${file}: ${why}`);
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw bad(`not valid YAML: ${(e as Error).message}`);
  }
  const root = (doc ?? {}) as Obj;
  const obj = (v: unknown, where: string): Obj => {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw bad(`${where} must be a mapping`);
    return v as Obj;
  };
  const str = (v: unknown, where: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v === '') throw bad(`${where} must be a non-empty string`);
    return v;
  };
  const num = (v: unknown, where: string): number | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !(v >= 0)) throw bad(`${where} must be a non-negative number`);
    return v;
  };
  const path = (v: unknown, where: string): string | undefined => {
    const s = str(v, where);
    return s === undefined ? undefined : resolve(base, s);
  };

  const http = obj(root.http, 'http');
  const tls = obj(http.tls, 'http.tls');
  const storage = obj(root.storage, 'storage');
  const kinds = ['filesystem', 'inmemory', 's3'].filter((k) => storage[k] !== undefined);
  if (kinds.length > 1) throw bad(`storage must name one driver, not ${kinds.join(' and ')}`);
  let spec: DriverSpec;
  if (kinds[0] === 'inmemory') spec = { type: 'inmemory' };
  else if (kinds[0] === 's3') {
    const s3 = obj(storage.s3, 'storage.s3');
    const bucket = str(s3.bucket, 'storage.s3.bucket');
    if (!bucket) throw bad('storage.s3.bucket is required');
    spec = {
      type: 's3',
      bucket,
      region: str(s3.region, 'storage.s3.region'),
      endpoint: str(s3.regionendpoint, 'storage.s3.regionendpoint'),
      forcePathStyle: s3.forcepathstyle === true,
      accessKeyId: str(s3.accesskey, 'storage.s3.accesskey'),
      secretAccessKey: str(s3.secretkey, 'storage.s3.secretkey'),
      rootDirectory: str(s3.rootdirectory, 'storage.s3.rootdirectory'),
    };
  } else {
    spec = { type: 'filesystem', root: path(obj(storage.filesystem, 'storage.filesystem').rootdirectory, 'storage.filesystem.rootdirectory') ?? DEFAULT_STORAGE };
  }

  const auth = obj(root.auth, 'auth');
  const htpasswd = obj(auth.htpasswd, 'auth.htpasswd');
  const token = auth.token === undefined ? undefined : obj(auth.token, 'auth.token');
  const htpasswdPath = path(htpasswd.path, 'auth.htpasswd.path');
  const acl = path(auth.acl, 'auth.acl');
  if (token && (!htpasswdPath || !acl)) throw bad('auth.token needs auth.htpasswd.path (the users) and auth.acl (their access)');
  if (acl && !htpasswdPath) throw bad('auth.acl needs auth.htpasswd.path');

  const quotas = (Array.isArray(root.quotas) ? root.quotas : root.quotas === undefined ? [] : undefined)?.map((q: unknown, i: number) => {
    const o = obj(q, `quotas[${i}]`);
    const repository = str(o.repository, `quotas[${i}].repository`);
    const maxBytes = num(o.maxBytes, `quotas[${i}].maxBytes`);
    if (!repository || maxBytes === undefined) throw bad(`quotas[${i}] needs repository and maxBytes`);
    return { repository, maxBytes };
  });
  if (!quotas) throw bad('quotas must be a list');

  const gc = root.gc === undefined ? undefined : obj(root.gc, 'gc');
  const level = str(obj(root.log, 'log').level, 'log.level') ?? 'info';
  if (!isLogLevel(level)) throw bad(`log.level ${level} must be debug, info, warn or error`);
  const tlsCert = path(tls.certificate, 'http.tls.certificate');
  const tlsKey = path(tls.key, 'http.tls.key');
  if (!!tlsCert !== !!tlsKey) throw bad('http.tls needs both certificate and key');
  const deleteCfg = obj(storage.delete, 'storage.delete');
  return {
    addr: str(http.addr, 'http.addr') ?? DEFAULT_ADDR,
    secret: str(http.secret, 'http.secret'),
    tls: tlsCert && tlsKey ? { cert: tlsCert, key: tlsKey } : undefined,
    storage: spec,
    deleteEnabled: deleteCfg.enabled !== false,
    auth: htpasswdPath
      ? {
          htpasswd: htpasswdPath,
          realm: str(htpasswd.realm, 'auth.htpasswd.realm') ?? 'strata-registry',
          acl,
          token: token && {
            service: str(token.service, 'auth.token.service') ?? 'strata-registry',
            issuer: str(token.issuer, 'auth.token.issuer') ?? 'strata-registry',
            key: path(token.key, 'auth.token.key'),
            realm: str(token.realm, 'auth.token.realm'),
            expiration: num(token.expiration, 'auth.token.expiration'),
          },
        }
      : undefined,
    quotas,
    gc: gc && { intervalSeconds: num(gc.interval, 'gc.interval') ?? 3600, gracePeriodSeconds: num(gc.gracePeriod, 'gc.gracePeriod') },
    logLevel: level,
  };
}

export async function loadConfig(file: string): Promise<RegistryConfig> {
  return parseConfig(await readFile(file, 'utf8'), file, dirname(resolve(file)));
}

/** Command-line flags win over the file. */
export function applyFlags(cfg: RegistryConfig, flags: { addr?: string; storage?: string; tlsCert?: string; tlsKey?: string; logLevel?: string }): RegistryConfig {
  const out = { ...cfg };
  if (flags.addr) out.addr = flags.addr;
  if (flags.storage) out.storage = parseStorageFlag(flags.storage);
  if (!!flags.tlsCert !== !!flags.tlsKey) throw errors.invalidArgument('--tls-cert and --tls-key go together');
  if (flags.tlsCert && flags.tlsKey) out.tls = { cert: resolve(flags.tlsCert), key: resolve(flags.tlsKey) };
  if (flags.logLevel) {
    if (!isLogLevel(flags.logLevel)) throw errors.invalidArgument(`--log-level ${flags.logLevel} must be debug, info, warn or error`);
    out.logLevel = flags.logLevel;
  }
  return out;
}

export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw errors.invalidArgument(`--addr "${addr}" must be HOST:PORT, as in 127.0.0.1:5000 or :5000`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}
