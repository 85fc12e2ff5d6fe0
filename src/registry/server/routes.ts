import { isValidName } from '../storage/names.js';
import { regError } from '../storage/errors.js';

export type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'token' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string };

const PATTERNS: [RegExp, (name: string, arg: string) => Route][] = [
  [/^\/v2\/(.+)\/tags\/list$/, (name) => ({ kind: 'tags', name })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (name, reference) => ({ kind: 'manifest', name, reference })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (name) => ({ kind: 'uploads', name })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (name, id) => ({ kind: 'upload', name, id })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (name, digest) => ({ kind: 'blob', name, digest })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (name, digest) => ({ kind: 'referrers', name, digest })],
];

/**
 * Maps a request path to a route. The name is matched raw (an encoded `/` or
 * `.` never becomes part of a name); the last segment is percent-decoded,
 * since clients encode the `:` of digests. Invalid names are NAME_INVALID.
 */
export function route(pathname: string, tokenPath: string): Route | undefined {
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'base' };
  if (pathname === '/v2/_catalog') return { kind: 'catalog' };
  if (pathname === tokenPath) return { kind: 'token' };
  for (const [re, make] of PATTERNS) {
    const m = re.exec(pathname);
    if (!m) continue;
    const name = m[1];
    if (!isValidName(name)) {
      throw regError('NAME_INVALID', `invalid repository name "${name.slice(0, 300)}": use lowercase components [a-z0-9] joined by ".", "_", "__" or "-"`, { detail: { name: name.slice(0, 300) } });
    }
    let arg = m[2] ?? '';
    try {
      arg = decodeURIComponent(arg);
    } catch {
      throw regError('NAME_INVALID', `the path segment "${arg.slice(0, 100)}" is not valid percent-encoding`);
    }
    return make(name, arg);
  }
  return undefined;
}
