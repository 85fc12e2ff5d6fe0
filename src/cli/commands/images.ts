import type { Command } from 'commander';
import { parseImageFilters, listImageRows, shortImageId } from '../../engine/image-views.js';
import { collect, type CliContext } from '../context.js';
import { goTime, humanSize, printFormatted, timeAgo } from '../output.js';

const IMAGES_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const IMAGES_TABLE_DIGESTS = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const IMAGE_HEADERS = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  ID: 'IMAGE ID',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
};

interface ImagesOpts {
  all?: boolean;
  quiet?: boolean;
  digests?: boolean;
  noTrunc?: boolean;
  filter?: string[];
  format?: string;
}

/** `images` and its alias `image ls` / `image list`. */
export function registerImages(program: Command, image: Command, ctx: CliContext): void {
  for (const cmd of [program.command('images'), image.command('ls').alias('list')]) {
    cmd
      .description('List images')
      .argument('[REPOSITORY[:TAG]]')
      .option('-a, --all', 'Show all images (default hides intermediate images)')
      .option('--digests', 'Show digests')
      .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
      .option('--format <string>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'")
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only show image IDs')
      .action(async (repo: string | undefined, opts: ImagesOpts & { trunc?: boolean }) =>
        images(ctx, repo, { ...opts, noTrunc: opts.trunc === false }),
      );
  }
}

async function images(ctx: CliContext, repository: string | undefined, opts: ImagesOpts): Promise<void> {
  const engine = await ctx.engine();
  const filters = parseImageFilters(engine, opts.filter ?? []);
  const rows = await listImageRows(engine, { filters, repository });
  const id = (d: string) => (opts.noTrunc ? d : shortImageId(d));
  if (opts.quiet) {
    const seen = new Set<string>();
    for (const r of rows) if (!seen.has(r.id)) (seen.add(r.id), ctx.out(id(r.id)));
    return;
  }
  const view = rows.map((r) => ({
    ID: id(r.id),
    Repository: r.repository,
    Tag: r.tag,
    Digest: r.digest,
    CreatedSince: timeAgo(r.created),
    CreatedAt: goTime(r.created),
    Size: humanSize(r.size),
    VirtualSize: humanSize(r.size),
    SharedSize: 'N/A',
    UniqueSize: 'N/A',
    Containers: 'N/A',
  }));
  printFormatted(ctx, opts.format, view, opts.digests ? IMAGES_TABLE_DIGESTS : IMAGES_TABLE, IMAGE_HEADERS);
}
