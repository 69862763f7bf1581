import { describe, expect, it } from 'vitest';
import { ALLOWED, assertAllowed } from './status.js';
import { parseSignal } from './kill.js';

describe('container state machine', () => {
  it('allows what the table says and refuses the rest with the state named', () => {
    expect(() => assertAllowed('start', 'created', 'c1')).not.toThrow();
    expect(() => assertAllowed('start', 'running', 'c1')).toThrow('cannot start container c1: it is running');
    expect(() => assertAllowed('delete', 'running', 'c1')).toThrow(/--force/);
    expect(() => assertAllowed('exec', 'paused', 'c1')).toThrow(/paused/);
  });

  it('lets nothing but delete touch a stopped container', () => {
    const ops = Object.entries(ALLOWED).filter(([, states]) => states.includes('stopped')).map(([op]) => op);
    expect(ops).toEqual(['delete']);
  });

  it('parses signals as runc does', () => {
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('sigusr1')).toBe(10);
    expect(parseSignal(undefined)).toBe(15);
    expect(() => parseSignal('NOPE')).toThrow(/unknown signal/);
  });
});
