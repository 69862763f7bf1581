import type { Device, DeviceRule } from '../spec/types.js';

/** The devices every container gets in /dev, as runc and Docker make them. */
export const DEFAULT_DEVICES: Device[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
];

/** The links runc puts in /dev; /dev/ptmx points into the container's own devpts. */
export const DEFAULT_DEV_SYMLINKS: [target: string, path: string][] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
  ['pts/ptmx', '/dev/ptmx'],
];

/**
 * Device-cgroup rules every container is allowed besides the spec's (appended after them,
 * as runc's specconv does): mknod of anything, the default devices, ptys and tun.
 */
export const DEFAULT_DEVICE_RULES: DeviceRule[] = [
  { allow: true, type: 'c', major: null, minor: null, access: 'm' },
  { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  ...DEFAULT_DEVICES.map((d): DeviceRule => ({ allow: true, type: 'c', major: d.major!, minor: d.minor!, access: 'rwm' })),
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

/** The device list for /dev: the defaults, overridden by the spec's devices of the same path. */
export function containerDevices(specDevices: readonly Device[] = []): Device[] {
  const byPath = new Map<string, Device>();
  for (const d of [...DEFAULT_DEVICES, ...specDevices]) byPath.set(d.path, d);
  return [...byPath.values()];
}
