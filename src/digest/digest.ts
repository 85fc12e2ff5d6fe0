import { createHash, type Hash } from 'node:crypto';
import { errors } from '../errors/errors.js';

/** A content digest in OCI form: `<algorithm>:<hex>`. */
export type Digest = `${'sha256' | 'sha512'}:${string}`;
export type Algorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<Algorithm, number> = { sha256: 64, sha512: 128 };

export function isDigest(s: string): s is Digest {
  const m = /^(sha256|sha512):([a-f0-9]+)$/.exec(s);
  return m !== null && m[2].length === HEX_LENGTH[m[1] as Algorithm];
}

/** Validates untrusted text as a digest; the error names where it came from. */
export function parseDigest(s: string, where = 'digest'): Digest {
  if (!isDigest(s)) {
    throw errors.invalidDigest(`invalid ${where} "${s.slice(0, 150)}": expected sha256:<64 hex> or sha512:<128 hex>`);
  }
  return s;
}

export function algorithmOf(d: Digest): Algorithm {
  return d.slice(0, d.indexOf(':')) as Algorithm;
}

export function hexOf(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}

export function digestOf(data: string | Uint8Array, algorithm: Algorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

export function newHash(algorithm: Algorithm = 'sha256'): Hash {
  return createHash(algorithm);
}

/** The first 12 hex characters, as Docker shows image and layer IDs. */
export function shortId(d: string): string {
  return (d.includes(':') ? d.slice(d.indexOf(':') + 1) : d).slice(0, 12);
}
