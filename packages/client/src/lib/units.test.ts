import { describe, expect, it } from 'vitest';
import { humanDuration, humanSize, parseGoDuration, parseTimestampNs, ramInBytes } from './units.js';

describe("Docker's units", () => {
  it('RAMInBytes: binary multiples, Docker\'s error', () => {
    expect(ramInBytes('512m')).toBe(512 * 1024 * 1024);
    expect(ramInBytes('1g')).toBe(1024 ** 3);
    expect(ramInBytes('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(ramInBytes('100')).toBe(100);
    expect(() => ramInBytes('lots')).toThrow("invalid size: 'lots'");
  });
  it('HumanSize (decimal, %.Ng) and HumanDuration as docker images/ps print them', () => {
    expect(humanSize(2_140_000, 3)).toBe('2.14MB');
    expect(humanSize(0, 3)).toBe('0B');
    expect(humanSize(999)).toBe('999B');
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(1000)).toBe('1 second');
    expect(humanDuration(90_000)).toBe('About a minute');
    expect(humanDuration(3 * 3600_000)).toBe('3 hours');
    expect(humanDuration(20 * 86400_000)).toBe('2 weeks');
  });
  it('Go durations and --since/--until timestamps', () => {
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('500ms')).toBe(500);
    expect(() => parseGoDuration('5x')).toThrow('time: invalid duration "5x"');
    expect(parseTimestampNs('1700000000.5')).toBe(1_700_000_000_500_000_000n);
    expect(parseTimestampNs('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000_000_000n);
    expect(parseTimestampNs('10m', 1_700_000_600_000)).toBe(1_700_000_000_000_000_000n);
  });
});
