// berth logs: the container's log (json-file, written by its shim), -f until it ends.
import { Command } from 'commander';
import type { Ctx } from '../lib/context.js';
import { printLogs } from '../lib/print-logs.js';
import { UsageError } from '../lib/errors.js';
import { parseTimestampNs } from '../lib/units.js';

export function logsCommand(ctx: Ctx, name = 'logs'): Command {
  return new Command(name)
    .description('Fetch the logs of a container')
    .usage('[OPTIONS] CONTAINER')
    .argument('<container>')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <string>', 'number of lines to show from the end of the logs', 'all')
    .option('--since <string>', 'show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('--until <string>', 'show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('-t, --timestamps', 'show timestamps')
    .option('--details', 'show extra details provided to logs')
    .action(async (c: string, o: { follow?: boolean; tail: string; since?: string; until?: string; timestamps?: boolean }) => {
      const extra: Record<string, unknown> = { timestamps: Boolean(o.timestamps) };
      if (o.tail !== 'all') {
        if (!/^-?\d+$/.test(o.tail)) throw new UsageError(`invalid value for "tail": ${JSON.stringify(o.tail)}`);
        if (Number(o.tail) >= 0) extra.tail = Number(o.tail);
      }
      try {
        if (o.since) extra.sinceNs = parseTimestampNs(o.since).toString();
        if (o.until) extra.untilNs = parseTimestampNs(o.until).toString();
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      await printLogs(ctx, c, Boolean(o.follow), { stdout: true, stderr: true }, extra);
    });
}
