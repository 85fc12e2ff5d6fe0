import { Writable } from 'node:stream';
import { Command } from 'commander';
import { registerDistribution } from '../../../src/cli/commands/distribution.js';
import { CliContext } from '../../../src/cli/context.js';

/**
 * Runs the registry commands in-process against a data root, capturing what
 * they print; the same command module bin/strata mounts.
 */
export async function runDistributionCli(root: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const ctx = new CliContext({ root });
  const sink = (add: (s: string) => void) => new Writable({ write: (c: Buffer, _e, cb) => (add(c.toString()), cb()) });
  Object.defineProperty(ctx, 'stdout', { value: sink((s) => (stdout += s)) });
  Object.defineProperty(ctx, 'stderr', { value: sink((s) => (stderr += s)) });
  const program = new Command('strata').exitOverride();
  const image = program.command('image');
  registerDistribution(program, image, ctx);
  let code = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    stderr += `Error: ${(e as Error).message}\n`;
    code = 1;
  } finally {
    await ctx.close();
  }
  return { code, stdout, stderr };
}
