import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStrataError } from '../../src/errors/errors.js';
import { bytesSize, fromHumanSize, humanDuration, humanSize, humanSizeWithPrecision, ramInBytes, timeAgo } from '../../src/cli/format/units.js';

const KB = 1000;
const MB = 1000 * KB;
const GB = 1000 * MB;
const TB = 1000 * GB;
const PB = 1000 * TB;
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const PiB = 1024 * TiB;

describe('humanSize (docker images / docker ps: 3 significant digits)', () => {
  const cases: Array<[number, string]> = [
    [0, '0B'],
    [1, '1B'],
    [999, '999B'],
    [1000, '1kB'],
    [1024, '1.02kB'],
    [1500, '1.5kB'],
    [12_300, '12.3kB'],
    [12_250, '12.2kB'], // an exact tie rounds to even, as Go does
    [12_350, '12.3kB'], // 12.35 is 12.3499999... as a double
    [12_750, '12.8kB'],
    [123_456, '123kB'],
    [999_499, '999kB'],
    [999_500, '1e+03kB'], // Go's %.3g, which docker really prints
    [5 * MB, '5MB'],
    [7_654_321, '7.65MB'],
    [1.23 * GB, '1.23GB'],
    [72_900_000, '72.9MB'],
    [2.5 * TB, '2.5TB'],
    [1e27, '1e+03YB'],
  ];
  for (const [bytes, want] of cases) it(`${bytes} -> ${want}`, () => assert.equal(humanSize(bytes), want));

  it('precision 4 matches go-units HumanSize', () => {
    const p4: Array<[number, string]> = [
      [1000, '1kB'],
      [1024, '1.024kB'],
      [1_000_000, '1MB'],
      [1_048_576, '1.049MB'],
      [2 * MB, '2MB'],
      [3.42 * GB, '3.42GB'],
      [5.372 * TB, '5.372TB'],
      [2.22 * PB, '2.22PB'],
      [10_000_000_000_000 * PB, '1e+04YB'],
    ];
    for (const [bytes, want] of p4) assert.equal(humanSizeWithPrecision(bytes, 4), want);
  });
});

describe('bytesSize', () => {
  it('matches go-units BytesSize', () => {
    const cases: Array<[number, string]> = [
      [0, '0B'],
      [1023, '1023B'],
      [1024, '1KiB'],
      [1024 * 1024, '1MiB'],
      [2 * MiB, '2MiB'],
      [3.42 * GiB, '3.42GiB'],
      [5.372 * TiB, '5.372TiB'],
      [2.22 * PiB, '2.22PiB'],
      [KiB * KiB * KiB * KiB * KiB * PiB, '1.049e+06YiB'],
    ];
    for (const [bytes, want] of cases) assert.equal(bytesSize(bytes), want);
  });
});

describe('humanDuration', () => {
  const s = 1000;
  const min = 60 * s;
  const h = 60 * min;
  const day = 24 * h;
  const week = 7 * day;
  const month = 30 * day;
  const year = 365 * day;
  const cases: Array<[number, string]> = [
    [-5 * s, 'Less than a second'],
    [450, 'Less than a second'],
    [1 * s, '1 second'],
    [45 * s, '45 seconds'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [3 * min, '3 minutes'],
    [35 * min + 40 * s, '35 minutes'],
    [59 * min, '59 minutes'],
    [1 * h, 'About an hour'],
    [1 * h + 29 * min, 'About an hour'],
    [1 * h + 31 * min, '2 hours'],
    [3 * h + 29 * min, '3 hours'],
    [3 * h + 31 * min, '4 hours'],
    [24 * h, '24 hours'],
    [day + 12 * h, '36 hours'],
    [2 * day, '2 days'],
    [7 * day, '7 days'],
    [13 * day + 5 * h, '13 days'],
    [2 * week, '2 weeks'],
    [2 * week + 4 * day, '2 weeks'],
    [4 * week + 3 * day, '4 weeks'],
    [1 * month, '4 weeks'],
    [month + 2 * week, '6 weeks'],
    [2 * month, '2 months'],
    [5 * month + 2 * week, '5 months'],
    [13 * month, '13 months'],
    [24 * month, '24 months'],
    [24 * month + 2 * week, '2 years'],
    [3 * year + 2 * month, '3 years'],
  ];
  for (const [ms, want] of cases) it(`${ms}ms -> ${want}`, () => assert.equal(humanDuration(ms), want));

  it('timeAgo appends " ago"', () => {
    const now = new Date('2024-05-01T12:00:00Z');
    assert.equal(timeAgo(new Date('2024-05-01T10:00:00Z'), now), '2 hours ago');
    assert.equal(timeAgo(new Date('2024-04-30T12:00:00Z'), now), '24 hours ago');
    assert.equal(timeAgo(new Date('2024-05-01T12:00:05Z'), now), 'Less than a second ago');
  });
});

function rejects(f: () => unknown, message: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(isStrataError(e, 'InvalidArgument'));
    assert.equal(e.message, message);
    return true;
  });
}

