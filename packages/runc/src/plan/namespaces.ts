import type { NamespaceType } from '../spec/types.js';

/** The spec's namespace names as /proc/PID/ns and the helper protocol name them. */
export const NS_PROC_NAME: Record<NamespaceType, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};
