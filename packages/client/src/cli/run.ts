// berth run: create, start and (unless -d) stay with the container until it ends, with its code.
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import { addContainerOptions, toCreateRequest, type ContainerFlags } from '../lib/container-options.js';
import type { Ctx } from '../lib/context.js';
import { ExitError, UsageError, daemonExitCode, describe } from '../lib/errors.js';
import { foreground } from '../lib/foreground.js';
import { terminalSize } from '../lib/stdio.js';

/** Errors of run/create end with Docker's 125 (or 126/127 from berthd) and its hint. */
export async function asRunError<T>(ctx: Ctx, verb: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ExitError) throw e;
    if (e instanceof UsageError) throw e;
    throw new ExitError(daemonExitCode(e) ?? 125, `berth: ${describe(e, ctx.host())}\n\nRun 'berth ${verb} --help' for more information`);
  }
}

/** Creates the container and prints berthd's warnings, as docker does. */
export async function createContainer(ctx: Ctx, req: ReturnType<typeof toCreateRequest>): Promise<string> {
  const r = await unary<{ id: string; warnings: string[] }>((cb) => ctx.api().containers.create(req, cb));
  for (const w of r.warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
  return r.id;
}

export function runCommand(ctx: Ctx, name = 'run'): Command {
  const cmd = new Command(name)
    .description('Create and run a new container from an image')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions();
  addContainerOptions(cmd, true);
  cmd.action(async (image: string, args: string[], o: ContainerFlags) => {
    const detach = Boolean(o.detach);
    if (!detach && o.tty && o.interactive && !process.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
    if (detach && (o.attach?.length ?? 0) > 0) throw new UsageError('conflicting options: cannot specify both --attach and --detach');
    const req = toCreateRequest(o, image, args, { foreground: !detach, size: terminalSize() });
    const code = await asRunError(ctx, 'run', async () => {
      const id = await createContainer(ctx, req);
      if (detach) {
        await unary((cb) => ctx.api().containers.start({ id }, cb));
        process.stdout.write(`${id}\n`);
        return 0;
      }
      return foreground(ctx, id, {
        tty: Boolean(o.tty), stdin: Boolean(req.config.attachStdin), stdout: Boolean(req.config.attachStdout), stderr: Boolean(req.config.attachStderr),
        detachKeys: o.detachKeys ?? '', sigProxy: String(o.sigProxy ?? 'true') !== 'false', start: true,
      });
    });
    if (code !== 0) throw new ExitError(code);
  });
  return cmd;
}
