// berth.snapshots.v1.Snapshots over the overlay snapshotter; register with
// `server.addService(SnapshotsService, new SnapshotsGrpc(sn).handlers)`.
import { Kind, type IInfo, type IMount, type SnapshotsServer } from '@berth/api/berth/snapshots/v1';
import { InvalidArgumentError } from '@berth/api/errdefs';
import { toLong } from '../long.js';
import { unary } from '../services/handler.js';
import type { Mount, SnapshotInfo, Snapshotter } from './snapshotter.js';

const KINDS = { view: Kind.KIND_VIEW, active: Kind.KIND_ACTIVE, committed: Kind.KIND_COMMITTED } as const;
const ns = (d: Date): ReturnType<typeof toLong> => toLong(BigInt(d.getTime()) * 1_000_000n);
const infoPb = (i: SnapshotInfo): IInfo => ({ name: i.name, parent: i.parent, kind: KINDS[i.kind], labels: i.labels, createdAtNs: ns(i.createdAt), updatedAtNs: ns(i.updatedAt) });
const mountsPb = (ms: Mount[]): IMount[] => ms.map((m) => ({ type: m.type, source: m.source, target: m.target ?? '', options: m.options }));

function check(snapshotter: string | null | undefined): void {
  if (snapshotter && snapshotter !== 'overlayfs') throw new InvalidArgumentError(`snapshotter ${JSON.stringify(snapshotter)}: only "overlayfs" is available`);
}

export class SnapshotsGrpc {
  readonly handlers: SnapshotsServer;

  constructor(sn: Snapshotter) {
    this.handlers = {
      prepare: unary((r) => (check(r.snapshotter), { mounts: mountsPb(sn.prepare(r.key, r.parent, { ...(r.labels ?? {}) })) })),
      view: unary((r) => (check(r.snapshotter), { mounts: mountsPb(sn.view(r.key, r.parent, { ...(r.labels ?? {}) })) })),
      mounts: unary((r) => (check(r.snapshotter), { mounts: mountsPb(sn.mounts(r.key)) })),
      commit: unary((r) => (check(r.snapshotter), sn.commit(r.name, r.key, r.labels && Object.keys(r.labels).length ? { ...r.labels } : undefined), {})),
      remove: unary((r) => (check(r.snapshotter), sn.remove(r.key), {})),
      stat: unary((r) => (check(r.snapshotter), { info: infoPb(sn.stat(r.key)) })),
      update: unary((r) => (check(r.snapshotter), { info: infoPb(sn.update(r.key, { ...(r.labels ?? {}) })) })),
      list: unary((r) => (check(r.snapshotter), { info: sn.walk().map(infoPb) })),
      usage: unary((r) => {
        check(r.snapshotter);
        const u = sn.usage(r.key);
        return { size: toLong(u.size), inodes: toLong(u.inodes) };
      }),
    };
  }
}
