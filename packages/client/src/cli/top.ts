// berth top: the container's processes, as ps shows them.
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';

export function topCommand(ctx: Ctx, name = 'top'): Command {
  return new Command(name)
    .description('Display the running processes of a container')
    .usage('CONTAINER [ps OPTIONS]')
    .argument('<container>')
    .argument('[ps-options...]')
    .passThroughOptions()
    .action(async (c: string, psArgs: string[]) => {
      const { tabulate } = await import('../format/index.js'); // lazily: its set-up (string-width's) is ~15 ms
      const r = await unary<{ titles: string[]; processes: { values?: string[] | null }[] }>((cb) => ctx.api().containers.top({ id: c, psArgs: psArgs.join(' ') }, cb));
      process.stdout.write(tabulate([r.titles, ...r.processes.map((p) => p.values ?? [])], { minwidth: 20, padding: 3 }));
    });
}
