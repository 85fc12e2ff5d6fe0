/**
 * How JavaScript values look to Go templates. Docker's template data are Go
 * values; ours are JS values, mapped as:
 *   undefined, null        -> nil (an absent map key is undefined)
 *   string, boolean        -> string, bool
 *   integral number/bigint -> int, other numbers -> float64
 *   Array, typed array     -> slice
 *   Map, plain object      -> map (keys are sorted when printed or ranged over)
 *   Date                   -> time.Time
 *   function               -> func (a method when it is a field)
 *   any other object       -> struct (an unknown field is an error), or a
 *                             fmt.Stringer when it has its own toString
 */

export type GoKind = 'nil' | 'string' | 'int' | 'float' | 'bool' | 'slice' | 'map' | 'struct' | 'stringer' | 'time' | 'func';

export function kindOf(v: unknown): GoKind {
  switch (typeof v) {
    case 'undefined':
      return 'nil';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'function':
      return 'func';
    case 'symbol':
      return 'struct';
  }
  if (v === null) return 'nil';
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return 'slice';
  if (v instanceof Map || isPlainObject(v)) return 'map';
  if (v instanceof Date) return 'time';
  if (v instanceof Error || hasOwnToString(v as object)) return 'stringer';
  return 'struct';
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function hasOwnToString(v: object): boolean {
  const f: unknown = (v as { toString?: unknown }).toString;
  return typeof f === 'function' && f !== Object.prototype.toString;
}

/** The Go type name used in error messages, e.g. "wrong type for value; expected int; got string". */
export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'nil':
      return '<nil>';
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'slice':
      return '[]interface {}';
    case 'map':
      return 'map[string]interface {}';
    case 'time':
      return 'time.Time';
    case 'func':
      return 'func()';
    case 'string':
    case 'bool':
      return kindOf(v);
    default:
      return (v as object).constructor?.name ?? 'struct {}';
  }
}

/** Map entries in Go's printing order: keys sorted (numbers numerically). */
export function mapEntries(m: Map<unknown, unknown> | Record<string, unknown>): Array<[unknown, unknown]> {
  const entries: Array<[unknown, unknown]> = m instanceof Map ? [...m.entries()] : Object.entries(m);
  return entries.sort(([a], [b]) => {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    const sa = String(a);
    const sb = String(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  });
}

export function sliceItems(v: unknown): unknown[] {
  return Array.isArray(v) ? v : Array.from(v as ArrayLike<unknown>);
}

/** Struct fields, as %v and json print them: own enumerable data properties. */
export function structFields(v: object): Array<[string, unknown]> {
  return Object.entries(v).filter(([, x]) => typeof x !== 'function');
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false; structs are true. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'nil':
      return false;
    case 'string':
      return (v as string).length > 0;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return typeof v === 'bigint' ? v !== 0n : v !== 0;
    case 'slice':
      return sliceItems(v).length > 0;
    case 'map':
      return v instanceof Map ? v.size > 0 : Object.keys(v as object).length > 0;
    default:
      return true;
  }
}

function pad2(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function fraction(d: Date): string {
  const ms = d.getUTCMilliseconds();
  return ms === 0 ? '' : `.${pad2(ms, 3).replace(/0+$/, '')}`;
}

/** time.Time.String() of a UTC time: "2024-01-02 03:04:05.5 +0000 UTC". */
export function goTimeString(d: Date): string {
  if (Number.isNaN(d.getTime())) return 'Invalid Date';
  const date = `${pad2(d.getUTCFullYear(), 4)}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  return `${date} ${time}${fraction(d)} +0000 UTC`;
}

/** time.Time's JSON form, RFC 3339 with trailing fractional zeros trimmed. */
function goTimeJSON(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_, f: string) => (f === '' ? 'Z' : `.${f}Z`));
}

function jsonString(s: string): string {
  const json = JSON.stringify(s);
  return /[\u2028\u2029]/.test(json) ? json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029') : json;
}

/**
 * encoding/json with SetEscapeHTML(false), as Docker's `json` template function:
 * map keys sorted, nil as null, times in RFC 3339.
 */
export function goJSON(v: unknown): string {
  if (typeof v === 'object' && v !== null && !(v instanceof Date) && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    return goJSON((v as { toJSON: () => unknown }).toJSON());
  }
  switch (kindOf(v)) {
    case 'nil':
      return 'null';
    case 'string':
      return jsonString(v as string);
    case 'bool':
      return String(v);
    case 'int':
    case 'float':
      return typeof v === 'number' && !Number.isFinite(v) ? 'null' : String(v);
    case 'time':
      return jsonString(goTimeJSON(v as Date));
    case 'slice':
      return `[${sliceItems(v).map(goJSON).join(',')}]`;
    case 'map':
      return `{${mapEntries(v as Record<string, unknown>)
        .filter(([, x]) => typeof x !== 'function')
        .map(([k, x]) => `${jsonString(String(k))}:${goJSON(x)}`)
        .join(',')}}`;
    case 'stringer':
      return jsonString(String(v));
    case 'func':
      return 'null';
    default:
      return `{${structFields(v as object)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => `${jsonString(k)}:${goJSON(x)}`)
        .join(',')}}`;
  }
}
