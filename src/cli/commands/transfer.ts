import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { errors } from '../../errors/errors.js';
import { collect, type CliContext } from '../context.js';

export function registerTransfer(program: Command, image: Command, ctx: CliContext): void {
  for (const cmd of [program.command('import'), image.command('import')]) {
    cmd
      .description('Import the contents from a tarball to create a filesystem image')
      .argument('<file|URL|->')
      .argument('[REPOSITORY[:TAG]]')
      .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', collect)
      .option('-m, --message <string>', 'Set commit message for imported image')
      .option('--platform <string>', 'Set platform if server is multi-platform capable')
      .action(async (source: string, tag: string | undefined, opts: { change?: string[]; message?: string; platform?: string }) => {
        if (opts.platform && !/^linux(\/[a-z0-9]+)*$/.test(opts.platform)) {
          throw errors.invalidArgument(`--platform "${opts.platform}": only linux platforms are supported`);
        }
        const engine = await ctx.engine();
        const input = await openSource(source);
        const img = await engine.images.import(input, { source, changes: opts.change, message: opts.message, tag });
        ctx.out(img.id);
      });
  }

  for (const cmd of [program.command('load'), image.command('load')]) {
    cmd
      .description('Load an image from a tar archive or STDIN')
      .option('-i, --input <file>', 'Read from tar archive file, instead of STDIN')
      .option('-q, --quiet', 'Suppress the load output')
      .action(async (opts: { input?: string; quiet?: boolean }) => {
        if (!opts.input && process.stdin.isTTY) {
          throw errors.invalidArgument('requested load from stdin, but stdin is empty (use -i FILE or pipe an archive)');
        }
        const engine = await ctx.engine();
        const loaded = await engine.images.load(opts.input ? createReadStream(opts.input, { highWaterMark: 1 << 20 }) : process.stdin);
        if (opts.quiet) return;
        for (const { image: img, tags } of loaded) {
          if (tags.length === 0) ctx.out(`Loaded image ID: ${img.id}`);
          for (const t of tags) {
            const n = engine.images.displayName(t);
            ctx.out(`Loaded image: ${n.repository}:${n.tag}`);
          }
        }
      });
  }

  for (const cmd of [program.command('save'), image.command('save')]) {
    cmd
      .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
      .argument('<IMAGE...>')
      .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
      .action(async (names: string[], opts: { output?: string }) => {
        if (!opts.output && process.stdout.isTTY) {
          throw errors.invalidArgument('cowardly refusing to save to a terminal. Use the -o flag or redirect');
        }
        const engine = await ctx.engine();
        if (!opts.output) {
          await engine.images.save(names, process.stdout);
          return;
        }
        // Write beside the target and rename, so a failed save leaves no half archive.
        const tmp = `${opts.output}.strata-tmp-${process.pid}`;
        try {
          await engine.images.save(names, createWriteStream(tmp));
          await rename(tmp, opts.output);
        } catch (e) {
          await rm(tmp, { force: true });
          throw e;
        }
      });
  }
}

async function openSource(source: string): Promise<Readable> {
  if (source === '-') return process.stdin;
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source).catch((e: Error) => {
      throw errors.unavailable(`import: cannot fetch ${source}: ${e.message}`);
    });
    if (!res.ok || !res.body) throw errors.unavailable(`import: GET ${source} answered ${res.status} ${res.statusText}`);
    return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  }
  const stream = createReadStream(source, { highWaterMark: 1 << 20 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (e) => reject(errors.notFound(`import: cannot open ${source}: ${e.message}`)));
  });
  return stream;
}
