// berth exec: run a command in a running container; with -it a terminal of the client's size.
import type * as grpc from '@grpc/grpc-js';
import { Command } from 'commander';
import { num, unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { parseEnv } from '../lib/container-options.js';
import { ExitError, describe } from '../lib/errors.js';
import { interact, terminalSize } from '../lib/stdio.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

interface ExecFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  privileged?: boolean;
  detachKeys?: string;
}

/** Docker's codes for an exec that could not run: 127 not found, 126 cannot be run. */
function execFailureCode(msg: string): number {
  if (/not found|no such file or directory|ENOENT/i.test(msg)) return 127;
  if (/permission denied|EACCES|exec format error|is a directory/i.test(msg)) return 126;
  return 1;
}

export function execCommand(ctx: Ctx, name = 'exec'): Command {
  return new Command(name)
    .description('Execute a command in a running container')
    .usage('[OPTIONS] CONTAINER COMMAND [ARG...]')
    .argument('<container>')
    .argument('<command...>')
    .passThroughOptions()
    .option('-d, --detach', 'detached mode: run command in the background')
    .option('-i, --interactive', 'keep STDIN open even if not attached')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-e, --env <list>', 'set environment variables', collect, [])
    .option('--env-file <list>', 'read in a file of environment variables', collect, [])
    .option('-u, --user <string>', 'username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('-w, --workdir <string>', 'working directory inside the container')
    .option('--privileged', 'give extended privileges to the command')
    .option('--detach-keys <string>', 'override the key sequence for detaching a container')
    .action(async (ref: string, cmd: string[], o: ExecFlags) => {
      const api = ctx.api();
      if (!o.detach && o.tty && o.interactive && !process.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
      const size = o.tty ? terminalSize() : undefined;
      const { execId } = await unary<{ execId: string }>((cb) => api.containers.execCreate({
        id: ref,
        config: {
          cmd, env: parseEnv(o.env, o.envFile), user: o.user ?? '', workingDir: o.workdir ?? '', tty: Boolean(o.tty),
          attachStdin: Boolean(o.interactive) && !o.detach, attachStdout: !o.detach, attachStderr: !o.detach, privileged: Boolean(o.privileged),
          detachKeys: o.detachKeys ?? '', consoleRows: size?.rows ?? 0, consoleCols: size?.cols ?? 0,
        },
      }, cb));
      const call = api.containers.execStart() as unknown as grpc.ClientDuplexStream<object, object>;
      call.write({ start: { execId, detach: Boolean(o.detach) } });
      let r;
      try {
        const stdin = Boolean(o.interactive) && !o.detach;
        r = await interact(call, { tty: Boolean(o.tty), stdin });
      } catch (e) {
        const msg = describe(e, ctx.host());
        throw new ExitError(execFailureCode(msg), msg);
      }
      if (o.detach) return;
      let code = r.exit?.code;
      if (code === undefined) {
        const i = await unary<{ exitCode: unknown }>((cb) => api.containers.execInspect({ execId }, cb));
        code = num(i.exitCode);
      }
      if (code !== 0) throw new ExitError(code);
    });
}
