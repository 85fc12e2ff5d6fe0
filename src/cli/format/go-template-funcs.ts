/**
 * Template functions: Go's builtins that --format users reach for and Docker's
 * templates.basicFunctions, plus Docker's HeaderFunctions, which leave column
 * names intact when a `table` template is executed against its header row.
 */
import { printValue, sprint, sprintf, sprintln } from './go-fmt.js';
import { goJSON, isPlainObject, isTrue, kindOf, mapEntries, sliceItems, typeName } from './go-value.js';

export type ParamType = 'string' | 'int' | 'any';

export type TemplateFunc =
  | { lazy?: false; params: ParamType[]; variadic?: ParamType; fn: (args: unknown[]) => unknown }
  /** and/or: arguments are evaluated only as far as needed. */
  | { lazy: true; fn: (args: Array<() => unknown>) => unknown };

export type FuncMap = Readonly<Record<string, TemplateFunc>>;

const fixed = (params: ParamType[], fn: (args: unknown[]) => unknown): TemplateFunc => ({ params, fn });
const variadic = (params: ParamType[], rest: ParamType, fn: (args: unknown[]) => unknown): TemplateFunc => ({ params, variadic: rest, fn });

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Go's unicode simple case mapping: a character whose mapping is not one character stays. */
function mapCase(s: string, f: (c: string) => string): string {
  let out = '';
  for (const c of s) {
    const m = f(c);
    out += [...m].length === 1 ? m : c;
  }
  return out;
}

/** strings.Title: upper-cases letters that follow a separator. */
function title(s: string): string {
  const isSeparator = (c: string): boolean => {
    if (c.charCodeAt(0) < 0x80) return !/[A-Za-z0-9_]/.test(c);
    if (/[\p{L}\p{Nd}]/u.test(c)) return false;
    return /\s/u.test(c);
  };
  let prev = ' ';
  let out = '';
  for (const c of s) {
    out += isSeparator(prev) ? mapCase(c, (x) => x.toUpperCase()) : c;
    prev = c;
  }
  return out;
}

function truncate(s: string, n: number): string {
  if (n < 0) throw new Error(`runtime error: slice bounds out of range [:${n}]`);
  const bytes = utf8(s);
  return bytes.length < n ? s : bytes.subarray(0, n).toString('utf8');
}

function pad(s: string, prefix: number, suffix: number): string {
  if (s === '') return s;
  if (prefix < 0 || suffix < 0) throw new Error('strings: negative Repeat count');
  return ' '.repeat(prefix) + s + ' '.repeat(suffix);
}

/** Docker's joinElements: slices joined with fmt.Sprint of each item, maps by sorted values. */
function join(elems: unknown, sep: string): string {
  switch (kindOf(elems)) {
    case 'nil':
      return '';
    case 'slice':
      return sliceItems(elems)
        .map((x) => printValue(x))
        .join(sep);
    case 'map':
      return mapEntries(elems as Record<string, unknown>)
        .map(([, x]) => printValue(x))
        .sort()
        .join(sep);
    default:
      throw new Error(`expected slice, got ${typeName(elems)}`);
  }
}

function len(v: unknown): number {
  switch (kindOf(v)) {
    case 'string':
      return utf8(v as string).length;
    case 'slice':
      return sliceItems(v).length;
    case 'map':
      return v instanceof Map ? v.size : Object.keys(v as object).length;
    case 'nil':
      throw new Error('len of nil pointer');
    default:
      throw new Error(`len of type ${typeName(v)}`);
  }
}

/** The value `index` returns for a missing key: the zero value of the map's (uniform) element type. */
function zeroOfElements(m: Map<unknown, unknown> | Record<string, unknown>): unknown {
  const kinds = new Set([...(m instanceof Map ? m.values() : Object.values(m))].map(kindOf));
  if (kinds.size === 0 || (kinds.size === 1 && kinds.has('string'))) return ''; // labels: map[string]string
  if (kinds.size === 1 && kinds.has('bool')) return false;
  if (kinds.size === 1 && kinds.has('int')) return 0;
  return undefined;
}

