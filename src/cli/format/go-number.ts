/**
 * Go's strconv float formatting (%e, %f, %g, and the shortest form %v uses).
 * JavaScript's toPrecision/toFixed round exact ties upwards, Go rounds them
 * to even (12250 bytes is "12.2kB" in Docker), so rounding works on the exact
 * decimal expansion of the double instead.
 */

/** Decimal digits without leading or trailing zeros; value = 0.digits × 10^dp. */
interface Decimal {
  digits: string;
  dp: number;
}

/** The exact decimal expansion of a finite, non-negative double. */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biasedExp = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exp2: number;
  if (biasedExp === 0) {
    exp2 = -1074; // subnormal
  } else {
    mantissa |= 1n << 52n;
    exp2 = biasedExp - 1075;
  }
  let digits: string;
  let dp: number;
  if (exp2 >= 0) {
    digits = (mantissa << BigInt(exp2)).toString();
    dp = digits.length;
  } else {
    // m / 2^k = m·5^k / 10^k
    digits = (mantissa * 5n ** BigInt(-exp2)).toString();
    dp = digits.length + exp2;
  }
  return trimZeros({ digits, dp });
}

function trimZeros(d: Decimal): Decimal {
  let end = d.digits.length;
  while (end > 0 && d.digits[end - 1] === '0') end--;
  return end === 0 ? { digits: '', dp: 0 } : { digits: d.digits.slice(0, end), dp: d.dp };
}

/** The shortest digits that round-trip; both Go and JavaScript pick the same ones. */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', dp: 0 };
  const [mant, exp] = x.toExponential().split('e');
  return trimZeros({ digits: mant.replace('.', ''), dp: Number(exp) + 1 });
}

/** Keeps `nd` significant digits, rounding exact halves to even as Go's decimal.Round does. */
function roundDecimal(d: Decimal, nd: number): Decimal {
  if (nd < 0 || d.digits.length === 0) return { digits: '', dp: 0 };
  if (nd >= d.digits.length) return d;
  const next = d.digits.charCodeAt(nd) - 48;
  let up = next > 5;
  if (next === 5) {
    const exactHalf = nd + 1 === d.digits.length;
    up = !exactHalf || (nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1);
  }
  if (!up) return trimZeros({ digits: d.digits.slice(0, nd), dp: d.dp });
  const kept = d.digits.slice(0, nd).split('');
  let i = nd - 1;
  while (i >= 0 && kept[i] === '9') {
    kept[i] = '0';
    i--;
  }
  if (i < 0) return { digits: '1', dp: d.dp + 1 };
  kept[i] = String.fromCharCode(kept[i].charCodeAt(0) + 1);
  return trimZeros({ digits: kept.join(''), dp: d.dp });
}

function digitAt(d: Decimal, i: number): string {
  return i >= 0 && i < d.digits.length ? d.digits[i] : '0';
}

function fmtE(d: Decimal, prec: number, e: string): string {
  let s = digitAt(d, 0);
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(d, i);
  }
  const exp = d.digits.length === 0 ? 0 : d.dp - 1;
  const abs = Math.abs(exp);
  return `${s}${e}${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

function fmtF(d: Decimal, prec: number): string {
  let s = '';
  if (d.dp > 0) {
    for (let i = 0; i < d.dp; i++) s += digitAt(d, i);
  } else {
    s = '0';
  }
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) s += digitAt(d, d.dp + i);
  }
  return s;
}

function special(x: number, plus: boolean): string | undefined {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return plus ? '+Inf' : 'Inf';
  if (x === -Infinity) return '-Inf';
  return undefined;
}

function sign(x: number): string {
  return x < 0 || Object.is(x, -0) ? '-' : '';
}

/**
 * strconv.FormatFloat(x, verb, prec, 64) for verb e, E, f, g or G;
 * prec < 0 means the shortest representation.
 */
export function formatFloat(x: number, verb: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  const sp = special(x, true);
  if (sp !== undefined) return sp;
  const abs = Math.abs(x);
  const shortest = prec < 0;
  let d: Decimal;
  if (shortest) {
    d = shortestDecimal(abs);
  } else if (verb === 'f') {
    const exact = exactDecimal(abs);
    d = roundDecimal(exact, exact.dp + prec);
  } else {
    const digits = verb === 'e' || verb === 'E' ? prec + 1 : Math.max(prec, 1);
    d = roundDecimal(exactDecimal(abs), digits);
  }
  const nd = d.digits.length;
  let body: string;
  if (verb === 'e' || verb === 'E') {
    body = fmtE(d, shortest ? Math.max(nd - 1, 0) : prec, verb);
  } else if (verb === 'f') {
    body = fmtF(d, shortest ? Math.max(nd - d.dp, 0) : prec);
  } else {
    let p = shortest ? nd : Math.max(prec, 1);
    let eprec = p;
    if (eprec > nd && nd >= d.dp) eprec = nd;
    if (shortest) eprec = 6; // %v and %g decide on exponent form with precision 6
    const exp = d.dp - 1;
    if (exp < -4 || exp >= eprec) {
      if (p > nd) p = nd;
      body = fmtE(d, p - 1, verb === 'g' ? 'e' : 'E');
    } else {
      if (p > d.dp) p = nd;
      body = fmtF(d, Math.max(p - d.dp, 0));
    }
  }
  return sign(x) + body;
}

/** fmt's %v for a float64: shortest %g, "+Inf" for infinity. */
export function formatFloatV(x: number): string {
  return formatFloat(x, 'g', -1);
}
