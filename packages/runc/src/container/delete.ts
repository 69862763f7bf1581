import { RuntimeError, errorMessage } from '../errors.js';
import { type RuntimeContext, loadContainer, specState } from './context.js';
import { runHooks } from './hooks.js';
import { assertAllowed } from './status.js';
import { signalAll, waitForExit } from './wait.js';

/**
 * Deletes a container: a stopped or never-started one always, a running or paused one only with
 * `force` (killed first). Removes its cgroup and state, then runs the poststop hooks.
 */
export async function deleteContainer(ctx: RuntimeContext, id: string, force = false): Promise<void> {
  const { record, cgroup, status } = loadContainer(ctx, id);
  if (!force) assertAllowed('delete', status, id);
  if (status !== 'stopped' || cgroup.pids().length) {
    signalAll(cgroup, 9);
    try {
      process.kill(record.pid, 9);
    } catch {}
    if (cgroup.isFrozen()) cgroup.thaw();
    if (!(await waitForExit(record, cgroup))) throw new RuntimeError(`container ${id} did not die within 10 s of SIGKILL`);
  }
  await cgroup.destroy();
  ctx.store.remove(id);
  try {
    await runHooks('poststop', record.hooks.poststop, JSON.stringify(specState(record, 'stopped')));
  } catch (err) {
    ctx.log.warn(errorMessage(err)); // the spec: poststop failures are logged, the delete stands
  }
}
