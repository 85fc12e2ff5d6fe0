import { Command } from 'commander';
import { registerRegistry } from '../../../src/cli/commands/registry.js';
import type { CliContext } from '../../../src/cli/context.js';

/**
 * `strata registry ...` alone, for tests that need the real command in its own
 * process. The registry commands use only the context's options and streams,
 * so they get those without opening an engine.
 */
const line = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
const ctx = {
  globals: {},
  out: (s: string) => process.stdout.write(line(s)),
  err: (s: string) => process.stderr.write(line(s)),
} as unknown as CliContext;
const program = new Command('strata').option('-l, --log-level <level>', 'log level', 'info').enablePositionalOptions();
program.hook('preAction', (root) => {
  Object.assign(ctx.globals, root.opts());
});
registerRegistry(program, ctx);
program.parseAsync(process.argv.slice(2), { from: 'user' }).catch((e: unknown) => {
  process.stderr.write(`Error: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
