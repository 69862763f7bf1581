// fmt.Sprintf results as Go prints them (values from Go's fmt_test.go and the Go playground).
import { describe, expect, it } from 'vitest';
import { formatFloat, goQuote, sprint, sprintf } from './go-fmt.js';

const cases: [string, unknown[], string][] = [
  ['%d', [42], '42'],
  ['%5d|%-5d|%05d', [42, 42, 42], '   42|42   |00042'],
  ['%+d % d %+d', [5, 5, -5], '+5  5 -5'],
  ['%.3d', [7], '007'],
  ['%06d', [-42], '-00042'],
  ['%x %X %#x %o %#o %O %b', [255, 255, 255, 8, 8, 8, 5], 'ff FF 0xff 10 010 0o10 101'],
  ['%x', [-255], '-ff'],
  ['%c %q %U %#U', [0x41, 0x41, 0x41, 0x263a], "A 'A' U+0041 U+263A '☺'"],
  ['%s|%10s|%-10s|%.2s', ['hello', 'hello', 'hello', 'hello'], 'hello|     hello|hello     |he'],
  ['%5s|', ['日本'], '   日本|'],
  ['%q', ['a"b\\c\n\t\x00é☺'], '"a\\"b\\\\c\\n\\t\\x00é☺"'],
  ['%+q', ['é☺'], '"\\u00e9\\u263a"'],
  ['%#q', ['back`tick'], '"back`tick"'],
  ['%#q', ['raw'], '`raw`'],
  ['%x % x %X %#x', ['hi', 'hi', 'hi', 'hi'], '6869 68 69 6869 0x6869'],
  ['%v %t', [true, false], 'true false'],
  ['%v', [null], '<nil>'],
  ['%s', [null], '%!s(<nil>)'],
  ['%d', ['x'], '%!d(string=x)'],
  ['%s', [1.5], '%!s(float64=1.5)'],
  ['%d', [1.5], '%!d(float64=1.5)'],
  ['%!', [], '%!!(MISSING)'],
  ['%', [], '%!(NOVERB)'],
  ['%d %d', [1], '1 %!d(MISSING)'],
  ['%d', [1, 'a', 2], '1%!(EXTRA string=a, int=2)'],
  ['%[2]d %[1]d', [1, 2], '2 1'],
  ['%[3]d', [1, 2], '%!d(BADINDEX)'],
  ['%*d|%-*d', [5, 1, 5, 1], '    1|1    '],
  ['%.*f', [2, 3.14159], '3.14'],
  ['%v', [[1, 'a', null]], '[1 a <nil>]'],
  ['%d', [[1, 2]], '[1 2]'],
  ['%3d', [[1, 2]], '[  1   2]'],
  ['%s', [[1]], '[%!s(int=1)]'],
  ['%v', [{ b: 1, a: [2] }], 'map[a:[2] b:1]'],
  ['%q', [{ k: 'v' }], 'map["k":"v"]'],
  ['%T %T %T %T', [1, 'a', [1], null], 'int string []interface {} <nil>'],
  ['%%|%5%|', [], '%|%|'],
  // floats: exact binary value, round half to even
  ['%f', [3.14159], '3.141590'],
  ['%.2f %.0f %.0f %.0f', [0.125, 2.5, 3.5, 0.5], '0.12 2 4 0'],
  ['%.1f', [0.05], '0.1'],
  ['%.2f', [1.005], '1.00'],
  ['%8.3f|%-8.3f|%08.3f', [3.14159, 3.14159, -3.14159], '   3.142|3.142   |-003.142'],
  ['%+.1f', [2], '+2.0'],
  ['%e %E %.2e', [1234.5678, 1234.5678, 1234.5678], '1.234568e+03 1.234568E+03 1.23e+03'],
  ['%e', [0], '0.000000e+00'],
  ['%g %g %g %g %g', [1.5, 100000, 1e6, 1e-4, 1e-5], '1.5 100000 1e+06 0.0001 1e-05'],
  ['%v %v %v', [1234567.5, 0.000012, 1e21], '1.2345675e+06 1.2e-05 1e+21'],
  ['%.3g %.3g %.2g %.10g', [3.14159, 1234.5, 100, 1.5], '3.14 1.23e+03 1e+02 1.5'],
  ['%f %v %v', [Infinity, -Infinity, NaN], '+Inf -Inf NaN'],
  ['%5.1f|', [-0.04], ' -0.0|'],
  ['%.2f', [2], '2.00'],
  ['%6.2f%%', [45.678], ' 45.68%'],
];

describe('sprintf', () => {
  it.each(cases)('%s %j', (format, args, expected) => {
    expect(sprintf(format, args)).toBe(expected);
  });
});

describe('sprint, formatFloat, goQuote', () => {
  it('Sprint puts spaces only between non-string operands', () => {
    expect(sprint([1, 2, 'a', 'b', 3, true])).toBe('1 2ab3 true');
  });

  it('formatFloat matches strconv.FormatFloat', () => {
    expect(formatFloat(123456789, 'g', -1)).toBe('1.23456789e+08');
    expect(formatFloat(0.1 + 0.2, 'g', -1)).toBe('0.30000000000000004');
    expect(formatFloat(1 / 3, 'f', 20)).toBe('0.33333333333333331483');
    expect(formatFloat(5e-324, 'e', 3)).toBe('4.941e-324');
    expect(formatFloat(-0, 'g', -1)).toBe('-0');
  });

  it('goQuote escapes as strconv.Quote', () => {
    expect(goQuote('\x07\x7f\u200b😀')).toBe('"\\a\\x7f\\u200b😀"');
  });
});
