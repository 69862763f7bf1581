// berth attach: join a running container's stdio (its terminal when it has one); the detach keys
// (ctrl-p ctrl-q) leave it running; its exit ends the command with its code.
import { Command } from 'commander';
import { inspectContainer, type Ctx } from '../lib/context.js';
import { ExitError } from '../lib/errors.js';
import { attachTo } from '../lib/foreground.js';

export function attachCommand(ctx: Ctx, name = 'attach'): Command {
  return new Command(name)
    .description("Attach local standard input, output, and error streams to a running container")
    .usage('[OPTIONS] CONTAINER')
    .argument('<container>')
    .option('--detach-keys <string>', 'override the key sequence for detaching a container')
    .option('--no-stdin', 'do not attach STDIN')
    .option('--sig-proxy [bool]', 'proxy all received signals to the process', 'true')
    .action(async (ref: string, o: { detachKeys?: string; stdin: boolean; sigProxy: string | boolean }) => {
      const c = await inspectContainer(ctx, ref);
      if (!c.State.Running) throw new ExitError(1, 'You cannot attach to a stopped container, start it first');
      if (c.State.Paused) throw new ExitError(1, 'You cannot attach to a paused container, unpause it first');
      const stdin = o.stdin && c.Config.OpenStdin;
      if (stdin && c.Config.Tty && !process.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
      const code = await attachTo(ctx, c.Id, { tty: c.Config.Tty, stdin, detachKeys: o.detachKeys ?? '', sigProxy: String(o.sigProxy) !== 'false' });
      if (code !== 0) throw new ExitError(code);
    });
}
