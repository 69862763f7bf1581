// berth inspect (containers, then images), berth container inspect, berth image inspect:
// Docker's JSON documents, or -f with a Go template over each.
import { Command } from 'commander';
import { unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { ExitError, describe, isNotFound } from '../lib/errors.js';

type Kind = 'container' | 'image' | undefined;

async function fetch(ctx: Ctx, ref: string, kind: Kind): Promise<unknown> {
  if (kind !== 'image') {
    try {
      const r = await unary<{ inspectJson: Uint8Array }>((cb) => ctx.api().containers.inspect({ id: ref }, cb));
      return JSON.parse(Buffer.from(r.inspectJson).toString('utf8'));
    } catch (e) {
      if (!isNotFound(e) || kind === 'container') throw e;
    }
  }
  const r = await unary<{ inspectJson: Uint8Array }>((cb) => ctx.api().images.inspect({ name: ref }, cb));
  return JSON.parse(Buffer.from(r.inspectJson).toString('utf8'));
}

export function inspectCommand(ctx: Ctx, name = 'inspect', fixed?: Kind): Command {
  const cmd = new Command(name)
    .description(fixed === 'image' ? 'Display detailed information on one or more images' : fixed === 'container' ? 'Display detailed information on one or more containers' : 'Return low-level information on Berth objects')
    .usage(`[OPTIONS] ${fixed === 'image' ? 'IMAGE' : fixed === 'container' ? 'CONTAINER' : 'NAME|ID'} [...]`)
    .argument('<name...>')
    .option('-f, --format <string>', 'format output using a custom template')
    .option('-s, --size', 'display total file sizes if the type is container');
  if (!fixed) cmd.option('--type <string>', 'only inspect objects of the given type (container, image)');
  return cmd.action(async (names: string[], o: { format?: string; type?: string }) => {
    const { renderTemplate } = await import('../format/index.js'); // lazily: its set-up (string-width's) is ~15 ms
    const kind = fixed ?? (o.type as Kind);
    if (kind !== undefined && kind !== 'container' && kind !== 'image') throw new ExitError(1, `"${kind}" is not a valid value for --type`);
    const docs: unknown[] = [];
    const errors: string[] = [];
    for (const n of names) {
      try {
        docs.push(await fetch(ctx, n, kind));
      } catch (e) {
        errors.push(isNotFound(e) ? `Error: No such ${kind ?? 'object'}: ${n}` : describe(e, ctx.host()));
      }
    }
    if (o.format !== undefined) {
      let out = '';
      for (const d of docs) {
        try {
          out += renderTemplate(o.format, d) + '\n';
        } catch (e) {
          throw new ExitError(1, `template parsing error: ${(e as Error).message.replace(/^template parsing error: /, '')}`);
        }
      }
      process.stdout.write(out);
    } else {
      process.stdout.write(`${JSON.stringify(docs, null, 4)}\n`);
    }
    if (errors.length) throw new ExitError(1, errors.join('\n'));
  });
}
