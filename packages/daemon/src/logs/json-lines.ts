/**
 * The lines of a json-file log (packages/shim/README.md, "The container's log"), parsed many at a
 * time: one JSON.parse of `[line,line,...]` costs about half of one per line. Any line that is
 * not a JSON object (a torn last line, say) makes the block fall back to one parse per line, and
 * such a line is skipped, as Docker's reader does.
 */

/** One line as the shim writes it. */
export interface LogLine {
  log?: string;
  stream?: string;
  time?: string;
  partial?: boolean;
  /** The exact bytes, base64, when they are not UTF-8. */
  log_b64?: string;
}

const isLine = (v: unknown): v is LogLine => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses `text`: lines separated by "\n" (no final newline). Empty and unreadable lines are skipped. */
export function parseLines(text: string): LogLine[] {
  if (!text) return [];
  let count = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
  try {
    const all: unknown = JSON.parse(`[${text.replaceAll('\n', ',')}]`);
    // One value per line, each an object: the block parse saw exactly the lines.
    if (Array.isArray(all) && all.length === count && all.every(isLine)) return all;
  } catch {
    // below, line by line
  }
  const out: LogLine[] = [];
  for (const l of text.split('\n')) {
    if (!l) continue;
    try {
      const v: unknown = JSON.parse(l);
      if (isLine(v)) out.push(v);
    } catch {
      // a torn line: skipped
    }
  }
  return out;
}

export const streamOf = (l: LogLine): 'stdout' | 'stderr' => (l.stream === 'stderr' ? 'stderr' : 'stdout');

/** The exact bytes a line stands for. */
export function lineBytes(l: LogLine): Buffer {
  return l.log_b64 ? Buffer.from(l.log_b64, 'base64') : Buffer.from(typeof l.log === 'string' ? l.log : '', 'utf8');
}
