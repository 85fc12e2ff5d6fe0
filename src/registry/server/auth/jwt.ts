import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { errors } from '../../../errors/errors.js';

/** One resource scope granted by a token (token spec's `access` claim). */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface Claims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: AccessEntry[];
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** libtrust's key ID (what distribution matches `kid` against): base32 of the SPKI hash's first 240 bits, in groups of 4. */
export function libtrustKeyId(pub: KeyObject): string {
  const hash = createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

/**
 * Signs and verifies the registry's bearer tokens: compact JWS with ES256
 * (P-256) or RS256, through node:crypto only.
 */
export class TokenSigner {
  readonly #key: KeyObject;
  readonly publicKey: KeyObject;
  readonly alg: 'ES256' | 'RS256';
  readonly kid: string;

  constructor(key: KeyObject) {
    this.#key = key;
    this.publicKey = createPublicKey(key);
    const type = key.asymmetricKeyType;
    if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') this.alg = 'ES256';
    else if (type === 'rsa') this.alg = 'RS256';
    else throw errors.invalidArgument('the token signing key must be an EC P-256 or an RSA private key (PEM)');
    this.kid = libtrustKeyId(this.publicKey);
  }

  /** A key from a PEM file, or a fresh P-256 key (tokens then last only as long as the process). */
  static async open(path?: string): Promise<TokenSigner> {
    if (!path) return new TokenSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    return new TokenSigner(createPrivateKey(await readFile(path)));
  }

  #opts(): { dsaEncoding?: 'ieee-p1363' } {
    return this.alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' } : {};
  }

  sign(claims: Omit<Claims, 'jti'>): string {
    const header = { typ: 'JWT', alg: this.alg, kid: this.kid };
    const body = { ...claims, jti: randomBytes(16).toString('hex') };
    const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(body))}`;
    const sig = sign('sha256', Buffer.from(input), { key: this.#key, ...this.#opts() });
    return `${input}.${sig.toString('base64url')}`;
  }

  /** The claims of a token this signer issued, or undefined if it is forged, expired or for someone else. */
  verify(token: string, expect: { iss: string; aud: string; now?: number }): Claims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    let header: { alg?: string };
    let claims: Claims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString()) as { alg?: string };
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString()) as Claims;
    } catch {
      return undefined;
    }
    if (header.alg !== this.alg) return undefined;
    const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: this.publicKey, ...this.#opts() }, Buffer.from(parts[2], 'base64url'));
    if (!ok) return undefined;
    const now = Math.floor((expect.now ?? Date.now()) / 1000);
    const skew = 60;
    if (claims.iss !== expect.iss || claims.aud !== expect.aud) return undefined;
    if (typeof claims.exp !== 'number' || typeof claims.nbf !== 'number' || now > claims.exp + skew || now < claims.nbf - skew) return undefined;
    if (!Array.isArray(claims.access)) return undefined;
    return claims;
  }
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64url');
}
