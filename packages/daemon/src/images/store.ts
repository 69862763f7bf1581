/**
 * Images, kept in berth-containerd's image storage (DESIGN.md, "Images and storage"), as moby
 * does with the containerd snapshotter: an imported rootfs tar is a layer blob in the content
 * store with a Docker v2 schema 2 config and manifest, an image record (namespace "berth", named
 * `berthd/image:<config hex>`) and one committed snapshot named by the layer's chain ID. berthd
 * keeps only its names and tags (ref → image ID) and the inspect fields in its own database.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IMount } from '@berth/api/berth/snapshots/v1';
import { AlreadyExistsError, FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError, isNotFound } from '@berth/api/errdefs';
import type { ImageConfig } from '../config/docker-types.js';
import { NAMESPACE, type ContainerdClient } from '../containerd/client.js';
import type { Store } from '../store/db.js';
import { applyChanges } from './changes.js';
import { MEDIA_TYPE, scanLayer, type ScannedLayer } from './layer.js';
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

/** The image record's name in berth-containerd for berthd's image `id`. */
export const containerdImageName = (id: string): string => `berthd/image:${id.replace(/^sha256:/, '')}`;

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm' };
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const short = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

export class ImageStore {
  constructor(private readonly store: Store, private readonly ctd: ContainerdClient) {}

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

