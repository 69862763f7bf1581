// berth.containers.v1.Containers over the metadata store.
import { Container, type ContainersServer, type IContainer } from '@berth/api/berth/containers/v1';
import { AlreadyExistsError, InvalidArgumentError } from '@berth/api/errdefs';
import type { Exchange } from '../events/exchange.js';
import { toLong } from '../long.js';
import type { ContainerRecord, MetadataStore } from '../metadata/db.js';
import { namespaceOf, unary, validId } from './handler.js';

export function containerToPb(c: ContainerRecord): Container {
  return Container.create({
    id: c.id, image: c.image, runtime: c.runtime, specJson: c.spec, rootfs: c.rootfs, snapshotter: c.snapshotter,
    snapshotKey: c.snapshotKey, labels: c.labels, createdAtNs: toLong(c.createdAt), updatedAtNs: toLong(c.updatedAt),
  });
}

function fields(ns: string, c: IContainer): Omit<ContainerRecord, 'createdAt' | 'updatedAt'> {
  const spec = Buffer.from(c.specJson ?? new Uint8Array());
  if (spec.length) {
    try {
      JSON.parse(spec.toString('utf8'));
    } catch (e) {
      throw new InvalidArgumentError(`container ${c.id}: spec_json is not JSON: ${(e as Error).message}`);
    }
  }
  return {
    namespace: ns, id: validId(c.id), image: c.image ?? '',
    runtime: { name: c.runtime?.name || 'berth-runc', path: c.runtime?.path ?? '', args: [...(c.runtime?.args ?? [])] },
    spec, rootfs: c.rootfs ?? '', snapshotter: c.snapshotter ?? '', snapshotKey: c.snapshotKey ?? '', labels: { ...(c.labels ?? {}) },
  };
}

const MASKABLE = new Set(['image', 'runtime', 'spec_json', 'rootfs', 'snapshotter', 'snapshot_key', 'labels']);

export interface ContainersHooks {
  /** After a container's record is gone (berth-containerd: remove its snapshot, then GC). */
  deleted?(c: ContainerRecord): Promise<void>;
}

/** A snapshot key belongs to one container at most (snapshots are not namespaced). */
function checkSnapshotKey(store: MetadataStore, c: { namespace: string; id: string; snapshotKey: string }): void {
  if (!c.snapshotKey) return;
  const holder = store.containerWithSnapshot(c.snapshotKey);
  if (holder && (holder.namespace !== c.namespace || holder.id !== c.id)) {
    throw new AlreadyExistsError(`snapshot key ${c.snapshotKey} is held by container ${holder.id} in namespace ${holder.namespace}`);
  }
}

export function containersService(store: MetadataStore, events: Exchange, hooks: ContainersHooks = {}): ContainersServer {
  return {
    create: unary((req) => {
      const ns = namespaceOf(req.namespace);
      if (!req.container) throw new InvalidArgumentError('container is required');
      const f = fields(ns, req.container);
      checkSnapshotKey(store, f);
      const rec = store.createContainer(f);
      events.publish({ namespace: ns, containerId: rec.id, topic: '/containers/create', container: { id: rec.id } });
      return { container: containerToPb(rec) };
    }),
    get: unary((req) => ({ container: containerToPb(store.getContainer(namespaceOf(req.namespace), validId(req.id))) })),
    list: unary((req) => {
      const want = Object.entries(req.labels ?? {});
      const list = store.listContainers(namespaceOf(req.namespace)).filter((c) => want.every(([k, v]) => c.labels[k] === v));
      return { containers: list.map(containerToPb) };
    }),
    update: unary((req) => {
      const ns = namespaceOf(req.namespace);
      if (!req.container) throw new InvalidArgumentError('container is required');
      const cur = store.getContainer(ns, validId(req.container.id));
      const next = fields(ns, req.container);
      const mask = req.updateMask.length ? req.updateMask : [...MASKABLE];
      const upd: ContainerRecord = { ...cur };
      for (const m of mask) {
        if (!MASKABLE.has(m)) throw new InvalidArgumentError(`update_mask: ${m} cannot be updated (one of ${[...MASKABLE].join(', ')})`);
        if (m === 'image') upd.image = next.image;
        if (m === 'runtime') upd.runtime = next.runtime;
        if (m === 'spec_json') upd.spec = next.spec;
        if (m === 'rootfs') upd.rootfs = next.rootfs;
        if (m === 'snapshotter') upd.snapshotter = next.snapshotter;
        if (m === 'snapshot_key') upd.snapshotKey = next.snapshotKey;
        if (m === 'labels') upd.labels = next.labels;
      }
      checkSnapshotKey(store, upd);
      const rec = store.updateContainer(upd);
      events.publish({ namespace: ns, containerId: rec.id, topic: '/containers/update', container: { id: rec.id } });
      return { container: containerToPb(rec) };
    }),
    delete: unary(async (req) => {
      const ns = namespaceOf(req.namespace);
      const id = validId(req.id);
      const rec = store.getContainer(ns, id);
      store.deleteContainer(ns, id);
      events.publish({ namespace: ns, containerId: id, topic: '/containers/delete', container: { id } });
      await hooks.deleted?.(rec);
      return {};
    }),
  };
}
