/**
 * Go text/template for `--format`, and Docker's --format conventions on top:
 * `table ...` (aligned columns under a header row), `json` (one object per
 * line), or a raw template. Errors read like Docker's:
 *   template parsing error: template: :1: function "foo" not defined
 *   template parsing error: template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type Row
 */
import { errors, type StrataError } from '../../errors/errors.js';
import { Executor, TemplateExecError } from './go-template-exec.js';
import { BASIC_FUNCS, HEADER_FUNCS, type FuncMap } from './go-template-funcs.js';
import { TemplateSyntaxError } from './go-template-lex.js';
import { parseTemplate, type Node } from './go-template-parse.js';
import { tabwrite } from './tabwriter.js';

export type CompiledTemplate = (data: unknown) => string;

function lineOf(src: string, pos: number): { line: number; col: number } {
  const before = src.slice(0, pos);
  return { line: before.split('\n').length, col: pos - (before.lastIndexOf('\n') + 1) };
}

function syntaxError(src: string, e: TemplateSyntaxError): StrataError {
  return errors.invalidArgument(`template parsing error: template: :${lineOf(src, e.pos).line}: ${e.message}`);
}

function execError(src: string, e: TemplateExecError): StrataError {
  const { line, col } = lineOf(src, e.pos);
  const context = e.context.length > 20 ? `${e.context.slice(0, 20)}...` : e.context;
  return errors.invalidArgument(`template parsing error: template: :${line}:${col}: executing "" at <${context}>: ${e.message}`);
}

function parse(src: string): Node[] {
  try {
    return parseTemplate(src, (name) => Object.hasOwn(BASIC_FUNCS, name));
  } catch (e) {
    throw e instanceof TemplateSyntaxError ? syntaxError(src, e) : e;
  }
}

function execute(src: string, nodes: Node[], data: unknown, funcs: FuncMap = BASIC_FUNCS): string {
  try {
    return new Executor(funcs, data).run(nodes);
  } catch (e) {
    throw e instanceof TemplateExecError ? execError(src, e) : e;
  }
}

/** Parses once; the returned function renders one data value. Both throw invalidArgument errors. */
export function compileTemplate(src: string): CompiledTemplate {
  const nodes = parse(src);
  return (data) => execute(src, nodes, data);
}

/** Docker's Format.templateString: drops "table", trims spaces, turns literal \t and \n into tab and newline. */
function templateString(format: string): string {
  if (format === 'table') return '';
  if (format === 'json') return '{{json .}}';
  const body = format.startsWith('table') ? format.slice('table'.length) : format;
  return body.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/** "CreatedAt" -> "CREATED AT", "ImageID" -> "IMAGE ID": the header of a field without one in the map. */
export function defaultHeader(field: string): string {
  return field
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toUpperCase();
}

/** The header row: every field name maps to its column title. */
class HeaderRow extends Map<string, string> {
  override get(field: string): string {
    return super.get(field) ?? defaultHeader(field);
  }
}

/**
 * Renders rows the way `docker <list command> --format` does.
 * - undefined, "" or "table": `defaultTable` (itself a "table ..." format).
 * - "table <template>": a header row (the template executed against `headers`,
 *   with json/upper/... leaving titles alone), then one line per row, aligned
 *   by the tabwriter.
 * - "json": each row as one line of JSON.
 * - anything else: the template, one line per row, no header.
 */
export function formatRows(
  format: string | undefined,
  rows: readonly object[],
  defaultTable: string,
  headers: Readonly<Record<string, string>> = {},
): string {
  const f = format === undefined || format === '' || format === 'table' ? defaultTable : format;
  const src = templateString(f);
  const nodes = parse(src);
  let body = '';
  for (const row of rows) body += `${execute(src, nodes, row)}\n`;
  if (!f.startsWith('table')) return body;
  // Docker ignores header errors and keeps what the header printed before failing.
  const header = new Executor(HEADER_FUNCS, new HeaderRow(Object.entries(headers)));
  try {
    header.run(nodes);
  } catch (e) {
    if (!(e instanceof TemplateExecError)) throw e;
  }
  return tabwrite(`${header.output}\n${body}`);
}
