import { Engine } from '../engine/engine.js';

export interface GlobalOptions {
  root?: string;
  storageDriver?: string;
  logLevel?: string;
}

/**
 * What every command gets: the engine, opened lazily with the global options
 * (so `--help` and usage errors never touch the data root), and the streams.
 */
export class CliContext {
  #engine?: Promise<Engine>;
  readonly globals: GlobalOptions;
  readonly stdout: NodeJS.WritableStream = process.stdout;
  readonly stderr: NodeJS.WritableStream = process.stderr;

  constructor(globals: GlobalOptions) {
    this.globals = globals;
  }

  engine(): Promise<Engine> {
    this.#engine ??= Engine.open({ root: this.globals.root, storageDriver: this.globals.storageDriver });
    return this.#engine;
  }

  async close(): Promise<void> {
    if (this.#engine) await (await this.#engine.catch(() => undefined))?.close();
  }

  out(line: string): void {
    this.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  err(line: string): void {
    this.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
  }
}

/** Collects a repeatable option (`--filter a --filter b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
