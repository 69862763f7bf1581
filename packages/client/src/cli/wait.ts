// berth wait: block until each container stops, then print its exit code.
import { Command } from 'commander';
import { num, unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { forEach } from '../lib/each.js';

export function waitCommand(ctx: Ctx, name = 'wait'): Command {
  return new Command(name)
    .description('Block until one or more containers stop, then print their exit codes')
    .usage('CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .action(async (names: string[]) => {
      await forEach(ctx, names, async (n) => {
        const r = await unary<{ statusCode: unknown }>((cb) => ctx.api().containers.wait({ id: n, condition: 'not-running' }, cb));
        process.stdout.write(`${num(r.statusCode)}\n`);
      });
    });
}
