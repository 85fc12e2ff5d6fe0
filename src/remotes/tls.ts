import { readdirSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { errnoCode, errors } from '../errors/errors.js';

const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

let systemCas: string[] | undefined;

/** Node's bundled roots plus the distribution's CA bundle (what `update-ca-certificates` manages). */
function systemCertificates(): string[] {
  if (systemCas) return systemCas;
  const found: string[] = [...rootCertificates];
  for (const f of SYSTEM_CA_FILES) {
    try {
      found.push(readFileSync(f, 'utf8'));
      break;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
  }
  systemCas = found;
  return found;
}

interface HostTls {
  ca: string[];
  cert?: Buffer;
  key?: Buffer;
}

/**
 * Docker's certs.d convention for one registry host: every *.crt is a CA,
 * each *.cert with its matching *.key is a client certificate.
 */
function hostTls(host: string, certsDirs: string[]): HostTls {
  const out: HostTls = { ca: [] };
  for (const base of certsDirs) {
    const dir = join(base, host);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') continue;
      throw e;
    }
    for (const n of names) {
      if (n.endsWith('.crt')) out.ca.push(readFileSync(join(dir, n), 'utf8'));
      if (n.endsWith('.cert') && !out.cert) {
        const key = `${n.slice(0, -'.cert'.length)}.key`;
        if (!names.includes(key)) {
          throw errors.invalidArgument(`client certificate ${join(dir, n)} has no matching key ${join(dir, key)}`);
        }
        out.cert = readFileSync(join(dir, n));
        out.key = readFileSync(join(dir, key));
      }
    }
  }
  return out;
}

/**
 * Keep-alive agents, one per registry host and TLS policy, so the layer
 * downloads of a pull share connections and the CA files are read once.
 */
export class Agents {
  #https = new Map<string, HttpsAgent>();
  #http = new HttpAgent({ keepAlive: true, maxSockets: 32 });
  #certsDirs: string[];

  constructor(certsDirs: string[]) {
    this.#certsDirs = certsDirs;
  }

  http(): HttpAgent {
    return this.#http;
  }

  https(host: string, skipVerify: boolean): HttpsAgent {
    const key = `${host}|${skipVerify}`;
    let agent = this.#https.get(key);
    if (!agent) {
      const extra = hostTls(host, this.#certsDirs);
      agent = new HttpsAgent({
        keepAlive: true,
        maxSockets: 32,
        ca: [...systemCertificates(), ...extra.ca],
        cert: extra.cert,
        key: extra.key,
        rejectUnauthorized: !skipVerify,
      });
      this.#https.set(key, agent);
    }
    return agent;
  }

  close(): void {
    this.#http.destroy();
    for (const a of this.#https.values()) a.destroy();
  }
}
