// berth start: start stopped containers; with -a, stay with one (its code), with -i, feed its stdin.
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import { inspectContainer, type Ctx } from '../lib/context.js';
import { ExitError, describe } from '../lib/errors.js';
import { foreground } from '../lib/foreground.js';
import { forEach } from '../lib/each.js';

export function startCommand(ctx: Ctx, name = 'start'): Command {
  return new Command(name)
    .description('Start one or more stopped containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .option('-a, --attach', "attach STDOUT/STDERR and forward signals")
    .option('-i, --interactive', "attach container's STDIN")
    .option('--detach-keys <string>', 'override the key sequence for detaching a container')
    .action(async (names: string[], o: { attach?: boolean; interactive?: boolean; detachKeys?: string }) => {
      if (o.attach || o.interactive) {
        if (names.length > 1) throw new ExitError(1, 'you cannot start and attach multiple containers at once');
        const c = await inspectContainer(ctx, names[0]!).catch((e: unknown) => {
          throw new ExitError(1, describe(e, ctx.host()));
        });
        const code = await foreground(ctx, c.Id, {
          tty: c.Config.Tty, stdin: Boolean(o.interactive) && c.Config.OpenStdin, stdout: true, stderr: true, detachKeys: o.detachKeys ?? '',
          sigProxy: true, start: true,
        }).catch((e: unknown) => {
          throw new ExitError(1, `${describe(e, ctx.host())}\nError: failed to start containers: ${names[0]}`);
        });
        if (code !== 0) throw new ExitError(code);
        return;
      }
      await forEach(ctx, names, async (n) => {
        await unary((cb) => ctx.api().containers.start({ id: n }, cb));
        process.stdout.write(`${n}\n`);
      }, (failed) => `Error: failed to start containers: ${failed.join(', ')}`);
    });
}
