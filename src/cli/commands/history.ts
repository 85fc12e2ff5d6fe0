import type { Command } from 'commander';
import { imageHistory, shortImageId } from '../../engine/image-views.js';
import type { CliContext } from '../context.js';
import { ellipsis, humanSize, printFormatted, timeAgo } from '../output.js';

const HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HISTORY_HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

export function registerHistory(program: Command, image: Command, ctx: CliContext): void {
  for (const cmd of [program.command('history'), image.command('history')]) {
    cmd
      .description('Show the history of an image')
      .argument('<IMAGE>')
      .option('--format <string>', 'Format output using a custom template')
      .option('-H, --human [bool]', 'Print sizes and dates in human readable format', (v) => v !== 'false', true)
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only show image IDs')
      .action(async (ref: string, opts: { format?: string; human: boolean; trunc?: boolean; quiet?: boolean }) => {
        const engine = await ctx.engine();
        const rows = await imageHistory(engine, ref);
        const noTrunc = opts.trunc === false;
        const id = (s: string) => (s === '<missing>' || noTrunc ? s : shortImageId(s));
        if (opts.quiet) {
          for (const r of rows) ctx.out(id(r.id));
          return;
        }
        const view = rows.map((r) => ({
          ID: id(r.id),
          CreatedSince: r.created ? (opts.human ? timeAgo(r.created) : r.created.toISOString().replace(/\.\d+Z$/, 'Z')) : 'N/A',
          CreatedAt: r.created ? r.created.toISOString().replace(/\.\d+Z$/, 'Z') : 'N/A',
          CreatedBy: noTrunc ? r.createdBy : ellipsis(r.createdBy.replace(/\t/g, ' '), 45),
          Size: opts.human ? humanSize(r.size) : String(r.size),
          Comment: r.comment,
        }));
        printFormatted(ctx, opts.format, view, HISTORY_TABLE, HISTORY_HEADERS);
      });
  }
}
