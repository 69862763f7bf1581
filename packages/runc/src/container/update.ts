import type { CgroupStats } from '../cgroups/index.js';
import type { Resources } from '../spec/types.js';
import { type RuntimeContext, loadContainer } from './context.js';
import { assertAllowed } from './status.js';

/** Changes the cgroup limits of a live container. */
export function update(ctx: RuntimeContext, id: string, resources: Resources): void {
  const { cgroup, status } = loadContainer(ctx, id);
  assertAllowed('update', status, id);
  cgroup.update(resources);
}

export function stats(ctx: RuntimeContext, id: string): CgroupStats {
  const { cgroup, status } = loadContainer(ctx, id);
  assertAllowed('ps', status, id);
  return cgroup.stats();
}
