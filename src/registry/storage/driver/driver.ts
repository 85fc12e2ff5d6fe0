import type { Readable } from 'node:stream';

/** What `stat` tells about a path. Directories exist implicitly while they hold a file. */
export interface FileInfo {
  path: string;
  size: number;
  modTime: Date;
  isDir: boolean;
}

/**
 * A streaming writer for one path. Bytes passed to `write` are durable after
 * `close`, but a driver only has to make them readable at the path after
 * `commit`; `cancel` removes whatever was written. Exactly one of close,
 * commit or cancel ends the writer.
 *
 * Lifecycle of a resumable upload:
 *   w = await d.writer(p, false); await w.write(a); await w.close();   // request 1
 *   w = await d.writer(p, true);  // w.size === a.length
 *   await w.write(b); await w.commit();                                // request 2
 */
export interface FileWriter {
  /** Bytes at the path so far, including those appended before this writer opened. */
  readonly size: number;
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  cancel(): Promise<void>;
  commit(): Promise<void>;
}

/**
 * The registry's storage: a dumb, path-keyed file store. Drivers hold no
 * registry logic (no blobs, tags or links); paths.ts decides what goes where.
 *
 * Paths are absolute, slash-separated and made of `[A-Za-z0-9._-]` components
 * (the base decorator enforces it). A missing path raises a StrataError of kind
 * NotFound. `list` returns the full paths of a directory's direct children;
 * `delete` removes a file or a whole directory tree.
 */
export interface StorageDriver {
  readonly name: string;
  getContent(path: string): Promise<Buffer>;
  /** Writes the whole file atomically: readers see the old or the new content, never a part. */
  putContent(path: string, content: Uint8Array): Promise<void>;
  /** Streams bytes [offset, end] (end inclusive, default: the last byte). */
  reader(path: string, offset?: number, end?: number): Promise<Readable>;
  writer(path: string, append: boolean): Promise<FileWriter>;
  stat(path: string): Promise<FileInfo>;
  list(path: string): Promise<string[]>;
  /** Renames a file, replacing any file at `dest`. */
  move(source: string, dest: string): Promise<void>;
  delete(path: string): Promise<void>;
}
