import { describe, expect, it } from 'vitest';
import { capabilityMasks } from './capabilities.js';

describe('capability masks', () => {
  it('maps names to bits as the kernel numbers them', () => {
    const m = capabilityMasks({ bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_AUDIT_WRITE'] });
    expect(m.bounding).toBe(0x20000421n); // runc's default set reads CapBnd 0000000020000421 with CHOWN
    expect(m.effective).toBe(0n);
  });

  it('skips and reports names the kernel does not know', () => {
    const unknown: string[] = [];
    const m = capabilityMasks({ effective: ['CAP_KILL', 'CAP_FLY'] }, (n) => unknown.push(n));
    expect(m.effective).toBe(1n << 5n);
    expect(unknown).toEqual(['CAP_FLY']);
  });
});
