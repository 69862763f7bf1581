import { Command } from 'commander';
import { run } from '../container/run.js';
import { contextOf, count } from './context.js';

export function runCommand(): Command {
  return new Command('run')
    .description('create and start a container; in the foreground, exit with its status and delete it')
    .argument('<container-id>')
    .option('-b, --bundle <dir>', 'the bundle directory (holds config.json)', '.')
    .option('-d, --detach', 'return once the container runs')
    .option('--keep', 'do not delete the container after it exits')
    .option('--pid-file <file>', 'write the init pid to this file')
    .option('--console-socket <path>', 'unix socket that receives the pty master when process.terminal is true')
    .option('--no-pivot', 'use MS_MOVE and chroot instead of pivot_root')
    .option('--no-new-keyring', 'accepted for runc compatibility')
    .option('--preserve-fds <n>', 'pass this many fds after stdio to the container', count, 0)
    .action(async (id: string, o, cmd: Command) => {
      process.exitCode = await run(contextOf(cmd), id, {
        bundle: o.bundle,
        detach: o.detach,
        keep: o.keep,
        pidFile: o.pidFile,
        consoleSocket: o.consoleSocket,
        noPivot: o.pivot === false,
        preserveFds: o.preserveFds,
      });
    });
}
