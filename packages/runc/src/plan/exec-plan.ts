import type { Namespace, Process, Seccomp } from '../spec/types.js';
import { NS_PROC_NAME } from './namespaces.js';
import { processRecords } from './process.js';
import type { PlanRecord } from './records.js';

export interface ExecPlanInput {
  /** The container's init, whose namespaces the new process joins. */
  initPid: number;
  namespaces: readonly Namespace[];
  cgroupJoinFiles: readonly string[];
  process: Process;
  seccomp?: Seccomp;
  foreground: boolean;
  consoleSocket?: string;
  warn: (message: string) => void;
}

/** Compiles an exec into the helper's plan: join every namespace and cgroup of the init, then start. */
export function execPlan(input: ExecPlanInput): PlanRecord[] {
  const r: PlanRecord[] = [['mode', 'exec'], ['foreground', input.foreground ? 1 : 0]];
  if (input.process.oomScoreAdj !== undefined) r.push(['oom', input.process.oomScoreAdj]);
  for (const file of input.cgroupJoinFiles) r.push(['cgroup', file]);
  for (const ns of input.namespaces) {
    const name = NS_PROC_NAME[ns.type];
    r.push(['setns', name, `/proc/${input.initPid}/ns/${name}`]);
  }
  const ctx = { warn: input.warn, ...(input.seccomp ? { seccomp: input.seccomp } : {}), ...(input.consoleSocket ? { consoleSocket: input.consoleSocket } : {}) };
  r.push(...processRecords(input.process, ctx));
  return r;
}
