// berth create: record a container from an image and print its id.
import { Command } from 'commander';
import { addContainerOptions, toCreateRequest, type ContainerFlags } from '../lib/container-options.js';
import type { Ctx } from '../lib/context.js';
import { terminalSize } from '../lib/stdio.js';
import { asRunError, createContainer } from './run.js';

export function createCommand(ctx: Ctx, name = 'create'): Command {
  const cmd = new Command(name)
    .description('Create a new container')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions();
  addContainerOptions(cmd, false);
  cmd.action(async (image: string, args: string[], o: ContainerFlags) => {
    const req = toCreateRequest(o, image, args, { foreground: false, size: terminalSize() });
    const id = await asRunError(ctx, 'create', () => createContainer(ctx, req));
    process.stdout.write(`${id}\n`);
  });
  return cmd;
}
