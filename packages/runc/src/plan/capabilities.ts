import { readFileSync } from 'node:fs';
import type { Capabilities } from '../spec/types.js';

/** Capability numbers from <linux/capability.h>, in order. */
export const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

let lastCap: number | undefined;

/** The highest capability this kernel knows; higher ones are ignored, as runc does. */
export function kernelLastCap(): number {
  lastCap ??= Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  return lastCap;
}

export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

/**
 * Turns capability names into masks. Names unknown to this kernel are skipped and reported
 * through `onUnknown` (runc warns and goes on, so configs from newer tools still run).
 */
export function capabilityMasks(caps: Capabilities | undefined, onUnknown: (name: string) => void = () => {}): CapabilityMasks {
  const max = kernelLastCap();
  const mask = (names: string[] | undefined): bigint => {
    let m = 0n;
    for (const name of names ?? []) {
      const bit = CAPABILITY_NAMES.indexOf(name.toUpperCase() as (typeof CAPABILITY_NAMES)[number]);
      if (bit < 0 || bit > max) onUnknown(name);
      else m |= 1n << BigInt(bit);
    }
    return m;
  };
  return {
    bounding: mask(caps?.bounding),
    effective: mask(caps?.effective),
    permitted: mask(caps?.permitted),
    inheritable: mask(caps?.inheritable),
    ambient: mask(caps?.ambient),
  };
}
