// berth events: what happens to containers and images, recorded ones from --since, then live.
import { Command } from 'commander';
import type { IEventsResponse } from '@berth/api/berth/engine/v1';
import { num } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { UsageError } from '../lib/errors.js';
import { parseTimestampNs } from '../lib/units.js';
import { parseFilters } from './ps.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Go's RFC3339Nano in local time with 9 digits, as docker events prints. */
function eventTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  const frac = String(ns % 1_000_000_000n).padStart(9, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${frac}${zone}`;
}

export function eventsCommand(ctx: Ctx, name = 'events'): Command {
  return new Command(name)
    .description('Get real time events from the server')
    .option('-f, --filter <filter>', 'filter output based on conditions provided', collect, [])
    .option('--format <string>', 'format output using a custom template')
    .option('--since <string>', 'show all events created since timestamp')
    .option('--until <string>', 'stream events until this timestamp')
    .action(async (o: { filter: string[]; format?: string; since?: string; until?: string }) => {
      const { formatList } = await import('../format/index.js'); // lazily: its set-up (string-width's) is ~15 ms
      let sinceNs = 0n;
      let untilNs = 0n;
      try {
        if (o.since) sinceNs = parseTimestampNs(o.since);
        if (o.until) untilNs = parseTimestampNs(o.until);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      await new Promise<void>((resolve, reject) => {
        const s = ctx.api().system.events({ sinceNs: sinceNs.toString(), untilNs: untilNs.toString(), filters: parseFilters(o.filter) } as never);
        s.on('data', (e: IEventsResponse) => {
          const timeNs = BigInt(String(e.timeNs ?? 0));
          const attrs = (e.actor?.attributes ?? {}) as Record<string, string>;
          if (o.format) {
            const doc = {
              status: e.action, id: e.actor?.id, from: attrs.image ?? '', Type: e.type, Action: e.action,
              Actor: { ID: e.actor?.id, Attributes: attrs }, scope: e.scope || 'local', time: Number(timeNs / 1_000_000_000n), timeNano: num(String(timeNs)),
            };
            process.stdout.write(formatList(o.format, [doc], { defaultTable: '{{json .}}' }));
            return;
          }
          const a = Object.keys(attrs).sort().map((k) => `${k}=${attrs[k]}`).join(', ');
          process.stdout.write(`${eventTime(timeNs)} ${e.type} ${e.action} ${e.actor?.id ?? ''}${a ? ` (${a})` : ''}\n`);
        });
        s.on('error', reject);
        s.on('end', () => resolve());
      });
    });
}
