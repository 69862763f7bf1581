// berth rm: remove containers (-f: running ones too, killed first).
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { inParallel } from '../lib/each.js';

export function rmCommand(ctx: Ctx, name = 'rm'): Command {
  return new Command(name)
    .description('Remove one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'remove anonymous volumes associated with the container')
    .action(async (names: string[], o: { force?: boolean; volumes?: boolean }) => {
      await inParallel(ctx, names, (n) => unary((cb) => ctx.api().containers.remove({ id: n, force: Boolean(o.force), volumes: Boolean(o.volumes) }, cb)));
    });
}
