import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { Cgroup } from '../cgroups/index.js';
import { hierarchiesV1 } from '../cgroups/index.js';
import { InvalidArgumentError } from '../errors.js';
import type { MountInfo } from '../mountinfo.js';
import type { Mount } from '../spec/types.js';
import { MS, parseMountOptions } from './mount-flags.js';
import type { PlanRecord } from './records.js';

export interface MountContext {
  bundle: string;
  cgroup: Cgroup;
  newCgroupNs: boolean;
  hostMounts: readonly MountInfo[];
}

/** Options for the remount that makes a bind mount read-only, nosuid, etc. */
const REMOUNT_FLAGS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME;

/** The plan records for the spec's mounts, in order. */
export function mountRecords(mounts: readonly Mount[], ctx: MountContext): PlanRecord[] {
  return mounts.flatMap((m) => mountRecord(m, ctx));
}

function mountRecord(m: Mount, ctx: MountContext): PlanRecord[] {
  const where = m.destination;
  const opts = parseMountOptions(m.options, where);
  const type = m.type ?? (opts.flags & MS.BIND ? 'bind' : 'none');
  if (type === 'cgroup' || type === 'cgroup2') return cgroupMounts(m.destination, opts.flags, ctx);
  if (type === 'bind' || opts.flags & MS.BIND) {
    if (!m.source) throw new InvalidArgumentError(`mount ${where}: a bind mount needs a source`);
    // The spec makes relative bind sources relative to the bundle.
    const source = isAbsolute(m.source) ? m.source : resolve(ctx.bundle, m.source);
    if (!existsSync(source)) throw new InvalidArgumentError(`mount ${where}: source ${source} does not exist`);
    return [['mount', source, m.destination, 'bind', opts.flags | MS.BIND, '', opts.propagation]];
  }
  return [['mount', m.source ?? type, m.destination, type, opts.flags, opts.data, opts.propagation]];
}

/**
 * An OCI `cgroup` mount on v1 is a tmpfs holding one mount per hierarchy: with a cgroup
 * namespace the hierarchy itself (its root is the container's cgroup), without one a bind of
 * the container's own directory, as runc does. On v2 it is the unified hierarchy.
 */
function cgroupMounts(dest: string, flags: number, ctx: MountContext): PlanRecord[] {
  const { cgroup, newCgroupNs } = ctx;
  const extra = flags & ~MS.BIND & ~MS.REC;
  if (cgroup.version === 2) {
    const dir = cgroup.directories().unified!;
    return newCgroupNs
      ? [['mount', 'cgroup2', dest, 'cgroup2', extra, '', 0]]
      : [['mount', dir, dest, 'bind', extra | MS.BIND | MS.REC, '', 0]];
  }
  const records: PlanRecord[] = [['mount', 'tmpfs', dest, 'tmpfs', extra & ~MS.RDONLY, 'mode=755', 0]];
  const dirs = cgroup.directories();
  for (const h of hierarchiesV1(ctx.hostMounts)) {
    const name = basename(h.mountPoint);
    const target = join(dest, name);
    if (newCgroupNs) records.push(['mount', 'cgroup', target, 'cgroup', extra, h.controllers.join(','), 0]);
    else records.push(['mount', dirs[name] ?? h.mountPoint, target, 'bind', extra | MS.BIND | MS.REC, '', 0]);
    // Co-mounted controllers (cpu,cpuacct) are reachable under each name, as on the host.
    if (name.includes(',')) for (const alias of name.split(',')) records.push(['symlink', name, join(dest, alias)]);
  }
  return records;
}

/** Whether the spec mounts a /dev of its own from the host, in which case runc leaves /dev alone. */
export function bindsDev(mounts: readonly Mount[]): boolean {
  return mounts.some((m) => m.destination === '/dev' && (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')));
}
