/**
 * The parts of Go's fmt package templates reach: Sprint, Sprintln, Sprintf
 * (flags - + # 0 space, width, precision; verbs v s d q f e g x t c %), %v of
 * composite values ("[a b]", "map[k:v]", "{a b}") and strconv.Quote. Values
 * are interpreted as described in go-value.ts.
 */
import { formatFloat, formatFloatV } from './go-number.js';
import { goTimeString, kindOf, mapEntries, sliceItems, structFields, typeName } from './go-value.js';

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  zero: boolean;
  space: boolean;
  width?: number;
  prec?: number;
}

const PLAIN: Spec = { minus: false, plus: false, sharp: false, zero: false, space: false };

const isPrintable = (cp: number): boolean =>
  cp < 0x80 ? cp >= 0x20 && cp < 0x7f : /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(String.fromCodePoint(cp));

const SHORT_ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };

/** strconv.Quote (quote '"') and QuoteRune (quote "'"); asciiOnly as QuoteToASCII. */
export function quote(s: string, q = '"', asciiOnly = false): string {
  let out = q;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === q || ch === '\\') out += `\\${ch}`;
    else if (isPrintable(cp) && (!asciiOnly || cp < 0x80)) out += ch;
    else if (SHORT_ESCAPES[cp] !== undefined) out += SHORT_ESCAPES[cp];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd'; // a lone surrogate is invalid UTF-8
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + q;
}

function pad(s: string, spec: Spec): string {
  if (spec.width === undefined) return s;
  const n = spec.width - [...s].length;
  if (n <= 0) return s;
  return spec.minus ? s + ' '.repeat(n) : ' '.repeat(n) + s;
}

/** Pads a signed number, zero padding going between the sign and the digits. */
function padNumber(sign: string, digits: string, spec: Spec): string {
  if (spec.zero && !spec.minus && spec.width !== undefined) {
    return sign + digits.padStart(spec.width - sign.length, '0');
  }
  return pad(sign + digits, spec);
}

function signOf(negative: boolean, spec: Spec): string {
  return negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
}

function badVerb(v: unknown, verb: string): string {
  return v === undefined || v === null ? `%!${verb}(<nil>)` : `%!${verb}(${typeName(v)}=${formatValue(v, 'v', PLAIN)})`;
}

function formatInt(v: number | bigint, verb: string, spec: Spec): string | undefined {
  const n = BigInt(v);
  const abs = n < 0n ? -n : n;
  let digits: string;
  switch (verb) {
    case 'v':
    case 'd':
      digits = abs.toString();
      break;
    case 'x':
      digits = (spec.sharp ? '0x' : '') + abs.toString(16);
      break;
    case 'X':
      digits = (spec.sharp ? '0X' : '') + abs.toString(16).toUpperCase();
      break;
    case 'o':
      digits = abs.toString(8);
      break;
    case 'b':
      digits = abs.toString(2);
      break;
    case 'c':
      return pad(String.fromCodePoint(Number(n)), spec);
    case 'q':
      return pad(quote(String.fromCodePoint(Number(n)), "'", spec.plus), spec);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      // Go would print %!f(int=5); JS cannot tell 5 from 5.0, so treat it as a float.
      return formatFloatVerb(Number(n), verb, spec);
    default:
      return undefined;
  }
  if (spec.prec !== undefined) digits = digits.padStart(spec.prec, '0');
  return padNumber(signOf(n < 0n, spec), digits, spec);
}

function formatFloatVerb(x: number, verb: string, spec: Spec): string | undefined {
  let body: string;
  switch (verb) {
    case 'v':
      body = spec.prec === undefined ? formatFloatV(Math.abs(x)) : formatFloat(Math.abs(x), 'g', spec.prec);
      break;
    case 'e':
    case 'E':
    case 'f':
    case 'g':
    case 'G':
      body = formatFloat(Math.abs(x), verb, spec.prec ?? (verb === 'g' || verb === 'G' ? -1 : 6));
      break;
    case 'F':
      body = formatFloat(Math.abs(x), 'f', spec.prec ?? 6);
      break;
    default:
      return undefined;
  }
  if (Number.isNaN(x)) return pad('NaN', spec);
  if (body === '+Inf') body = 'Inf';
  const negative = x < 0 || Object.is(x, -0);
  return body.endsWith('Inf') ? pad(signOf(negative, spec) + body, spec) : padNumber(signOf(negative, spec), body, spec);
}

