import { openCgroup, type Cgroup } from '../cgroups/index.js';
import type { Logger } from '../log.js';
import type { State, Status } from '../spec/types.js';
import type { ContainerRecord, StateStore } from './state-store.js';
import { containerStatus } from './status.js';

/** What every operation needs: where containers are recorded, and where to log. */
export interface RuntimeContext {
  store: StateStore;
  log: Logger;
}

export interface LoadedContainer {
  record: ContainerRecord;
  cgroup: Cgroup;
  status: Status;
}

export function loadContainer(ctx: RuntimeContext, id: string): LoadedContainer {
  const record = ctx.store.load(id);
  const cgroup = openCgroup(record.cgroupPath);
  return { record, cgroup, status: containerStatus(record, ctx.store.execFifo(id), cgroup) };
}

/** The spec's state of a container, as hooks and `state` show it. */
export function specState(record: ContainerRecord, status: Status): State {
  return {
    ociVersion: record.ociVersion,
    id: record.id,
    status,
    ...(status === 'stopped' ? {} : { pid: record.pid }),
    bundle: record.bundle,
    annotations: record.annotations,
  };
}
