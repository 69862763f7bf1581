import { status as Code } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { type Claim, SpareControl } from './spare.js';

const claim: Claim = { namespace: 'default', id: 'c1', bundle: '/b/c1', socket: '/s/abc.sock', runtime: 'berth-runc', debug: false };

function make(become: (c: Claim) => Promise<void> = async () => {}) {
  const calls: string[] = [];
  const control = new SpareControl({
    become: async (c) => {
      calls.push(`become ${c.namespace}/${c.id}`);
      await become(c);
      return { protocol: 2, shimPid: 1 };
    },
    release: () => calls.push('release'),
    retire: (why) => calls.push(`retire: ${why}`),
  });
  return { control, calls };
}

describe('SpareControl (the claim state machine)', () => {
  it('waiting → claiming → claimed on Claim: becomes the shim, then stops serving Spare', async () => {
    const { control, calls } = make();
    expect(control.state).toBe('waiting');
    const p = control.claim(claim);
    expect(control.state).toBe('claiming');
    expect(await p).toEqual({ protocol: 2, shimPid: 1 });
    expect(control.state).toBe('claimed');
    expect(calls).toEqual(['become default/c1', 'release']);
  });

  it('is claimed at most once: a second Claim, even while the first runs, is refused', async () => {
    const { control } = make();
    const first = control.claim(claim);
    await expect(control.claim({ ...claim, id: 'c2' })).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
    await first;
    await expect(control.claim({ ...claim, id: 'c3' })).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
  });

  it('a failed claim retires the spare (its files may be half-written) and reports the error', async () => {
    const { control, calls } = make(async () => { throw new Error('/s/abc.sock is in use by a live process'); });
    await expect(control.claim(claim)).rejects.toThrow(/in use/);
    expect(control.state).toBe('retiring');
    expect(calls[1]).toMatch(/^retire: claim of default\/c1 failed: .*in use/);
    await expect(control.claim(claim)).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
  });

  it('Retire ends a waiting spare (twice is fine) but never a claimed one', async () => {
    const a = make();
    expect(a.control.retire('asked').shimPid).toBe(process.pid);
    a.control.retire('again');
    expect(a.calls).toEqual(['retire: asked']);
    await expect(a.control.claim(claim)).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
    const b = make();
    await b.control.claim(claim);
    expect(() => b.control.retire('asked')).toThrow(/claimed/);
    expect(b.control.state).toBe('claimed');
  });

  it('refuses a claim without a container', async () => {
    const { control } = make();
    await expect(control.claim({ ...claim, socket: '' })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    expect(control.state).toBe('waiting');
  });
});
