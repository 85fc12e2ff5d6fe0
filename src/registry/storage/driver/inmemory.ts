import { Readable } from 'node:stream';
import { pathNotFound } from './base.js';
import type { FileInfo, FileWriter, StorageDriver } from './driver.js';

interface MemFile {
  data: Buffer;
  modTime: Date;
}

/** Keeps everything in a Map; for tests. Directories exist while a file lies below them. */
export class InMemoryDriver implements StorageDriver {
  readonly name = 'inmemory';
  readonly #files = new Map<string, MemFile>();

  #file(path: string): MemFile {
    const f = this.#files.get(path);
    if (!f) throw pathNotFound(this.name, path);
    return f;
  }

  #children(dir: string): string[] {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const out = new Set<string>();
    for (const p of this.#files.keys()) {
      if (p.startsWith(prefix)) out.add(prefix + p.slice(prefix.length).split('/')[0]);
    }
    return [...out];
  }

  async getContent(path: string): Promise<Buffer> {
    return Buffer.from(this.#file(path).data);
  }

  async putContent(path: string, content: Uint8Array): Promise<void> {
    this.#files.set(path, { data: Buffer.from(content), modTime: new Date() });
  }

  async reader(path: string, offset = 0, end?: number): Promise<Readable> {
    const { data } = this.#file(path);
    return Readable.from([data.subarray(offset, end === undefined ? undefined : end + 1)]);
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const existing = this.#files.get(path);
    if (append && !existing) throw pathNotFound(this.name, path);
    const chunks: Buffer[] = append && existing ? [existing.data] : [];
    let size = chunks[0]?.length ?? 0;
    let done = false;
    const flush = (): void => {
      this.#files.set(path, { data: Buffer.concat(chunks), modTime: new Date() });
    };
    const finish = (): void => {
      if (done) throw new Error(`writer for ${path} already closed`);
      done = true;
    };
    return {
      get size() {
        return size;
      },
      write: async (chunk) => {
        if (done) throw new Error(`writer for ${path} already closed`);
        chunks.push(Buffer.from(chunk));
        size += chunk.length;
      },
      close: async () => {
        finish();
        flush();
      },
      commit: async () => {
        finish();
        flush();
      },
      cancel: async () => {
        finish();
        this.#files.delete(path);
      },
    };
  }

  async stat(path: string): Promise<FileInfo> {
    const f = this.#files.get(path);
    if (f) return { path, size: f.data.length, modTime: f.modTime, isDir: false };
    if (path === '/' || this.#children(path).length > 0) return { path, size: 0, modTime: new Date(0), isDir: true };
    throw pathNotFound(this.name, path);
  }

  async list(path: string): Promise<string[]> {
    const children = this.#children(path);
    if (children.length === 0 && path !== '/') throw pathNotFound(this.name, path);
    return children;
  }

  async move(source: string, dest: string): Promise<void> {
    const f = this.#file(source);
    this.#files.delete(source);
    this.#files.set(dest, f);
  }

  async delete(path: string): Promise<void> {
    let found = this.#files.delete(path);
    for (const p of [...this.#files.keys()]) {
      if (p.startsWith(`${path}/`)) found = this.#files.delete(p) || found;
    }
    if (!found) throw pathNotFound(this.name, path);
  }
}
