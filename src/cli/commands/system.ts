import type { Command } from 'commander';
import { diskUsage, systemInfo, VERSION } from '../../engine/system-views.js';
import { shortImageId } from '../../engine/image-views.js';
import type { CliContext } from '../context.js';
import { bytesSize, humanSize, printFormatted, renderTemplate, timeAgo } from '../output.js';

const DF_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const DF_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
const DF_IMAGES_TABLE =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const DF_IMAGES_HEADERS = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  ID: 'IMAGE ID',
  CreatedSince: 'CREATED',
  Size: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  Containers: 'CONTAINERS',
};

export function registerSystem(program: Command, system: Command, ctx: CliContext): void {
  for (const cmd of [program.command('info'), system.command('info')]) {
    cmd
      .description('Display system-wide information')
      .option('-f, --format <string>', 'Format output using a custom template')
      .action(async (opts: { format?: string }) => {
        const info = await systemInfo(await ctx.engine());
        if (opts.format) return ctx.out(renderTemplate(opts.format, info));
        const lines = [
          'Server:',
          ` Containers: ${info.Containers}`,
          `  Running: ${info.ContainersRunning}`,
          `  Paused: ${info.ContainersPaused}`,
          `  Stopped: ${info.ContainersStopped}`,
          ` Images: ${info.Images}`,
          ` Server Version: strata ${info.ServerVersion}`,
          ` Storage Driver: ${info.Driver}`,
          ...(info.DriverStatus as [string, string][]).map(([k, v]) => `  ${k}: ${v}`),
          ' Storage Drivers on this host:',
          ...(info.SupportedDrivers as { name: string; supported: boolean; reason?: string }[]).map((d) =>
            d.supported ? `  ${d.name}: supported` : `  ${d.reason}`,
          ),
          ` Cgroup Driver: ${info.CgroupDriver}`,
          ` Cgroup Version: ${info.CgroupVersion}`,
          ` Kernel Version: ${info.KernelVersion}`,
          ` Operating System: ${info.OperatingSystem}`,
          ` OSType: ${info.OSType}`,
          ` Architecture: ${info.Architecture}`,
          ` CPUs: ${info.NCPU}`,
          ` Total Memory: ${bytesSize(info.MemTotal as number)}`,
          ` Name: ${info.Name}`,
          ` Docker Root Dir: ${info.DockerRootDir}`,
          ` Default Registry: ${info.DefaultRegistry}`,
        ];
        ctx.out(lines.join('\n'));
      });
  }

  system
    .command('df')
    .description('Show disk usage')
    .option('--format <string>', 'Format output using a custom template')
    .option('-v, --verbose', 'Show detailed information on space usage')
    .action(async (opts: { format?: string; verbose?: boolean }) => {
      const engine = await ctx.engine();
      const du = diskUsage(engine);
      const active = du.images.filter((i) => i.containers > 0).length;
      const pct = (part: number, whole: number) => (whole > 0 ? ` (${Math.round((part * 100) / whole)}%)` : '');
      if (!opts.verbose) {
        const rows = [
          { Type: 'Images', TotalCount: du.images.length, Active: active, Size: humanSize(du.layersSize), Reclaimable: `${humanSize(du.reclaimable)}${pct(du.reclaimable, du.layersSize)}` },
          { Type: 'Containers', TotalCount: du.containers.total, Active: du.containers.active, Size: humanSize(du.containers.size), Reclaimable: humanSize(0) },
          { Type: 'Local Volumes', TotalCount: 0, Active: 0, Size: humanSize(0), Reclaimable: humanSize(0) },
          { Type: 'Build Cache', TotalCount: 0, Active: 0, Size: humanSize(0), Reclaimable: humanSize(0) },
        ];
        printFormatted(ctx, opts.format, rows, DF_TABLE, DF_HEADERS);
        return;
      }
      ctx.out('Images space usage:\n');
      const rows = du.images.flatMap((i) => {
        const base = {
          ID: shortImageId(i.id),
          CreatedSince: timeAgo(i.created),
          Size: humanSize(i.size),
          SharedSize: humanSize(i.sharedSize),
          UniqueSize: humanSize(i.uniqueSize),
          Containers: String(i.containers),
        };
        return i.names.length
          ? i.names.map((n) => ({ ...base, Repository: n.repository, Tag: n.tag }))
          : [{ ...base, Repository: '<none>', Tag: '<none>' }];
      });
      printFormatted(ctx, opts.format, rows, DF_IMAGES_TABLE, DF_IMAGES_HEADERS);
      ctx.out('\nContainers space usage:\n');
      ctx.out('CONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES');
      ctx.out('\nLocal Volumes space usage:\n');
      ctx.out('VOLUME NAME   LINKS     SIZE');
      ctx.out('\nBuild cache usage: 0B\n');
      ctx.out('CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED');
    });

  program
    .command('version')
    .description('Show the Strata version information')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action((opts: { format?: string }) => {
      const v = { Client: { Version: VERSION, ApiVersion: '1.43', Os: 'linux', Arch: process.arch, GoVersion: process.version } };
      if (opts.format) return ctx.out(renderTemplate(opts.format, v));
      ctx.out(`Client: Strata\n Version:           ${VERSION}\n API version:       1.43\n Node version:      ${process.version}\n OS/Arch:           linux/${process.arch === 'x64' ? 'amd64' : process.arch}`);
    });
}
