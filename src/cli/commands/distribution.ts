import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { DistributionService } from '../../engine/distribution.js';
import { errors } from '../../errors/errors.js';
import type { ProgressEvent, ProgressFn } from '../../remotes/progress.js';
import type { CliContext } from '../context.js';
import { humanSize } from '../output.js';

interface PullFlags {
  allTags?: boolean;
  platform?: string;
  quiet?: boolean;
  concurrency?: string;
}

/** pull, push, login, logout, manifest inspect and image copy: the registry commands. */
export function registerDistribution(program: Command, image: Command, ctx: CliContext): void {
  const withService = async <T>(fn: (d: DistributionService) => Promise<T>): Promise<T> => {
    const dist = new DistributionService(await ctx.engine());
    try {
      return await fn(dist);
    } finally {
      dist.close();
    }
  };

  for (const cmd of [program.command('pull'), image.command('pull')]) {
    cmd
      .description('Download an image from a registry')
      .argument('<NAME[:TAG|@DIGEST]>')
      .option('-a, --all-tags', 'Download all tagged images in the repository')
      .option('--platform <string>', 'Set platform if server is multi-platform capable (os[/arch[/variant]])')
      .option('-q, --quiet', 'Suppress verbose output')
      .option('--concurrency <n>', 'Layers downloaded at once', '4')
      .action(async (name: string, opts: PullFlags) =>
        withService(async (dist) => {
          const ref = dist.parse(name, false);
          if (!opts.allTags && !ref.tag && !ref.digest && !opts.quiet) ctx.out('Using default tag: latest');
          const view = opts.quiet ? undefined : new ProgressView(ctx);
          const pulled = await dist.pull(name, { allTags: opts.allTags, platform: opts.platform, concurrency: positive(opts.concurrency, '--concurrency') }, view?.fn ?? (() => undefined));
          view?.end();
          ctx.out(opts.allTags ? `${ref.domain}/${ref.path}` : pulled[0].reference);
        }),
      );
  }

  for (const cmd of [program.command('push'), image.command('push')]) {
    cmd
      .description('Upload an image to a registry')
      .argument('<NAME[:TAG]>')
      .option('-a, --all-tags', 'Push all tags of an image to the repository')
      .option('-q, --quiet', 'Suppress verbose output')
      .option('--concurrency <n>', 'Layers uploaded at once', '4')
      .action(async (name: string, opts: PullFlags) =>
        withService(async (dist) => {
          const ref = dist.parse(name, false);
          if (!opts.allTags && !ref.tag && !opts.quiet) ctx.out('Using default tag: latest');
          const view = opts.quiet ? undefined : new ProgressView(ctx);
          const pushed = await dist.push(name, { allTags: opts.allTags, concurrency: positive(opts.concurrency, '--concurrency') }, view?.fn ?? (() => undefined));
          view?.end();
          if (opts.quiet) for (const p of pushed) ctx.out(`${ref.domain}/${ref.path}:${p.tag}`);
        }),
      );
  }

  program
    .command('login')
    .description('Log in to a registry')
    .argument('[SERVER]')
    .option('-u, --username <string>', 'Username')
    .option('-p, --password <string>', 'Password')
    .option('--password-stdin', 'Take the password from stdin')
    .action(async (server: string | undefined, opts: { username?: string; password?: string; passwordStdin?: boolean }) =>
      withService(async (dist) => {
        let { username, password } = opts;
        if (opts.passwordStdin) {
          if (password) throw errors.invalidArgument('--password and --password-stdin are mutually exclusive');
          if (!username) throw errors.invalidArgument('Must provide --username with --password-stdin');
          password = (await readAll(process.stdin)).replace(/\r?\n$/, '');
        } else if (password) {
          ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
        }
        if (!username || !password) {
          if (!process.stdin.isTTY) throw errors.invalidArgument('Cannot perform an interactive login from a non TTY device');
          username ??= await ask('Username: ', false);
          password ??= await ask('Password: ', true);
        }
        if (!username) throw errors.invalidArgument('Error: Non-null Username Required');
        if (!password) throw errors.invalidArgument('Error: Non-null Password Required');
        await dist.login(server, { username, password });
        ctx.out('Login Succeeded');
      }),
    );

  program
    .command('logout')
    .description('Log out from a registry')
    .argument('[SERVER]')
    .action(async (server: string | undefined) =>
      withService(async (dist) => {
        const { registry, removed } = await dist.logout(server);
        ctx.out(removed ? `Removing login credentials for ${registry}` : `Not logged in to ${registry}`);
      }),
    );

  program
    .command('manifest')
    .description('Inspect image manifests in a registry')
    .command('inspect')
    .description('Display an image manifest, or manifest list')
    .argument('<NAME[:TAG|@DIGEST]>')
    .action(async (name: string) =>
      withService(async (dist) => {
        ctx.out(JSON.stringify(await dist.manifestInspect(name), null, 3));
      }),
    );

  image
    .command('copy')
    .description('Copy an image between registries, the local store and archives, without unpacking it')
    .argument('<SOURCE>', 'docker://REF, strata:REF')
    .argument('<DESTINATION>', 'docker://REF, strata:REF or oci-archive:PATH')
    .option('--platform <string>', 'Platform to copy from a multi-platform image')
    .option('-q, --quiet', 'Suppress verbose output')
    .action(async (src: string, dst: string, opts: PullFlags) =>
      withService(async (dist) => {
        const view = opts.quiet ? undefined : new ProgressView(ctx);
        const { digest } = await dist.copy(src, dst, { platform: opts.platform }, view?.fn ?? (() => undefined));
        view?.end();
        if (digest && opts.quiet) ctx.out(digest);
      }),
    );
}

