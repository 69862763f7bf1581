// berth ps / berth container ls: containers as docker ps shows them (table, -q, --format, -a, -n, -l).
import { Command } from 'commander';
import type { IContainerSummary } from '@berth/api/berth/engine/v1';
import { num, unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { UsageError } from '../lib/errors.js';
import { goTimeString, humanDuration, humanSize } from '../lib/units.js';
import { goQuote } from '../format/go-fmt.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** --filter key=value, grouped by key as berth.engine.v1's Filter. */
export function parseFilters(list: string[]): { key: string; values: string[] }[] {
  const byKey = new Map<string, string[]>();
  for (const f of list) {
    const at = f.indexOf('=');
    if (at <= 0) throw new UsageError(`bad format of filter (expected name=value)`);
    const k = f.slice(0, at).trim().toLowerCase();
    byKey.set(k, [...(byKey.get(k) ?? []), f.slice(at + 1)]);
  }
  return [...byKey].map(([key, values]) => ({ key, values }));
}

const ellipsis = (s: string, n: number): string => ([...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s);

/** docker/cli's ContainerContext, fields in the order `--format json` prints them. */
export function containerRow(c: IContainerSummary, trunc: boolean, now = Date.now()): Record<string, unknown> {
  const labels = (c.labels ?? {}) as Record<string, string>;
  const createdMs = num(c.created) * 1000;
  let image = c.image ?? '';
  if (trunc && image.startsWith('sha256:')) image = image.slice(7, 19);
  const command = c.command ?? '';
  return {
    Command: goQuote(trunc ? ellipsis(command, 20) : command),
    CreatedAt: goTimeString(createdMs),
    ID: trunc ? (c.id ?? '').slice(0, 12) : c.id,
    Image: image,
    Labels: Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(','),
    LocalVolumes: '0',
    Mounts: (c.mounts ?? []).join(','),
    Names: (c.names ?? []).map((n) => n.replace(/^\//, '')).join(','),
    Networks: c.networkMode ?? '',
    Ports: '',
    RunningFor: `${humanDuration(now - createdMs)} ago`,
    Size: `${humanSize(num(c.sizeRw), 3)}`,
    State: c.state,
    Status: c.status,
    Label: (k: string) => labels[k] ?? '',
  };
}

export function psCommand(ctx: Ctx, name = 'ps', aliases: string[] = []): Command {
  return new Command(name)
    .aliases(aliases)
    .description('List containers')
    .usage('[OPTIONS]')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-f, --filter <filter>', 'filter output based on conditions provided', collect, [])
    .option('--format <string>', "format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
    .option('-n, --last <int>', 'show n last created containers (includes all states)', '-1')
    .option('-l, --latest', 'show the latest created container (includes all states)')
    .option('--no-trunc', "don't truncate output")
    .option('-q, --quiet', 'only display container IDs')
    .option('-s, --size', 'display total file sizes')
    .action(async (o: { all?: boolean; filter: string[]; format?: string; last: string; latest?: boolean; trunc: boolean; quiet?: boolean; size?: boolean }) => {
      const { formatList } = await import('../format/index.js'); // lazily: its set-up (string-width's) is ~15 ms
      if (!/^-?\d+$/.test(o.last)) throw new UsageError(`invalid argument "${o.last}" for "-n, --last" flag: strconv.ParseInt: parsing "${o.last}": invalid syntax`);
      let limit = Number(o.last);
      if (o.latest) limit = 1;
      const r = await unary<{ containers: IContainerSummary[] }>((cb) => ctx.api().containers.list({
        all: Boolean(o.all) || limit > 0, limit: Math.max(0, limit), size: Boolean(o.size), filters: parseFilters(o.filter),
      }, cb));
      const now = Date.now();
      const rows = r.containers.map((c) => containerRow(c, o.trunc, now));
      let table = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
      if (o.size) table += '\t{{.Size}}';
      process.stdout.write(formatList(o.format, rows, {
        defaultTable: table,
        quiet: o.quiet,
        headers: { ID: 'CONTAINER ID', RunningFor: 'CREATED', CreatedAt: 'CREATED AT' },
        typeName: '*formatter.ContainerContext',
      }));
    });
}
