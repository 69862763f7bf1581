import { statfsSync } from 'node:fs';
import { type MountInfo, readMountInfo } from '../mountinfo.js';
import type { Cgroup } from './cgroup.js';
import { CgroupV1, hierarchiesV1 } from './v1.js';
import { CgroupV2 } from './v2.js';

export type { Cgroup, CgroupStats } from './cgroup.js';
export { CgroupV1, deviceRuleText, hierarchiesV1 } from './v1.js';
export { CgroupV2 } from './v2.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_ROOT = '/sys/fs/cgroup';

/** v2 when /sys/fs/cgroup is the unified hierarchy itself; otherwise v1 (or hybrid). */
export function cgroupVersion(): 1 | 2 {
  return statfsSync(CGROUP_ROOT).type === CGROUP2_SUPER_MAGIC ? 2 : 1;
}

/**
 * The default container path when the spec has none. A relative cgroupsPath is taken from the
 * hierarchy's root, as an absolute one (the spec leaves this to the runtime).
 */
export function normaliseCgroupPath(cgroupsPath: string | undefined, id: string): string {
  if (!cgroupsPath) return `/${id}`;
  if (cgroupsPath.includes(':')) {
    throw new Error(`cgroupsPath ${JSON.stringify(cgroupsPath)} is in systemd's slice:prefix:name form; berth-runc drives cgroupfs only (drop --systemd-cgroup)`);
  }
  const clean = ('/' + cgroupsPath).replace(/\/+/g, '/').replace(/\/$/, '');
  if (clean.split('/').includes('..')) throw new Error(`cgroupsPath ${JSON.stringify(cgroupsPath)} must not contain '..'`);
  return clean || '/';
}

/**
 * The cgroup at `path` on this host. In hybrid mode the container also gets a directory in the
 * unified hierarchy, as runc does, so that tools reading `0::` see where it lives.
 */
export function openCgroup(path: string, mounts: readonly MountInfo[] = readMountInfo()): Cgroup {
  if (cgroupVersion() === 2) return new CgroupV2(path, CGROUP_ROOT);
  const unified = mounts.find((m) => m.fsType === 'cgroup2' && m.mountPoint.startsWith(CGROUP_ROOT + '/'));
  return new CgroupV1(path, hierarchiesV1(mounts), unified?.mountPoint);
}
