import { Command } from 'commander';
import { create } from '../container/create.js';
import { contextOf, count } from './context.js';

export function createCommand(): Command {
  return new Command('create')
    .description('create a container from a bundle; its process waits until `start`')
    .argument('<container-id>')
    .option('-b, --bundle <dir>', 'the bundle directory (holds config.json)', '.')
    .option('--pid-file <file>', 'write the init pid to this file')
    .option('--console-socket <path>', 'unix socket that receives the pty master when process.terminal is true')
    .option('--no-pivot', 'use MS_MOVE and chroot instead of pivot_root (for a ramdisk root)')
    .option('--no-new-keyring', 'accepted for runc compatibility (berth-runc does not create session keyrings)')
    .option('--preserve-fds <n>', 'pass this many fds after stdio (3, 4, ...) to the container', count, 0)
    .action(async (id: string, o, cmd: Command) => {
      await create(contextOf(cmd), id, {
        bundle: o.bundle,
        pidFile: o.pidFile,
        consoleSocket: o.consoleSocket,
        noPivot: o.pivot === false,
        preserveFds: o.preserveFds,
      });
    });
}
