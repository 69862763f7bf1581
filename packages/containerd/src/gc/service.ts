// berth.leases.v1.Leases over the lease store; register with
// `server.addService(LeasesService, new LeasesGrpc(storage).handlers)`.
import type { LeasesServer } from '@berth/api/berth/leases/v1';
import { toLong } from '../long.js';
import { unary } from '../services/handler.js';
import type { ImageStorage } from '../images/storage.js';
import type { ResourceKind } from './leases.js';

export class LeasesGrpc {
  readonly handlers: LeasesServer;

  constructor(storage: ImageStorage) {
    const leases = storage.leases;
    const kind = (t: string | null | undefined): ResourceKind => (t ?? '') as ResourceKind;
    this.handlers = {
      create: unary((r) => {
        const l = leases.create(r.id, { ...(r.labels ?? {}) });
        return { lease: { id: l.id, labels: l.labels, createdAtNs: toLong(BigInt(l.createdAt.getTime()) * 1_000_000n) } };
      }),
      delete: unary(async (r) => {
        leases.delete(r.id);
        if (r.sync) await storage.gc();
        return {};
      }),
      list: unary(() => ({ leases: leases.list().map((l) => ({ id: l.id, labels: l.labels, createdAtNs: toLong(BigInt(l.createdAt.getTime()) * 1_000_000n) })) })),
      addResource: unary((r) => (leases.addResource(r.id, { kind: kind(r.resource?.type), id: r.resource?.id ?? '' }), {})),
      deleteResource: unary((r) => (leases.deleteResource(r.id, { kind: kind(r.resource?.type), id: r.resource?.id ?? '' }), {})),
      listResources: unary((r) => ({ resources: leases.listResources(r.id).map((x) => ({ id: x.id, type: x.kind })) })),
    };
  }
}
