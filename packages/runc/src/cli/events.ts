import { Command } from 'commander';
import { loadContainer } from '../container/context.js';
import { stats } from '../container/update.js';
import { InvalidArgumentError } from '../errors.js';
import { contextOf, print } from './context.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function durationMs(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`invalid duration ${JSON.stringify(v)} (e.g. 5s, 500ms)`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'];
}

export function eventsCommand(): Command {
  return new Command('events')
    .description("print a container's stats and OOM events as JSON lines until it stops")
    .argument('<container-id>')
    .option('--interval <duration>', 'time between stats', '5s')
    .option('--stats', 'print the stats once and exit')
    .action(async (id: string, o, cmd: Command) => {
      const ctx = contextOf(cmd);
      const line = (type: string, data?: unknown) => print(JSON.stringify({ type, id, ...(data ? { data } : {}) }) + '\n');
      if (o.stats) return line('stats', stats(ctx, id));
      const interval = durationMs(o.interval);
      let ooms = loadContainer(ctx, id).cgroup.oomKills();
      for (;;) {
        const { cgroup, status } = loadContainer(ctx, id);
        if (status === 'stopped') return;
        const now = cgroup.oomKills();
        if (now > ooms) line('oom');
        ooms = now;
        line('stats', cgroup.stats());
        await sleep(interval);
      }
    });
}
