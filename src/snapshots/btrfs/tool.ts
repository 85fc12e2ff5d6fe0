import { spawn } from 'node:child_process';
import { errnoCode, errors } from '../../errors/errors.js';

export interface ToolOptions {
  /** The storage driver running it, which starts its messages. */
  driver: string;
  /** Debian package that provides the command, named when it is missing. */
  pkg: string;
  /** Environment additions. */
  env?: Record<string, string>;
  /** Kill the command after this long (default 120 s): a hung device must not hang the engine. */
  timeoutMs?: number;
}

export interface ToolResult {
  stdout: string;
  stderr: string;
}

/** A failed external command, with its exit status and stderr kept for callers that inspect them. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/**
 * Runs a storage tool (btrfs, dmsetup, mkfs.ext4, losetup...) and returns its
 * output. A missing command becomes errors.driverUnsupported naming the
 * package to install; a failing one a ToolError carrying its stderr, which
 * drivers wrap in a message that says what they were doing.
 */
export function runTool(cmd: string, args: string[], opts: ToolOptions): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      timeout: opts.timeoutMs ?? 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 16_384) stderr += d;
    });
    child.on('error', (e) => {
      if (errnoCode(e) === 'ENOENT') {
        reject(
          errors.driverUnsupported(`${opts.driver}: the ${cmd} command is not installed; install Debian's ${opts.pkg} package`, {
            cause: e,
          }),
        );
      } else {
        reject(errors.unavailable(`${opts.driver}: cannot run ${cmd}: ${e.message}`, { cause: e }));
      }
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout, stderr });
      const how = signal ? `killed by ${signal}` : `exit ${code}`;
      reject(new ToolError(`${cmd} ${args.join(' ')} failed (${how}): ${stderr.trim() || stdout.trim()}`, code, stderr));
    });
  });
}

/** Wraps a ToolError (or anything else) into errors.unavailable with what was being done. */
export function toolFailure(what: string, e: unknown, fix: string): Error {
  if (!(e instanceof ToolError)) return e as Error;
  return errors.unavailable(`${what}: ${e.message}; ${fix}`, { cause: e });
}
