// berth restart: stop (as stop) and start again.
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { forEach } from '../lib/each.js';
import { timeoutOf } from './stop.js';

export function restartCommand(ctx: Ctx, name = 'restart'): Command {
  return new Command(name)
    .description('Restart one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .option('-s, --signal <string>', 'signal to send to the container')
    .option('-t, --time <int>', 'seconds to wait before killing the container')
    .action(async (names: string[], o: { signal?: string; time?: string }) => {
      const timeout = timeoutOf(o.time);
      await forEach(ctx, names, async (n) => {
        await unary((cb) => ctx.api().containers.restart({ id: n, timeout, signal: o.signal ?? '' }, cb));
        process.stdout.write(`${n}\n`);
      });
    });
}
