/** The spec's `<name>` grammar: path components of lowercase alphanumerics joined by separators. */
const NAME_RE = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
/** The spec's tag grammar. */
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Clients cap `host/name` at 255 characters; distribution caps the name alone. */
export const MAX_NAME_LENGTH = 255;

/** Components that would collide with the storage layout's own directories. */
const RESERVED = /(^|\/)_(layers|manifests|uploads)(\/|$)/;

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name) && !RESERVED.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

