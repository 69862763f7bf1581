// berth pause: freeze every process of each container.
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { inParallel } from '../lib/each.js';

export function pauseCommand(ctx: Ctx, name = 'pause'): Command {
  return new Command(name)
    .description('Pause all processes within one or more containers')
    .usage('CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .action(async (names: string[]) => {
      await inParallel(ctx, names, (n) => unary((cb) => ctx.api().containers.pause({ id: n }, cb)));
    });
}
