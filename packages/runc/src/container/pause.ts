import { type RuntimeContext, loadContainer } from './context.js';
import { assertAllowed } from './status.js';

/** Freezes every process of the container (the freezer cgroup). */
export async function pause(ctx: RuntimeContext, id: string): Promise<void> {
  const { cgroup, status } = loadContainer(ctx, id);
  assertAllowed('pause', status, id);
  await cgroup.freeze();
}

export function resume(ctx: RuntimeContext, id: string): void {
  const { cgroup, status } = loadContainer(ctx, id);
  assertAllowed('resume', status, id);
  cgroup.thaw();
}
