/**
 * Images, minimal until berth-containerd's image storage is wired in (see README): an imported
 * rootfs tar is unpacked once into `<root>/images/<hex>/rootfs`, which containers use as their
 * overlay's lower directory. The unpacking is berth-containerd's layer applier (tar codec and
 * native extraction resolving every path with openat2(RESOLVE_IN_ROOT)). TODO: replace this
 * deep import with berth-containerd's Images/Content/Diff services once they are served.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { applyLayer } from '@berth/containerd/src/diff/index.js';
import type { ImageConfig } from '../config/docker-types.js';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@berth/api/errdefs';
import type { Store } from '../store/db.js';
import { applyChanges } from './changes.js';
import type { ImageRecord } from './record.js';

/** "busybox" → "busybox:latest"; "reg:5000/a/b" → "reg:5000/a/b:latest"; a digest stays. */
export function normalizeRef(ref: string): string {
  const r = ref.trim();
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/.test(r)) {
    throw new InvalidArgumentError(`invalid reference format: ${JSON.stringify(ref)} (repository names must be lowercase)`);
  }
  if (r.includes('@')) return r;
  const last = r.slice(r.lastIndexOf('/') + 1);
  return last.includes(':') ? r : `${r}:latest`;
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm' };

export class ImageStore {
  constructor(private readonly store: Store, private readonly root: string) {
    mkdirSync(join(root, 'images'), { recursive: true, mode: 0o700 });
  }

  list(): ImageRecord[] {
    return this.store.images();
  }

  tagsOf(id: string): string[] {
    return this.store.tags().filter((t) => t.imageId === id).map((t) => t.ref);
  }

  /** By reference, full id, or a unique id prefix (with or without "sha256:"). */
  resolve(name: string): ImageRecord {
    const images = this.store.images();
    if (/^(sha256:)?[0-9a-f]{4,64}$/.test(name)) {
      const hex = name.replace(/^sha256:/, '');
      const hits = images.filter((i) => i.Id.slice(7).startsWith(hex));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) throw new InvalidArgumentError(`image id prefix ${name} is ambiguous`);
    }
    let ref: string;
    try {
      ref = normalizeRef(name);
    } catch {
      throw new NotFoundError(`no such image: ${name}`);
    }
    const tag = this.store.tags().find((t) => t.ref === ref);
    const img = tag && images.find((i) => i.Id === tag.imageId);
    if (!img) throw new NotFoundError(`no such image: ${name} (try: berth import FILE ${name})`);
    return img;
  }

  async import(tarPath: string, o: { reference: string; changes: string[]; message: string }): Promise<ImageRecord> {
    const ref = o.reference ? normalizeRef(o.reference) : '';
    const tmp = join(this.root, 'images', `.import-${randomBytes(6).toString('hex')}`);
    mkdirSync(join(tmp, 'rootfs'), { recursive: true, mode: 0o755 });
    try {
      const { diffId, size } = await applyLayer(join(tmp, 'rootfs'), [], createReadStream(tarPath));
      const created = new Date().toISOString();
      const config: ImageConfig = applyChanges({}, o.changes);
      const doc = {
        architecture: ARCH[process.arch] ?? process.arch,
        config,
        created,
        history: [{ created, comment: o.message || 'Imported from -' }],
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [diffId] },
      };
      const id = `sha256:${createHash('sha256').update(JSON.stringify(doc)).digest('hex')}`;
      const dir = join(this.root, 'images', id.slice(7));
      if (!existsSync(dir)) renameSync(tmp, dir);
      const rec: ImageRecord = {
        Id: id, Created: created, Comment: o.message || 'Imported from -', Architecture: doc.architecture, Os: 'linux',
        Size: size, Config: config, RootFS: { Type: 'layers', Layers: [diffId] }, rootfsDir: join(dir, 'rootfs'),
      };
      this.store.tx(() => {
        this.store.putImage(rec);
        if (ref) this.store.setTag(ref, id);
      });
      return rec;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  tag(source: string, target: string): void {
    const img = this.resolve(source);
    this.store.setTag(normalizeRef(target), img.Id);
  }

  /** Untags `name` (or every tag, given an id); deletes the image when no tag is left. */
  remove(name: string, force: boolean, usedBy: (id: string) => string[]): { untagged: string[]; deleted: string[] } {
    const img = this.resolve(name);
    let byRef: string | undefined;
    try {
      byRef = normalizeRef(name);
    } catch { /* an id */ }
    const tags = this.tagsOf(img.Id);
    const untag = byRef && tags.includes(byRef) ? [byRef] : tags;
    if (untag.length > 1 && !force && !(byRef && tags.includes(byRef))) {
      throw new FailedPreconditionError(`conflict: unable to delete ${img.Id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
    }
    const left = tags.filter((t) => !untag.includes(t));
    const users = usedBy(img.Id);
    if (left.length === 0 && users.length && !force) {
      throw new FailedPreconditionError(`conflict: unable to delete ${untag[0] ?? img.Id.slice(7, 19)} (must be forced) - image is being used by container ${users[0]!.slice(0, 12)}`);
    }
    const deleted: string[] = [];
    this.store.tx(() => {
      for (const t of untag) this.store.deleteTag(t);
      if (left.length === 0 && users.length === 0) {
        this.store.deleteImage(img.Id);
        deleted.push(img.Id);
      }
    });
    if (deleted.length) rmSync(join(this.root, 'images', img.Id.slice(7)), { recursive: true, force: true });
    return { untagged: untag, deleted };
  }
}

export { AlreadyExistsError };
