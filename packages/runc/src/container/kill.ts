import { constants } from 'node:os';
import { InvalidArgumentError } from '../errors.js';
import { type RuntimeContext, loadContainer } from './context.js';
import { assertAllowed } from './status.js';
import { signalAll } from './wait.js';

/** "9", "KILL", "SIGKILL" and "sigkill" all name signal 9. */
export function parseSignal(value: string | number | undefined): number {
  if (value === undefined || value === '') return constants.signals.SIGTERM;
  if (typeof value === 'number' || /^\d+$/.test(value)) {
    const n = Number(value);
    if (n < 1 || n > 64) throw new InvalidArgumentError(`signal ${value} is out of range`);
    return n;
  }
  const upper = value.toUpperCase();
  const name = (upper.startsWith('SIG') ? upper : 'SIG' + upper) as NodeJS.Signals;
  const n = constants.signals[name];
  if (n === undefined) throw new InvalidArgumentError(`unknown signal ${JSON.stringify(value)}`);
  return n;
}

/** Sends a signal to the init, or with `all` to every process of the container's cgroup. */
export async function kill(ctx: RuntimeContext, id: string, signal: number, all = false): Promise<void> {
  const { record, cgroup, status } = loadContainer(ctx, id);
  assertAllowed('kill', status, id);
  if (all) {
    signalAll(cgroup, signal);
    // A frozen task only dies when thawed; runc thaws after a SIGKILL to all.
    if (status === 'paused' && signal === constants.signals.SIGKILL) cgroup.thaw();
  } else {
    process.kill(record.pid, signal);
  }
}
