import { execFileSync } from 'node:child_process';
import { Command } from 'commander';
import { ps } from '../container/ps.js';
import { InvalidArgumentError } from '../errors.js';
import { contextOf, print, printJson } from './context.js';

export function psCommand(): Command {
  return new Command('ps')
    .description('list the processes of a container')
    .argument('<container-id>')
    .argument('[ps-options...]', 'options for ps(1) in table format', ['-ef'])
    .option('-f, --format <format>', 'table or json', 'table')
    .passThroughOptions()
    .action((id: string, psArgs: string[], o, cmd: Command) => {
      const pids = ps(contextOf(cmd), id);
      if (o.format === 'json') return printJson(pids);
      if (o.format !== 'table') throw new InvalidArgumentError(`--format must be table or json, not ${JSON.stringify(o.format)}`);
      // As runc: run ps(1) and keep the header and the rows whose PID column is the container's.
      const lines = execFileSync('ps', psArgs, { encoding: 'utf8' }).split('\n');
      const header = lines[0] ?? '';
      const pidColumn = header.trim().split(/\s+/).indexOf('PID');
      if (pidColumn < 0) throw new InvalidArgumentError('ps output has no PID column');
      const wanted = new Set(pids);
      const rows = lines.slice(1).filter((l) => l && wanted.has(Number(l.trim().split(/\s+/)[pidColumn])));
      print([header, ...rows].join('\n') + '\n');
    });
}
