/**
 * Parser for the Go text/template subset: pipelines, variables, if/else if,
 * range (with one or two variables, else, break and continue), with. Errors
 * use text/template's messages; positions are source offsets.
 */
import { lex, TemplateSyntaxError, type Token } from './go-template-lex.js';

interface Base {
  pos: number;
  /** Source text, for error context ("executing at <.Foo>"). */
  src: string;
}

export type Arg =
  | (Base & { kind: 'field'; names: string[] }) // .A.B
  | (Base & { kind: 'variable'; name: string; names: string[] }) // $x.A
  | (Base & { kind: 'chain'; node: Arg; names: string[] }) // (pipeline).A
  | (Base & { kind: 'dot' })
  | (Base & { kind: 'identifier'; name: string })
  | (Base & { kind: 'pipe'; pipe: Pipe })
  | (Base & { kind: 'const'; value: unknown })
  | (Base & { kind: 'nil' });

export interface Command {
  args: Arg[];
}

export interface Pipe extends Base {
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe }
  | { kind: 'if' | 'with' | 'range'; pipe: Pipe; list: Node[]; elseList?: Node[] }
  | { kind: 'break' | 'continue'; pos: number };

const CONTROL = new Set(['if', 'with', 'range']);

function describe(t: Token): string {
  if (t.type === 'eof') return 'EOF';
  if (t.type === 'keyword') return `<${t.text}>`;
  return t.text.length > 10 ? `${JSON.stringify(t.text.slice(0, 10))}...` : JSON.stringify(t.text);
}

