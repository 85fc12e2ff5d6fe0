/**
 * Lexer for the Go text/template syntax: text, {{ actions }}, "{{- " and " -}}"
 * trim markers, {{/* comments *\/}}, and the tokens inside actions.
 */

export type TokenType =
  | 'text'
  | 'left'
  | 'right'
  | 'space'
  | 'field'
  | 'dot'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'string'
  | 'number'
  | 'bool'
  | 'nil'
  | 'pipe'
  | 'lparen'
  | 'rparen'
  | 'declare'
  | 'assign'
  | 'comma'
  /** Any other printable ASCII character; the parser reports it as unexpected. */
  | 'char'
  /** A lexical error; tokens stop here. The parser reports it when it gets this far, as Go's does. */
  | 'error'
  | 'eof';

export interface Token {
  type: TokenType;
  /** Source text (for text tokens: the text after trimming). */
  text: string;
  pos: number;
  /** Decoded value of string, number and bool tokens. */
  value?: unknown;
}

/** A syntax error at a byte offset of the template source. */
export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[\p{L}\p{N}_]$/u.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Go string-literal escapes (strconv.Unquote of a double-quoted or rune literal body). */
function unescape(body: string, pos: number): string {
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/gs, (all, e: string) => {
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (simple[e] !== undefined) return simple[e];
    if (/^[xuU]/.test(e) && e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]{3}$/.test(e)) return String.fromCodePoint(parseInt(e, 8));
    throw new TemplateSyntaxError(`invalid syntax: unknown escape sequence ${all}`, pos);
  });
}

function parseNumber(text: string, pos: number): number {
  const clean = text.replace(/_/g, '');
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(clean)) return (clean.startsWith('-') ? -1 : 1) * parseInt(clean.replace(/^[+-]?0[xX]/, ''), 16);
  if (/^[+-]?0[bB][01]+$/.test(clean)) return (clean.startsWith('-') ? -1 : 1) * parseInt(clean.replace(/^[+-]?0[bB]/, ''), 2);
  if (/^[+-]?0[oO][0-7]+$/.test(clean)) return (clean.startsWith('-') ? -1 : 1) * parseInt(clean.replace(/^[+-]?0[oO]/, ''), 8);
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(clean)) return Number(clean);
  throw new TemplateSyntaxError(`illegal number syntax: ${JSON.stringify(text)}`, pos);
}

export function lex(src: string): Token[] {
  const tokens: Token[] = [];
  try {
    lexInto(src, tokens);
  } catch (e) {
    if (!(e instanceof TemplateSyntaxError)) throw e;
    tokens.push({ type: 'error', text: e.message, pos: e.pos });
  }
  return tokens;
}

