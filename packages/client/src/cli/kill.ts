// berth kill: a signal (SIGKILL unless -s) to each container's init.
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { inParallel } from '../lib/each.js';

export function killCommand(ctx: Ctx, name = 'kill'): Command {
  return new Command(name)
    .description('Kill one or more running containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .option('-s, --signal <string>', 'signal to send to the container', 'KILL')
    .action(async (names: string[], o: { signal: string }) => {
      await inParallel(ctx, names, (n) => unary((cb) => ctx.api().containers.kill({ id: n, signal: o.signal }, cb)));
    });
}
