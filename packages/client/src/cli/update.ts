// berth update: change resources and the restart policy of containers.
import { Command } from 'commander';
import type { IResources } from '@berth/api/berth/engine/v1';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { forEach } from '../lib/each.js';
import { UsageError } from '../lib/errors.js';
import { ramInBytes } from '../lib/units.js';

export function updateCommand(ctx: Ctx, name = 'update'): Command {
  return new Command(name)
    .description('Update configuration of one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .option('-m, --memory <bytes>', 'memory limit')
    .option('--memory-swap <bytes>', "swap limit equal to memory plus swap: -1 to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--cpus <decimal>', 'number of CPUs')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpu-period <int>', 'limit CPU CFS period')
    .option('--cpu-quota <int>', 'limit CPU CFS quota')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <int>', 'tune container pids limit (set -1 for unlimited)')
    .option('--restart <string>', 'restart policy to apply when a container exits')
    .action(async (names: string[], o: Record<string, string | undefined>) => {
      const size = (flag: string, v: string | undefined): number => {
        if (v === undefined) return 0;
        if (v === '-1') return -1;
        try {
          return ramInBytes(v);
        } catch (e) {
          throw new UsageError(`invalid argument "${v}" for "${flag}" flag: ${(e as Error).message}`);
        }
      };
      const int = (flag: string, v: string | undefined): number => {
        if (v === undefined) return 0;
        if (!/^-?\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
        return Number(v);
      };
      const resources: IResources = {
        memory: size('-m, --memory', o.memory), memorySwap: size('--memory-swap', o.memorySwap), memoryReservation: size('--memory-reservation', o.memoryReservation),
        cpuShares: int('-c, --cpu-shares', o.cpuShares), cpuPeriod: int('--cpu-period', o.cpuPeriod), cpuQuota: int('--cpu-quota', o.cpuQuota), cpusetCpus: o.cpusetCpus ?? '',
      };
      if (o.cpus !== undefined) {
        if (!/^\d*\.?\d+$/.test(o.cpus)) throw new UsageError(`invalid argument "${o.cpus}" for "--cpus" flag: failed to parse ${o.cpus} as a rational number`);
        resources.nanoCpus = Math.round(Number(o.cpus) * 1e9);
      }
      if (o.pidsLimit !== undefined) resources.pidsLimit = int('--pids-limit', o.pidsLimit);
      const anyResource = ['memory', 'memorySwap', 'memoryReservation', 'cpus', 'cpuShares', 'cpuPeriod', 'cpuQuota', 'cpusetCpus', 'pidsLimit'].some((k) => o[k] !== undefined);
      let restartPolicy: { name: string; maximumRetryCount: number } | undefined;
      if (o.restart !== undefined) {
        const [n = '', count] = o.restart.split(':');
        if (count !== undefined && !/^\d+$/.test(count)) throw new UsageError('invalid restart policy format: maximum retry count must be an integer');
        restartPolicy = { name: n, maximumRetryCount: count ? Number(count) : 0 };
      }
      if (!anyResource && !restartPolicy) throw new UsageError('you must provide one or more flags when using this command');
      await forEach(ctx, names, async (n) => {
        const r = await unary<{ warnings: string[] }>((cb) => ctx.api().containers.update({ id: n, resources: anyResource ? resources : undefined, restartPolicy }, cb));
        for (const w of r.warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
        process.stdout.write(`${n}\n`);
      });
    });
}
