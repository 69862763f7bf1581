// berth.images.v1.Images over the image storage; register with
// `server.addService(ImagesService, new ImagesGrpc(storage).handlers)`.
import type { IImage, ImagesServer } from '@berth/api/berth/images/v1';
import { InvalidArgumentError } from '@berth/api/errdefs';
import { toLong, toNum } from '../long.js';
import { namespaceOf, unary } from '../services/handler.js';
import type { Image } from './image-store.js';
import type { Descriptor } from './media-types.js';
import type { ImageStorage } from './storage.js';

const ns = (d: Date): ReturnType<typeof toLong> => toLong(BigInt(d.getTime()) * 1_000_000n);
const imagePb = (i: Image): IImage => ({
  name: i.name, labels: i.labels, createdAtNs: ns(i.createdAt), updatedAtNs: ns(i.updatedAt),
  target: { mediaType: i.target.mediaType, digest: i.target.digest, size: toLong(i.target.size), annotations: i.target.annotations ?? {} },
});
function target(img: IImage | null | undefined): Descriptor {
  const t = img?.target;
  if (!t?.digest || !t.mediaType) throw new InvalidArgumentError(`image ${img?.name ?? ''}: target media type and digest are required`);
  return { mediaType: t.mediaType, digest: t.digest, size: toNum(t.size), ...(t.annotations && Object.keys(t.annotations).length ? { annotations: { ...t.annotations } } : {}) };
}

export class ImagesGrpc {
  readonly handlers: ImagesServer;

  /** `gcInBackground` runs GC after a delete without sync (the caller does not wait for it). */
  constructor(storage: ImageStorage, gcInBackground?: (why: string) => void) {
    const images = storage.images;
    this.handlers = {
      get: unary((r) => ({ image: imagePb(images.get(namespaceOf(r.namespace), r.name)) })),
      list: unary((r) => ({ images: images.list(namespaceOf(r.namespace)).map(imagePb) })),
      create: unary((r) => ({ image: imagePb(images.create(namespaceOf(r.namespace), { name: r.image?.name ?? '', target: target(r.image), labels: { ...(r.image?.labels ?? {}) } })) })),
      update: unary((r) => {
        const mask = r.updateMask?.length ? r.updateMask : ['target', 'labels'];
        return { image: imagePb(images.update(namespaceOf(r.namespace), r.image?.name ?? '', {
          target: mask.includes('target') ? target(r.image) : undefined,
          labels: mask.includes('labels') ? { ...(r.image?.labels ?? {}) } : undefined,
        })) };
      }),
      delete: unary(async (r) => {
        images.delete(namespaceOf(r.namespace), r.name);
        if (r.sync) await storage.gc();
        else gcInBackground?.(`image ${r.name} deleted`);
        return {};
      }),
    };
  }
}
