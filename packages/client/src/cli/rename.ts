// berth rename: give a container a new name.
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { ExitError, describe } from '../lib/errors.js';

export function renameCommand(ctx: Ctx, name = 'rename'): Command {
  return new Command(name)
    .description('Rename a container')
    .usage('CONTAINER NEW_NAME')
    .argument('<container>')
    .argument('<new-name>')
    .action(async (c: string, newName: string) => {
      await unary((cb) => ctx.api().containers.rename({ id: c, newName }, cb)).catch((e: unknown) => {
        throw new ExitError(1, `${describe(e, ctx.host())}\nError: failed to rename container named ${c}`);
      });
    });
}
