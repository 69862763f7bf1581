import { Command } from 'commander';
import type { CreateOptions } from '../container/create.js';
import { create } from '../container/create.js';
import { contextOf, count } from './context.js';

/** The options `create` and `run` share, as runc spells them. */
export function withCreateOptions(cmd: Command): Command {
  return cmd
    .argument('<container-id>')
    .option('-b, --bundle <dir>', 'the bundle directory (holds config.json)', '.')
    .option('--pid-file <file>', 'write the init pid to this file')
    .option('--console-socket <path>', 'unix socket that receives the pty master when process.terminal is true')
    .option('--no-pivot', 'use MS_MOVE and chroot instead of pivot_root (for a ramdisk root)')
    .option('--no-new-keyring', 'accepted for runc compatibility (berth-runc does not create session keyrings)')
    .option('--preserve-fds <n>', 'pass this many fds after stdio (3, 4, ...) to the container', count, 0);
}

/** The library's create options from those flags. */
export function createOptionsOf(o: { bundle: string; pidFile?: string; consoleSocket?: string; pivot?: boolean; preserveFds: number }): CreateOptions {
  return { bundle: o.bundle, pidFile: o.pidFile, consoleSocket: o.consoleSocket, noPivot: o.pivot === false, preserveFds: o.preserveFds };
}

export function createCommand(): Command {
  return withCreateOptions(new Command('create').description('create a container from a bundle; its process waits until `start`'))
    .action(async (id: string, o, cmd: Command) => {
      await create(contextOf(cmd), id, createOptionsOf(o));
    });
}
