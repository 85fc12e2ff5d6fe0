/**
 * Docker's go-units: human-readable sizes and durations, and size flags
 * ("32m", "1.5GB"). Output strings match go-units byte for byte.
 */
import { errors } from '../../errors/errors.js';
import { formatFloat } from './go-number.js';

const DECIMAL_ABBRS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function scaled(size: number, base: number, abbrs: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < abbrs.length - 1) {
    size /= base;
    i++;
  }
  return [size, abbrs[i]];
}

/** go-units HumanSizeWithPrecision: decimal units, `precision` significant digits ("%.*g%s"). */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  const [size, unit] = scaled(bytes, 1000, DECIMAL_ABBRS);
  return formatFloat(size, 'g', precision) + unit;
}

/**
 * Sizes as `docker images` / `docker ps` print them: HumanSizeWithPrecision(size, 3),
 * e.g. "0B", "999B", "1kB", "12.3kB", "1.23GB". (go-units' HumanSize, used by
 * `docker system df`, is precision 4.)
 */
export function humanSize(bytes: number): string {
  return humanSizeWithPrecision(bytes, 3);
}

/** go-units BytesSize: binary units, 4 significant digits ("44KiB", "17MiB"). */
export function bytesSize(bytes: number): string {
  const [size, unit] = scaled(bytes, 1024, BINARY_ABBRS);
  return formatFloat(size, 'g', 4) + unit;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** go-units HumanDuration of a duration in milliseconds ("Less than a second", "About an hour", "3 weeks"). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (!(seconds >= 1)) return 'Less than a second'; // negative, or NaN from an invalid date
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / HOUR + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / HOUR) / 24 / 365)} years`;
}

/** Docker's CREATED column: "2 hours ago". */
export function timeAgo(date: Date, now: Date = new Date()): string {
  return `${humanDuration(now.getTime() - date.getTime())} ago`;
}

/** Go's int64(f): truncation, and no negative zero. */
const toInt = (f: number): number => Math.trunc(f) + 0;

/** strconv.ParseFloat for the decimal forms a size flag can take. */
function parseGoFloat(s: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    throw errors.invalidArgument(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
  }
  return Number(s);
}

/**
 * go-units parseSize: a number, optionally a space, and an optional
 * case-insensitive suffix b, k, kb, kib, m, ... p (the "b"/"ib" is decoration;
 * `unit` decides whether k is 1000 or 1024). Fractions are truncated.
 */
export function parseSize(s: string, unit: 1000 | 1024): number {
  let num: string;
  let suffix: string;
  const space = s.indexOf(' ');
  if (space >= 0) {
    num = s.slice(0, space);
    suffix = s.slice(space + 1);
  } else {
    const sep = Math.max(...[...'0123456789.'].map((c) => s.lastIndexOf(c)));
    if (sep < 0) throw errors.invalidArgument(`invalid size: '${s}'`);
    num = s.slice(0, sep + 1);
    suffix = s.slice(sep + 1);
  }
  let size = parseGoFloat(num);
  if (size < 0) throw errors.invalidArgument(`invalid size: '${s}'`);
  if (suffix === '') return toInt(size);
  const badSuffix = (): never => {
    throw errors.invalidArgument(`invalid suffix: '${suffix.length > 3 ? suffix : suffix.toLowerCase()}'`);
  };
  if (suffix.length > 3) badSuffix();
  suffix = suffix.toLowerCase();
  if (suffix[0] === 'b') return suffix.length > 1 ? badSuffix() : toInt(size);
  const power = 'kmgtp'.indexOf(suffix[0]) + 1;
  if (power === 0) badSuffix();
  size *= unit ** power;
  if ((suffix.length === 2 && suffix[1] !== 'b') || (suffix.length === 3 && suffix.slice(1) !== 'ib')) badSuffix();
  return toInt(size);
}

/** go-units FromHumanSize: SI sizes, "32k" and "32kB" are 32000. */
export function fromHumanSize(s: string): number {
  return parseSize(s, 1000);
}

/** go-units RAMInBytes: binary sizes, as --memory and --shm-size take them; "32m" is 33554432. */
export function ramInBytes(s: string): number {
  return parseSize(s, 1024);
}
