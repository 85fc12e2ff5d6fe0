/**
 * Storage drivers against overlay, in one run: what a container start costs
 * (prepare + mount + unmount of a writable snapshot on a 3-layer image), a
 * 100 MB copy-up (rewriting a lower layer's 100 MB file through the mount,
 * fsynced), and applying a 20,000-file layer. Drivers this host cannot run
 * are listed with the reason. btrfs runs on a loop-mounted image it makes.
 *
 *   node dist/bench/drivers.js [RUNS] [DRIVER...]
 */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyLayer } from '../src/archive/apply.js';
import { openDatabase } from '../src/metadata/db.js';
import { mountAt, unmount } from '../src/mount/linux.js';
import { directPath, overlayUpperDir, type Mount } from '../src/mount/mount.js';
import { openSnapshotter, supportedDrivers, type ManagedSnapshotter } from '../src/snapshots/factory.js';
import { FUSE_OVERLAYFS_TYPE, mountFuseOverlayfs } from '../src/mount/fuse.js';
import { writeLayerTar } from '../test/fixtures/image-archive.js';

const runs = Number(process.argv[2] ?? 2);
const only = process.argv.slice(3);
const DRIVERS = ['overlay', 'vfs', 'btrfs', 'fuse-overlayfs'];
const STARTS = 10;
const BIG = 100 << 20;

const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Mounts as the runtime will, including fuse-overlayfs mounts, which mount(2) alone cannot perform. */
async function withMount<T>(mounts: Mount[], root: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(root, 'mnt-'));
  try {
    for (const m of mounts) (m.type === FUSE_OVERLAYFS_TYPE ? mountFuseOverlayfs : mountAt)(m, dir);
    try {
      return await fn(dir);
    } finally {
      unmount(dir);
    }
  } finally {
    await rmdir(dir);
  }
}

/** A data root for `driver`; btrfs gets a 4 GB loop-mounted image whose loop device frees itself at unmount. */
async function dataRoot(driver: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), `bench-${driver}-`));
  if (driver === 'btrfs') {
    sh('truncate', '-s', '4G', join(root, 'btrfs.img'));
    sh('mkfs.btrfs', '-q', join(root, 'btrfs.img'));
    const loop = sh('losetup', '--find', '--show', join(root, 'btrfs.img')).trim();
    await mkdir(join(root, 'btrfs'));
    try {
      sh('mount', loop, join(root, 'btrfs'));
    } finally {
      sh('losetup', '-d', loop);
    }
  }
  return root;
}

async function dropRoot(root: string): Promise<void> {
  for (const line of sh('findmnt', '-rn', '-o', 'TARGET').split('\n').reverse()) if (line.startsWith(`${root}/`)) unmount(line);
  await rm(root, { recursive: true, force: true });
}

/** Layers of the image: a 100 MB file and a few small ones, then two small layers. */
async function image(s: ManagedSnapshotter, root: string): Promise<string> {
  let parent: string | undefined;
  for (let i = 0; i < 3; i++) {
    await withMount(await s.prepare(`l${i}-active`, parent), root, async (dir) => {
      if (i === 0) await writeFile(join(dir, 'big'), Buffer.alloc(BIG, 1));
      await mkdir(join(dir, `etc${i}`));
      for (let f = 0; f < 50; f++) await writeFile(join(dir, `etc${i}`, `f${f}`), `layer ${i} file ${f}\n`);
    });
    await s.commit(`L${i}`, `l${i}-active`);
    parent = `L${i}`;
  }
  return parent!;
}

interface Figures {
  start: number;
  copyUp: number;
  apply: number;
}

async function measure(driver: string, tar: string): Promise<Figures> {
  const root = await dataRoot(driver);
  const db = openDatabase(join(root, 'strata.db'));
  const s = await openSnapshotter(driver, root, db);
  try {
    const top = await image(s, root);
    sh('sync');
    const starts: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      starts.push(await timed(async () => withMount(await s.prepare(`c${i}`, top), root, async () => {})));
      await s.remove(`c${i}`);
    }
    const copyUp = await timed(async () =>
      withMount(await s.prepare('copy', top), root, async (dir) => {
        const f = await open(join(dir, 'big'), 'r+');
        try {
          await f.write(Buffer.alloc(BIG, 2), 0, BIG, 0);
          await f.sync();
        } finally {
          await f.close();
        }
      }),
    );
    // As the layer unpacker does: straight into an overlay upperdir or a plain directory, through a mount otherwise.
    const mounts = await s.prepare('extract', top);
    const apply = await timed(async () => {
      const upper = overlayUpperDir(mounts);
      const direct = directPath(mounts);
      if (upper) await applyLayer(createReadStream(tar), upper, { format: 'overlay' });
      else if (direct) await applyLayer(createReadStream(tar), direct, { format: 'plain' });
      else await withMount(mounts, root, (dir) => applyLayer(createReadStream(tar), dir, { format: 'plain' }));
      await s.commit('applied', 'extract');
    });
    return { start: median(starts), copyUp, apply };
  } finally {
    await s.close();
    db.close();
    await dropRoot(root);
  }
}

const work = await mkdtemp(join(tmpdir(), 'bench-drivers-'));
try {
  const tar = join(work, 'layer.tar');
  const entries = [];
  for (let d = 0; d < 200; d++) {
    entries.push({ name: `app/d${d}/`, type: 'directory' as const });
    for (let f = 0; f < 100; f++) entries.push({ name: `app/d${d}/f${f}`, content: `file ${d}/${f}\n`.repeat(8) });
  }
  await writeLayerTar(tar, entries);
  const support = new Map((await supportedDrivers(work)).map((d) => [d.name as string, d]));
  const results = new Map<string, Figures[]>();
  for (let run = 0; run < runs; run++) {
    for (const driver of DRIVERS.filter((d) => !only.length || only.includes(d))) {
      if (driver !== 'btrfs' && !support.get(driver)?.supported) continue;
      const figures = await measure(driver, tar);
      results.set(driver, [...(results.get(driver) ?? []), figures]);
    }
  }
  const base = results.get('overlay');
  const col = (xs: number[], ref?: number[]) => {
    const m = median(xs);
    const ratio = ref ? ` (${(m / median(ref)).toFixed(2)}x)` : '';
    return `${m.toFixed(1)} ms${ratio} [${xs.map((x) => x.toFixed(0)).join(' ')}]`;
  };
  console.log(`${runs} runs; medians in ms (ratio to overlay) [each run]; start = median of ${STARTS} prepare+mount+unmount`);
  for (const [driver, figs] of results) {
    const pick = (k: keyof Figures) => figs.map((f) => f[k]);
    const ref = (k: keyof Figures) => (base && driver !== 'overlay' ? base.map((f) => f[k]) : undefined);
    console.log(`${driver.padEnd(15)} start ${col(pick('start'), ref('start'))}`);
    console.log(`${''.padEnd(15)} 100 MB copy-up ${col(pick('copyUp'), ref('copyUp'))}`);
    console.log(`${''.padEnd(15)} 20,000-file layer ${col(pick('apply'), ref('apply'))}`);
  }
  for (const d of support.values()) if (!d.supported && d.name !== 'btrfs') console.log(`${d.name}: not run here: ${d.reason}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
