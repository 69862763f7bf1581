import { describe, expect, it } from 'vitest';
import { seccompRecords } from './seccomp.js';

describe('seccomp compilation', () => {
  it('emits default, architectures and rules', () => {
    const r = seccompRecords({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }],
    });
    expect(r).toEqual([
      ['seccomp-default', 'SCMP_ACT_ERRNO', 1],
      ['seccomp-arch', 'x86_64'],
      ['seccomp-arch', 'x86'],
      ['seccomp-rule', 'SCMP_ACT_ALLOW', 1, 'read'],
      ['seccomp-rule', 'SCMP_ACT_ALLOW', 1, 'write'],
    ]);
  });

  it('drops rules that repeat the default action, as libseccomp refuses them', () => {
    const r = seccompRecords({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
    expect(r.filter((x) => x[0] === 'seccomp-rule')).toEqual([]);
  });

  it('splits a rule testing one argument twice into one rule per test', () => {
    const r = seccompRecords({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }],
    });
    expect(r.slice(1)).toEqual([
      ['seccomp-rule', 'SCMP_ACT_ALLOW', 1, 'personality', 0, 'SCMP_CMP_EQ', 0n, 0n],
      ['seccomp-rule', 'SCMP_ACT_ALLOW', 1, 'personality', 0, 'SCMP_CMP_EQ', 8n, 0n],
    ]);
  });

  it('keeps 64-bit mask values exact', () => {
    const r = seccompRecords({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }],
    });
    expect(r[1]).toEqual(['seccomp-rule', 'SCMP_ACT_ALLOW', 1, 'clone', 0, 'SCMP_CMP_MASKED_EQ', 2114060288n, 0n]);
  });

  it('refuses notify and unknown actions clearly', () => {
    expect(() => seccompRecords({ defaultAction: 'SCMP_ACT_NOTIFY' })).toThrow(/not supported/);
    expect(() => seccompRecords({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_BOGUS' }] })).toThrow(/unknown action/);
  });
});
