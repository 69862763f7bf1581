import type { Cgroup } from '../cgroups/index.js';
import { mountPointOf, type MountInfo } from '../mountinfo.js';
import type { Spec } from '../spec/types.js';
import { containerDevices, DEFAULT_DEV_SYMLINKS } from './devices.js';
import { rootPropagationFlags } from './mount-flags.js';
import { bindsDev, mountRecords } from './mounts.js';
import { NS_PROC_NAME } from './namespaces.js';
import { processRecords } from './process.js';
import type { PlanRecord } from './records.js';

export interface CreatePlanInput {
  spec: Spec;
  bundle: string;
  /** The rootfs's real absolute path on the host. */
  rootfs: string;
  cgroup: Cgroup;
  execFifo: string;
  foreground: boolean;
  noPivot: boolean;
  consoleSocket?: string;
  hostMounts: readonly MountInfo[];
  warn: (message: string) => void;
}

/** Compiles a validated spec into the helper's plan for a new container (native/PROTOCOL.md). */
export function createPlan(input: CreatePlanInput): PlanRecord[] {
  const { spec } = input;
  const linux = spec.linux ?? {};
  const proc = spec.process!;
  const namespaces = linux.namespaces ?? [];
  const newNs = (type: string) => namespaces.some((n) => n.type === type && !n.path);
  const newUserNs = newNs('user');
  const r: PlanRecord[] = [['mode', 'create'], ['foreground', input.foreground ? 1 : 0]];

  if (proc.oomScoreAdj !== undefined) r.push(['oom', proc.oomScoreAdj]);
  for (const file of input.cgroup.joinFiles()) r.push(['cgroup', file]);
  for (const ns of namespaces) r.push(ns.path ? ['setns', NS_PROC_NAME[ns.type], ns.path] : ['unshare', NS_PROC_NAME[ns.type]]);
  for (const m of linux.uidMappings ?? []) r.push(['uidmap', m.containerID, m.hostID, m.size]);
  for (const m of linux.gidMappings ?? []) r.push(['gidmap', m.containerID, m.hostID, m.size]);

  r.push(['rootfs', input.rootfs]);
  r.push(['rootpropagation', rootPropagationFlags(linux.rootfsPropagation)]);
  r.push(['parentmount', mountPointOf(input.rootfs, input.hostMounts)]);
  const mounts = spec.mounts ?? [];
  r.push(...mountRecords(mounts, { bundle: input.bundle, cgroup: input.cgroup, newCgroupNs: newNs('cgroup'), hostMounts: input.hostMounts }));
  if (!bindsDev(mounts)) {
    for (const d of containerDevices(linux.devices)) {
      const mode = d.fileMode ?? 0o666;
      // In a user namespace mknod is refused: bind the host's node instead, as runc does.
      if (newUserNs && d.type !== 'p') r.push(['binddev', d.path, d.path]);
      else r.push(['mknod', d.path, d.type === 'u' ? 'c' : d.type, d.major ?? 0, d.minor ?? 0, mode & 0o7777, d.uid ?? 0, d.gid ?? 0]);
    }
    for (const [target, path] of DEFAULT_DEV_SYMLINKS) r.push(['symlink', target, path]);
  }
  r.push(['pivot', input.noPivot ? 0 : 1]);
  for (const [name, value] of Object.entries(linux.sysctl ?? {})) r.push(['sysctl', name, value]);
  for (const p of linux.maskedPaths ?? []) r.push(['masked', p]);
  for (const p of linux.readonlyPaths ?? []) r.push(['readonly', p]);
  if (spec.root?.readonly) r.push(['rootreadonly']);
  if (spec.hostname) r.push(['hostname', spec.hostname]);
  if (spec.domainname) r.push(['domainname', spec.domainname]);

  const ctx = { rootfs: input.rootfs, warn: input.warn, ...(linux.seccomp ? { seccomp: linux.seccomp } : {}), ...(input.consoleSocket ? { consoleSocket: input.consoleSocket } : {}) };
  r.push(...processRecords(proc, ctx));
  r.push(['execfifo', input.execFifo]);

  const hooks = spec.hooks ?? {};
  const anyHooks = (['prestart', 'createRuntime', 'createContainer', 'startContainer'] as const).some((k) => hooks[k]?.length);
  if (anyHooks) r.push(['hookpause']);
  for (const kind of ['createContainer', 'startContainer'] as const) {
    for (const h of hooks[kind] ?? []) {
      const args = h.args ?? [h.path];
      r.push(['hook', kind, h.timeout ?? 0, h.path, args.length, ...args, ...(h.env ?? [])]);
    }
  }
  return r;
}
