import bcrypt from 'bcryptjs';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { errors } from '../../../errors/errors.js';

/** How long a verified password is remembered: bcrypt is deliberately slow, and clients send Basic on every request. */
const CACHE_MS = 5 * 60 * 1000;
const CACHE_MAX = 10_000;

/** Users and bcrypt hashes from an Apache htpasswd file (`htpasswd -B`), the format distribution reads. */
export class Htpasswd {
  readonly #users: Map<string, string>;
  readonly #verified = new Map<string, number>();

  constructor(users: Map<string, string>) {
    this.#users = users;
  }

  static parse(text: string, where = 'htpasswd'): Htpasswd {
    const users = new Map<string, string>();
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const colon = line.indexOf(':');
      const hash = line.slice(colon + 1);
      if (colon <= 0 || !/^\$2[aby]?\$\d\d\$/.test(hash)) {
        throw errors.invalidArgument(`${where}:${i + 1}: expected user:<bcrypt hash>; create entries with "htpasswd -B"`);
      }
      users.set(line.slice(0, colon), hash);
    });
    return new Htpasswd(users);
  }

  static async load(path: string): Promise<Htpasswd> {
    return Htpasswd.parse(await readFile(path, 'utf8'), path);
  }

  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.#users.get(user);
    if (!hash) return false;
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    const until = this.#verified.get(key);
    if (until !== undefined && until > Date.now()) return true;
    if (!(await bcrypt.compare(password, hash))) return false;
    if (this.#verified.size >= CACHE_MAX) this.#verified.clear();
    this.#verified.set(key, Date.now() + CACHE_MS);
    return true;
  }
}

/** The user and password of a `Basic` Authorization header, if it has one. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}
