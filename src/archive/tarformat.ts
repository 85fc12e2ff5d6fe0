/**
 * The tar wire format shared by the layer reader and writer: 512-byte ustar
 * headers (also GNU and v7 on input) and PAX extended records.
 *
 * We keep our own codec instead of tar-stream's because layers need things it
 * cannot do: PAX values are raw bytes (security.capability is binary and
 * tar-stream decodes/encodes PAX as UTF-8), PAX uid/gid/mtime must be honoured,
 * numeric fields must not silently saturate (tar-stream writes uid 262144+ as
 * 262143 and mode 0 as 0644), and entry boundaries must match Go's archive/tar,
 * which Docker uses, so a crafted tar cannot be read differently by the two.
 */

export const BLOCK = 512;

export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';

export interface TarEntry {
  name: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky; never file-type bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Body length; always 0 for types other than 'file'. */
  size: number;
  /** Seconds since the epoch (PAX may carry a fraction). */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from SCHILY.xattr.* records, values as raw bytes. */
  xattrs: Map<string, Buffer>;
}

/** Header fields as they sit in one 512-byte block, before PAX/GNU overrides. */
export interface RawHeader {
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

export const PAX_XATTR = 'SCHILY.xattr.';

/** Thrown for malformed headers; the reader turns it into corruptArchive with context. */
export class TarFormatError extends Error {}

const USTAR_MAGIC = Buffer.from('ustar\x0000', 'latin1');
const GNU_MAGIC = Buffer.from('ustar  \x00', 'latin1');

function hasMagic(block: Buffer, magic: Buffer): boolean {
  for (let i = 0; i < 8; i++) if (block[257 + i] !== magic[i]) return false;
  return true;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function cstring(block: Buffer, start: number, len: number): string {
  let end = start;
  while (end < start + len && block[end] !== 0) end++;
  return block.toString('utf8', start, end);
}

/** Octal (trimmed of spaces/NULs, as Go does) or GNU base-256 when the high bit is set. */
function numeric(block: Buffer, start: number, len: number, field: string): number {
  if (block[start] & 0x80) {
    if (block[start] !== 0x80) throw new TarFormatError(`negative or oversized base-256 ${field}`);
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + block[i];
    if (!Number.isSafeInteger(v)) throw new TarFormatError(`${field} is too large`);
    return v;
  }
  let s = start;
  let e = start + len;
  while (s < e && (block[s] === 0x20 || block[s] === 0)) s++;
  while (e > s && (block[e - 1] === 0x20 || block[e - 1] === 0)) e--;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = block[i] - 0x30;
    if (d < 0 || d > 7) throw new TarFormatError(`invalid octal ${field}`);
    v = v * 8 + d;
  }
  return v;
}

const scratch = Buffer.alloc(BLOCK);
const words = new Uint32Array(scratch.buffer, scratch.byteOffset, BLOCK / 4);

/**
 * Sum of the header bytes with the checksum field counted as spaces. Headers
 * are summed four bytes at a time in two 16-bit lanes (128 words cannot
 * overflow a lane); this is most of the parsing cost for small files.
 */
function unsignedSum(block: Buffer): number {
  block.copy(scratch, 0, 0, BLOCK);
  let lanes = 0;
  for (let i = 0; i < BLOCK / 4; i++) {
    if (i === 37) i = 39; // bytes 148..155: the checksum field
    const w = words[i];
    lanes += (w & 0x00ff00ff) + ((w >>> 8) & 0x00ff00ff);
  }
  return (lanes % 65536) + Math.floor(lanes / 65536) + 8 * 0x20;
}

function checksumOk(block: Buffer): boolean {
  const stored = numeric(block, 148, 8, 'checksum');
  const unsigned = unsignedSum(block);
  if (stored === unsigned) return true;
  // Some historic writers summed signed bytes; Go accepts both, so do we.
  let high = 0;
  for (let i = 0; i < BLOCK; i++) if (block[i] > 127 && (i < 148 || i >= 156)) high++;
  return stored === unsigned - 256 * high;
}

/** Decodes one non-zero header block (ustar, GNU or v7). */
export function decodeHeader(block: Buffer): RawHeader {
  if (!checksumOk(block)) throw new TarFormatError('header checksum mismatch');
  const ustar = hasMagic(block, USTAR_MAGIC);
  const gnu = !ustar && hasMagic(block, GNU_MAGIC);
  let name = cstring(block, 0, 100);
  // Only POSIX ustar has a prefix field; GNU keeps atime/ctime there.
  if (ustar && block[345] !== 0) name = `${cstring(block, 345, 155)}/${name}`;
  const modern = ustar || gnu;
  return {
    name,
    typeflag: String.fromCharCode(block[156]),
    mode: numeric(block, 100, 8, 'mode'),
    uid: numeric(block, 108, 8, 'uid'),
    gid: numeric(block, 116, 8, 'gid'),
    size: numeric(block, 124, 12, 'size'),
    mtime: numeric(block, 136, 12, 'mtime'),
    linkname: cstring(block, 157, 100),
    devmajor: modern ? numeric(block, 329, 8, 'devmajor') : 0,
    devminor: modern ? numeric(block, 337, 8, 'devminor') : 0,
  };
}

/** Parses "<len> <key>=<value>\n" records; values stay raw bytes. */
export function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) break; // NUL padding after the last record
    const sp = data.indexOf(0x20, off);
    const len = sp < 0 ? NaN : Number(data.toString('latin1', off, sp));
    if (!Number.isInteger(len) || len <= sp - off + 1 || off + len > data.length || data[off + len - 1] !== 0x0a) {
      throw new TarFormatError('malformed PAX record');
    }
    const eq = data.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= off + len) throw new TarFormatError('malformed PAX record (no "=")');
    records.set(data.toString('utf8', sp + 1, eq), data.subarray(eq + 1, off + len - 1));
    off += len;
  }
  return records;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.byteLength(key) + value.length + 3; // ' ', '=', '\n'
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len++;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

