import type { Readable } from 'node:stream';
import { errors, isStrataError } from '../errors/errors.js';
import {
  BLOCK,
  PAX_XATTR,
  TarFormatError,
  decodeHeader,
  isZeroBlock,
  padding,
  parsePax,
  type EntryType,
  type RawHeader,
  type TarEntry,
} from './tarformat.js';

/** Larger bodies are refused outright rather than streamed until the disk fills. */
export const MAX_ENTRY_SIZE = 64 * 1024 ** 3;
/** PAX and GNU long-name headers are buffered whole, so they are capped. */
export const MAX_META_SIZE = 1024 * 1024;
/** PATH_MAX: no longer name can be created anyway. */
const MAX_NAME_BYTES = 4096;

const NO_XATTRS: Map<string, Buffer> = new Map();

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file: a regular file everywhere that matters
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
};

/**
 * Pull-based tar parser over an uncompressed stream. `next()` returns each
 * entry's header; the body is then read with `take()`/`fill()` (small bodies
 * are usually already buffered, so a 1 KB file needs no await at all). Any
 * unread body is skipped by the following `next()`.
 */
export class TarReader {
  /** Body bytes of the current entry not yet taken. */
  remaining = 0;
  private pad = 0;
  private chunks: Buffer[] = [];
  private head = 0; // read offset into chunks[0]
  private buffered = 0;
  private consumed = 0; // absolute offset of the next unread byte
  private ended = false;
  private last = ''; // name of the latest entry, for error messages
  private readonly source: AsyncIterator<Buffer | Uint8Array | string>;

  constructor(input: Readable) {
    this.source = input[Symbol.asyncIterator]();
  }

  /** The next entry, or null after the end-of-archive marker (the rest of the stream is drained). */
  async next(): Promise<TarEntry | null> {
    const rest = this.remaining + this.pad;
    if (rest > 0) {
      // Awaiting only when needed keeps the common, fully buffered case cheap.
      if (rest <= this.buffered) this.drop(rest);
      else await this.skip(rest);
      this.remaining = this.pad = 0;
    }
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Map<string, Buffer> | undefined;
    for (;;) {
      const block = this.buffered >= BLOCK ? this.read(BLOCK) : await this.block();
      if (isZeroBlock(block)) {
        // Like GNU tar, stop at the first zero block; drain so upstream
        // digest verifiers and decompressors see the whole stream.
        while (await this.pull()) this.drop(this.buffered);
        return null;
      }
      const raw = this.decode(block);
      switch (raw.typeflag) {
        case 'x':
          pax = this.pax(await this.meta(raw, 'PAX header'));
          continue;
        case 'g': // global PAX headers: Go and Docker ignore them, so do we
          await this.meta(raw, 'global PAX header');
          continue;
        case 'L':
          longName = cstr(await this.meta(raw, 'GNU long name'));
          continue;
        case 'K':
          longLink = cstr(await this.meta(raw, 'GNU long link name'));
          continue;
      }
      const entry = this.entry(raw, longName, longLink, pax);
      this.last = entry.name;
      this.remaining = entry.size;
      this.pad = padding(entry.size);
      return entry;
    }
  }

  /** The next buffered piece of the body without waiting, or null when nothing is buffered. */
  take(): Buffer | null {
    if (this.buffered === 0 || this.remaining === 0) return null;
    const first = this.chunks[0];
    const n = Math.min(this.remaining, first.length - this.head);
    const out = first.subarray(this.head, this.head + n);
    this.drop(n);
    this.remaining -= n;
    return out;
  }

  /** Waits for more body bytes; a stream ending inside the body is corrupt. */
  async fill(): Promise<void> {
    if (!(await this.pull())) throw this.corrupt(`layer entry "${this.last}": stream ends inside the entry's data (truncated layer)`);
  }

  private entry(raw: RawHeader, longName?: string, longLink?: string, pax?: Map<string, Buffer>): TarEntry {
    let name = longName ?? raw.name;
    let linkname = longLink ?? raw.linkname;
    let { size, uid, gid, mtime } = raw;
    let xattrs = NO_XATTRS;
    if (pax) {
      xattrs = new Map();
      for (const [key, value] of pax) {
        if (key.startsWith(PAX_XATTR)) xattrs.set(key.slice(PAX_XATTR.length), value);
        else if (key === 'path') name = value.toString('utf8');
        else if (key === 'linkpath') linkname = value.toString('utf8');
        else if (key === 'size') size = paxNumber(value, name, 'size');
        else if (key === 'uid') uid = paxNumber(value, name, 'uid');
        else if (key === 'gid') gid = paxNumber(value, name, 'gid');
        else if (key === 'mtime') mtime = paxTime(value, name);
        else if (key.startsWith('GNU.sparse.')) throw errors.unsupported(`layer entry "${name}": sparse files are not supported`);
      }
    }
    const type = TYPES[raw.typeflag];
    if (type === undefined) {
      throw errors.unsupported(`layer entry "${name}": unsupported tar entry type ${JSON.stringify(raw.typeflag)}`);
    }
    const hostile = (why: string) => errors.hostileArchive(`layer entry "${name}": ${why}`);
    if (name.includes('\0') || linkname.includes('\0')) throw hostile('name contains a NUL byte');
    if (Buffer.byteLength(name) > MAX_NAME_BYTES || Buffer.byteLength(linkname) > MAX_NAME_BYTES) {
      throw hostile(`name longer than ${MAX_NAME_BYTES} bytes`);
    }
    if (size > MAX_ENTRY_SIZE) throw hostile(`size ${size} exceeds the ${MAX_ENTRY_SIZE}-byte limit`);
    if (uid > 0xfffffffe || gid > 0xfffffffe) throw hostile(`uid/gid ${uid}/${gid} out of range`);
    // A '\0' typeflag with a trailing slash is a v7 directory (as in Go).
    const isDir = type === 'directory' || (raw.typeflag === '\0' && name.endsWith('/'));
    const finalType: EntryType = isDir ? 'directory' : type;
    return {
      name,
      type: finalType,
      mode: raw.mode & 0o7777,
      uid,
      gid,
      // Go's reader treats every type but regular files as header-only,
      // whatever the size field says; follow it so entry boundaries agree.
      size: finalType === 'file' ? size : 0,
      mtime,
      linkname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      xattrs,
    };
  }

