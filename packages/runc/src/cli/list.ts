import { Command } from 'commander';
import { list } from '../container/state.js';
import { InvalidArgumentError } from '../errors.js';
import { contextOf, print, printJson } from './context.js';

/** Columns padded as Go's tabwriter does for runc (minwidth 12, padding 1). */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(12, ...rows.map((r) => r[i]!.length + 1)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('')).join('\n') + '\n';
}

export function listCommand(): Command {
  return new Command('list')
    .alias('ls')
    .description('list containers')
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'print only ids')
    .action((o, cmd: Command) => {
      const states = list(contextOf(cmd));
      if (o.quiet) return print(states.map((s) => s.id + '\n').join(''));
      if (o.format === 'json') return printJson(states);
      if (o.format !== 'table') throw new InvalidArgumentError(`--format must be table or json, not ${JSON.stringify(o.format)}`);
      print(table([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, 'root'])]));
    });
}
