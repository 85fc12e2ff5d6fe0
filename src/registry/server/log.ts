export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** One JSON object per line, to stderr by default; request lines are `info`, so `--log-level warn` silences them. */
export class Logger {
  readonly #rank: number;
  readonly #out: NodeJS.WritableStream;

  constructor(level: LogLevel = 'info', out: NodeJS.WritableStream = process.stderr) {
    this.#rank = RANK[level] ?? RANK.info;
    this.#out = out;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#rank;
  }

  log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    if (!this.enabled(level)) return;
    this.#out.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  }
}

export function isLogLevel(s: string): s is LogLevel {
  return s in RANK;
}