/** Encodes PAX records in sorted key order (as Go does) so output is deterministic. */
export function encodePax(records: Map<string, Buffer>): Buffer {
  const keys = [...records.keys()].sort();
  return Buffer.concat(keys.map((k) => paxRecord(k, records.get(k)!)));
}

export const TYPEFLAGS: Record<EntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};

/** Largest value an octal field of `len` bytes holds (len-1 digits plus NUL). */
export function octalMax(len: number): number {
  return 8 ** (len - 1) - 1;
}

function putString(block: Buffer, s: string | Buffer, start: number, len: number): void {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  b.copy(block, start, 0, Math.min(len, b.length));
}

function putOctal(block: Buffer, v: number, start: number, len: number): void {
  const digits = v <= octalMax(len) && v >= 0 ? Math.floor(v).toString(8) : '0';
  block.write(digits.padStart(len - 1, '0'), start, 'latin1');
  block[start + len - 1] = 0;
}

export interface HeaderFields {
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/**
 * Encodes a ustar header the way Go's archive/tar does in PAX mode. Values that
 * do not fit must already be in a preceding PAX header; here they become 0 and
 * names are truncated to their field.
 */
export function encodeHeader(h: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  putString(block, h.name, 0, 100);
  putOctal(block, h.mode, 100, 8);
  putOctal(block, h.uid, 108, 8);
  putOctal(block, h.gid, 116, 8);
  putOctal(block, h.size, 124, 12);
  putOctal(block, h.mtime, 136, 12);
  block.write(h.typeflag, 156, 'latin1');
  putString(block, h.linkname, 157, 100);
  USTAR_MAGIC.copy(block, 257);
  putOctal(block, h.devmajor, 329, 8);
  putOctal(block, h.devminor, 337, 8);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i];
  block.write(sum.toString(8).padStart(6, '0'), 148, 'latin1');
  block[154] = 0;
  block[155] = 0x20;
  return block;
}

/** Zero bytes needed after `size` bytes of body to reach a block boundary. */
export function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}
