// berth images / berth image ls: one line per repository:tag, as docker images.
import { Command } from 'commander';
import type { IImageSummary } from '@berth/api/berth/engine/v1';
import { num, unary } from '../lib/api.js';
import type { Ctx } from '../lib/context.js';
import { goTimeString, humanDuration, humanSize } from '../lib/units.js';
import { parseFilters } from './ps.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.lastIndexOf(':');
  if (at > ref.lastIndexOf('/')) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
  return { repo: ref, tag: '<none>' };
}

export function imagesCommand(ctx: Ctx, name = 'images', aliases: string[] = []): Command {
  return new Command(name)
    .aliases(aliases)
    .description('List images')
    .usage('[OPTIONS] [REPOSITORY[:TAG]]')
    .argument('[repository]')
    .option('-a, --all', 'show all images (default hides intermediate images)')
    .option('--digests', 'show digests')
    .option('-f, --filter <filter>', 'filter output based on conditions provided', collect, [])
    .option('--format <string>', "format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
    .option('--no-trunc', "don't truncate output")
    .option('-q, --quiet', 'only show image IDs')
    .action(async (repo: string | undefined, o: { all?: boolean; filter: string[]; format?: string; trunc: boolean; quiet?: boolean; digests?: boolean }) => {
      const { formatList } = await import('../format/index.js'); // lazily: its set-up (string-width's) is ~15 ms
      const filters = parseFilters(o.filter);
      if (repo) filters.push({ key: 'reference', values: [repo] });
      const r = await unary<{ images: IImageSummary[] }>((cb) => ctx.api().images.list({ all: Boolean(o.all), filters }, cb));
      const now = Date.now();
      const rows: Record<string, unknown>[] = [];
      for (const img of r.images) {
        const id = img.id ?? '';
        const tags = img.repoTags?.length ? img.repoTags : ['<none>:<none>'];
        for (const t of tags) {
          const { repo: repository, tag } = t === '<none>:<none>' ? { repo: '<none>', tag: '<none>' } : splitRef(t);
          const createdMs = num(img.created) * 1000;
          rows.push({
            Containers: num(img.containers) >= 0 ? String(num(img.containers)) : 'N/A',
            CreatedAt: goTimeString(createdMs),
            CreatedSince: `${humanDuration(now - createdMs)} ago`,
            Digest: '<none>',
            ID: o.trunc ? id.replace(/^sha256:/, '').slice(0, 12) : id,
            Repository: repository,
            SharedSize: 'N/A',
            Size: humanSize(num(img.size), 3),
            Tag: tag,
            UniqueSize: 'N/A',
            VirtualSize: humanSize(num(img.size), 3),
          });
        }
      }
      let out = formatList(o.format, rows, {
        defaultTable: o.digests ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}' : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
        quiet: o.quiet,
        headers: { ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT' },
        typeName: '*formatter.ImageContext',
      });
      // -q lists each image once, as docker images -q.
      if (o.quiet && !o.format) out = [...new Set(out.split('\n').filter(Boolean))].map((l) => `${l}\n`).join('');
      process.stdout.write(out);
    });
}