  private decode(block: Buffer): RawHeader {
    try {
      return decodeHeader(block);
    } catch (e) {
      if (!(e instanceof TarFormatError)) throw e;
      throw this.corrupt(
        `layer tar: ${e.message} at byte ${this.consumed - BLOCK}${this.after()}; the stream is not an uncompressed tar or is corrupted`,
      );
    }
  }

  /** Reads a PAX/GNU metadata body, refusing absurd sizes before buffering. */
  private async meta(raw: RawHeader, what: string): Promise<Buffer> {
    if (raw.size > MAX_META_SIZE) {
      throw errors.hostileArchive(`layer entry "${raw.name}": ${what} of ${raw.size} bytes exceeds the ${MAX_META_SIZE}-byte limit`);
    }
    if (!(await this.ensure(raw.size + padding(raw.size)))) {
      throw this.corrupt(`layer tar: stream ends inside a ${what}${this.after()} (truncated layer)`);
    }
    const data = this.read(raw.size);
    this.drop(padding(raw.size));
    return data;
  }

  private pax(data: Buffer): Map<string, Buffer> {
    try {
      return parsePax(data);
    } catch (e) {
      if (e instanceof TarFormatError) throw this.corrupt(`layer tar: ${e.message}${this.after()}`);
      throw e;
    }
  }

  private async block(): Promise<Buffer> {
    if (!(await this.ensure(BLOCK))) {
      throw this.corrupt(
        this.buffered === 0
          ? `layer tar: stream ends without the end-of-archive marker${this.after()} (truncated layer)`
          : `layer tar: stream ends inside a header${this.after()} (truncated layer)`,
      );
    }
    return this.read(BLOCK);
  }

  private after(): string {
    return this.last ? ` (after entry "${this.last}")` : '';
  }

  private async ensure(n: number): Promise<boolean> {
    while (this.buffered < n) if (!(await this.pull())) return false;
    return true;
  }

  /** Buffers one more chunk; false at end of stream. */
  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    let r: IteratorResult<Buffer | Uint8Array | string>;
    try {
      r = await this.source.next();
    } catch (e) {
      if (isStrataError(e) || (e as Error).name === 'AbortError') throw e;
      throw this.corrupt(`reading layer stream${this.after()}: ${(e as Error).message}`, e);
    }
    if (r.done) {
      this.ended = true;
      return false;
    }
    const v = r.value;
    const chunk = Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  /** Reads n buffered bytes as one Buffer (copying only when it spans chunks). */
  private read(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.drop(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0];
      const k = Math.min(n - off, c.length - this.head);
      c.copy(out, off, this.head, this.head + k);
      off += k;
      this.drop(k);
    }
    return out;
  }

  private drop(n: number): void {
    this.buffered -= n;
    this.consumed += n;
    while (n > 0) {
      const avail = this.chunks[0].length - this.head;
      if (n < avail) {
        this.head += n;
        return;
      }
      n -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }

  private async skip(n: number): Promise<void> {
    while (n > 0) {
      if (this.buffered === 0 && !(await this.pull())) {
        throw this.corrupt(`layer entry "${this.last}": stream ends inside the entry's data (truncated layer)`);
      }
      const k = Math.min(n, this.buffered);
      this.drop(k);
      n -= k;
    }
  }

  private corrupt(message: string, cause?: unknown) {
    return errors.corruptArchive(message, cause === undefined ? undefined : { cause });
  }
}

function cstr(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

function paxNumber(value: Buffer, name: string, key: string): number {
  const s = value.toString('latin1');
  if (!/^[0-9]{1,20}$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw errors.corruptArchive(`layer entry "${name}": invalid PAX ${key} ${JSON.stringify(s)}`);
  }
  return Number(s);
}

function paxTime(value: Buffer, name: string): number {
  const s = value.toString('latin1');
  if (!/^-?[0-9]{1,20}(\.[0-9]*)?$/.test(s)) throw errors.corruptArchive(`layer entry "${name}": invalid PAX mtime ${JSON.stringify(s)}`);
  return Number(s);
}