describe('fromHumanSize and ramInBytes', () => {
  it('parses decimal sizes like go-units FromHumanSize', () => {
    const cases: Array<[string, number]> = [
      ['0', 0],
      ['0b', 0],
      ['0 B', 0],
      ['0 ', 0],
      ['-0', 0],
      ['-0 b', 0],
      ['32', 32],
      ['32b', 32],
      ['32B', 32],
      ['32k', 32 * KB],
      ['32K', 32 * KB],
      ['32kb', 32 * KB],
      ['32Kb', 32 * KB],
      ['32Mb', 32 * MB],
      ['32Gb', 32 * GB],
      ['32Tb', 32 * TB],
      ['32Pb', 32 * PB],
      ['32.5kB', 32.5 * KB],
      ['32.5 kB', 32.5 * KB],
      ['32.5 B', 32],
      ['0.3 K', 300],
      ['.3kB', 300],
      ['0.', 0],
      ['32.', 32],
      ['32. B', 32],
      ['1e3', 1000],
    ];
    for (const [input, want] of cases) assert.equal(fromHumanSize(input), want, input);
  });

  it('parses binary sizes like go-units RAMInBytes', () => {
    const cases: Array<[string, number]> = [
      ['32', 32],
      ['32k', 32 * KiB],
      ['32Kib', 32 * KiB],
      ['32KIB', 32 * KiB],
      ['32m', 32 * MiB],
      ['1g', GiB],
      ['32Tb', 32 * TiB],
      ['32PB', 32 * PiB],
      ['32P', 32 * PiB],
      ['32.3', 32],
      ['32.3 mb', Math.trunc(32.3 * MiB)],
      ['0.3MB', Math.trunc(0.3 * MiB)],
    ];
    for (const [input, want] of cases) assert.equal(ramInBytes(input), want, input);
  });

  it('rejects what go-units rejects, with its messages', () => {
    rejects(() => fromHumanSize(''), "invalid size: ''");
    rejects(() => fromHumanSize('hello'), "invalid size: 'hello'");
    rejects(() => fromHumanSize('-32'), "invalid size: '-32'");
    rejects(() => fromHumanSize('-32 B'), "invalid size: '-32 B'");
    rejects(() => fromHumanSize('.'), 'strconv.ParseFloat: parsing ".": invalid syntax');
    rejects(() => fromHumanSize(' 0'), 'strconv.ParseFloat: parsing "": invalid syntax');
    rejects(() => fromHumanSize(' 32 '), 'strconv.ParseFloat: parsing "": invalid syntax');
    rejects(() => fromHumanSize('32m b'), 'strconv.ParseFloat: parsing "32m": invalid syntax');
    rejects(() => fromHumanSize('32b.'), 'strconv.ParseFloat: parsing "32b.": invalid syntax');
    rejects(() => fromHumanSize('0b '), 'strconv.ParseFloat: parsing "0b": invalid syntax');
    rejects(() => fromHumanSize('32 bb'), "invalid suffix: 'bb'");
    rejects(() => fromHumanSize('32 B B'), "invalid suffix: 'b b'");
    rejects(() => fromHumanSize('32  b'), "invalid suffix: ' b'");
    rejects(() => fromHumanSize('32bm'), "invalid suffix: 'bm'");
    rejects(() => ramInBytes('32x'), "invalid suffix: 'x'");
    rejects(() => ramInBytes('32kbb'), "invalid suffix: 'kbb'");
    rejects(() => ramInBytes('32 KiBs'), "invalid suffix: 'KiBs'");
    rejects(() => ramInBytes('32mi'), "invalid suffix: 'mi'");
  });
});
