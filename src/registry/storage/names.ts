import { errors } from '../../errors/errors.js';

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

export function validateName(name: string): string {
  if (!isValidName(name)) {
    throw errors.invalidReference(
      `invalid repository name "${name.slice(0, 300)}": use lowercase path components [a-z0-9] joined by ".", "_", "__" or "-", at most ${MAX_NAME_LENGTH} characters`,
    );
  }
  return name;
}

export function validateTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw errors.invalidReference(`invalid tag "${tag.slice(0, 200)}": use [a-zA-Z0-9_][a-zA-Z0-9._-], at most 128 characters`);
  }
  return tag;
}
