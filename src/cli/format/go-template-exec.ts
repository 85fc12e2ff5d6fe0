/**
 * Executes a parsed template against JS data with text/template's semantics:
 * absent map keys print "<no value>", unknown struct fields are errors, maps
 * range in key order, and function arguments are type-checked.
 */
import { printValue } from './go-fmt.js';
import type { FuncMap, ParamType } from './go-template-funcs.js';
import type { Arg, Command, Node, Pipe } from './go-template-parse.js';
import { isPlainObject, isTrue, kindOf, mapEntries, sliceItems, typeName } from './go-value.js';

/** An execution error at a node; `context` is the node's source, as Go's "executing at <...>". */
export class TemplateExecError extends Error {
  constructor(
    message: string,
    readonly pos: number,
    readonly context: string,
  ) {
    super(message);
  }
}

/** No final value: the command is the first in its pipeline. */
const MISSING = Symbol('missing');
type Final = unknown;

class Break {}
class Continue {}

export class Executor {
  private out = '';
  private vars: Array<{ name: string; value: unknown }>;

  constructor(
    private readonly funcs: FuncMap,
    data: unknown,
  ) {
    this.vars = [{ name: '$', value: data }];
  }

  /** Runs the template; `output` holds what was written even when it throws. */
  run(nodes: Node[]): string {
    this.walk(nodes, this.vars[0].value);
    return this.out;
  }

  get output(): string {
    return this.out;
  }