function positive(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw errors.invalidArgument(`invalid value "${v}" for ${flag}: a positive integer is needed`);
  return n;
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function ask(prompt: string, hidden: boolean): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) {
    // Echo nothing while the password is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith(prompt)) process.stdout.write(prompt);
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(prompt, resolve));
  } finally {
    if (hidden) process.stdout.write('\n');
    rl.close();
  }
}

const BAR_WIDTH = 40;

interface LayerLine {
  status: string;
  downloaded?: number;
  extracted?: number;
  total?: number;
  rate: number;
  sample?: { t: number; bytes: number };
}

/**
 * Docker-style progress. Off a terminal: one line per state change ("<id>:
 * Pull complete"), byte counts omitted. On a terminal: one line per layer,
 * rewritten in place: a bar, bytes moved, speed, and how much is extracted
 * already (extraction runs while the layer downloads).
 */
class ProgressView {
  readonly fn: ProgressFn;
  #ctx: CliContext;
  #tty: boolean;
  #ids: string[] = [];
  #layers = new Map<string, LayerLine>();

  constructor(ctx: CliContext) {
    this.#ctx = ctx;
    this.#tty = (ctx.stdout as NodeJS.WriteStream).isTTY === true;
    this.fn = (e) => this.#event(e);
  }

  #event(e: ProgressEvent): void {
    if (e.id === '') {
      this.#ctx.out(e.status);
      this.#ids = []; // lines above a header are final
      return;
    }
    if (!this.#tty) {
      if (e.current === undefined) this.#ctx.out(`${e.id}: ${e.status}`);
      return;
    }
    const l = this.#layers.get(e.id) ?? { status: e.status, rate: 0 };
    this.#layers.set(e.id, l);
    if (e.current === undefined) l.status = e.status;
    else if (e.status === 'Extracting') {
      l.extracted = e.current;
      if (l.status !== 'Downloading') l.status = e.status;
    } else {
      l.status = e.status;
      l.downloaded = e.current;
      this.#sample(l, e.current);
    }
    l.total = e.total ?? l.total;
    const line = `${e.id}: ${this.#render(l)}`;
    const index = this.#ids.indexOf(e.id);
    if (index < 0) {
      this.#ids.push(e.id);
      this.#ctx.stdout.write(`${line}\n`);
      return;
    }
    const up = this.#ids.length - index;
    this.#ctx.stdout.write(`\x1b[${up}A\r\x1b[2K${line}\x1b[${up}B\r`);
  }

  #sample(l: LayerLine, bytes: number): void {
    const now = Date.now();
    if (!l.sample) l.sample = { t: now, bytes };
    else if (now - l.sample.t >= 500) {
      l.rate = ((bytes - l.sample.bytes) * 1000) / (now - l.sample.t);
      l.sample = { t: now, bytes };
    }
  }

  #render(l: LayerLine): string {
    const moving = l.status === 'Downloading' || l.status === 'Pushing';
    const done = moving ? l.downloaded : l.status === 'Extracting' ? l.extracted : undefined;
    if (done === undefined || !l.total) return l.status;
    const filled = Math.floor((Math.min(done, l.total) / l.total) * BAR_WIDTH);
    const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(BAR_WIDTH - filled)}]`;
    const speed = moving && l.rate > 0 ? ` ${humanSize(l.rate)}/s` : '';
    const extracted = moving && l.extracted ? ` (extracted ${humanSize(l.extracted)})` : '';
    return `${l.status} ${bar} ${humanSize(done)}/${humanSize(l.total)}${speed}${extracted}`;
  }

  end(): void {
    this.#ids = [];
  }
}
