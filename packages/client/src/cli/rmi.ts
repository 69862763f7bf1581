// berth rmi / berth image rm: untag, and delete an image no reference holds.
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { forEach } from '../lib/each.js';

export function rmiCommand(ctx: Ctx, name = 'rmi', aliases: string[] = []): Command {
  return new Command(name)
    .aliases(aliases)
    .description('Remove one or more images')
    .usage('[OPTIONS] IMAGE [IMAGE...]')
    .argument('<image...>')
    .option('-f, --force', 'force removal of the image')
    .option('--no-prune', 'do not delete untagged parents')
    .action(async (names: string[], o: { force?: boolean; prune: boolean }) => {
      await forEach(ctx, names, async (n) => {
        const r = await unary<{ untagged: string[]; deleted: string[] }>((cb) => ctx.api().images.remove({ name: n, force: Boolean(o.force), noPrune: !o.prune }, cb));
        for (const u of r.untagged ?? []) process.stdout.write(`Untagged: ${u}\n`);
        for (const d of r.deleted ?? []) process.stdout.write(`Deleted: ${d}\n`);
      });
    });
}
