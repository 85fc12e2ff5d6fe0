import { closeSync, constants, lstatSync, openSync, readSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { errors, isStrataError } from '../errors/errors.js';
import type { LayerFormat } from './apply.js';
import {
  BLOCK,
  PAX_XATTR,
  TYPEFLAGS,
  encodeHeader,
  encodePax,
  octalMax,
  padding,
  type EntryType,
  type HeaderFields,
} from './tarformat.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, isOverlayOpaque, isOverlayWhiteout } from './whiteouts.js';
import { readXattrs } from './xattrs.js';

/** Bodies up to this size are read whole and batched with their header. */
const SMALL_FILE = 1024 * 1024;
/** Output is handed out in pieces of about this size. */
const BATCH = 256 * 1024;
const ZEROS = Buffer.alloc(2 * BLOCK);

interface Entry {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

/**
 * Archives `dir` as a layer tar the way Docker writes one: a depth-first walk
 * with names sorted inside each directory, relative names without "./",
 * directories with a trailing "/", the root itself omitted, the second and
 * later paths of an inode as hard links, integer-second mtimes and no user
 * or group names, so equal trees give byte-identical tars. With 'overlay',
 * upperdir whiteouts become `.wh.` entries and opaque directories get a
 * `.wh..wh..opq` entry right after them.
 */
export function tarDirectory(dir: string, opts: { format: LayerFormat }): Readable {
  return Readable.from(new TarWriter(resolve(dir), opts.format).archive(), { objectMode: false });
}

class TarWriter {
  private readonly links = new Map<string, string>();
  private batch: Buffer[] = [];
  private batched = 0;

  constructor(
    private readonly root: string,
    private readonly format: LayerFormat,
  ) {}

  *archive(): Generator<Buffer> {
    try {
      yield* this.directory(this.root, '');
    } catch (e) {
      if (isStrataError(e)) throw e;
      throw errors.internal(`archiving ${this.root}: ${(e as Error).message}`, { cause: e });
    }
    this.push(ZEROS);
    yield* this.flush(0);
  }

  private *directory(abs: string, rel: string): Generator<Buffer> {
    // JS string order equals byte order for all but astral vs U+E000+ names.
    for (const name of readdirSync(abs).sort()) {
      const path = `${abs}/${name}`;
      const st = lstatSync(path);
      const entryName = rel + name;
      if (this.format === 'overlay' && isOverlayWhiteout(st)) {
        this.header({ ...this.owner(st), name: rel + WHITEOUT_PREFIX + name, type: 'file', mode: 0o600, size: 0 });
      } else if (st.isDirectory()) {
        this.header({ ...this.owner(st), name: `${entryName}/`, type: 'directory', size: 0, xattrs: readXattrs(path) });
        if (this.format === 'overlay' && isOverlayOpaque(path)) {
          // Docker gives the marker the directory's owner and permissions and no mtime.
          this.header({ ...this.owner(st), name: `${entryName}/${OPAQUE_WHITEOUT}`, type: 'file', mode: st.mode & 0o777, size: 0, mtime: 0 });
        }
        yield* this.directory(path, `${entryName}/`);
      } else if (!st.isSocket()) {
        yield* this.nonDirectory(path, entryName, st);
      }
      yield* this.flush(BATCH);
    }
  }

  private *nonDirectory(path: string, name: string, st: Stats): Generator<Buffer> {
    const base = { ...this.owner(st), name, size: 0, xattrs: readXattrs(path) };
    if (st.nlink > 1) {
      const inode = `${st.dev}:${st.ino}`;
      const first = this.links.get(inode);
      if (first !== undefined) return this.header({ ...base, type: 'link', linkname: first });
      this.links.set(inode, name);
    }
    if (st.isSymbolicLink()) return this.header({ ...base, type: 'symlink', linkname: readlinkSync(path) });
    if (st.isFIFO()) return this.header({ ...base, type: 'fifo' });
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      const type = st.isCharacterDevice() ? 'character-device' : 'block-device';
      return this.header({ ...base, type, ...splitDev(st.rdev) });
    }
    this.header({ ...base, type: 'file', size: st.size });
    yield* this.contents(path, st.size);
  }

  /** Streams a file body, refusing one that shrank since lstat (the header already has its size). */
  private *contents(path: string, size: number): Generator<Buffer> {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      for (let off = 0; off < size; ) {
        const buf = Buffer.allocUnsafe(Math.min(size - off, SMALL_FILE));
        for (let got = 0; got < buf.length; ) {
          const n = readSync(fd, buf, got, buf.length - got, off + got);
          if (n === 0) throw errors.conflict(`archiving ${path}: the file shrank while it was being read; retry when it is not being written`);
          got += n;
        }
        off += buf.length;
        this.push(buf);
        if (size > SMALL_FILE) yield* this.flush(0);
      }
    } finally {
      closeSync(fd);
    }
    this.push(ZEROS.subarray(0, padding(size)));
  }

  private owner(st: Stats) {
    return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
  }

  /** Writes a header, preceded by a PAX header for whatever ustar cannot hold. */
  private header(e: Entry): void {
    const linkname = e.linkname ?? '';
    const pax = new Map<string, Buffer>();
    if (!fitsUstar(e.name)) pax.set('path', Buffer.from(e.name));
    if (!fitsUstar(linkname)) pax.set('linkpath', Buffer.from(linkname));
    if (e.uid > octalMax(8)) pax.set('uid', Buffer.from(String(e.uid)));
    if (e.gid > octalMax(8)) pax.set('gid', Buffer.from(String(e.gid)));
    if (e.size > octalMax(12)) pax.set('size', Buffer.from(String(e.size)));
    if (e.mtime < 0 || e.mtime > octalMax(12)) pax.set('mtime', Buffer.from(String(e.mtime)));
    for (const [k, v] of e.xattrs ?? []) pax.set(PAX_XATTR + k, v);
    if (pax.size > 0) {
      const data = encodePax(pax);
      const slash = e.name.lastIndexOf('/', e.name.length - 2);
      const paxName = `${e.name.slice(0, slash + 1)}PaxHeaders.0/${e.name.slice(slash + 1).replace(/\/$/, '')}`;
      this.push(encodeHeader({ ...blank, name: paxName, typeflag: 'x', size: data.length }));
      this.push(data);
      this.push(ZEROS.subarray(0, padding(data.length)));
    }
    this.push(
      encodeHeader({
        name: e.name,
        typeflag: TYPEFLAGS[e.type],
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        size: e.size,
        mtime: e.mtime,
        linkname,
        devmajor: e.devmajor ?? 0,
        devminor: e.devminor ?? 0,
      }),
    );
  }

  private push(b: Buffer): void {
    if (b.length === 0) return;
    this.batch.push(b);
    this.batched += b.length;
  }

  private *flush(threshold: number): Generator<Buffer> {
    if (this.batched === 0 || this.batched < threshold) return;
    const out = this.batch.length === 1 ? this.batch[0] : Buffer.concat(this.batch, this.batched);
    this.batch = [];
    this.batched = 0;
    yield out;
  }
}

const blank: HeaderFields = { name: '', typeflag: '0', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0, linkname: '', devmajor: 0, devminor: 0 };

function fitsUstar(s: string): boolean {
  return s.length <= 100 && /^[\x01-\x7f]*$/.test(s);
}

/** glibc's major()/minor() for a 64-bit dev_t held in a double. */
function splitDev(rdev: number): { devmajor: number; devminor: number } {
  const lo = rdev % 2 ** 32;
  const hi = Math.floor(rdev / 2 ** 32);
  return {
    devmajor: (((lo >>> 8) & 0xfff) | (hi & 0xfffff000)) >>> 0,
    devminor: ((lo & 0xff) | ((lo >>> 12) & 0xfff00) | ((hi & 0xfff) << 20)) >>> 0,
  };
}
