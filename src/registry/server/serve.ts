import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { openDriver } from '../storage/driver/factory.js';
import { collectGarbage } from '../storage/gc.js';
import { Registry } from '../storage/registry.js';
import { Acl } from './auth/acl.js';
import { BasicAuth, NoAuth, TokenAuth, type Authorizer } from './auth/authorizer.js';
import { Htpasswd } from './auth/htpasswd.js';
import { TokenSigner } from './auth/jwt.js';
import { TokenIssuer } from './auth/token-issuer.js';
import { RegistryServer } from './app.js';
import { parseAddr, type RegistryConfig } from './config.js';
import { Logger } from './log.js';

export interface RunningRegistry {
  server: RegistryServer;
  registry: Registry;
  address: AddressInfo;
  /** Graceful: finishes in-flight requests for up to graceMs. */
  close(graceMs?: number): Promise<void>;
}

async function authFor(cfg: RegistryConfig): Promise<{ authorizer: Authorizer; issuer?: TokenIssuer }> {
  const a = cfg.auth;
  if (!a) return { authorizer: new NoAuth() };
  const htpasswd = await Htpasswd.load(a.htpasswd);
  const acl = a.acl ? await Acl.load(a.acl) : undefined;
  if (!a.token) return { authorizer: new BasicAuth(htpasswd, a.realm, acl) };
  const opts = { signer: await TokenSigner.open(a.token.key), service: a.token.service, issuer: a.token.issuer, realm: a.token.realm, acl: acl! };
  return { authorizer: new TokenAuth(opts), issuer: new TokenIssuer(opts, htpasswd, a.token.expiration) };
}

/** Opens storage, builds auth, and listens; periodic online GC when the config asks for it. */
export async function serveRegistry(cfg: RegistryConfig, logger = new Logger(cfg.logLevel)): Promise<RunningRegistry> {
  const registry = await Registry.open(await openDriver(cfg.storage), { uploadSecret: cfg.secret, quotas: cfg.quotas });
  const { authorizer, issuer } = await authFor(cfg);
  const tls = cfg.tls ? { cert: await readFile(cfg.tls.cert), key: await readFile(cfg.tls.key) } : undefined;
  const server = new RegistryServer({ registry, authorizer, tokenIssuer: issuer, deleteEnabled: cfg.deleteEnabled, logger, tls });
  const { host, port } = parseAddr(cfg.addr);
  const address = await server.listen(host, port);
  logger.log('warn', 'listening', { addr: `${address.address}:${address.port}`, tls: !!tls, storage: cfg.storage.type, auth: cfg.auth ? (cfg.auth.token ? 'token' : 'htpasswd') : 'none' });
  let timer: NodeJS.Timeout | undefined;
  if (cfg.gc) {
    const gc = cfg.gc;
    const run = async (): Promise<void> => {
      try {
        const r = await collectGarbage(registry, { gracePeriodMs: gc.gracePeriodSeconds === undefined ? undefined : gc.gracePeriodSeconds * 1000 });
        logger.log('info', 'garbage collection', { deletedBlobs: r.deletedBlobs.length, deletedManifests: r.deletedManifests.length, freedBytes: r.freedBytes, purgedUploads: r.purgedUploads.length });
      } catch (e) {
        logger.log('error', 'garbage collection failed', { error: (e as Error).stack ?? String(e) });
      }
      timer = setTimeout(() => void run(), gc.intervalSeconds * 1000);
      timer.unref();
    };
    timer = setTimeout(() => void run(), gc.intervalSeconds * 1000);
    timer.unref();
  }
  return {
    server,
    registry,
    address,
    async close(graceMs?: number) {
      clearTimeout(timer);
      await server.close(graceMs);
    },
  };
}
