import { compileTemplate, formatRows } from './format/go-template.js';
import { goTimeString } from './format/go-value.js';
import type { CliContext } from './context.js';

export { bytesSize, humanSize, timeAgo } from './format/units.js';

/** Prints rows as Docker's list commands do: a default table, `table ...`, `json` or a raw template. */
export function printFormatted(
  ctx: CliContext,
  format: string | undefined,
  rows: readonly object[],
  defaultTable: string,
  headers: Readonly<Record<string, string>>,
): void {
  ctx.stdout.write(formatRows(format, rows, defaultTable, headers));
}

/** `inspect -f` / `info -f`: one object through a template; `json` prints it whole. */
export function renderTemplate(format: string, data: unknown): string {
  if (format === 'json') return JSON.stringify(data);
  return compileTemplate(format)(data);
}

/** time.Time.String(), as `--format '{{.CreatedAt}}'` prints it. */
export function goTime(d: Date): string {
  return goTimeString(d);
}

/** Docker's formatter.Ellipsis: cut to maxWidth characters, the last one an ellipsis. */
export function ellipsis(s: string, maxWidth: number): string {
  const chars = [...s];
  if (chars.length <= maxWidth) return s;
  return `${chars.slice(0, maxWidth - 1).join('')}…`;
}
