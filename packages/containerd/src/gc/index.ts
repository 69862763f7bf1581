/** Leases and garbage collection. */
export { collect, type GcResult, type GcRoots } from './collect.js';
export { EXPIRE_LABEL, type Lease, LeaseStore, type Resource, type ResourceKind } from './leases.js';
export { LeasesGrpc } from './service.js';
