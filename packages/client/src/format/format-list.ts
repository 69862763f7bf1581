// docker/cli's formatter.Context: how a command's --format turns rows into text.
//   undefined | "table"  -> the command's default table format
//   "json"               -> {{json .}}, one object per line
//   "table <template>"   -> the template for each row, a header from the same template, aligned
//   anything else        -> the template for each row, each followed by a newline
// Literal \t and \n in the format become a tab and a newline, as Docker's do.
import { Template, type ExecuteOptions } from './exec.js';
import type { FuncLike } from './funcs.js';
import { TemplateError } from './parse.js';
import { tabwrite } from './tabwriter.js';

export interface FormatListOptions {
  /** The command's default, e.g. 'table {{.ID}}\t{{.Image}}\t...' (Docker's defaultContainerTableFormat). */
  defaultTable: string;
  /**
   * Column names by field path ("ID" -> "CONTAINER ID", "State.Status" -> ...). A field not listed
   * is named from its last segment: "CreatedAt" -> "CREATED AT".
   */
  headers?: Readonly<Record<string, string>>;
  /** -q: print only this template per row ("{{.ID}}") when no custom format is given. */
  quiet?: boolean;
  quietFormat?: string;
  /** Missing fields: 'struct' (Docker's list commands run over Go structs) unless told otherwise. */
  missingKey?: ExecuteOptions['missingKey'];
  /** The Go type named in errors for a missing field ("*formatter.ContainerContext"). */
  typeName?: string;
  funcs?: Record<string, FuncLike>;
}

/** "RunningFor" -> "RUNNING FOR": Docker's header style for a field without a listed name. */
export function headerName(field: string): string {
  return field
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toUpperCase();
}

/** The template text Docker would run for a --format value (preFormat). */
export function resolveFormat(format: string | undefined, options: Pick<FormatListOptions, 'defaultTable' | 'quiet' | 'quietFormat'>): { template: string; table: boolean } {
  let f = format ?? '';
  if (options.quiet && (f === '' || f === 'table' || f === 'raw')) f = options.quietFormat ?? '{{.ID}}';
  else if (f === '' || f === 'table') f = options.defaultTable;
  let template = f;
  const table = f.startsWith('table');
  if (table) template = f.slice('table'.length);
  else if (f === 'json') template = '{{json .}}';
  template = template.replace(/^ +| +$/g, '').replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'));
  return { template, table };
}

/**
 * Formats rows (plain objects shaped like Docker's JSON or its formatter contexts) as a command's
 * output. Throws TemplateError with Docker's "template parsing error: ..." wording.
 */
export function formatList(format: string | undefined, rows: readonly unknown[], options: FormatListOptions): string {
  const { template, table } = resolveFormat(format, options);
  let tmpl: Template;
  try {
    tmpl = new Template(template, options.funcs);
  } catch (e) {
    throw wrap(e);
  }
  const exec: ExecuteOptions = { missingKey: options.missingKey ?? 'struct' };
  if (options.typeName !== undefined) exec.typeName = options.typeName;
  let body = '';
  for (const row of rows) {
    try {
      body += tmpl.execute(row, exec) + '\n';
    } catch (e) {
      throw wrap(e);
    }
  }
  if (!table) return body;
  const headers = options.headers ?? {};
  const name = (path: string): string => headers[path] ?? headerName(path.split('.').pop()!);
  let header = '';
  try {
    header = tmpl.execute(undefined, { header: name }, (partial) => {
      header = partial;
    });
  } catch {
    // Docker ignores an error in the header and keeps what was written before it.
  }
  return tabwrite(header + '\n' + body);
}

function wrap(e: unknown): unknown {
  if (e instanceof TemplateError) return new TemplateError(`template parsing error: ${e.message}`, e.phase);
  return e;
}
