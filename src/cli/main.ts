import { Command, CommanderError } from 'commander';
import { isStrataError } from '../errors/errors.js';
import { registerHistory } from './commands/history.js';
import { registerImages } from './commands/images.js';
import { registerInspect } from './commands/inspect.js';
import { registerRemove } from './commands/remove.js';
import { registerSystem } from './commands/system.js';
import { registerTransfer } from './commands/transfer.js';
import { CliContext, collect, type GlobalOptions } from './context.js';
import { DRIVERS } from '../snapshots/factory.js';

/** Docker's CLI exits 125 when its own flags are wrong, 1 when the operation fails. */
const EXIT_USAGE = 125;
const EXIT_FAILURE = 1;

/** Thrown by our own flag-error hook so main can tell usage errors apart. */
class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * Commands whose modules are heavy to load (servers, registry clients) are
 * registered only when argv names them, or for help: every CLI call pays
 * for what it loads, and most calls need none of them.
 */
const LAZY_COMMANDS: { words: string[]; register: (program: Command, image: Command, ctx: CliContext) => Promise<void> }[] = [
  {
    words: ['pull', 'push', 'login', 'logout', 'manifest', 'image'],
    register: async (program, image, ctx) => (await import('./commands/distribution.js')).registerDistribution(program, image, ctx),
  },
  {
    words: ['registry'],
    register: async (program, _image, ctx) => (await import('./commands/registry.js')).registerRegistry(program, ctx),
  },
  {
    words: ['explore', 'image'],
    register: async (program, image, ctx) => (await import('./commands/explore.js')).registerExplore(program, image, ctx),
  },
];

const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--root', '-s', '--storage-driver', '--storage-opt', '-l', '--log-level']);

/** The command word of argv (the first argument that is not a global option or its value). */
function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (GLOBAL_OPTIONS_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

async function buildProgram(ctx: CliContext, argv: string[]): Promise<Command> {
  const program = new Command('strata')
    .description('A container engine: images, layers and storage drivers, with a Docker-compatible CLI')
    .option('--root <dir>', 'Data root (default: $STRATA_ROOT or /var/lib/strata)')
    .option('-s, --storage-driver <name>', `Storage driver for a new data root (${DRIVERS.join(', ')})`)
    .option('--storage-opt <KEY=VALUE>', 'Storage driver option for a new data root (repeatable)', collect)
    .option('-l, --log-level <level>', 'Set the logging level (debug, info, warn, error, fatal)', 'info')
    .enablePositionalOptions()
    .showSuggestionAfterError(false);
  program.hook('preAction', (root) => {
    Object.assign(ctx.globals, root.opts<GlobalOptions>());
  });
  const image = program.command('image').description('Manage images');
  const system = program.command('system').description('Manage Strata');
  registerImages(program, image, ctx);
  registerHistory(program, image, ctx);
  registerInspect(program, image, ctx);
  registerRemove(program, image, ctx);
  registerTransfer(program, image, ctx);
  registerSystem(program, system, ctx);
  const word = commandWord(argv);
  const everything = word === undefined || word === 'help' || argv.includes('--help') || argv.includes('-h');
  for (const lazy of LAZY_COMMANDS) {
    if (everything || lazy.words.includes(word)) await lazy.register(program, image, ctx);
  }
  configureErrors(program);
  return program;
}

/** The command whose parsing failed: commander reports errors through that command's output hook. */
let failedCommand: Command | undefined;

/** Docker-style usage errors on every command: message, pointer to --help, exit 125 or 1. */
function configureErrors(cmd: Command): void {
  cmd.exitOverride().configureOutput({
    outputError: () => {
      failedCommand ??= cmd;
    },
  });
  for (const sub of cmd.commands) configureErrors(sub);
}

function commandPath(cmd: Command | undefined): string {
  const names: string[] = [];
  for (let c = cmd; c; c = c.parent ?? undefined) names.unshift(c.name());
  return names.join(' ');
}

function usageMessage(e: CommanderError, argv: string[]): UsageError {
  const sub = failedCommand;
  const path = commandPath(sub);
  const help = `See '${path} --help'.`;
  switch (e.code) {
    case 'commander.unknownOption': {
      const flag = /'([^']+)'/.exec(e.message)?.[1] ?? '';
      const text = flag.startsWith('--') ? `unknown flag: ${flag}` : `unknown shorthand flag: '${flag.slice(1, 2)}' in ${flag}`;
      return new UsageError(`${text}\n${help}`, EXIT_USAGE);
    }
    case 'commander.optionMissingArgument':
      return new UsageError(`flag needs an argument: ${/'([^']+)'/.exec(e.message)?.[1] ?? ''}\n${help}`, EXIT_USAGE);
    case 'commander.invalidArgument':
      return new UsageError(`${e.message.replace(/^error: /, '')}\n${help}`, EXIT_USAGE);
    case 'commander.missingArgument':
    case 'commander.excessArguments': {
      const usage = sub ? `\n\nUsage:  ${path} ${sub.usage()}\n\n${sub.description()}` : '';
      return new UsageError(`"${path}" ${argCountText(sub)}.\n${help}${usage}`, EXIT_FAILURE);
    }
    case 'commander.unknownCommand':
      return new UsageError(`strata: unknown command: ${argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')}\n\nRun 'strata --help' for more information`, EXIT_FAILURE);
    default:
      return new UsageError(e.message.replace(/^error: /, ''), EXIT_USAGE);
  }
}

function argCountText(cmd: Command | undefined): string {
  const args = cmd?.registeredArguments ?? [];
  const required = args.filter((a) => a.required).length;
  if (args.some((a) => a.variadic)) return `requires at least ${required} argument${required === 1 ? '' : 's'}`;
  if (required === args.length) return `requires exactly ${required} argument${required === 1 ? '' : 's'}`;
  return `requires at least ${required} and at most ${args.length} arguments`;
}

export async function main(argv: string[]): Promise<number> {
  const ctx = new CliContext({});
  const program = await buildProgram(ctx, argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(e.code)) return 0;
      if (e.code === 'commander.executeSubCommandAsync' || e.exitCode === 0) return 0;
      const u = usageMessage(e, argv);
      ctx.err(u.message);
      return u.exitCode;
    }
    if (isStrataError(e)) {
      ctx.err(`Error: ${e.message}`);
      if (ctx.globals.logLevel === 'debug' && e.cause) ctx.err(String((e.cause as Error).stack ?? e.cause));
      return EXIT_FAILURE;
    }
    ctx.err(`Error: ${(e as Error).stack ?? String(e)}`);
    return EXIT_FAILURE;
  } finally {
    await ctx.close();
  }
}
