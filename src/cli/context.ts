import { Engine } from '../engine/engine.js';
import { errors } from '../errors/errors.js';
import { loadRegistriesConfig } from '../remotes/hosts.js';

export interface GlobalOptions {
  root?: string;
  storageDriver?: string;
  storageOpt?: string[];
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
    this.#engine ??= Engine.open({
      root: this.globals.root,
      storageDriver: this.globals.storageDriver,
      storageOpts: parseStorageOpts(this.globals.storageOpt ?? []),
      defaultRegistry: loadRegistriesConfig().defaultRegistry,
    });
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

/** `--storage-opt KEY=VALUE` pairs. */
function parseStorageOpts(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw errors.invalidArgument(`--storage-opt "${p}": expected KEY=VALUE, e.g. dm.basesize=20G`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** Collects a repeatable option (`--filter a --filter b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
