// berth stats: CPU, memory and pids of running containers (--no-stream: one sample).
import type * as grpc from '@grpc/grpc-js';
import { Command } from 'commander';
import type { IStatsResponse, IContainerSummary } from '@berth/api/berth/engine/v1';
import { num, unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';

/** go-units BytesSize: binary units, "%.4g". */
function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

function row(prev: IStatsResponse | undefined, s: IStatsResponse, id: string): Record<string, unknown> {
  let cpu = 0;
  if (prev) {
    const dc = num(s.cpuUsageNs) - num(prev.cpuUsageNs);
    const ds = num(s.systemCpuUsageNs) - num(prev.systemCpuUsageNs);
    if (dc > 0 && ds > 0) cpu = (dc / ds) * num(s.onlineCpus) * 100;
  }
  const mem = num(s.memoryUsage);
  const limit = num(s.memoryLimit);
  return {
    BlockIO: '0B / 0B', CPUPerc: `${cpu.toFixed(2)}%`, Container: id.slice(0, 12), ID: id.slice(0, 12), MemPerc: `${limit ? ((mem / limit) * 100).toFixed(2) : '0.00'}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`, Name: (s.name ?? '').replace(/^\//, ''), NetIO: '0B / 0B', PIDs: String(num(s.pidsCurrent)),
  };
}

/** Two samples a second apart (Docker's CPU % is a delta), then the row. */
function sample(ctx: Ctx, id: string, stream: boolean, onRow: (r: Record<string, unknown>) => void): { done: Promise<void>; cancel: () => void } {
  const call: grpc.ClientReadableStream<IStatsResponse> = ctx.api().containers.stats({ id, stream: true });
  let prev: IStatsResponse | undefined;
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (s: IStatsResponse) => {
      if (prev || !stream) onRow(row(prev, s, id));
      if (prev && !stream) {
        call.cancel();
        resolve();
      }
      prev = s;
    });
    call.on('error', (e: grpc.ServiceError) => (e.code === 1 ? resolve() : reject(e)));
    call.on('end', () => resolve());
  });
  return { done, cancel: () => call.cancel() };
}

export function statsCommand(ctx: Ctx, name = 'stats'): Command {
  return new Command(name)
    .description('Display a live stream of container(s) resource usage statistics')
    .usage('[OPTIONS] [CONTAINER...]')
    .argument('[container...]')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('--format <string>', 'format output using a custom template')
    .option('--no-stream', 'disable streaming stats and only pull the first result')
    .option('--no-trunc', 'do not truncate output')
    .action(async (names: string[], o: { all?: boolean; format?: string; stream: boolean }) => {
      const { formatList } = await import('../format/index.js'); // lazily: its set-up (string-width's) is ~15 ms
      let ids = names;
      if (!ids.length) {
        const r = await unary<{ containers: IContainerSummary[] }>((cb) => ctx.api().containers.list({ all: Boolean(o.all) }, cb));
        ids = r.containers.map((c) => c.id ?? '');
      }
      const rows = new Map<string, Record<string, unknown>>();
      const table = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
      const render = (): string => formatList(o.format, [...rows.values()], { defaultTable: table, headers: { ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' } });
      const samplers = ids.map((id) => sample(ctx, id, o.stream, (r) => {
        rows.set(id, r);
        if (o.stream) process.stdout.write(`\x1b[2J\x1b[H${render()}`);
      }));
      await Promise.all(samplers.map((s) => s.done));
      if (!o.stream) process.stdout.write(render());
    });
}