class Parser {
  private i = 0;
  private vars = ['$'];
  private rangeDepth = 0;

  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
    private readonly isFunction: (name: string) => boolean,
  ) {}

  private peek(): Token {
    const t = this.tokens[this.i];
    if (t.type === 'error') throw new TemplateSyntaxError(t.text, t.pos);
    return t;
  }
  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }
  private peekNonSpace(): Token {
    while (this.peek().type === 'space') this.i++;
    return this.peek();
  }
  private nextNonSpace(): Token {
    this.peekNonSpace();
    return this.next();
  }
  private fail(message: string, t: Token = this.tokens[Math.max(this.i - 1, 0)]): never {
    throw new TemplateSyntaxError(message, t.pos);
  }
  private expectRight(context: string): void {
    const t = this.nextNonSpace();
    if (t.type !== 'right') this.fail(`unexpected ${describe(t)} in ${context}`, t);
  }

  /** Parses nodes until EOF (top level) or until {{end}} / {{else}}, returning which one ended it. */
  list(topLevel: boolean): { nodes: Node[]; end: 'end' | 'else' | 'eof' } {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.type === 'eof') {
        if (!topLevel) this.fail('unexpected EOF', t);
        return { nodes, end: 'eof' };
      }
      if (t.type === 'text') {
        nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const kw = this.peekNonSpace();
      if (kw.type === 'keyword') {
        this.next();
        if (kw.text === 'end' || kw.text === 'else') {
          if (topLevel) this.fail(`unexpected {{${kw.text}}}`, kw);
          if (kw.text === 'end') this.expectRight('end');
          return { nodes, end: kw.text };
        }
        nodes.push(this.keywordAction(kw));
      } else {
        nodes.push({ kind: 'action', pipe: this.pipeline('command') });
      }
    }
  }

  private keywordAction(kw: Token): Node {
    if (CONTROL.has(kw.text)) return this.control(kw.text as 'if' | 'with' | 'range');
    if (kw.text === 'break' || kw.text === 'continue') {
      if (this.rangeDepth === 0) this.fail(`{{${kw.text}}} outside {{range}}`, kw);
      this.expectRight(`{{${kw.text}}}`);
      return { kind: kw.text, pos: kw.pos };
    }
    return this.fail(`{{${kw.text}}} is not supported in --format templates`, kw);
  }

  private control(kind: 'if' | 'with' | 'range'): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind);
    if (kind === 'range') this.rangeDepth++;
    const body = this.list(false);
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (body.end === 'else') {
      const t = this.peekNonSpace();
      if ((kind === 'if' || kind === 'with') && t.type === 'keyword' && t.text === kind) {
        // "{{else if x}}" is "{{else}}{{if x}}...{{end}}{{end}}" sharing the one {{end}}.
        this.next();
        elseList = [this.control(kind)];
      } else {
        this.expectRight('else');
        const rest = this.list(false);
        if (rest.end !== 'end') this.fail('expected end; found {{else}}');
        elseList = rest.nodes;
      }
    }
    this.vars.length = mark;
    return { kind, pipe, list: body.nodes, elseList };
  }

  /** [decl :=] command ('|' command)* up to "}}" (or ")" inside parentheses). */
  private pipeline(context: string, end: 'right' | 'rparen' = 'right'): Pipe {
    const start = this.peekNonSpace().pos;
    const decl: string[] = [];
    let isAssign = false;
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') {
        if (decl.length > 0) this.fail('range can only initialize variables', v);
        break;
      }
      const save = this.i;
      this.next();
      const after = this.peekNonSpace();
      if (after.type === 'declare' || after.type === 'assign') {
        this.next();
        isAssign = after.type === 'assign';
        decl.push(v.text);
        break;
      }
      if (after.type === 'comma') {
        this.next();
        decl.push(v.text);
        if (context !== 'range' || decl.length > 1) this.fail(`too many declarations in ${context}`, after);
        continue;
      }
      if (decl.length > 0) this.fail('range can only initialize variables', after);
      this.i = save;
      break;
    }
    if (isAssign) {
      for (const name of decl) this.useVar(name);
    }
    const cmds: Command[] = [];
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        if (cmds.length === 0) this.fail(`missing value for ${context}`, t);
        cmds.slice(1).forEach((c, n) => {
          if (['const', 'nil', 'dot'].includes(c.args[0].kind)) this.fail(`non executable command in pipeline stage ${n + 2}`, t);
        });
        if (!isAssign) this.vars.push(...decl);
        return { pos: start, src: this.src.slice(start, t.pos).trim(), decl, isAssign, cmds };
      }
      if (t.type === 'pipe' && cmds.length > 0) continue;
      if (!['bool', 'dot', 'field', 'identifier', 'number', 'nil', 'string', 'variable', 'lparen'].includes(t.type)) {
        this.fail(`unexpected ${describe(t)} in ${context}`, t);
      }
      this.i--;
      cmds.push(this.command());
    }
  }

  private command(): Command {
    const args: Arg[] = [];
    for (;;) {
      this.peekNonSpace();
      const arg = this.operand();
      if (arg !== undefined) args.push(arg);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'right' || t.type === 'rparen' || t.type === 'pipe') {
        this.i--;
        break;
      }
      this.fail(`unexpected ${describe(t)} in operand`, t);
    }
    if (args.length === 0) this.fail('empty command');
    return { args };
  }

  private operand(): Arg | undefined {
    const node = this.term();
    if (node === undefined || this.peek().type !== 'field') return node;
    const names: string[] = [];
    let end = node.pos + node.src.length;
    while (this.peek().type === 'field') {
      const f = this.next();
      names.push(f.text.slice(1));
      end = f.pos + f.text.length;
    }
    const src = this.src.slice(node.pos, end);
    switch (node.kind) {
      case 'field':
        return { ...node, src, names: [...node.names, ...names] };
      case 'variable':
        return { ...node, src, names: [...node.names, ...names] };
      case 'const':
      case 'nil':
      case 'dot':
        return this.fail(`unexpected . after term ${JSON.stringify(node.src)}`);
      default:
        return { kind: 'chain', pos: node.pos, src, node, names };
    }
  }

  private term(): Arg | undefined {
    const t = this.next();
    const base = { pos: t.pos, src: t.text };
    switch (t.type) {
      case 'identifier':
        if (!this.isFunction(t.text)) this.fail(`function ${JSON.stringify(t.text)} not defined`, t);
        return { ...base, kind: 'identifier', name: t.text };
      case 'dot':
        return { ...base, kind: 'dot' };
      case 'nil':
        return { ...base, kind: 'nil' };
      case 'variable':
        this.useVar(t.text);
        return { ...base, kind: 'variable', name: t.text, names: [] };
      case 'field':
        return { ...base, kind: 'field', names: [t.text.slice(1)] };
      case 'bool':
      case 'number':
      case 'string':
        return { ...base, kind: 'const', value: t.value };
      case 'lparen': {
        const pipe = this.pipeline('parenthesized pipeline', 'rparen');
        const close = this.tokens[this.i - 1];
        return { pos: t.pos, src: this.src.slice(t.pos, close.pos + 1), kind: 'pipe', pipe };
      }
    }
    this.i--;
    return undefined;
  }

  private useVar(name: string): void {
    if (!this.vars.includes(name)) this.fail(`undefined variable ${JSON.stringify(name)}`);
  }
}

/** Parses template source; throws TemplateSyntaxError. */
export function parseTemplate(src: string, isFunction: (name: string) => boolean): Node[] {
  const parser = new Parser(src, lex(src), isFunction);
  return parser.list(true).nodes;
}
