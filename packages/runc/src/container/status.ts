import { existsSync, readFileSync } from 'node:fs';
import type { Cgroup } from '../cgroups/index.js';
import { FailedPreconditionError } from '../errors.js';
import type { Status } from '../spec/types.js';
import type { ContainerRecord } from './state-store.js';

/** Field 22 of /proc/PID/stat (start time) and field 3 (state), or undefined if no such pid. */
export function processStat(pid: number): { startTime: number; state: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: split after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTime: Number(fields[19]) };
}

/** Whether the container's init is alive: same pid and start time, and not a zombie. */
export function initAlive(record: ContainerRecord): boolean {
  const stat = processStat(record.pid);
  return stat !== undefined && stat.startTime === record.pidStartTime && stat.state !== 'Z' && stat.state !== 'X';
}

/**
 * The spec's status, derived from the kernel each time rather than stored: created while the
 * init waits on the exec fifo, paused while the freezer holds it, stopped once it is gone.
 */
export function containerStatus(record: ContainerRecord, execFifo: string, cgroup: Cgroup): Status {
  if (!initAlive(record)) return 'stopped';
  if (existsSync(execFifo)) return 'created';
  return cgroup.isFrozen() ? 'paused' : 'running';
}

export type Operation = 'start' | 'kill' | 'pause' | 'resume' | 'exec' | 'delete' | 'update' | 'ps';

/**
 * Which operation each status allows (runc's state machine). `delete --force` and the kill of
 * a stopped container are handled by their callers.
 *
 * | status  | start | kill | pause | resume | exec | delete | update | ps |
 * |---------|-------|------|-------|--------|------|--------|--------|----|
 * | created |  yes  | yes  |  no   |   no   | yes  |  yes   |  yes   | yes|
 * | running |  no   | yes  |  yes  |   no   | yes  |  no    |  yes   | yes|
 * | paused  |  no   | yes  |  no   |  yes   |  no  |  no    |  yes   | yes|
 * | stopped |  no   |  no  |  no   |   no   |  no  |  yes   |  no    | no |
 */
export const ALLOWED: Record<Operation, readonly Status[]> = {
  start: ['created'],
  kill: ['created', 'running', 'paused'],
  pause: ['running'],
  resume: ['paused'],
  exec: ['created', 'running'],
  delete: ['created', 'stopped'],
  update: ['created', 'running', 'paused'],
  ps: ['created', 'running', 'paused'],
};

export function assertAllowed(op: Operation, status: Status, id: string): void {
  if (!ALLOWED[op].includes(status)) {
    const hint = op === 'delete' ? ' (use --force to kill it first)' : '';
    throw new FailedPreconditionError(`cannot ${op} container ${id}: it is ${status}${hint}`);
  }
}
