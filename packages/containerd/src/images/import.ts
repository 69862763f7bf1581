/**
 * Importing an OCI image layout (a directory with oci-layout, index.json and blobs/, as umoci,
 * skopeo and `docker buildx --output type=oci` write) into the content store, with an image
 * record per named manifest. Every blob is verified against its digest and size on the way in.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContentStore } from '../content/index.js';
import { parseDigest, writeBlob } from '../content/index.js';
import { InvalidArgumentError } from '@berth/api/errdefs';
import type { ImageStore, Image } from './image-store.js';
import type { Descriptor } from './media-types.js';
import { children } from './resolve.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

export interface ImportOptions {
  /** Name every manifest of the layout gets when it carries none (`<name>` or `<name>:<ref>`). */
  name?: string;
}

export async function importOciLayout(s: { content: ContentStore; images: ImageStore }, ns: string, dir: string, opts: ImportOptions = {}): Promise<Image[]> {
  const layout = JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8').catch(() => '{}')) as { imageLayoutVersion?: string };
  if (!layout.imageLayoutVersion) throw new InvalidArgumentError(`${dir}: not an OCI image layout (no oci-layout file)`);
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  const queue = [...(index.manifests ?? [])];
  const seen = new Set<string>();
  while (queue.length) {
    const d = queue.pop()!;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    const { hex } = parseDigest(d.digest);
    await writeBlob(s.content, `import-${d.digest}`, createReadStream(join(dir, 'blobs', 'sha256', hex), { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, { digest: d.digest, size: d.size });
    queue.push(...(await children(s.content, d)));
  }
  const out: Image[] = [];
  for (const m of index.manifests ?? []) {
    const ref = m.annotations?.[CONTAINERD_NAME] ?? m.annotations?.[REF_NAME];
    let name = ref && /[:/@]/.test(ref) ? ref : opts.name ? (ref ? `${opts.name}:${ref}` : opts.name) : ref;
    if (!name) continue;
    if (!/[:@]/.test(name.slice(name.lastIndexOf('/') + 1))) name += ':latest';
    const target: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
    try {
      out.push(s.images.update(ns, name, { target }));
    } catch {
      out.push(s.images.create(ns, { name, target }));
    }
  }
  return out;
}
