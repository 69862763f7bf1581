import { InvalidArgumentError, NotImplementedError } from '../errors.js';

/** mount(2) flags, from <sys/mount.h>. */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

/** option → [flag, set (true) or clear (false)] */
const FLAG_OPTIONS: Record<string, [number, boolean]> = {
  async: [MS.SYNCHRONOUS, false],
  atime: [MS.NOATIME, false],
  bind: [MS.BIND, true],
  defaults: [0, true],
  dev: [MS.NODEV, false],
  diratime: [MS.NODIRATIME, false],
  dirsync: [MS.DIRSYNC, true],
  exec: [MS.NOEXEC, false],
  mand: [MS.MANDLOCK, true],
  noatime: [MS.NOATIME, true],
  nodev: [MS.NODEV, true],
  nodiratime: [MS.NODIRATIME, true],
  noexec: [MS.NOEXEC, true],
  nomand: [MS.MANDLOCK, false],
  norelatime: [MS.RELATIME, false],
  nostrictatime: [MS.STRICTATIME, false],
  nosuid: [MS.NOSUID, true],
  nosymfollow: [MS.NOSYMFOLLOW, true],
  rbind: [MS.BIND | MS.REC, true],
  relatime: [MS.RELATIME, true],
  remount: [MS.REMOUNT, true],
  ro: [MS.RDONLY, true],
  rw: [MS.RDONLY, false],
  strictatime: [MS.STRICTATIME, true],
  suid: [MS.NOSUID, false],
  sync: [MS.SYNCHRONOUS, true],
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Options that change how a mount is made and that berth-runc cannot honour. */
const UNSUPPORTED = new Set(['tmpcopyup', 'idmap', 'ridmap', 'rro', 'rrw', 'rnosuid', 'rnodev', 'rnoexec', 'rnoatime']);

export interface ParsedMountOptions {
  flags: number;
  propagation: number;
  data: string;
}

/** Splits OCI mount options into mount(2) flags, propagation flags and filesystem data. */
export function parseMountOptions(options: readonly string[] = [], where = ''): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const option of options) {
    const flag = FLAG_OPTIONS[option];
    if (flag) {
      flags = flag[1] ? flags | flag[0] : flags & ~flag[0];
    } else if (option in PROPAGATION_OPTIONS) {
      propagation |= PROPAGATION_OPTIONS[option]!;
    } else if (UNSUPPORTED.has(option)) {
      throw new NotImplementedError(`mount ${where}: option ${option} is not supported`);
    } else {
      data.push(option);
    }
  }
  return { flags, propagation, data: data.join(',') };
}

/** rootfsPropagation as flags for the container's `/`; runc's default is rslave. */
export function rootPropagationFlags(value: string | undefined): number {
  if (!value) return MS.SLAVE | MS.REC;
  const flags = PROPAGATION_OPTIONS[value];
  if (flags === undefined) throw new InvalidArgumentError(`rootfsPropagation ${JSON.stringify(value)} is not one of ${Object.keys(PROPAGATION_OPTIONS).join(', ')}`);
  return flags;
}
