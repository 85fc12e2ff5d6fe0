/**
 * Image references as Docker parses them (github.com/distribution/reference):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain "/"] path-component ["/" path-component]*
 *   domain    := host [":" port]   (DNS-like name, IPv4, or [IPv6])
 *
 * Normalisation turns familiar names into full ones ("ubuntu" ->
 * "docker.io/library/ubuntu"). The default domain is configurable; the
 * "library/" namespace only exists on Docker Hub (docker.io). Error messages
 * are Docker's, because users compare them with Docker's.
 */
import { errors } from '../errors/errors.js';
import type { Digest } from '../digest/digest.js';

export interface Reference {
  /** Registry host[:port]; "" only for an unnormalised name without one (parseReference). */
  domain: string;
  /** Repository path inside the registry, e.g. "library/ubuntu". */
  path: string;
  tag?: string;
  digest?: Digest;
}

export interface NormalizeOptions {
  /** Registry for names without a domain; Docker's is "docker.io". */
  defaultDomain?: string;
}

export const DOCKER_HUB = 'docker.io';
export const DEFAULT_TAG = 'latest';
/** Longest repository path (without the domain). */
export const NAME_MAX_LENGTH = 255;

const LEGACY_HUB = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainAndPort = `(?:${domainName}|${ipv6address})(?::[0-9]+)?`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;

const REFERENCE = new RegExp(`^((?:${domainAndPort}/)?${remoteName})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const NAME = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const TAG = new RegExp(`^${tagPat}$`);
const DIGEST = new RegExp(`^${digestPat}$`);
const IDENTIFIER = /^[a-f0-9]{64}$/;

const invalid = (message: string): Error => errors.invalidReference(message);

const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** go-digest's Parse, as the reference parser applies it to the part after "@". */
function parseDigestPart(s: string): Digest {
  const i = s.indexOf(':');
  if (i <= 0 || i + 1 === s.length) throw invalid('invalid checksum digest format');
  const algorithm = s.slice(0, i);
  const hex = s.slice(i + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) throw invalid(DIGEST.test(s) ? 'unsupported digest algorithm' : 'invalid checksum digest format');
  if (hex.length !== length) throw invalid('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(hex)) throw invalid('invalid checksum digest format');
  if (algorithm === 'sha384') throw invalid('unsupported digest algorithm'); // Strata stores sha256 and sha512 only
  return s as Digest;
}

/** Splits "host[:port]/path" the way the grammar does: a first component is a domain whenever it can be one. */
function splitName(name: string): { domain: string; path: string } {
  const m = NAME.exec(name);
  return m === null ? { domain: '', path: name } : { domain: m[1] ?? '', path: m[2] };
}

/** distribution/reference Parse: syntax only, no normalisation ("ubuntu" has no domain, "foo/bar" has domain "foo"). */
export function parseReference(s: string): Reference {
  if (s === '') throw invalid('repository name must have at least one component');
  const m = REFERENCE.exec(s);
  if (m === null) {
    const lower = s.toLowerCase();
    throw invalid(lower !== s && REFERENCE.test(lower) ? 'repository name must be lowercase' : 'invalid reference format');
  }
  const { domain, path } = splitName(m[1]);
  if (path.length > NAME_MAX_LENGTH) throw invalid(`repository name must not be more than ${NAME_MAX_LENGTH} characters`);
  const ref: Reference = { domain, path };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) ref.digest = parseDigestPart(m[3]);
  return ref;
}

const defaultDomainOf = (opts: NormalizeOptions): string => opts.defaultDomain ?? DOCKER_HUB;

/** Docker's splitDockerDomain, with the default domain as a parameter. */
function splitDockerDomain(name: string, defaultDomain: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  let domain = defaultDomain;
  let remainder = name;
  if (slash >= 0) {
    const first = name.slice(0, slash);
    if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
      domain = first === LEGACY_HUB ? DOCKER_HUB : first;
      remainder = name.slice(slash + 1);
    }
  }
  if (domain === DOCKER_HUB && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Docker's ParseNormalizedNamed: a name as users type it, made fully qualified.
 * "ubuntu:22.04" -> { domain: "docker.io", path: "library/ubuntu", tag: "22.04" }.
 * Tag and digest stay as given (no default tag; see withDefaultTag).
 */
export function parseNormalizedNamed(s: string, opts: NormalizeOptions = {}): Reference {
  if (IDENTIFIER.test(s)) throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const { domain, remainder } = splitDockerDomain(s, defaultDomainOf(opts));
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) throw invalid(`invalid reference format: repository name (${remote}) must be lowercase`);
  return parseReference(`${domain}/${remainder}`);
}

/**
 * Docker's ParseDockerRef, the form images are stored under: normalised,
 * "latest" added to a bare name, and the tag dropped when there is a digest.
 */
export function parseDockerRef(s: string, opts: NormalizeOptions = {}): Reference {
  const ref = parseNormalizedNamed(s, opts);
  if (ref.digest !== undefined) return { domain: ref.domain, path: ref.path, digest: ref.digest };
  return withDefaultTag(ref);
}

/** "docker.io/library/ubuntu": domain and path. */
export function fullName(ref: Reference): string {
  return ref.domain === '' ? ref.path : `${ref.domain}/${ref.path}`;
}

function suffix(ref: Reference): string {
  return (ref.tag === undefined ? '' : `:${ref.tag}`) + (ref.digest === undefined ? '' : `@${ref.digest}`);
}

/** The full reference string, "docker.io/library/ubuntu:latest[@sha256:...]". */
export function referenceString(ref: Reference): string {
  return fullName(ref) + suffix(ref);
}

/** The name as Docker prints it (REPOSITORY column): without the default domain and, on Docker Hub, without "library/". */
export function familiarName(ref: Reference, opts: NormalizeOptions = {}): string {
  if (ref.domain !== defaultDomainOf(opts)) return fullName(ref);
  if (ref.domain === DOCKER_HUB && ref.path.startsWith(OFFICIAL_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** familiarName with the tag and digest: "ubuntu:22.04". */
export function familiarString(ref: Reference, opts: NormalizeOptions = {}): string {
  return familiarName(ref, opts) + suffix(ref);
}

/** Docker's TagNameOnly: adds "latest" when there is neither a tag nor a digest. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** The reference with `tag` (validated), keeping any digest, as Docker's WithTag. */
export function withTag(ref: Reference, tag: string): Reference {
  if (!isValidTag(tag)) throw invalid('invalid tag format');
  return { ...ref, tag };
}

/** The reference with `digest` (validated), keeping any tag, as Docker's WithDigest. */
export function withDigest(ref: Reference, digest: string): Reference {
  if (!DIGEST.test(digest)) throw invalid('invalid digest format');
  return { ...ref, digest: parseDigestPart(digest) };
}

/**
 * Whether `s` can only be an image ID or ID prefix: `minLength` to 64 lowercase
 * hex characters, optionally after "sha256:". (A bare 64-hex string can never
 * be a name; shorter ones are names too, so callers try the name first.)
 */
export function isIdPrefix(s: string, minLength = 12): boolean {
  const hex = s.startsWith('sha256:') ? s.slice('sha256:'.length) : s;
  return hex.length >= minLength && hex.length <= 64 && /^[a-f0-9]+$/.test(hex);
}
