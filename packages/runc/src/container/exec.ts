import { resolve } from 'node:path';
import { openCgroup } from '../cgroups/index.js';
import { execPlan } from '../plan/exec-plan.js';
import type { Process } from '../spec/types.js';
import { type RuntimeContext, loadContainer } from './context.js';
import { writePidFile } from './create.js';
import { type Launched, launch } from './launch.js';
import { assertAllowed } from './status.js';

export interface ExecOptions {
  process: Process;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  stdio?: [number, number, number];
}

/**
 * Starts another process in a container: it joins every namespace and cgroup of the init. With
 * `detach` it returns once the process runs (the caller reaps it); otherwise `launched.exited`
 * gives its status.
 */
export async function exec(ctx: RuntimeContext, id: string, opts: ExecOptions): Promise<Launched> {
  const { record, status } = loadContainer(ctx, id);
  assertAllowed('exec', status, id);
  const plan = execPlan({
    initPid: record.pid,
    namespaces: record.namespaces,
    cgroupJoinFiles: openCgroup(record.cgroupPath).joinFiles(),
    process: opts.process,
    ...(record.seccomp ? { seccomp: record.seccomp } : {}),
    foreground: !opts.detach,
    ...(opts.consoleSocket ? { consoleSocket: resolve(opts.consoleSocket) } : {}),
    warn: (m) => ctx.log.warn(m),
  });
  const preserved = Array.from({ length: opts.preserveFds ?? 0 }, (_, i) => 3 + i);
  const launched = await launch({ plan, fds: [...(opts.stdio ?? [0, 1, 2]), ...preserved] });
  if (opts.pidFile) writePidFile(resolve(opts.pidFile), launched.pid);
  return launched;
}

/** The process for an exec given by flags: the init's, with these fields replaced. */
export function processFromFlags(base: Process, flags: { args: string[]; tty?: boolean; cwd?: string; env?: string[]; user?: string; caps?: string[]; noNewPrivs?: boolean; additionalGids?: number[] }): Process {
  const p: Process = structuredClone(base);
  p.args = flags.args;
  p.terminal = flags.tty ?? false;
  if (flags.cwd) p.cwd = flags.cwd;
  if (flags.env?.length) {
    const names = new Set(flags.env.map((e) => e.split('=')[0]));
    p.env = [...(p.env ?? []).filter((e) => !names.has(e.split('=')[0])), ...flags.env];
  }
  if (flags.user) {
    const [uid, gid] = flags.user.split(':');
    p.user = { ...p.user, uid: Number(uid), gid: gid === undefined ? Number(uid) : Number(gid) };
  }
  if (flags.additionalGids) p.user.additionalGids = flags.additionalGids;
  if (flags.caps?.length) {
    const caps = (p.capabilities ??= {});
    for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const) caps[set] = [...new Set([...(caps[set] ?? []), ...flags.caps])];
  }
  if (flags.noNewPrivs) p.noNewPrivileges = true;
  return p;
}
