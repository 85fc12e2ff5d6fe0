/**
 * Go's text/tabwriter (elastic tabstops), as Docker's table output uses it:
 * cells are tab-terminated, a column is a run of adjacent lines that all have
 * a cell there, and each column is as wide as its widest cell plus padding
 * (at least minwidth). The text after a line's last tab is not part of a
 * column and is never padded.
 */

export interface TabwriterOptions {
  /** Minimal cell width, padding included. */
  minwidth: number;
  padding: number;
  padchar: string;
}

/** Docker's formatter: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const DOCKER_TABWRITER: TabwriterOptions = { minwidth: 10, padding: 3, padchar: ' ' };

const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{2fffd}\u{30000}-\u{3fffd}]/u;
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cc}\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/u;

/** Terminal columns a string occupies: East Asian wide characters count 2, combining marks 0. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const c of s) {
    if (c.charCodeAt(0) < 0x7f) w += c >= ' ' ? 1 : 0;
    else if (ZERO_WIDTH.test(c)) continue;
    else w += WIDE.test(c) ? 2 : 1;
  }
  return w;
}

/** Aligns tab-separated text; the result has no tabs left. */
export function tabwrite(text: string, options: TabwriterOptions = DOCKER_TABWRITER): string {
  const lines = text.split('\n').map((line) => line.split('\t'));
  const widths = lines.map((cells) => cells.map(displayWidth));
  const out: string[] = lines.map(() => '');
  const columnWidths: number[] = [];

  const emit = (line: number): void => {
    const cells = lines[line];
    let s = '';
    cells.forEach((cell, j) => {
      s += cell;
      // Only the cells of the columns found so far are padded; the last cell never is.
      if (j < columnWidths.length && j < cells.length - 1) s += options.padchar.repeat(columnWidths[j] - widths[line][j]);
    });
    out[line] = s;
  };

  // Lines [from, to) all have cells in the columns left of `column`; find blocks
  // of adjacent lines that also have a tab-terminated cell in `column`.
  const format = (from: number, to: number): void => {
    const column = columnWidths.length;
    let line = from;
    while (line < to) {
      if (column >= lines[line].length - 1) {
        emit(line++);
        continue;
      }
      let end = line;
      let width = options.minwidth;
      for (; end < to && column < lines[end].length - 1; end++) width = Math.max(width, widths[end][column] + options.padding);
      columnWidths.push(width);
      format(line, end);
      columnWidths.pop();
      line = end;
    }
  };

  format(0, lines.length);
  return out.join('\n');
}
