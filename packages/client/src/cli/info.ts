// berth info: what berthd is and holds, as docker info.
import { Command } from 'commander';
import type { IInfoResponse } from '@berth/api/berth/engine/v1';
import { num, unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { humanSize } from '../lib/units.js';

export function infoCommand(ctx: Ctx, name = 'info'): Command {
  return new Command(name)
    .description('Display system-wide information')
    .option('-f, --format <string>', 'format output using a custom template')
    .action(async (o: { format?: string }) => {
      const { renderTemplate } = await import('../format/index.js'); // lazily: its set-up (string-width's) is ~15 ms
      const i = await unary<IInfoResponse>((cb) => ctx.api().system.info({}, cb));
      const doc = {
        ID: i.id, Name: i.name, Containers: num(i.containers), ContainersRunning: num(i.containersRunning), ContainersPaused: num(i.containersPaused),
        ContainersStopped: num(i.containersStopped), Images: num(i.images), Driver: i.driver, ServerVersion: i.serverVersion, KernelVersion: i.kernelVersion,
        OperatingSystem: i.operatingSystem, OSType: i.osType, Architecture: i.architecture, NCPU: num(i.ncpu), MemTotal: num(i.memTotal),
        DockerRootDir: i.rootDir, StateDir: i.stateDir, CgroupDriver: i.cgroupDriver, CgroupVersion: i.cgroupVersion, DefaultRuntime: i.defaultRuntime,
        Runtimes: i.runtimes ?? [], SecurityOptions: i.securityOptions ?? [], LoggingDriver: i.loggingDriver, ContainerdAddress: i.containerdAddress, InitBinary: i.initBinary,
        Warnings: i.warnings ?? [],
      };
      if (o.format) {
        process.stdout.write(`${renderTemplate(o.format, doc)}\n`);
        return;
      }
      process.stdout.write([
        'Server:',
        ` Containers: ${doc.Containers}`,
        `  Running: ${doc.ContainersRunning}`,
        `  Paused: ${doc.ContainersPaused}`,
        `  Stopped: ${doc.ContainersStopped}`,
        ` Images: ${doc.Images}`,
        ` Server Version: ${doc.ServerVersion}`,
        ` Storage Driver: ${doc.Driver}`,
        ` Logging Driver: ${doc.LoggingDriver}`,
        ` Cgroup Driver: ${doc.CgroupDriver}`,
        ` Cgroup Version: ${doc.CgroupVersion}`,
        ` Runtimes: ${doc.Runtimes.join(' ')}`,
        ` Default Runtime: ${doc.DefaultRuntime}`,
        ` Init Binary: ${doc.InitBinary}`,
        ` Security Options:${doc.SecurityOptions.map((s) => `\n  ${s}`).join('')}`,
        ` Kernel Version: ${doc.KernelVersion}`,
        ` Operating System: ${doc.OperatingSystem}`,
        ` OSType: ${doc.OSType}`,
        ` Architecture: ${doc.Architecture}`,
        ` CPUs: ${doc.NCPU}`,
        ` Total Memory: ${humanSize(doc.MemTotal)}`,
        ` Name: ${doc.Name}`,
        ` ID: ${doc.ID}`,
        ` Berth Root Dir: ${doc.DockerRootDir}`,
        ` Berth State Dir: ${doc.StateDir}`,
        ` Containerd Address: ${doc.ContainerdAddress}`,
        '',
      ].join('\n'));
      // As docker info: the daemon's warnings after the rest, on stderr.
      for (const w of doc.Warnings) process.stderr.write(`WARNING: ${w}\n`);
    });
}
