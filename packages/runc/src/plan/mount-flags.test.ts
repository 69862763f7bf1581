import { describe, expect, it } from 'vitest';
import { MS, parseMountOptions, rootPropagationFlags } from './mount-flags.js';

describe('mount options', () => {
  it('splits flags, propagation and data', () => {
    const o = parseMountOptions(['nosuid', 'noexec', 'mode=755', 'size=65536k', 'rprivate', 'ro']);
    expect(o.flags).toBe(MS.NOSUID | MS.NOEXEC | MS.RDONLY);
    expect(o.propagation).toBe(MS.PRIVATE | MS.REC);
    expect(o.data).toBe('mode=755,size=65536k');
  });

  it('applies options in order, later ones clearing earlier', () => {
    expect(parseMountOptions(['ro', 'rw']).flags).toBe(0);
    expect(parseMountOptions(['rbind']).flags).toBe(MS.BIND | MS.REC);
  });

  it('refuses options it cannot honour', () => {
    expect(() => parseMountOptions(['tmpcopyup'], '/x')).toThrow(/tmpcopyup is not supported/);
  });

  it("defaults the root's propagation to rslave", () => {
    expect(rootPropagationFlags(undefined)).toBe(MS.SLAVE | MS.REC);
    expect(rootPropagationFlags('shared')).toBe(MS.SHARED);
    expect(() => rootPropagationFlags('weird')).toThrow(/rootfsPropagation/);
  });
});
