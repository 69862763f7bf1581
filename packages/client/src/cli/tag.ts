// berth tag: another reference for an image.
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';

export function tagCommand(ctx: Ctx, name = 'tag'): Command {
  return new Command(name)
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .usage('SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]')
    .argument('<source>')
    .argument('<target>')
    .action(async (source: string, target: string) => {
      await unary((cb) => ctx.api().images.tag({ source, target }, cb));
    });
}
