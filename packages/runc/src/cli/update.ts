import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { update } from '../container/update.js';
import { InvalidArgumentError, errorMessage } from '../errors.js';
import type { Resources } from '../spec/types.js';
import { contextOf } from './context.js';

const bytes = (v: string): number => {
  const m = /^(\d+)([kmg]?)b?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`invalid size ${JSON.stringify(v)}`);
  return Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
};

export function updateCommand(): Command {
  return new Command('update')
    .description("change a container's resource limits")
    .argument('<container-id>')
    .option('-r, --resources <file>', 'OCI linux.resources JSON, - for stdin')
    .option('--memory <bytes>', 'memory limit')
    .option('--memory-swap <bytes>', 'memory plus swap limit')
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--cpu-shares <n>', 'relative cpu weight')
    .option('--cpu-quota <us>', 'cpu time per period')
    .option('--cpu-period <us>', 'cpu period')
    .option('--cpuset-cpus <list>', 'cpus allowed')
    .option('--cpuset-mems <list>', 'memory nodes allowed')
    .option('--pids-limit <n>', 'maximum number of processes')
    .action((id: string, o, cmd: Command) => {
      let resources: Resources = {};
      if (o.resources) {
        try {
          resources = JSON.parse(readFileSync(o.resources === '-' ? 0 : o.resources, 'utf8')) as Resources;
        } catch (err) {
          throw new InvalidArgumentError(`cannot read resources JSON: ${errorMessage(err)}`);
        }
      }
      const memory = { ...resources.memory };
      if (o.memory) memory.limit = bytes(o.memory);
      if (o.memorySwap) memory.swap = o.memorySwap === '-1' ? -1 : bytes(o.memorySwap);
      if (o.memoryReservation) memory.reservation = bytes(o.memoryReservation);
      if (Object.keys(memory).length) resources.memory = memory;
      const cpu = { ...resources.cpu };
      if (o.cpuShares) cpu.shares = Number(o.cpuShares);
      if (o.cpuQuota) cpu.quota = Number(o.cpuQuota);
      if (o.cpuPeriod) cpu.period = Number(o.cpuPeriod);
      if (o.cpusetCpus) cpu.cpus = o.cpusetCpus;
      if (o.cpusetMems) cpu.mems = o.cpusetMems;
      if (Object.keys(cpu).length) resources.cpu = cpu;
      if (o.pidsLimit) resources.pids = { limit: Number(o.pidsLimit) };
      update(contextOf(cmd), id, resources);
    });
}
