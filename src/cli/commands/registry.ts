import type { Command } from 'commander';
import { collectGarbage } from '../../registry/storage/gc.js';
import { openDriver } from '../../registry/storage/driver/factory.js';
import { Registry } from '../../registry/storage/registry.js';
import { applyFlags, DEFAULT_ADDR, DEFAULT_STORAGE, loadConfig, parseConfig, type RegistryConfig } from '../../registry/server/config.js';
import { serveRegistry } from '../../registry/server/serve.js';
import type { CliContext } from '../context.js';

interface ServeFlags {
  config?: string;
  addr?: string;
  storage?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel?: string;
}

async function configFrom(flags: ServeFlags, ctx: CliContext): Promise<RegistryConfig> {
  const base = flags.config ? await loadConfig(flags.config) : parseConfig('');
  return applyFlags(base, { ...flags, logLevel: flags.logLevel ?? (ctx.globals.logLevel !== 'info' ? ctx.globals.logLevel : undefined) });
}

export function registerRegistry(program: Command, ctx: CliContext): void {
  const registry = program.command('registry').description('Run an OCI distribution registry');
  registry
    .command('serve')
    .description('Serve the OCI distribution API (pull, push, discovery, deletion, referrers)')
    .option('--config <file>', 'Configuration file (YAML or JSON)')
    .option('--addr <host:port>', `Address to listen on (default ${DEFAULT_ADDR})`)
    .option('--storage <spec>', `filesystem:DIR, inmemory, or s3://BUCKET[/PREFIX]?region=&endpoint=&forcePathStyle=true (default filesystem:${DEFAULT_STORAGE})`)
    .option('--tls-cert <file>', 'TLS certificate (PEM)')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--log-level <level>', 'debug, info (one JSON line per request), warn or error')
    .action(async (flags: ServeFlags) => {
      const running = await serveRegistry(await configFrom(flags, ctx));
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          ctx.err(JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: 'shutting down', signal }));
          void running.close().then(resolve);
        };
        const onTerm = () => stop('SIGTERM');
        const onInt = () => stop('SIGINT');
        process.on('SIGTERM', onTerm);
        process.on('SIGINT', onInt);
      });
    });

  registry
    .command('gc')
    .description('Delete unreferenced manifests and blobs (safe while a registry serves the same storage, see --grace-period)')
    .option('--config <file>', 'Configuration file (YAML or JSON)')
    .option('--storage <spec>', 'filesystem:DIR, inmemory, or s3://...')
    .option('--grace-period <seconds>', 'Keep unreferenced content younger than this', '3600')
    .option('--dry-run', 'Report what would be freed, delete nothing')
    .action(async (flags: ServeFlags & { gracePeriod: string; dryRun?: boolean }) => {
      const cfg = await configFrom(flags, ctx);
      const reg = await Registry.open(await openDriver(cfg.storage), { uploadSecret: cfg.secret });
      const report = await collectGarbage(reg, { gracePeriodMs: Number(flags.gracePeriod) * 1000, dryRun: !!flags.dryRun });
      const verb = report.dryRun ? 'would delete' : 'deleted';
      for (const m of report.deletedManifests) ctx.out(`${verb} manifest ${m.repository}@${m.digest}`);
      for (const b of report.deletedBlobs) ctx.out(`${verb} blob ${b.digest} (${b.size} bytes)`);
      for (const u of report.purgedUploads) ctx.out(`${verb} upload ${u.repository}/${u.id}`);
      ctx.out(`${report.dryRun ? 'Would free' : 'Freed'} ${report.freedBytes} bytes: ${report.deletedBlobs.length} blobs, ${report.deletedManifests.length} manifests, ${report.purgedUploads.length} uploads`);
    });
}