  private walk(nodes: Node[], dot: unknown): void {
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          this.out += node.text;
          break;
        case 'action': {
          const v = this.pipeline(dot, node.pipe);
          if (node.pipe.decl.length === 0) this.print(v, node.pipe);
          break;
        }
        case 'if':
        case 'with': {
          const mark = this.vars.length;
          const v = this.pipeline(dot, node.pipe);
          if (isTrue(v)) this.walk(node.list, node.kind === 'with' ? v : dot);
          else if (node.elseList !== undefined) this.walk(node.elseList, dot);
          this.vars.length = mark;
          break;
        }
        case 'range':
          this.range(dot, node.pipe, node.list, node.elseList);
          break;
        case 'break':
          throw new Break();
        case 'continue':
          throw new Continue();
      }
    }
  }

  private print(v: unknown, pipe: Pipe): void {
    if (v === undefined || v === null) this.out += '<no value>';
    else if (typeof v === 'function') throw this.error(pipe, `can't print ${pipe.src} of type func()`);
    else this.out += printValue(v);
  }

  private range(dot: unknown, pipe: Pipe, list: Node[], elseList: Node[] | undefined): void {
    const mark = this.vars.length;
    const v = this.pipeline(dot, { ...pipe, decl: [] });
    let items: Array<[unknown, unknown]>;
    switch (kindOf(v)) {
      case 'nil':
        items = [];
        break;
      case 'slice':
        items = sliceItems(v).map((x, i) => [i, x]);
        break;
      case 'map':
        items = mapEntries(v as Record<string, unknown>);
        break;
      case 'int':
        items = Array.from({ length: Math.max(Number(v), 0) }, (_, i) => [i, i]);
        break;
      default:
        throw this.error(pipe, `range can't iterate over ${printValue(v)}`);
    }
    for (const name of pipe.decl) this.vars.push({ name, value: undefined });
    if (items.length === 0 && elseList !== undefined) this.walk(elseList, dot);
    for (const [key, elem] of items) {
      if (pipe.decl.length === 1) this.vars[mark].value = elem;
      if (pipe.decl.length === 2) [this.vars[mark].value, this.vars[mark + 1].value] = [key, elem];
      const iteration = this.vars.length;
      try {
        this.walk(list, elem);
      } catch (e) {
        if (e instanceof Break) break;
        if (!(e instanceof Continue)) throw e;
      } finally {
        this.vars.length = iteration;
      }
    }
    this.vars.length = mark;
  }

  private pipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) value = this.command(dot, cmd, value);
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.lookup(name).value = value;
      else this.vars.push({ name, value });
    }
    return value;
  }

  private command(dot: unknown, cmd: Command, final: Final): unknown {
    const [first] = cmd.args;
    switch (first.kind) {
      case 'field':
        return this.fieldChain(dot, dot, first, first.names, cmd.args, final);
      case 'chain':
        return this.fieldChain(dot, this.arg(dot, first.node), first, first.names, cmd.args, final);
      case 'variable': {
        const value = this.lookup(first.name).value;
        if (first.names.length === 0) {
          this.notAFunction(cmd.args, final);
          return value;
        }
        return this.fieldChain(dot, value, first, first.names, cmd.args, final);
      }
      case 'identifier':
        return this.call(dot, first, first.name, cmd.args.slice(1), final);
      case 'nil':
        throw this.error(first, 'nil is not a command');
      default:
        this.notAFunction(cmd.args, final);
        return this.arg(dot, first);
    }
  }

  private notAFunction(args: Arg[], final: Final): void {
    if (args.length > 1 || final !== MISSING) throw this.error(args[0], `can't give argument to non-function ${args[0].src}`);
  }

  private arg(dot: unknown, a: Arg): unknown {
    switch (a.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'const':
        return a.value;
      case 'pipe':
        return this.pipeline(dot, a.pipe);
      case 'identifier':
        return this.call(dot, a, a.name, [], MISSING);
      default:
        return this.command(dot, { args: [a] }, MISSING);
    }
  }

  private fieldChain(dot: unknown, receiver: unknown, node: Arg, names: string[], args: Arg[], final: Final): unknown {
    for (let i = 0; i < names.length - 1; i++) receiver = this.field(dot, receiver, names[i], node, [], MISSING);
    return this.field(dot, receiver, names[names.length - 1], node, args.slice(1), final);
  }

  private field(dot: unknown, receiver: unknown, name: string, node: Arg, args: Arg[], final: Final): unknown {
    if (receiver === undefined) return undefined; // an absent key: Go's zero reflect.Value
    if (receiver === null) throw this.error(node, `nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 0 || final !== MISSING;
    if (receiver instanceof Map) {
      if (hasArgs) throw this.error(node, `${name} is not a method but has arguments`);
      return receiver.get(name);
    }
    const kind = kindOf(receiver);
    if (kind !== 'map' && kind !== 'struct' && kind !== 'stringer') {
      throw this.error(node, `can't evaluate field ${name} in type ${typeName(receiver)}`);
    }
    const isMap = isPlainObject(receiver);
    const present = isMap ? Object.hasOwn(receiver, name) : name in (receiver as object) && !(name in Object.prototype);
    const member = present ? (receiver as Record<string, unknown>)[name] : undefined;
    if (typeof member === 'function') {
      const method = (callArgs: unknown[]): unknown => (member as (...a: unknown[]) => unknown).apply(receiver, callArgs);
      return this.invoke(dot, node, name, { params: [], variadic: 'any', fn: method }, args, final);
    }
    if (!present && !isMap) throw this.error(node, `can't evaluate field ${name} in type ${typeName(receiver)}`);
    if (hasArgs) throw this.error(node, isMap ? `${name} is not a method but has arguments` : `${name} has arguments but cannot be invoked as function`);
    return member;
  }

  private call(dot: unknown, node: Arg, name: string, args: Arg[], final: Final): unknown {
    const f = this.funcs[name];
    if (f.lazy === true) {
      const thunks = args.map((a) => () => this.arg(dot, a));
      if (final !== MISSING) thunks.push(() => final);
      if (thunks.length === 0) throw this.error(node, `wrong number of args for ${name}: want at least 1 got 0`);
      return f.fn(thunks);
    }
    return this.invoke(dot, node, name, f, args, final);
  }

  private invoke(
    dot: unknown,
    node: Arg,
    name: string,
    f: { params: ParamType[]; variadic?: ParamType; fn: (args: unknown[]) => unknown },
    args: Arg[],
    final: Final,
  ): unknown {
    const count = args.length + (final === MISSING ? 0 : 1);
    const want = f.params.length;
    if (f.variadic === undefined ? count !== want : count < want) {
      const atLeast = f.variadic === undefined ? '' : 'at least ';
      throw this.error(node, `wrong number of args for ${name}: want ${atLeast}${want} got ${count}`);
    }
    const typeOf = (i: number): ParamType => f.params[i] ?? f.variadic ?? 'any';
    const values = args.map((a, i) => this.checkType(a, this.arg(dot, a), typeOf(i), a.kind === 'const'));
    if (final !== MISSING) values.push(this.checkType(node, final, typeOf(args.length), false));
    try {
      return f.fn(values);
    } catch (e) {
      throw this.error(node, `error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Go's argument conversion: constants and computed values fail with different messages. */
  private checkType(at: Arg, v: unknown, want: ParamType, isConstant: boolean): unknown {
    if (want === 'any') return v;
    const ok = want === 'string' ? typeof v === 'string' : kindOf(v) === 'int';
    if (ok) return typeof v === 'bigint' ? Number(v) : v;
    if (isConstant) throw this.error(at, `expected ${want === 'int' ? 'integer' : 'string'}; found ${at.src}`);
    if (v === undefined || v === null) throw this.error(at, `invalid value; expected ${want}`);
    throw this.error(at, `wrong type for value; expected ${want}; got ${typeName(v)}`);
  }

  private lookup(name: string): { name: string; value: unknown } {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i];
    throw new TemplateExecError(`undefined variable: ${name}`, 0, name);
  }

  private error(node: { pos: number; src: string }, message: string): TemplateExecError {
    return new TemplateExecError(message, node.pos, node.src);
  }
}
