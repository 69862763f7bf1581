import { describe, expect, it } from 'vitest';
import { lineBytes, parseLines } from './json-lines.js';

const l = (log: string, extra: object = {}): string => JSON.stringify({ log, stream: 'stdout', time: '2026-01-01T00:00:01Z', ...extra });

describe('parseLines', () => {
  it('parses a block of lines in order', () => {
    expect(parseLines([l('a\n'), l('b,c\n'), l('"]\n')].join('\n')).map((x) => x.log)).toEqual(['a\n', 'b,c\n', '"]\n']);
  });

  it('skips torn, empty and non-object lines, as one parse per line would', () => {
    expect(parseLines([l('a\n'), '{"log":"tor', '', l('b\n'), '5', '{"log":"x"},{"log":"y"}', l('c\n')].join('\n')).map((x) => x.log))
      .toEqual(['a\n', 'b\n', 'c\n']);
    expect(parseLines('')).toEqual([]);
  });

  it('gives the exact bytes of a log_b64 line', () => {
    const [x] = parseLines(l('\ufffd', { log_b64: Buffer.from([0xff, 0x0a]).toString('base64') }));
    expect(lineBytes(x!)).toEqual(Buffer.from([0xff, 0x0a]));
  });
});
