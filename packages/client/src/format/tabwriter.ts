// Go's text/tabwriter (elastic tabstops) as docker/cli configures it: minwidth 10, tabwidth 1,
// padding 3, padchar ' ', no flags. Cells are tab-terminated: the text after a line's last tab is
// not part of a column. docker/cli's fork measures cells in display columns (go-runewidth), so
// wide characters align; string-width does the same here.
import stringWidth from 'string-width';

export interface TabwriterOptions {
  /** Minimal cell width including padding (docker: 10). */
  minwidth?: number;
  /** Spaces added to the widest cell of a column (docker: 3). */
  padding?: number;
}

interface Cell {
  text: string;
  width: number;
}

/** Aligns tab-separated text the way docker's table output does. */
export function tabwrite(text: string, options: TabwriterOptions = {}): string {
  const minwidth = options.minwidth ?? 10;
  const padding = options.padding ?? 3;
  const lines: Cell[][] = text.split('\n').map((line) => line.split(/[\t\v]/).map((t) => ({ text: t, width: stringWidth(t) })));
  const widths: number[] = [];
  let out = '';

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      lines[i]!.forEach((c, j) => {
        out += c.text;
        if (j < widths.length) out += ' '.repeat(Math.max(widths[j]! - c.width, 0));
      });
      if (i + 1 < lines.length) out += '\n';
    }
  };

  // A column block is a run of consecutive lines that have a cell in this column; its width is
  // set by its widest cell, then the columns to its right are formatted within the block.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t]!.length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let width = minwidth;
      for (; t < line1; t++) {
        const line = lines[t]!;
        if (column >= line.length - 1) break;
        width = Math.max(width, line[column]!.width + padding);
      }
      widths.push(width);
      format(line0, t);
      widths.pop();
      line0 = t;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out;
}

/** Rows of cells as an aligned table, one line per row (the first row is usually the header). */
export function tabulate(rows: readonly (readonly string[])[], options?: TabwriterOptions): string {
  return tabwrite(rows.map((r) => r.join('\t') + '\n').join(''), options);
}
