import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printValue, quote, sprint, sprintf, sprintln } from '../../src/cli/format/go-fmt.js';
import { formatFloat } from '../../src/cli/format/go-number.js';
import { goJSON } from '../../src/cli/format/go-value.js';

describe('Go float formatting', () => {
  it('%v is the shortest %g with exponents from 1e+06 and below 1e-04', () => {
    const cases: Array<[number, string]> = [
      [1.5, '1.5'],
      [-1.5, '-1.5'],
      [0.1, '0.1'],
      [1 / 3, '0.3333333333333333'],
      [123456.5, '123456.5'],
      [1234567.5, '1.2345675e+06'],
      [1e21, '1e+21'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [0, '0'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
      [NaN, 'NaN'],
    ];
    for (const [x, want] of cases) assert.equal(formatFloat(x, 'g', -1), want, String(x));
  });

  it('rounds exact ties to even and everything else to nearest', () => {
    const cases: Array<[number, 'e' | 'f' | 'g', number, string]> = [
      [0.25, 'f', 1, '0.2'],
      [0.35, 'f', 1, '0.3'], // 0.34999... in binary
      [0.5, 'f', 0, '0'],
      [1.5, 'f', 0, '2'],
      [2.5, 'f', 0, '2'],
      [1.0005, 'f', 3, '1.000'], // 1.000499999...
      [2.0005, 'f', 3, '2.001'], // 2.000500000...2
      [1234.5678, 'e', 2, '1.23e+03'],
      [0, 'e', 0, '0e+00'],
      [12.25, 'g', 3, '12.2'],
      [12.75, 'g', 3, '12.8'],
      [999.5, 'g', 3, '1e+03'],
      [100, 'g', 3, '100'],
      [0.000012345, 'g', 3, '1.23e-05'],
      [0, 'g', 3, '0'],
      [5, 'g', 3, '5'],
    ];
    for (const [x, verb, prec, want] of cases) assert.equal(formatFloat(x, verb, prec), want, `${x} %.${prec}${verb}`);
  });
});

describe('Sprintf', () => {
  const cases: Array<[string, unknown[], string]> = [
    ['%s|%v|%d', ['a', 'b', 42], 'a|b|42'],
    ['%08.3f|%+d|%x|% d', [-3.14159, 5, -255, 7], '-003.142|+5|-ff| 7'],
    ['%5.1s|%-4d|%04d', ['abc', 7, -7], '    a|7   |-007'],
    ['%q|%+q|%q', ['a"b\n', 'é', 'tab\there\x01'], '"a\\"b\\n"|"\\u00e9"|"tab\\there\\x01"'],
    ['%c%c|%q', [72, 105, 65], "Hi|'A'"],
    ['%v|%s|%d', [null, null, null], '<nil>|%!s(<nil>)|%!d(<nil>)'],
    ['%z', [1], '%!z(int=1)'],
    ['%d', [1.5], '%!d(float64=1.5)'],
    ['%s', [[1, 'a']], '[%!s(int=1) a]'],
    ['%v', [{ k: [1, 2], a: true }], 'map[a:true k:[1 2]]'],
    ['%6.2f%%', [99.5], ' 99.50%'],
    ['%*d|%-*d|', [4, 1, 3, 2], '   1|2  |'],
    ['%.3g|%g|%e', [1234.5, 0.5, 1500], '1.23e+03|0.5|1.500000e+03'],
    ['%d', [], '%!d(MISSING)'],
    ['end%', [], 'end%!(NOVERB)'],
  ];
  for (const [format, args, want] of cases) it(`${format} ${JSON.stringify(args)}`, () => assert.equal(sprintf(format, args), want));

  it('Sprint spaces operands only when neither is a string; Sprintln always', () => {
    assert.equal(sprint([1, 2, 'a', 3, 'b', 'c', true]), '1 2a3bctrue');
    assert.equal(sprintln(['a', 1, 'b']), 'a 1 b\n');
  });

  it('prints values like %v', () => {
    assert.equal(printValue(new Map<unknown, unknown>([[2, 'b'], [1, 'a']])), 'map[1:a 2:b]');
    assert.equal(printValue([[1], { x: null }]), '[[1] map[x:<nil>]]');
    assert.equal(printValue(new Date('2024-05-06T07:08:09.120Z')), '2024-05-06 07:08:09.12 +0000 UTC');
    assert.equal(printValue(10n ** 20n), '100000000000000000000');
    class Point {
      x = 1;
      y = 'two';
    }
    assert.equal(printValue(new Point()), '{1 two}');
  });

  it('quotes like strconv.Quote', () => {
    assert.equal(quote('plain'), '"plain"');
    assert.equal(quote('\x07\x7f\u00a0日本\u{1f600}'), '"\\a\\x7f\\u00a0日本\u{1f600}"');
    assert.equal(quote('日本', '"', true), '"\\u65e5\\u672c"');
  });
});

describe('json', () => {
  it('encodes like encoding/json without HTML escaping, map keys sorted', () => {
    assert.equal(goJSON({ b: 1, a: [true, null, 'x<y>&'], c: { z: 1.5, y: undefined } }), '{"a":[true,null,"x<y>&"],"b":1,"c":{"y":null,"z":1.5}}');
    assert.equal(goJSON(new Date('2024-01-02T03:04:05.500Z')), '"2024-01-02T03:04:05.5Z"');
    assert.equal(goJSON('line\u2028sep\n'), '"line\\u2028sep\\n"');
    assert.equal(goJSON(new Map([['k', 1]])), '{"k":1}');
    assert.equal(goJSON({ toJSON: () => 'custom' }), '"custom"');
  });
});
