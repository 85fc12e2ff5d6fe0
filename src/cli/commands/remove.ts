import type { Command } from 'commander';
import { errors } from '../../errors/errors.js';
import type { RemoveReport } from '../../engine/images.js';
import { imageCreated } from '../../engine/image-views.js';
import { collect, type CliContext } from '../context.js';
import { humanSize } from '../output.js';

function printReports(ctx: CliContext, reports: RemoveReport[]): void {
  for (const r of reports) ctx.out('Untagged' in r ? `Untagged: ${r.Untagged}` : `Deleted: ${r.Deleted}`);
}

export function registerRemove(program: Command, image: Command, ctx: CliContext): void {
  for (const cmd of [program.command('rmi'), image.command('rm').alias('remove')]) {
    cmd
      .description('Remove one or more images')
      .argument('<IMAGE...>')
      .option('-f, --force', 'Force removal of the image')
      .option('--no-prune', 'Do not delete untagged parents')
      .action(async (names: string[], opts: { force?: boolean; prune: boolean }) => {
        const engine = await ctx.engine();
        const failures: string[] = [];
        for (const n of names) {
          try {
            printReports(ctx, await engine.images.remove(n, { force: opts.force, prune: opts.prune }));
          } catch (e) {
            failures.push((e as Error).message);
          }
        }
        if (failures.length) throw errors.conflict(failures.join('\n'));
      });
  }

  for (const [parent, name] of [
    [program, 'tag'],
    [image, 'tag'],
  ] as const) {
    parent
      .command(name)
      .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
      .argument('<SOURCE_IMAGE[:TAG]>')
      .argument('<TARGET_IMAGE[:TAG]>')
      .action(async (source: string, target: string) => (await ctx.engine()).images.tag(source, target));
  }

  image
    .command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>', 'label=<key>=<value>')", collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (opts: { all?: boolean; filter?: string[] }) => {
      const engine = await ctx.engine();
      const filter = pruneFilter(opts.filter ?? []);
      const { reports, spaceReclaimed } = await engine.images.prune({
        all: opts.all,
        filter: async (img) => filter(imageCreated(img), (await engine.images.config(img.id)).config?.Labels ?? {}),
      });
      if (reports.length) {
        ctx.out('Deleted Images:');
        printReports(ctx, reports);
        ctx.out('');
      }
      ctx.out(`Total reclaimed space: ${humanSize(spaceReclaimed)}`);
    });
}

/** `until=` (a timestamp or a Go duration such as 24h) and `label=` / `label!=` filters of prune. */
function pruneFilter(raw: string[]): (created: Date, labels: Record<string, string>) => boolean {
  const tests: ((created: Date, labels: Record<string, string>) => boolean)[] = [];
  for (const r of raw) {
    const m = /^(until|label|label!)=(.*)$/.exec(r);
    if (!m) throw errors.invalidArgument(`invalid filter '${r.split('=')[0]}' (valid for prune: until, label, label!)`);
    const [, key, value] = m;
    if (key === 'until') {
      const until = parseUntil(value);
      tests.push((created) => created.getTime() < until);
    } else {
      const [k, v] = value.split('=', 2);
      const has = (labels: Record<string, string>) => (v === undefined ? k in labels : labels[k] === v);
      tests.push(key === 'label' ? (_c, l) => has(l) : (_c, l) => !has(l));
    }
  }
  return (created, labels) => tests.every((t) => t(created, labels));
}

function parseUntil(value: string): number {
  const dur = /^(\d+(?:\.\d+)?)(h|m|s)$/.exec(value);
  if (dur) return Date.now() - Number(dur[1]) * { h: 3600_000, m: 60_000, s: 1000 }[dur[2] as 'h' | 'm' | 's'];
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw errors.invalidArgument(`invalid until filter "${value}": use a timestamp or a duration like 24h`);
  return t;
}
