/** The host's platform, and choosing a manifest for it from an index (as containerd's platforms). */
import type { Descriptor, Platform } from './media-types.js';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  return architecture === 'arm64' ? { os: 'linux', architecture, variant: 'v8' } : { os: 'linux', architecture };
}

/** Whether `p` (from an index) runs on `want`; a missing arm64 variant means v8. */
export function matches(p: Platform | undefined, want: Platform): boolean {
  if (!p) return false;
  if (p.os !== want.os || p.architecture !== want.architecture) return false;
  const norm = (v?: string): string => (p.architecture === 'arm64' ? v || 'v8' : v || '');
  return !want.variant || norm(p.variant) === norm(want.variant);
}

/** The first manifest of an index for the platform (indexes list the preferred first). */
export function chooseManifest(manifests: Descriptor[], want: Platform = hostPlatform()): Descriptor | undefined {
  return manifests.find((m) => matches(m.platform, want)) ?? (manifests.length === 1 && !manifests[0]!.platform ? manifests[0] : undefined);
}
