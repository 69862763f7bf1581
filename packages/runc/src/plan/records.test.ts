import { describe, expect, it } from 'vitest';
import { decodeField, decodeRecord, encodeField, encodePlan, encodeRecord } from './records.js';

describe('plan record encoding', () => {
  it('escapes space, percent, control and non-ASCII bytes', () => {
    expect(encodeField('a b%c\n')).toBe('a%20b%25c%0A');
    expect(encodeField('é')).toBe('%C3%A9');
    expect(encodeField('')).toBe('%');
  });

  it('round-trips any string', () => {
    for (const s of ['', '%', ' ', 'PATH=/bin:/usr/bin', 'x\ty\u0000z', '日本', '%25']) {
      expect(decodeField(encodeField(s))).toBe(s);
    }
  });

  it('joins fields with spaces, one record per line, framed by version and end', () => {
    expect(encodeRecord(['arg', 'echo hi'])).toBe('arg echo%20hi\n');
    expect(decodeRecord('mount proc /proc proc 14 % 0')).toEqual(['mount', 'proc', '/proc', 'proc', '14', '', '0']);
    expect(encodePlan([['mode', 'create']])).toBe('berth-init 1\nmode create\nend\n');
  });
});
