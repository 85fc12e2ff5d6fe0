import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { shortId } from '../../digest/digest.js';
import { errors } from '../../errors/errors.js';
import { Explorer } from '../../explorer/explorer.js';
import { DEFAULT_ADDR, listenExplorer } from '../../explorer/server/listen.js';
import { fromHumanSize } from '../format/units.js';
import type { CliContext } from '../context.js';
import { ellipsis, humanSize, printFormatted } from '../output.js';

const LAYERS_TABLE = 'table {{.Index}}\t{{.ID}}\t{{.Size}}\t{{.Files}}\t{{.Added}}\t{{.Modified}}\t{{.Deleted}}\t{{.Wastes}}\t{{.CreatedBy}}';
const LAYERS_HEADERS = { Index: '#', ID: 'DIFF ID', Size: 'SIZE', Compressed: 'COMPRESSED', Files: 'ENTRIES', Added: 'ADDED', Modified: 'MODIFIED', Deleted: 'DELETED', Wastes: 'WASTES', CreatedBy: 'CREATED BY' };
const WASTE_TABLE = 'table {{.Size}}\t{{.Path}}\t{{.StoredIn}}\t{{.RemovedBy}}\t{{.Reason}}\t{{.CreatedBy}}';
const WASTE_HEADERS = { Size: 'WASTED', Path: 'PATH', StoredIn: 'STORED IN', RemovedBy: 'REMOVED BY', Reason: 'HOW', CreatedBy: 'RESPONSIBLE INSTRUCTION' };

/** `--max-waste`: bytes ("10MB", "512k", "1048576") or a percentage of the bytes the layers store ("5%"). */
export type WasteLimit = { bytes: number } | { percent: number };

export function parseWasteLimit(value: string): WasteLimit {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
  if (pct) {
    const percent = Number(pct[1]);
    if (percent > 100) throw errors.invalidArgument(`invalid --max-waste "${value}": a percentage is at most 100%`);
    return { percent };
  }
  try {
    return { bytes: fromHumanSize(value.trim()) };
  } catch (e) {
    throw errors.invalidArgument(`invalid --max-waste "${value}": expected bytes (e.g. 10MB, 512k, 1048576) or a percentage (e.g. 5%)`, { cause: e });
  }
}

export function exceedsWasteLimit(limit: WasteLimit, waste: { wastedBytes: number; wastedPercent: number }): boolean {
  return 'bytes' in limit ? waste.wastedBytes > limit.bytes : waste.wastedPercent > limit.percent;
}

/** `explore`, `image layers` and `image waste`. */
export function registerExplore(program: Command, image: Command, ctx: CliContext): void {
  program
    .command('explore')
    .description('Serve a web page to explore images: layers, files, waste and sharing')
    .option('--addr <host:port>', 'Address to listen on (loopback unless --allow-remote)', DEFAULT_ADDR)
    .option('--allow-remote', 'Allow listening on a non-loopback address (the page has no authentication)')
    .option('--open', 'Open the page in a browser')
    .action(async (opts: { addr: string; allowRemote?: boolean; open?: boolean }) => {
      const engine = await ctx.engine();
      const explorer = new Explorer(engine);
      await explorer.pruneIndexes();
      const running = await listenExplorer(explorer, { addr: opts.addr, allowRemote: opts.allowRemote });
      ctx.out(`Strata explorer listening on ${running.url} (Ctrl-C to stop)`);
      if (opts.open) openBrowser(ctx, running.url);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
    });

  image
    .command('layers')
    .description("Show an image's layers: size, what each adds, modifies and deletes, and the waste it causes")
    .argument('<IMAGE>')
    .option('--format <string>', "Format output: 'table', 'table TEMPLATE', 'json' (one document, sizes in bytes) or 'TEMPLATE'")
    .option('--no-trunc', "Don't truncate output")
    .action(async (ref: string, opts: { format?: string; trunc?: boolean }) => {
      const explorer = new Explorer(await ctx.engine());
      const { imageId, layers } = await explorer.waste(ref);
      if (opts.format === 'json') {
        ctx.out(JSON.stringify({ image: imageId, layers }));
        return;
      }
      const noTrunc = opts.trunc === false;
      const rows = layers.map((l) => ({
        Index: l.index,
        ID: noTrunc ? l.diffId : shortId(l.diffId),
        Size: humanSize(l.size),
        Compressed: humanSize(l.blobSize),
        Files: l.stats.entries,
        Added: l.stats.added,
        Modified: l.stats.modified,
        Deleted: l.stats.deleted,
        Wastes: humanSize(l.wasteCaused),
        CreatedBy: noTrunc ? l.createdBy : ellipsis(l.createdBy.replace(/\s+/g, ' '), 60),
      }));
      printFormatted(ctx, opts.format, rows, LAYERS_TABLE, LAYERS_HEADERS);
    });

  image
    .command('waste')
    .description('Show the files later layers overwrite or delete, the bytes wasted and the layer responsible')
    .argument('<IMAGE>')
    .option('--format <string>', "Format output: 'table', 'table TEMPLATE', 'json' (one document, sizes in bytes) or 'TEMPLATE'")
    .option('--max-waste <limit>', 'Exit with status 1 when the waste exceeds this many bytes (10MB) or this percentage (5%)', parseWasteLimit)
    .option('--no-trunc', "Don't truncate output")
    .action(async (ref: string, opts: { format?: string; maxWaste?: WasteLimit; trunc?: boolean }) => {
      const explorer = new Explorer(await ctx.engine());
      const { imageId, waste, dive, layers } = await explorer.waste(ref);
      const noTrunc = opts.trunc === false;
      if (opts.format === 'json') {
        ctx.out(JSON.stringify({ image: imageId, ...waste, efficiency: dive.efficiency, dive }));
      } else {
        const rows = waste.items.map((w) => ({
          Size: humanSize(w.bytes),
          Bytes: w.bytes,
          Path: `/${w.path}`,
          StoredIn: `#${w.addedIn}`,
          RemovedBy: `#${w.removedIn}`,
          Reason: w.reason,
          CreatedBy: noTrunc ? layers[w.removedIn].createdBy : ellipsis(layers[w.removedIn].createdBy.replace(/\s+/g, ' '), 50),
        }));
        if (opts.format === undefined || opts.format === 'table') {
          ctx.out(
            `Wasted ${humanSize(waste.wastedBytes)} of ${humanSize(waste.totalBytes)} stored (${waste.wastedPercent.toFixed(2)}%) in ${waste.items.length} file versions; ` +
              `efficiency score ${(dive.efficiency * 100).toFixed(2)}% (as dive computes it)`,
          );
        }
        if (rows.length || opts.format) printFormatted(ctx, opts.format, rows, WASTE_TABLE, WASTE_HEADERS);
      }
      if (opts.maxWaste && exceedsWasteLimit(opts.maxWaste, waste)) {
        const limit = 'bytes' in opts.maxWaste ? `${opts.maxWaste.bytes} bytes` : `${opts.maxWaste.percent}%`;
        throw errors.failedPrecondition(
          `image ${ref} wastes ${waste.wastedBytes} bytes (${waste.wastedPercent.toFixed(2)}% of ${waste.totalBytes}), over --max-waste ${limit}`,
        );
      }
    });
}

/** Best effort: xdg-open where there is one, otherwise the URL printed above is the way in. */
function openBrowser(ctx: CliContext, url: string): void {
  const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
  child.on('error', () => ctx.err(`--open: no xdg-open here; open ${url} in a browser`));
  child.unref();
}
