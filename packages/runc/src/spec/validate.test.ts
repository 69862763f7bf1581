import { describe, expect, it } from 'vitest';
import { defaultSpec } from './default-spec.js';
import type { Spec } from './types.js';
import { validateId, validateSpec } from './validate.js';

const spec = (change: (s: Spec) => void): Spec => {
  const s = defaultSpec();
  change(s);
  return s;
};

describe('spec validation', () => {
  it('accepts the default spec', () => {
    expect(() => validateSpec(defaultSpec())).not.toThrow();
  });

  it.each([
    ['no args', (s: Spec) => (s.process!.args = []), /process.args/],
    ['relative cwd', (s: Spec) => (s.process!.cwd = 'tmp'), /cwd must be an absolute path/],
    ['unknown namespace', (s: Spec) => s.linux!.namespaces!.push({ type: 'bogus' as never }), /unknown namespace type "bogus"/],
    ['duplicate namespace', (s: Spec) => s.linux!.namespaces!.push({ type: 'pid' }), /listed twice/],
    ['hostname without uts', (s: Spec) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts')), /uts namespace/],
    ['userns without maps', (s: Spec) => s.linux!.namespaces!.push({ type: 'user' }), /uidMappings/],
    ['apparmor', (s: Spec) => (s.process!.apparmorProfile = 'docker-default'), /AppArmor/],
    ['relative mount', (s: Spec) => s.mounts!.push({ destination: 'x', type: 'tmpfs' }), /must be absolute/],
  ])('refuses %s', (_name, change, message) => {
    expect(() => validateSpec(spec(change))).toThrow(message);
  });

  it('checks container ids', () => {
    expect(() => validateId('abc-1.2_x+y')).not.toThrow();
    expect(() => validateId('../x')).toThrow(/invalid container id/);
    expect(() => validateId('')).toThrow(/invalid container id/);
  });
});