function lexInto(src: string, tokens: Token[]): void {
  let i = 0;
  const push = (type: TokenType, start: number, end: number, value?: unknown): void => {
    tokens.push({ type, text: src.slice(start, end), pos: start, value });
  };
  const rightDelimAt = (j: number): number => {
    if (src.startsWith('}}', j)) return 2;
    if (isSpace(src[j]) && src.startsWith('-}}', j + 1)) return 4;
    return 0;
  };
  const skipSpace = (j: number): number => {
    while (isSpace(src[j])) j++;
    return j;
  };

  while (i < src.length) {
    const left = src.indexOf('{{', i);
    let text = src.slice(i, left < 0 ? src.length : left);
    if (left < 0) {
      if (text !== '') tokens.push({ type: 'text', text, pos: i });
      break;
    }
    let j = left + 2;
    if (src[j] === '-' && isSpace(src[j + 1])) {
      text = text.replace(/[ \t\r\n]+$/, '');
      j += 2;
    }
    if (text !== '') tokens.push({ type: 'text', text, pos: i });

    if (src.startsWith('/*', j)) {
      const end = src.indexOf('*/', j + 2);
      if (end < 0) throw new TemplateSyntaxError('unclosed comment', left);
      const n = rightDelimAt(end + 2);
      if (n === 0) throw new TemplateSyntaxError('comment ends before closing delimiter', left);
      i = n === 4 ? skipSpace(end + 2 + n) : end + 2 + n;
      continue;
    }

    push('left', left, j);
    let depth = 0;
    for (;;) {
      const n = rightDelimAt(j);
      if (n > 0) {
        if (depth > 0) throw new TemplateSyntaxError('unclosed left paren', j);
        push('right', j, j + n);
        i = n === 4 ? skipSpace(j + n) : j + n;
        break;
      }
      const c = src[j];
      const start = j;
      if (c === undefined) throw new TemplateSyntaxError('unclosed action', left);
      if (isSpace(c)) {
        while (isSpace(src[j]) && rightDelimAt(j) === 0) j++;
        push('space', start, j);
      } else if (c === '|') {
        push('pipe', j, ++j);
      } else if (c === '(') {
        depth++;
        push('lparen', j, ++j);
      } else if (c === ')') {
        if (--depth < 0) throw new TemplateSyntaxError(`unexpected right paren`, j);
        push('rparen', j, ++j);
      } else if (c === ',') {
        push('comma', j, ++j);
      } else if (c === ':') {
        if (src[j + 1] !== '=') throw new TemplateSyntaxError('expected :=', j);
        j += 2;
        push('declare', start, j);
      } else if (c === '=') {
        push('assign', j, ++j);
      } else if (c === '"' || c === "'") {
        j++;
        while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
        if (src[j] !== c) throw new TemplateSyntaxError(c === '"' ? 'unterminated quoted string' : 'unterminated character constant', start);
        const body = unescape(src.slice(start + 1, j), start);
        j++;
        if (c === '"') push('string', start, j, body);
        else if ([...body].length !== 1) throw new TemplateSyntaxError(`malformed character constant: ${src.slice(start, j)}`, start);
        else push('number', start, j, body.codePointAt(0));
      } else if (c === '`') {
        const end = src.indexOf('`', j + 1);
        if (end < 0) throw new TemplateSyntaxError('unterminated raw quoted string', start);
        j = end + 1;
        push('string', start, j, src.slice(start + 1, end));
      } else if (isDigit(c) || ((c === '+' || c === '-' || c === '.') && isDigit(src[j + 1])) || ((c === '+' || c === '-') && src[j + 1] === '.')) {
        const m = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?)/.exec(src.slice(j)) as RegExpExecArray;
        j += m[0].length;
        if (isAlnum(src[j]) || src[j] === '.') {
          while (isAlnum(src[j]) || src[j] === '.') j++;
          throw new TemplateSyntaxError(`bad number syntax: ${JSON.stringify(src.slice(start, j))}`, start);
        }
        push('number', start, j, parseNumber(src.slice(start, j), start));
      } else if (c === '.' || c === '$') {
        j++;
        while (isAlnum(src[j])) j++;
        push(c === '$' ? 'variable' : j === start + 1 ? 'dot' : 'field', start, j);
      } else if (isAlnum(c)) {
        while (isAlnum(src[j])) j++;
        const word = src.slice(start, j);
        if (word === 'true' || word === 'false') push('bool', start, j, word === 'true');
        else if (word === 'nil') push('nil', start, j);
        else push(KEYWORDS.has(word) ? 'keyword' : 'identifier', start, j);
        if (!(j >= src.length || isSpace(src[j]) || '.,|:()'.includes(src[j]) || rightDelimAt(j) > 0 || src[j] === '=')) {
          throw new TemplateSyntaxError(badChar(src, j), j);
        }
      } else if (c >= ' ' && c < '\x7f') {
        push('char', j, ++j);
      } else {
        throw new TemplateSyntaxError(badChar(src, j), j);
      }
    }
  }
  tokens.push({ type: 'eof', text: '', pos: src.length });
}

function badChar(src: string, j: number): string {
  const cp = src.codePointAt(j) ?? 0;
  return `bad character U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(cp)}'`;
}
