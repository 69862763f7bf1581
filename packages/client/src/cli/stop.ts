// berth stop: the stop signal, then SIGKILL after the timeout.
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { inParallel } from '../lib/each.js';
import { UsageError } from '../lib/errors.js';

export function timeoutOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "-t, --time" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

export function stopCommand(ctx: Ctx, name = 'stop'): Command {
  return new Command(name)
    .description('Stop one or more running containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .option('-s, --signal <string>', 'signal to send to the container')
    .option('-t, --time <int>', 'seconds to wait before killing the container')
    .action(async (names: string[], o: { signal?: string; time?: string }) => {
      const timeout = timeoutOf(o.time);
      await inParallel(ctx, names, (n) => unary((cb) => ctx.api().containers.stop({ id: n, timeout, signal: o.signal ?? '' }, cb)));
    });
}
