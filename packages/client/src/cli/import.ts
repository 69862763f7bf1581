// berth import: a root filesystem tar (a file or -) becomes an image, with Dockerfile -c changes.
import { createReadStream } from 'node:fs';
import { Command } from 'commander';
import type { Ctx } from '../lib/context.js';
import { ExitError } from '../lib/errors.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function importCommand(ctx: Ctx, name = 'import'): Command {
  return new Command(name)
    .description('Import the contents from a tarball to create a filesystem image')
    .usage('[OPTIONS] file|URL|- [REPOSITORY[:TAG]]')
    .argument('<file>')
    .argument('[reference]')
    .option('-c, --change <list>', 'apply Dockerfile instruction to the created image', collect, [])
    .option('-m, --message <string>', 'set commit message for imported image')
    .option('--platform <string>', 'set platform if server is multi-platform capable')
    .action(async (file: string, reference: string | undefined, o: { change: string[]; message?: string; platform?: string }) => {
      if (/^https?:\/\//.test(file)) throw new ExitError(1, `importing from a URL is not supported yet: download ${file} and import the file`);
      const input = file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
      const id = await new Promise<string>((resolve, reject) => {
        const call = ctx.api().images.import((e, r) => (e ? reject(e) : resolve(r!.id)));
        call.write({ start: { reference: reference ?? '', changes: o.change, message: o.message ?? '', platform: o.platform ?? '' } });
        input.on('error', (e: NodeJS.ErrnoException) => {
          call.cancel();
          reject(new ExitError(1, e.code === 'ENOENT' ? `open ${file}: no such file or directory` : e.message));
        });
        input.on('data', (chunk: Buffer | string) => {
          if (!call.write({ chunk: Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk) })) {
            input.pause();
            call.once('drain', () => input.resume());
          }
        });
        input.on('end', () => call.end());
      });
      process.stdout.write(`${id}\n`);
    });
}