function formatString(s: string, verb: string, spec: Spec): string | undefined {
  const cut = spec.prec === undefined ? s : [...s].slice(0, spec.prec).join('');
  switch (verb) {
    case 'v':
    case 's':
      return pad(cut, spec);
    case 'q':
      return pad(quote(cut, '"', spec.plus), spec);
    case 'x':
    case 'X': {
      const hex = Buffer.from(cut, 'utf8').toString('hex');
      return pad(verb === 'X' ? hex.toUpperCase() : hex, spec);
    }
    default:
      return undefined;
  }
}

/** One operand formatted with a verb, as fmt's printArg; bad verbs give "%!d(string=x)". */
function formatValue(v: unknown, verb: string, spec: Spec): string {
  let out: string | undefined;
  switch (kindOf(v)) {
    case 'nil':
      out = verb === 'v' ? pad('<nil>', spec) : undefined;
      break;
    case 'bool':
      out = verb === 'v' || verb === 't' ? pad(String(v), spec) : undefined;
      break;
    case 'int':
      out = formatInt(v as number | bigint, verb, spec);
      break;
    case 'float':
      out = formatFloatVerb(v as number, verb, spec);
      break;
    case 'string':
      out = formatString(v as string, verb, spec);
      break;
    case 'time':
      out = formatString(goTimeString(v as Date), verb, spec);
      break;
    case 'stringer':
      out = formatString(v instanceof Error ? v.message : String(v), verb, spec);
      break;
    case 'slice':
      out = `[${sliceItems(v)
        .map((x) => formatValue(x, verb, spec))
        .join(' ')}]`;
      break;
    case 'map':
      out = `map[${mapEntries(v as Record<string, unknown>)
        .map(([k, x]) => `${formatValue(k, verb, spec)}:${formatValue(x, verb, spec)}`)
        .join(' ')}]`;
      break;
    case 'struct':
      out = `{${structFields(v as object)
        .map(([, x]) => formatValue(x, verb, spec))
        .join(' ')}}`;
      break;
    case 'func':
      out = undefined;
      break;
  }
  return out ?? badVerb(v, verb);
}

/** fmt.Sprint of one value with %v, as a template prints an action's result. */
export function printValue(v: unknown): string {
  return formatValue(v, 'v', PLAIN);
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && typeof args[i - 1] !== 'string') out += ' ';
    out += printValue(a);
  });
  return out;
}

/** fmt.Sprintln: always spaces between operands, and a newline. */
export function sprintln(args: unknown[]): string {
  return `${args.map(printValue).join(' ')}\n`;
}

/** fmt.Sprintf, including Go's in-band errors (%!d(MISSING), %!(EXTRA ...), %!(NOVERB)). */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  const readInt = (): number | undefined => {
    const m = /^\d+/.exec(format.slice(i));
    if (m === null) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };
  const starArg = (): number | undefined => {
    const a = args[argi++];
    return typeof a === 'number' && Number.isInteger(a) ? a : undefined;
  };
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { ...PLAIN };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '-') spec.minus = true;
      else if (c === '+') spec.plus = true;
      else if (c === '#') spec.sharp = true;
      else if (c === '0') spec.zero = true;
      else if (c === ' ') spec.space = true;
      else break;
    }
    if (format[i] === '*') {
      i++;
      spec.width = starArg();
      if (spec.width === undefined) out += '%!(BADWIDTH)';
      else if (spec.width < 0) [spec.minus, spec.width] = [true, -spec.width];
    } else {
      spec.width = readInt();
    }
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        spec.prec = starArg();
        if (spec.prec === undefined || spec.prec < 0) [out, spec.prec] = [out + '%!(BADPREC)', undefined];
      } else {
        spec.prec = readInt() ?? 0;
      }
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    if (verb === '%') out += '%';
    else if (argi >= args.length) out += `%!${verb}(MISSING)`;
    else out += formatValue(args[argi++], verb, spec);
  }
  if (argi < args.length) {
    const extra = args.slice(argi).map((a) => (a === undefined || a === null ? '<nil>' : `${typeName(a)}=${printValue(a)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}
