// berth.engine.v1.Images over the image store.
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { IImportImageResponse, ImagesServer, ImportImageRequest } from '@berth/api/berth/engine/v1';
import { parseTimeNs } from '../container/record.js';
import { InvalidArgumentError, toServiceError } from '@berth/api/errdefs';
import type { ImageStore } from '../images/store.js';
import { imageJSON } from './inspect.js';
import { unary } from './handler.js';

export interface ImagesBackend {
  images: ImageStore;
  /** Containers using an image (for rmi's conflict check). */
  imageUsers(id: string): string[];
  emit(type: string, action: string, id: string, attributes?: Record<string, string>): void;
  root: string;
}

export function imagesService(b: ImagesBackend): ImagesServer {
  return {
    import: (call, cb) => {
      void importImage(b, call).then((r) => cb(null, r), (e: unknown) => cb(toServiceError(e) as grpc.ServiceError));
    },
    list: unary((r) => {
      const tags = (id: string): string[] => b.images.tagsOf(id);
      let images = b.images.list();
      for (const f of r.filters) {
        const v = f.values ?? [];
        if (!v.length) continue;
        if (f.key === 'reference') images = images.filter((i) => tags(i.Id).some((t) => v.some((x) => t === x || t.split(':')[0] === x || t.startsWith(`${x}:`))));
        else if (f.key === 'dangling') images = images.filter((i) => (tags(i.Id).length === 0) === (v[0] === 'true'));
        else if (f.key === 'label') images = images.filter((i) => v.every((x) => { const [k, val] = x.split('=', 2) as [string, string?]; return k in (i.Config.Labels ?? {}) && (val === undefined || i.Config.Labels?.[k] === val); }));
        else throw new InvalidArgumentError(`invalid filter '${f.key}'`);
      }
      return {
        images: images.sort((a, b2) => (a.Created < b2.Created ? 1 : -1)).map((i) => ({
          id: i.Id, parentId: '', repoTags: tags(i.Id), repoDigests: [], created: Math.floor(Number(parseTimeNs(i.Created.replace(/\.(\d+)Z$/, '.$1Z')) / 1_000_000_000n)),
          size: i.Size, labels: i.Config.Labels ?? {}, containers: b.imageUsers(i.Id).length,
        })),
      };
    }),
    inspect: unary((r) => {
      const i = b.images.resolve(r.name);
      return { inspectJson: Buffer.from(JSON.stringify(imageJSON(i, b.images.tagsOf(i.Id)))), id: i.Id };
    }),
    tag: unary((r) => {
      b.images.tag(r.source, r.target);
      b.emit('image', 'tag', b.images.resolve(r.target).Id, { name: r.target });
      return {};
    }),
    remove: unary(async (r) => {
      const res = await b.images.remove(r.name, r.force, (id) => b.imageUsers(id));
      for (const t of res.untagged) b.emit('image', 'untag', t, { name: t });
      for (const d of res.deleted) b.emit('image', 'delete', d, {});
      return res;
    }),
  };
}

async function importImage(b: ImagesBackend, call: grpc.ServerReadableStream<ImportImageRequest, IImportImageResponse>): Promise<IImportImageResponse> {
  const dir = join(b.root, 'tmp');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `import-${randomBytes(6).toString('hex')}.tar`);
  const out = createWriteStream(file);
  let start: ImportImageRequest['start'];
  try {
    for await (const m of call as AsyncIterable<ImportImageRequest>) {
      if (!start) {
        if (m.request !== 'start' || !m.start) throw new InvalidArgumentError('import: the first message must be start');
        start = m.start;
        continue;
      }
      if (m.request === 'chunk' && m.chunk) {
        if (!out.write(m.chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
    }
    await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
    if (!start) throw new InvalidArgumentError('import: no start message');
    const img = await b.images.import(file, { reference: start.reference ?? '', changes: start.changes ?? [], message: start.message ?? '' });
    b.emit('image', 'import', img.Id, start.reference ? { name: start.reference } : {});
    return { id: img.Id };
  } finally {
    out.destroy();
    rmSync(file, { force: true });
  }
}
