import type { Readable } from 'node:stream';
import { errors, isStrataError } from '../../../errors/errors.js';
import type { FileInfo, FileWriter, StorageDriver } from './driver.js';

/** distribution's path grammar: absolute, no empty, `.` or `..` components. */
const PATH_RE = /^(\/[A-Za-z0-9._-]+)+$/;

export function validatePath(path: string, allowRoot = false): void {
  if (allowRoot && path === '/') return;
  if (!PATH_RE.test(path) || path.split('/').some((c) => c === '.' || c === '..')) {
    throw errors.invalidArgument(`storage path "${path.slice(0, 200)}" is invalid: expected /component[/component...] of [A-Za-z0-9._-]`);
  }
}

/** Calls and failures per driver method, for the server's metrics. */
export type DriverMetrics = Record<string, { calls: number; failures: number }>;

/**
 * Wraps every driver: checks paths before the driver sees them (so no driver
 * can be handed `..`), stamps the driver name into unexpected errors, and
 * counts calls. Drivers themselves stay free of these concerns.
 */
export class BaseDriver implements StorageDriver {
  readonly name: string;
  readonly metrics: DriverMetrics = {};
  readonly #inner: StorageDriver;

  constructor(inner: StorageDriver) {
    this.#inner = inner;
    this.name = inner.name;
  }

  async #call<T>(method: string, paths: string[], fn: () => Promise<T>, allowRoot = false): Promise<T> {
    for (const p of paths) validatePath(p, allowRoot);
    const m = (this.metrics[method] ??= { calls: 0, failures: 0 });
    m.calls++;
    try {
      return await fn();
    } catch (e) {
      if (!isStrataError(e, 'NotFound')) m.failures++;
      if (isStrataError(e)) throw e;
      throw errors.unavailable(`storage driver ${this.name}: ${method} ${paths.join(' ')}: ${(e as Error).message}`, { cause: e });
    }
  }

  getContent(path: string): Promise<Buffer> {
    return this.#call('getContent', [path], () => this.#inner.getContent(path));
  }
  putContent(path: string, content: Uint8Array): Promise<void> {
    return this.#call('putContent', [path], () => this.#inner.putContent(path, content));
  }
  reader(path: string, offset = 0, end?: number): Promise<Readable> {
    if (!Number.isSafeInteger(offset) || offset < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < offset - 1))) {
      return Promise.reject(errors.invalidArgument(`storage driver ${this.name}: invalid read range ${offset}-${end ?? ''} of ${path}`));
    }
    return this.#call('reader', [path], () => this.#inner.reader(path, offset, end));
  }
  writer(path: string, append: boolean): Promise<FileWriter> {
    return this.#call('writer', [path], () => this.#inner.writer(path, append));
  }
  stat(path: string): Promise<FileInfo> {
    return this.#call('stat', [path], () => this.#inner.stat(path), true);
  }
  list(path: string): Promise<string[]> {
    return this.#call('list', [path], () => this.#inner.list(path), true);
  }
  move(source: string, dest: string): Promise<void> {
    return this.#call('move', [source, dest], () => this.#inner.move(source, dest));
  }
  delete(path: string): Promise<void> {
    return this.#call('delete', [path], () => this.#inner.delete(path));
  }
}

export function pathNotFound(driver: string, path: string): Error {
  return errors.notFound(`storage driver ${driver}: path not found: ${path}`);
}
