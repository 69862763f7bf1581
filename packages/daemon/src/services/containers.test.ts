import { describe, expect, it } from 'vitest';
import { DetachScanner, InputGate, nameMatches } from './containers.js';

describe('InputGate: an exec\'s input before the process runs', () => {
  it('holds stdin, close and resizes in order until released, then passes them straight on', () => {
    const sent: object[] = [];
    const gate = new InputGate<{ stdin?: Uint8Array; closeStdin?: boolean }>((m) => sent.push(m));
    gate.push({ stdin: Buffer.from('abc\n') });
    gate.push({ closeStdin: true });
    expect(sent).toEqual([]);
    expect(gate.heldBytes).toBe(4);
    gate.release();
    expect(sent).toEqual([{ stdin: Buffer.from('abc\n') }, { closeStdin: true }]);
    gate.push({ stdin: Buffer.from('x') });
    expect(sent).toHaveLength(3);
  });

  it('is bounded: past the limit the client is paused, and resumed at release', () => {
    const flow: boolean[] = [];
    const gate = new InputGate<{ stdin?: Uint8Array }>(() => undefined, 8, (full) => flow.push(full));
    gate.push({ stdin: Buffer.alloc(5) });
    expect(flow).toEqual([]);
    gate.push({ stdin: Buffer.alloc(5) });
    expect(flow).toEqual([true]);
    gate.release();
    expect(flow).toEqual([true, false]);
  });
});

describe('DetachScanner', () => {
  it('finds ctrl-p ctrl-q across chunks', () => {
    const s = new DetachScanner(Buffer.from([0x10, 0x11]));
    expect(s.feed(Buffer.from([0x61, 0x10]))).toEqual({ pass: Buffer.from([0x61]), detach: false });
    expect(s.feed(Buffer.from([0x11])).detach).toBe(true);
  });
});

describe('ps --filter name', () => {
  it('is a regular expression on the name with and without its slash, as Docker', () => {
    expect(nameMatches('^s1$', '/s1')).toBe(true);
    expect(nameMatches('^s1$', '/always1')).toBe(false);
    expect(nameMatches('s1', '/always1')).toBe(true);
    expect(nameMatches('^/s1', '/s1')).toBe(true);
    expect(nameMatches('(', '/s1')).toBe(false);
  });
});
