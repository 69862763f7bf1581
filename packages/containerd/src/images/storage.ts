/**
 * Image storage under one root, the composition berth-containerd opens once:
 *
 *   <root>/content/               the content store (blobs, ingests)
 *   <root>/snapshots/overlay/     the overlay snapshotter (its own metadata.db)
 *   <root>/storage.db             image records and leases (SQLite)
 *
 * It adds what spans the parts: unpacking an image, a container's rootfs from an image, taking a
 * snapshot's diff into the store, and GC. GC and unpacking take turns (one in-process lock) so a
 * sweep never sees a half-made image.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { LocalContentStore, writeBlob } from '../content/index.js';
import { FailedPreconditionError, NotFoundError } from '@berth/api/errdefs';
import { diffTar } from '../diff/index.js';
import { tap } from '../diff/decompress.js';
import { collect, LeaseStore, type GcResult, type GcRoots } from '../gc/index.js';
import { mountAll, OverlaySnapshotter, type Mount } from '../snapshots/index.js';
import { ImageStore } from './image-store.js';
import { importOciLayout, type ImportOptions } from './import.js';
import { MediaType, type Descriptor, type Platform } from './media-types.js';
import { unpack, type UnpackResult } from './unpack.js';

export const UNCOMPRESSED_LABEL = 'containerd.io/uncompressed';

export class ImageStorage {
  readonly db: Database.Database;
  readonly images: ImageStore;
  readonly leases: LeaseStore;
  private turn: Promise<unknown> = Promise.resolve();
  /** What else GC must keep: set by berth-containerd to its containers' snapshot keys. */
  private inUse: () => GcRoots = () => ({});

  private constructor(readonly root: string, readonly content: LocalContentStore, readonly snapshotter: OverlaySnapshotter) {
    this.db = new Database(join(root, 'storage.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.images = new ImageStore(this.db);
    this.leases = new LeaseStore(this.db);
  }

  static async open(root: string): Promise<ImageStorage> {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const content = await new LocalContentStore(join(root, 'content')).init();
    return new ImageStorage(root, content, new OverlaySnapshotter(join(root, 'snapshots', 'overlay')));
  }

  /** Runs `fn` after everything queued before it (unpack and GC take turns). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.turn.then(fn, fn);
    this.turn = next.catch(() => undefined);
    return next;
  }

  importOciLayout(ns: string, dir: string, opts?: ImportOptions): ReturnType<typeof importOciLayout> {
    return this.exclusive(() => importOciLayout(this, ns, dir, opts));
  }

  /** Unpacks the image's layers for this host (or `platform`) into committed snapshots. */
  unpack(ns: string, name: string, platform?: Platform): Promise<UnpackResult> {
    return this.exclusive(() => unpack(this, this.images.get(ns, name).target, platform));
  }

  /**
   * A container's writable snapshot on top of the image (unpacking it first if needed); mounted
   * onto `rootfs` when given (the bundle's rootfs). Remove it with snapshotter.remove(key).
   */
  async prepareContainer(ns: string, image: string, key: string, rootfs?: string): Promise<Mount[]> {
    const { chainId } = await this.unpack(ns, image);
    const mounts = this.snapshotter.prepare(key, chainId, { 'berth.io/image': image });
    if (rootfs) await mountAll(mounts, rootfs);
    return mounts;
  }

  /**
   * Stores the diff of snapshot `key` against its parent as a layer blob (gzip when asked) and
   * returns its descriptor, with the uncompressed digest (the diff ID) as a label.
   */
  async diff(key: string, opts: { gzip?: boolean; ref?: string } = {}): Promise<{ desc: Descriptor; diffId: string }> {
    const upper = this.snapshotter.upperDir(key);
    const lowers = this.snapshotter.parentDirs(key);
    const h = createHash('sha256');
    const tar = tap(diffTar(upper, lowers), (c) => h.update(c));
    const body = opts.gzip ? Readable.from(tar).pipe(createGzip({ level: 1 })) : tar;
    const info = await writeBlob(this.content, opts.ref ?? `diff-${key}-${randomBytes(4).toString('hex')}`, body as AsyncIterable<Buffer>);
    const diffId = `sha256:${h.digest('hex')}`;
    return { desc: { mediaType: opts.gzip ? MediaType.OciLayerGzip : MediaType.OciLayer, digest: info.digest, size: info.size, annotations: { [UNCOMPRESSED_LABEL]: diffId } }, diffId };
  }

  /**
   * Sets what is in use beyond images and leases (berth-containerd: every container's snapshot
   * key); every GC, whoever triggers it, keeps it.
   */
  setInUse(fn: () => GcRoots): void {
    this.inUse = fn;
  }

  /**
   * A container's snapshot mounted onto `target`: the snapshot `key` as it is when it exists (a
   * task made again for the same container), else prepared on `image`'s layers (unpacked first
   * when needed). Unlike prepareContainer, an existing key is reused, not an error.
   */
  async mountContainer(ns: string, image: string, key: string, target: string): Promise<Mount[]> {
    let mounts: Mount[];
    try {
      mounts = this.snapshotter.mounts(key);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      if (!image) throw new FailedPreconditionError(`snapshot ${key}: not found, and the container names no image to prepare it from`);
      // Unpack and prepare in one turn, so no GC runs between them.
      mounts = await this.exclusive(async () => {
        const { chainId } = await unpack(this, this.images.get(ns, image).target);
        return this.snapshotter.prepare(key, chainId, { 'berth.io/image': image });
      });
    }
    await mountAll(mounts, target);
    return mounts;
  }

  /** Removes content and snapshots nothing references (images, leases, what is in use, `roots`). */
  gc(roots: GcRoots = {}): Promise<GcResult> {
    return this.exclusive(() => {
      const used = this.inUse();
      return collect(this, {
        snapshots: [...(used.snapshots ?? []), ...(roots.snapshots ?? [])],
        content: [...(used.content ?? []), ...(roots.content ?? [])],
      });
    });
  }

  /** Resolves when the unpacks and GCs queued so far are done (before close). */
  async idle(): Promise<void> {
    await this.turn;
  }

  close(): void {
    this.snapshotter.close();
    this.db.close();
  }
}
