// berth container prune: remove every stopped container (after a y/N question unless -f).
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { num, unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { humanSize } from '../lib/units.js';
import { parseFilters } from './ps.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function pruneCommand(ctx: Ctx, name = 'prune'): Command {
  return new Command(name)
    .description('Remove all stopped containers')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <filter>', "provide filter values (e.g. 'until=<timestamp>')", collect, [])
    .action(async (o: { force?: boolean; filter: string[] }) => {
      if (!o.force) {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const a = await rl.question('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
        rl.close();
        if (!/^y(es)?$/i.test(a.trim())) return;
      }
      const r = await unary<{ containersDeleted: string[]; spaceReclaimed: unknown }>((cb) => ctx.api().containers.prune({ filters: parseFilters(o.filter) }, cb));
      let out = '';
      if (r.containersDeleted?.length) out += `Deleted Containers:\n${r.containersDeleted.join('\n')}\n\n`;
      out += `Total reclaimed space: ${humanSize(num(r.spaceReclaimed))}\n`;
      process.stdout.write(out);
    });
}
