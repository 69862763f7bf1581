import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { Process, Seccomp } from '../spec/types.js';
import { capabilityMasks } from './capabilities.js';
import type { PlanRecord } from './records.js';
import { resolveRlimits } from './rlimits.js';
import { seccompRecords } from './seccomp.js';

export interface ProcessContext {
  /** The rootfs on the host, to read the user's home from its /etc/passwd; absent for exec. */
  rootfs?: string;
  seccomp?: Seccomp;
  consoleSocket?: string;
  warn: (message: string) => void;
}

/** The records that start a process: identity, limits, privileges, terminal, argv. */
export function processRecords(proc: Process, ctx: ProcessContext): PlanRecord[] {
  const records: PlanRecord[] = [];
  const env = [...(proc.env ?? [])];
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${homeOf(ctx.rootfs, proc.user.uid)}`);
  if (proc.terminal) {
    if (!ctx.consoleSocket) throw new InvalidArgumentError('process.terminal is true: pass --console-socket to receive the pty');
    records.push(['console', ctx.consoleSocket]);
    if (proc.consoleSize) records.push(['consolesize', proc.consoleSize.height, proc.consoleSize.width]);
  }
  records.push(['cwd', proc.cwd]);
  for (const e of env) records.push(['env', e]);
  for (const a of proc.args ?? []) records.push(['arg', a]);
  records.push(['user', proc.user.uid, proc.user.gid]);
  records.push(['groups', ...(proc.user.additionalGids ?? [])]);
  records.push(['umask', (proc.user.umask ?? 0o022).toString(8)]);
  for (const r of resolveRlimits(proc.rlimits)) records.push(['rlimit', r.resource, r.soft, r.hard]);
  const caps = capabilityMasks(proc.capabilities, (name) => ctx.warn(`capability ${name} is unknown to this kernel; ignored`));
  records.push(['caps', ...[caps.bounding, caps.effective, caps.permitted, caps.inheritable, caps.ambient].map((m) => m.toString(16))]);
  if (proc.noNewPrivileges) records.push(['nonewprivs']);
  records.push(...seccompRecords(ctx.seccomp));
  return records;
}

/**
 * HOME for a process that has none, from the container's /etc/passwd as runc does; "/" when
 * the user has no entry. Symlinked /etc or passwd are not followed: they could point at the host.
 */
function homeOf(rootfs: string | undefined, uid: number): string {
  if (!rootfs) return uid === 0 ? '/root' : '/';
  try {
    for (const p of [join(rootfs, 'etc'), join(rootfs, 'etc', 'passwd')]) if (lstatSync(p).isSymbolicLink()) return '/';
    for (const line of readFileSync(join(rootfs, 'etc', 'passwd'), 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 6 && Number(f[2]) === uid && f[2] !== '') return f[5] || '/';
    }
  } catch {
    // no passwd file: fall through
  }
  return '/';
}