  /**
   * `docker import`: the tar is checked first (layer.ts; a refused archive stores nothing), then
   * its blob, config and manifest are written and the layer unpacked, all under a lease so a GC
   * in between takes none of it; the image record then holds them. A failure deletes the lease
   * with a synchronous GC, which takes what this import alone had stored.
   */
  async import(tarPath: string, o: { reference: string; changes: string[]; message: string }): Promise<ImageRecord> {
    const ref = o.reference ? normalizeRef(o.reference) : '';
    const config: ImageConfig = applyChanges({}, o.changes);
    const layer = await scanLayer(tarPath);
    const created = new Date().toISOString();
    const comment = o.message || 'Imported from -';
    const doc = {
      architecture: ARCH[process.arch] ?? process.arch,
      config,
      created,
      history: [{ created, comment }],
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    };
    const configBytes = Buffer.from(JSON.stringify(doc));
    const id = sha256(configBytes);
    const manifestBytes = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: DOCKER_MANIFEST,
      config: { mediaType: DOCKER_CONFIG, digest: id, size: configBytes.length },
      layers: [{ mediaType: MEDIA_TYPE[layer.compression], digest: layer.digest, size: layer.size }],
    }));
    const manifest = { mediaType: DOCKER_MANIFEST, digest: sha256(manifestBytes), size: manifestBytes.length };
    // One layer: its chain ID is its diff ID.
    const chainId = layer.diffId;

    const c = this.ctd;
    const lease = (await c.call(c.leases, (x) => x.create, { labels: { 'containerd.io/gc.expire': new Date(Date.now() + 3600_000).toISOString() } })).lease!.id;
    const hold = (type: 'content' | 'snapshots', rid: string): Promise<unknown> => c.call(c.leases, (x) => x.addResource, { id: lease, resource: { type, id: rid } });
    let ok = false;
    try {
      for (const d of [layer.digest, id, manifest.digest]) await hold('content', d);
      await hold('snapshots', chainId);
      await c.writeContent(`berthd-import-${layer.digest}`, createReadStream(tarPath, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, layer);
      await c.writeContent(`berthd-import-${id}`, [configBytes], { digest: id, size: configBytes.length });
      await c.writeContent(`berthd-import-${manifest.digest}`, [manifestBytes], manifest);
      await this.unpack(layer, chainId, hold);
      const rootfsDir = await this.topDir(chainId);
      const image = { name: containerdImageName(id), target: manifest, labels: { 'berth.io/image-id': id } };
      try {
        await c.call(c.images, (x) => x.create, { namespace: NAMESPACE, image });
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e;
        await c.call(c.images, (x) => x.update, { namespace: NAMESPACE, image, updateMask: ['target', 'labels'] });
      }
      const rec: ImageRecord = {
        Id: id, Created: created, Comment: comment, Architecture: doc.architecture, Os: 'linux',
        Size: layer.uncompressedSize, Config: config, RootFS: { Type: 'layers', Layers: [layer.diffId] },
        chainId, manifest: manifest.digest, rootfsDir,
      };
      this.store.tx(() => {
        this.store.putImage(rec);
        if (ref) this.store.setTag(ref, id);
      });
      ok = true;
      return rec;
    } finally {
      await c.call(c.leases, (x) => x.delete, { id: lease, sync: !ok }).catch(() => undefined);
    }
  }

  /**
   * The layer unpacked once into the committed snapshot `chainId` (Prepare, Diff.Apply, Commit),
   * unless it already is: a second import of the same tar shares it.
   */
  private async unpack(layer: ScannedLayer, chainId: string, hold: (type: 'snapshots', id: string) => Promise<unknown>): Promise<void> {
    const c = this.ctd;
    const have = await c.call(c.snapshots, (x) => x.stat, { key: chainId }).then(() => true, (e: unknown) => {
      if (isNotFound(e)) return false;
      throw e;
    });
    if (have) return;
    const key = `berthd-extract-${randomBytes(6).toString('hex')}-${chainId}`;
    await hold('snapshots', key);
    const { mounts } = await c.call(c.snapshots, (x) => x.prepare, { key, parent: '' });
    try {
      const r = await c.call(c.diff, (x) => x.apply, { diff: { mediaType: MEDIA_TYPE[layer.compression], digest: layer.digest, size: layer.size }, mounts }, 0);
      if (r.applied?.digest !== layer.diffId) throw new InternalError(`unpacking layer ${layer.digest}: berth-containerd read diff ID ${r.applied?.digest}, the import ${layer.diffId}`);
      await c.call(c.snapshots, (x) => x.commit, { name: chainId, key });
    } catch (e) {
      await c.call(c.snapshots, (x) => x.remove, { key }).catch(() => undefined);
      if (e instanceof AlreadyExistsError) return; // another import committed the same layer meanwhile
      throw e;
    }
  }

  /** The committed snapshot's own directory: a view on it alone is a bind of that directory. */
  private async topDir(chainId: string): Promise<string> {
    const c = this.ctd;
    const key = `berthd-view-${randomBytes(6).toString('hex')}`;
    try {
      const { mounts } = await c.call(c.snapshots, (x) => x.view, { key, parent: chainId });
      const m: IMount | undefined = mounts[0];
      return m?.type === 'bind' ? m.source ?? '' : '';
    } finally {
      await c.call(c.snapshots, (x) => x.remove, { key }).catch(() => undefined);
    }
  }

  tag(source: string, target: string): void {
    const img = this.resolve(source);
    this.store.setTag(normalizeRef(target), img.Id);
  }

  /**
   * Untags `name` (or every tag, given an id); deletes the image when no tag is left and no
   * container uses it: berthd's record, then berth-containerd's image (whose GC then frees the
   * blobs and snapshots nothing else holds). Conflicts carry Docker's messages.
   */
  async remove(name: string, force: boolean, usedBy: (id: string) => string[]): Promise<{ untagged: string[]; deleted: string[] }> {
    const img = this.resolve(name);
    let byRef: string | undefined;
    try {
      byRef = normalizeRef(name);
    } catch { /* an id */ }
    const tags = this.tagsOf(img.Id);
    const givenRef = byRef !== undefined && tags.includes(byRef);
    const untag = givenRef ? [byRef!] : tags;
    if (untag.length > 1 && !force) {
      throw new FailedPreconditionError(`conflict: unable to delete ${short(img.Id)} (must be forced) - image is referenced in multiple repositories`);
    }
    const left = tags.filter((t) => !untag.includes(t));
    const users = usedBy(img.Id);
    if (left.length === 0 && users.length && !force) {
      if (givenRef) {
        throw new FailedPreconditionError(`conflict: unable to remove repository reference ${JSON.stringify(name)} (must force) - container ${short(users[0]!)} is using its referenced image ${short(img.Id)}`);
      }
      const running = this.store.containers().find((c) => users.includes(c.Id) && (c.State.Status === 'running' || c.State.Status === 'paused'));
      throw new FailedPreconditionError(running
        ? `conflict: unable to delete ${short(img.Id)} (cannot be forced) - image is being used by running container ${short(running.Id)}`
        : `conflict: unable to delete ${short(img.Id)} (must be forced) - image is being used by stopped container ${short(users[0]!)}`);
    }
    const deleted: string[] = [];
    this.store.tx(() => {
      for (const t of untag) this.store.deleteTag(t);
      if (left.length === 0 && users.length === 0) {
        this.store.deleteImage(img.Id);
        deleted.push(img.Id);
      }
    });
    if (deleted.length) {
      await this.ctd.call(this.ctd.images, (x) => x.delete, { namespace: NAMESPACE, name: containerdImageName(img.Id) }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
    return { untagged: untag, deleted };
  }
}
