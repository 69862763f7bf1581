import { type RuntimeContext, loadContainer } from './context.js';
import { assertAllowed } from './status.js';

/** Host pids of every process in the container. */
export function ps(ctx: RuntimeContext, id: string): number[] {
  const { cgroup, status } = loadContainer(ctx, id);
  assertAllowed('ps', status, id);
  return cgroup.pids();
}