function index(item: unknown, keys: unknown[]): unknown {
  if (item === undefined) throw new Error('index of untyped nil');
  for (const key of keys) {
    const kind = kindOf(item);
    if (kind === 'nil') throw new Error('index of nil pointer');
    if (kind === 'slice' || kind === 'string') {
      const items = kind === 'string' ? [...utf8(item as string)] : sliceItems(item);
      if (kindOf(key) !== 'int') throw new Error(key === undefined || key === null ? 'cannot index slice/array with nil' : `cannot index slice/array with type ${typeName(key)}`);
      const i = Number(key);
      if (i < 0 || i >= items.length) throw new Error(`index out of range: ${i}`);
      item = items[i];
    } else if (item instanceof Map) {
      item = item.has(key) ? item.get(key) : zeroOfElements(item);
    } else if (isPlainObject(item)) {
      if (typeof key !== 'string') throw new Error(`value has type ${typeName(key)}; should be string`);
      item = Object.hasOwn(item, key) ? item[key] : zeroOfElements(item);
    } else {
      throw new Error(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

type Basic = 'bool' | 'number' | 'string';

function basicKind(v: unknown): Basic | undefined {
  const k = kindOf(v);
  return k === 'int' || k === 'float' ? 'number' : k === 'bool' || k === 'string' ? k : undefined;
}

function eq(a: unknown, others: unknown[]): boolean {
  if (others.length === 0) throw new Error('missing argument for comparison');
  const ka = basicKind(a);
  return others.some((b) => {
    const nilA = a === undefined || a === null;
    const nilB = b === undefined || b === null;
    if (nilA || nilB) return nilA && nilB;
    if (ka !== basicKind(b)) throw new Error('incompatible types for comparison');
    return ka === 'number' ? Number(a) === Number(b) : a === b;
  });
}

function lt(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === undefined || ka === 'bool' || kb === undefined || kb === 'bool') throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  return ka === 'number' ? Number(a) < Number(b) : (a as string) < (b as string);
}

const s = (v: unknown): string => v as string;
const n = (v: unknown): number => v as number;

export const BASIC_FUNCS: FuncMap = {
  // Docker's basicFunctions
  json: fixed(['any'], ([v]) => goJSON(v)),
  split: fixed(['string', 'string'], ([v, sep]) => (sep === '' ? [...s(v)] : s(v).split(s(sep)))),
  join: fixed(['any', 'string'], ([v, sep]) => join(v, s(sep))),
  title: fixed(['string'], ([v]) => title(s(v))),
  lower: fixed(['string'], ([v]) => mapCase(s(v), (c) => c.toLowerCase())),
  upper: fixed(['string'], ([v]) => mapCase(s(v), (c) => c.toUpperCase())),
  pad: fixed(['string', 'int', 'int'], ([v, p, q]) => pad(s(v), n(p), n(q))),
  truncate: fixed(['string', 'int'], ([v, l]) => truncate(s(v), n(l))),
  // Go's builtins
  and: { lazy: true, fn: (args) => args.reduce<unknown>((acc, f, i) => (i > 0 && !isTrue(acc) ? acc : f()), undefined) },
  or: { lazy: true, fn: (args) => args.reduce<unknown>((acc, f, i) => (i > 0 && isTrue(acc) ? acc : f()), undefined) },
  not: fixed(['any'], ([v]) => !isTrue(v)),
  len: fixed(['any'], ([v]) => len(v)),
  index: variadic(['any'], 'any', ([v, ...keys]) => index(v, keys)),
  print: variadic([], 'any', (args) => sprint(args)),
  printf: variadic(['string'], 'any', ([f, ...args]) => sprintf(s(f), args)),
  println: variadic([], 'any', (args) => sprintln(args)),
  eq: variadic(['any'], 'any', ([a, ...others]) => eq(a, others)),
  ne: fixed(['any', 'any'], ([a, b]) => !eq(a, [b])),
  lt: fixed(['any', 'any'], ([a, b]) => lt(a, b)),
  le: fixed(['any', 'any'], ([a, b]) => lt(a, b) || eq(a, [b])),
  gt: fixed(['any', 'any'], ([a, b]) => !(lt(a, b) || eq(a, [b]))),
  ge: fixed(['any', 'any'], ([a, b]) => !lt(a, b)),
};

const identity = ([v]: unknown[]): unknown => v;

/** Docker's HeaderFunctions: the header cell of `{{json .Labels}}` is just "LABELS". */
export const HEADER_FUNCS: FuncMap = {
  ...BASIC_FUNCS,
  json: fixed(['string'], identity),
  split: fixed(['string', 'string'], identity),
  join: fixed(['string', 'string'], identity),
  title: fixed(['string'], identity),
  lower: fixed(['string'], identity),
  upper: fixed(['string'], identity),
  truncate: fixed(['string', 'int'], identity),
};
