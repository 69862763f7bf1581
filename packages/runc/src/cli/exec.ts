import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { loadContainer } from '../container/context.js';
import { exec, processFromFlags } from '../container/exec.js';
import { InvalidArgumentError, errorMessage } from '../errors.js';
import type { Process } from '../spec/types.js';
import { contextOf, count } from './context.js';

const collect = (v: string, acc: string[]) => [...acc, v];

export function execCommand(): Command {
  return new Command('exec')
    .description('run another process in a running container')
    .argument('<container-id>')
    .argument('[command...]', 'the command and its arguments (unless --process)')
    .option('-p, --process <file>', 'the process as OCI process JSON')
    .option('-t, --tty', 'allocate a pty (needs --console-socket)')
    .option('--console-socket <path>', 'unix socket that receives the pty master')
    .option('--cwd <dir>', 'working directory in the container')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect, [])
    .option('-u, --user <uid[:gid]>', 'user to run as')
    .option('-g, --additional-gids <gid>', 'an additional group (repeatable)', collect, [])
    .option('-c, --cap <cap>', 'add a capability (repeatable)', collect, [])
    .option('--no-new-privs', 'set no_new_privs for the process')
    .option('-d, --detach', 'return once the process runs')
    .option('--pid-file <file>', 'write the process pid to this file')
    .option('--preserve-fds <n>', 'pass this many fds after stdio to the process', count, 0)
    .passThroughOptions()
    .action(async (id: string, command: string[], o, cmd: Command) => {
      const ctx = contextOf(cmd);
      let proc: Process;
      if (o.process) {
        try {
          proc = JSON.parse(readFileSync(o.process, 'utf8')) as Process;
        } catch (err) {
          throw new InvalidArgumentError(`cannot read process JSON ${o.process}: ${errorMessage(err)}`);
        }
      } else {
        if (!command.length) throw new InvalidArgumentError('exec needs a command, or --process FILE');
        proc = processFromFlags(loadContainer(ctx, id).record.process, {
          args: command,
          tty: o.tty,
          cwd: o.cwd,
          env: o.env,
          user: o.user,
          caps: o.cap,
          noNewPrivs: o.newPrivs === false,
          ...(o.additionalGids.length ? { additionalGids: o.additionalGids.map(Number) } : {}),
        });
      }
      const launched = await exec(ctx, id, { process: proc, detach: o.detach, pidFile: o.pidFile, consoleSocket: o.consoleSocket, preserveFds: o.preserveFds });
      if (!o.detach) process.exitCode = await launched.exited;
    });
}
