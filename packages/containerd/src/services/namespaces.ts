// berth.namespaces.v1.Namespaces over the metadata store.
import { Namespace, type NamespacesServer } from '@berth/api/berth/namespaces/v1';
import type { Exchange } from '../events/exchange.js';
import { toLong } from '../long.js';
import type { MetadataStore, NamespaceRecord } from '../metadata/db.js';
import { namespaceOf, unary } from './handler.js';

const toPb = (n: NamespaceRecord): Namespace => Namespace.create({ name: n.name, labels: n.labels, createdAtNs: toLong(n.createdAt) });

export function namespacesService(store: MetadataStore, events: Exchange): NamespacesServer {
  return {
    list: unary(() => ({ namespaces: store.listNamespaces().map(toPb) })),
    get: unary((req) => ({ namespace: toPb(store.getNamespace(namespaceOf(req.name))) })),
    create: unary((req) => {
      const name = namespaceOf(req.namespace?.name);
      const rec = store.createNamespace({ name, labels: { ...(req.namespace?.labels ?? {}) } });
      events.publish({ namespace: name, topic: '/namespaces/create', namespaceChange: { name } });
      return { namespace: toPb(rec) };
    }),
    delete: unary((req) => {
      const name = namespaceOf(req.name);
      store.deleteNamespace(name);
      events.publish({ namespace: name, topic: '/namespaces/delete', namespaceChange: { name } });
      return {};
    }),
  };
}
