import type { Command } from 'commander';
import { isStrataError, errors } from '../../errors/errors.js';
import { inspectImage } from '../../engine/image-views.js';
import type { CliContext } from '../context.js';
import { renderTemplate } from '../output.js';

/**
 * `inspect` prints a JSON array of every object found and, as Docker does,
 * fails with exit 1 after printing if any name was not found.
 */
export function registerInspect(program: Command, image: Command, ctx: CliContext): void {
  for (const [cmd, typed] of [
    [program.command('inspect'), false],
    [image.command('inspect'), true],
  ] as const) {
    cmd
      .description(typed ? 'Display detailed information on one or more images' : 'Return low-level information on Strata objects')
      .argument('<NAME...>')
      .option('-f, --format <string>', 'Format output using a custom template')
      .option('--type <string>', 'Return JSON for specified type (image)')
      .option('-s, --size', 'Display total file sizes if the type is container')
      .action(async (names: string[], opts: { format?: string; type?: string }) => {
        if (opts.type && opts.type !== 'image') {
          throw errors.invalidArgument(`"${opts.type}" is not a valid value for --type (only images exist yet)`);
        }
        const engine = await ctx.engine();
        const found: Record<string, unknown>[] = [];
        const missing: string[] = [];
        for (const n of names) {
          try {
            found.push(await inspectImage(engine, n));
          } catch (e) {
            if (!isStrataError(e, 'NotFound')) throw e;
            missing.push(n);
          }
        }
        if (opts.format) for (const f of found) ctx.out(renderTemplate(opts.format, f));
        else ctx.out(JSON.stringify(found, null, 4));
        if (missing.length) throw errors.notFound(missing.map((m) => `No such object: ${m}`).join('\n'));
      });
  }
}
