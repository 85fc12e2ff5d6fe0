import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { errnoCode, errors } from '../errors/errors.js';

/** What a registry login yields: a user and password, or an OAuth refresh token. */
export interface Credentials {
  username?: string;
  password?: string;
  identityToken?: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [other: string]: unknown;
}

/** Docker Hub's credentials live under its v1 index URL, for compatibility with every client. */
const HUB_KEY = 'https://index.docker.io/v1/';

export function configKey(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? HUB_KEY : registry;
}

/**
 * Credentials in Docker's config.json ($DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json), so `docker login` and `strata login` share them.
 * A credHelpers entry for the registry, or else credsStore, hands the secret
 * to docker-credential-<name> (used when that program is installed);
 * otherwise it is stored base64 in "auths", as Docker does.
 */
export class CredentialStore {
  readonly path: string;

  constructor(path?: string) {
    this.path = path ?? join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  }

  async #read(): Promise<DockerConfig> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as DockerConfig;
      return typeof parsed === 'object' && parsed !== null ? parsed : {};
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return {};
      throw errors.invalidArgument(`credentials file ${this.path}: ${(e as Error).message}`, { cause: e });
    }
  }

  async #write(cfg: DockerConfig): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp-${process.pid}`;
    await writeFile(tmp, `${JSON.stringify(cfg, null, '\t')}\n`, { mode: 0o600 });
    await rename(tmp, this.path);
  }

  async #helper(cfg: DockerConfig, registry: string): Promise<string | undefined> {
    const name = cfg.credHelpers?.[configKey(registry)] ?? cfg.credHelpers?.[registry] ?? cfg.credsStore;
    if (!name) return undefined;
    return (await helperExists(name)) ? name : undefined;
  }

  async get(registry: string): Promise<Credentials | undefined> {
    const cfg = await this.#read();
    const key = configKey(registry);
    const helper = await this.#helper(cfg, registry);
    if (helper) {
      const r = await runHelper(helper, 'get', key);
      if (r.code !== 0) return undefined; // "credentials not found in native keychain"
      const got = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
      if (!got.Secret) return undefined;
      return got.Username === '<token>' ? { identityToken: got.Secret } : { username: got.Username, password: got.Secret };
    }
    const entry = cfg.auths?.[key] ?? cfg.auths?.[`https://${registry}`] ?? cfg.auths?.[`http://${registry}`];
    if (!entry) return undefined;
    if (entry.identitytoken) return { identityToken: entry.identitytoken };
    if (!entry.auth) return undefined;
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw errors.invalidArgument(`credentials file ${this.path}: the "auth" of ${key} is not base64 "user:password"`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }

  /** Stores credentials; returns where they went (a helper's name, or the file). */
  async store(registry: string, creds: Credentials): Promise<string> {
    const cfg = await this.#read();
    const key = configKey(registry);
    const helper = await this.#helper(cfg, registry);
    if (helper) {
      const body = JSON.stringify({
        ServerURL: key,
        Username: creds.identityToken ? '<token>' : creds.username,
        Secret: creds.identityToken ?? creds.password,
      });
      const r = await runHelper(helper, 'store', body);
      if (r.code !== 0) throw errors.unavailable(`docker-credential-${helper} store failed: ${r.stderr.trim() || r.stdout.trim()}`);
      cfg.auths = { ...cfg.auths, [key]: {} };
      await this.#write(cfg);
      return `docker-credential-${helper}`;
    }
    cfg.auths = {
      ...cfg.auths,
      [key]: creds.identityToken
        ? { identitytoken: creds.identityToken }
        : { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') },
    };
    await this.#write(cfg);
    return this.path;
  }

  /** Removes credentials; false when there were none. */
  async erase(registry: string): Promise<boolean> {
    const cfg = await this.#read();
    const key = configKey(registry);
    const helper = await this.#helper(cfg, registry);
    let found = false;
    if (helper) found = (await runHelper(helper, 'erase', key)).code === 0;
    for (const k of [key, `https://${registry}`, `http://${registry}`]) {
      if (cfg.auths && k in cfg.auths) {
        delete cfg.auths[k];
        found = true;
      }
    }
    if (found) await this.#write(cfg);
    return found;
  }
}

async function helperExists(name: string): Promise<boolean> {
  const r = await runHelper(name, 'version', '').catch(() => undefined);
  return r !== undefined && r.code !== 127;
}

function runHelper(name: string, verb: string, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${name}`, [verb], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (e) => (errnoCode(e) === 'ENOENT' ? resolve({ code: 127, stdout, stderr }) : reject(e)));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
