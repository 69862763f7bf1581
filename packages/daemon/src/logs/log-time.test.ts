import { describe, expect, it } from 'vitest';
import { parseTimeNs, rfc3339Nano } from '../container/record.js';
import { before, instantOf, LogTimes } from './log-time.js';

const samples = [
  '2026-01-01T00:00:01.000000001Z', '2026-01-01T00:00:01.5Z', '2026-01-01T00:00:01Z', '2026-01-01T00:00:01.000000000Z',
  '2026-01-01T00:00:01.1234567891234Z', '2026-11-23T06:27:57.435001234Z', '2026-11-23T06:27:57.999999999Z',
  '1970-01-01T00:00:00Z', '2026-01-01T00:00:01.120Z',
];

describe('LogTimes', () => {
  it('reads times exactly as parseTimeNs and renders them as rfc3339Nano', () => {
    const t = new LogTimes();
    for (const s of [...samples, ...samples.reverse()]) {
      expect(t.ns(s)).toBe(parseTimeNs(s));
      expect(t.rfc3339(s)).toBe(rfc3339Nano(parseTimeNs(s)));
      const i = t.instant(s);
      expect(BigInt(i.ms) * 1_000_000n + BigInt(i.subNs)).toBe(parseTimeNs(s));
    }
  });

  it('takes what it cannot read as the epoch, as the reader always did for a missing time', () => {
    const t = new LogTimes();
    expect(t.ns('')).toBe(0n);
    expect(t.rfc3339('')).toBe('1970-01-01T00:00:00Z');
    expect(t.ns('not a time Z')).toBe(0n);
  });

  it('orders instants to the nanosecond', () => {
    const a = instantOf(1_700_000_000_123_456_789n);
    expect(before(a, instantOf(1_700_000_000_123_456_790n))).toBe(true);
    expect(before(a, a)).toBe(false);
    expect(before(instantOf(1_700_000_000_123_456_790n), a)).toBe(false);
    expect(instantOf(-1n)).toEqual({ ms: -1, subNs: 999_999 });
  });
});
