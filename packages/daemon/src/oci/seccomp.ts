/** The OCI `linux.seccomp` section for a container's capabilities, from Docker's profile (seccomp-profile.ts). */
import { ARCHITECTURES, DEFAULT_ACTION, DEFAULT_ERRNO, PROFILE_RULES } from './seccomp-profile.js';

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: { index: number; value: number; valueTwo?: number; op: string }[] }[];
}

const NATIVE_ARCH: Record<string, string> = { x64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64' };

export function seccompFor(caps: string[], arch = process.arch): OciSeccomp {
  const native = NATIVE_ARCH[arch] ?? 'SCMP_ARCH_X86_64';
  const arches = [native, ...(ARCHITECTURES[native] ?? [])];
  const have = new Set(caps);
  const syscalls: OciSeccomp['syscalls'] = [];
  for (const r of PROFILE_RULES) {
    if (r.includesCaps && !r.includesCaps.every((c) => have.has(c))) continue;
    if (r.excludesCaps && r.excludesCaps.some((c) => have.has(c))) continue;
    if (r.arches && !r.arches.includes(native)) continue;
    syscalls.push({
      names: r.names, action: r.action,
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
      ...(r.args ? { args: r.args.map((a) => ({ ...a, valueTwo: a.valueTwo ?? 0 })) } : {}),
    });
  }
  return { defaultAction: DEFAULT_ACTION, defaultErrnoRet: DEFAULT_ERRNO, architectures: arches, syscalls };
}
