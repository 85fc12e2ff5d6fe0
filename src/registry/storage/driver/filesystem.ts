import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { errnoCode } from '../../../errors/errors.js';
import { pathNotFound } from './base.js';
import type { FileInfo, FileWriter, StorageDriver } from './driver.js';

/**
 * Stores each path as a file under `root`. Whole-file writes go through a
 * temporary file and a rename; streaming writers append and fsync on commit.
 * Paths reach it validated by the base driver, so joining them cannot escape root.
 */
export class FilesystemDriver implements StorageDriver {
  readonly name = 'filesystem';
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  #full(path: string): string {
    return join(this.root, path);
  }

  #notFound(e: unknown, path: string): unknown {
    const code = errnoCode(e);
    return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' ? pathNotFound(this.name, path) : e;
  }

  async getContent(path: string): Promise<Buffer> {
    try {
      return await readFile(this.#full(path));
    } catch (e) {
      throw this.#notFound(e, path);
    }
  }

  async putContent(path: string, content: Uint8Array): Promise<void> {
    const full = this.#full(path);
    await mkdir(dirname(full), { recursive: true });
    const tmp = `${full}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await writeFile(tmp, content);
      await rename(tmp, full);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async reader(path: string, offset = 0, end?: number): Promise<Readable> {
    const full = this.#full(path);
    const info = await this.stat(path);
    if (info.isDir) throw pathNotFound(this.name, path);
    return createReadStream(full, { start: offset, end, highWaterMark: 256 * 1024 });
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const full = this.#full(path);
    if (!append) await mkdir(dirname(full), { recursive: true });
    let fh;
    try {
      fh = await open(full, append ? 'r+' : 'w');
    } catch (e) {
      throw this.#notFound(e, path);
    }
    let size = (await fh.stat()).size;
    let done = false;
    const finish = (): void => {
      if (done) throw new Error(`writer for ${path} already closed`);
      done = true;
    };
    const file = fh;
    return {
      get size() {
        return size;
      },
      async write(chunk) {
        if (done) throw new Error(`writer for ${path} already closed`);
        let written = 0;
        while (written < chunk.length) {
          const r = await file.write(chunk, written, chunk.length - written, size);
          written += r.bytesWritten;
          size += r.bytesWritten;
        }
      },
      async close() {
        finish();
        await file.close();
      },
      async commit() {
        finish();
        try {
          await file.datasync();
        } finally {
          await file.close();
        }
      },
      async cancel() {
        finish();
        await file.close();
        await rm(full, { force: true });
      },
    };
  }

  async stat(path: string): Promise<FileInfo> {
    try {
      const s = await stat(this.#full(path));
      return { path, size: s.isDirectory() ? 0 : s.size, modTime: s.mtime, isDir: s.isDirectory() };
    } catch (e) {
      throw this.#notFound(e, path);
    }
  }

  async list(path: string): Promise<string[]> {
    try {
      const names = await readdir(this.#full(path));
      return names.filter((n) => !n.includes('.tmp-')).map((n) => (path === '/' ? `/${n}` : `${path}/${n}`));
    } catch (e) {
      throw this.#notFound(e, path);
    }
  }

  async move(source: string, dest: string): Promise<void> {
    await mkdir(dirname(this.#full(dest)), { recursive: true });
    try {
      await rename(this.#full(source), this.#full(dest));
    } catch (e) {
      throw this.#notFound(e, source);
    }
  }

  async delete(path: string): Promise<void> {
    await this.stat(path);
    await rm(this.#full(path), { recursive: true, force: true });
  }
}
