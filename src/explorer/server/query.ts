import { errors } from '../../errors/errors.js';
import type { TreeView } from '../explorer.js';

/**
 * Strict query parsing: a parameter the route does not know, a repeated one
 * or a bad value is a client error (400), so a typo never silently shows
 * something else than asked for.
 */
export type QuerySpec = Record<string, (value: string, name: string) => unknown>;

export function parseQuery<S extends QuerySpec>(params: URLSearchParams, spec: S): { [K in keyof S]?: ReturnType<S[K]> } {
  const out: Record<string, unknown> = {};
  for (const name of new Set(params.keys())) {
    const parse = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!parse) {
      const known = Object.keys(spec);
      throw errors.invalidArgument(`unknown query parameter "${name}" (${known.length ? `known: ${known.join(', ')}` : 'this page takes none'})`);
    }
    const values = params.getAll(name);
    if (values.length > 1) throw errors.invalidArgument(`query parameter "${name}" is given ${values.length} times`);
    out[name] = parse(values[0], name);
  }
  return out as { [K in keyof S]?: ReturnType<S[K]> };
}

export function integer(min: number, max: number) {
  return (value: string, name: string): number => {
    if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) {
      throw errors.invalidArgument(`query parameter "${name}" must be an integer from ${min} to ${max}, not "${value.slice(0, 40)}"`);
    }
    return Number(value);
  };
}

export function oneOf<T extends string>(...allowed: T[]) {
  return (value: string, name: string): T => {
    if (!(allowed as string[]).includes(value)) {
      throw errors.invalidArgument(`query parameter "${name}" must be one of ${allowed.join(', ')}, not "${value.slice(0, 40)}"`);
    }
    return value as T;
  };
}

export function text(maxLength: number) {
  return (value: string, name: string): string => {
    if (value.length > maxLength) throw errors.invalidArgument(`query parameter "${name}" is longer than ${maxLength} characters`);
    return value;
  };
}

/**
 * A tree path as the page sends it: absolute and already normalized
 * (`/usr/bin`, or `/` for the root). Returned without the leading slash.
 */
export function treePath(value: string, name: string): string {
  const bad = (why: string) => errors.invalidArgument(`query parameter "${name}" ${why}: "${value.slice(0, 80)}"`);
  if (!value.startsWith('/')) throw bad('must be an absolute path');
  if (value.length > 4096) throw bad('is longer than PATH_MAX');
  if (value.includes('\0')) throw bad('contains a NUL byte');
  if (value === '/') return '';
  const parts = value.slice(1).split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) throw bad('must be normalized (no empty, "." or ".." parts, no trailing slash)');
  return parts.join('/');
}

export const VIEWS: TreeView[] = ['layer', 'merged'];
