/**
 * The layer explorer on an image of 20,000 files:
 *  - time to first render through a real browser (Debian's chromium): from
 *    navigation start to the image page's file tree in the DOM, with no layer
 *    index cached, with the indexes cached on disk (a new `strata explore`),
 *    and with the analysis in memory (a second visit);
 *  - `strata image waste` against its peer on the same image: `dive --ci` when
 *    a dive binary is on PATH, else an independent tar-walking script
 *    (bench/explorer-peer.ts). Debian 12 has Go 1.19 while dive needs Go 1.24
 *    and its modules from the Go module proxy, so dive is usually absent here.
 *
 *   node dist/bench/explorer.js [RUNS]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/engine/engine.js';
import { Explorer } from '../src/explorer/explorer.js';
import { listenExplorer } from '../src/explorer/server/listen.js';
import type { EntrySpec } from '../test/fixtures/image-archive.js';
import { launchChromium, withParents, writeImage } from '../test/explorer/helpers.js';
import { STRATA_BIN, TempRoot } from '../test/helpers/strata.js';
import { FIXTURES } from './fixtures.js';

const runs = Number(process.argv[2] ?? 3);
const TAG = 'strata-bench/explorer:1';
const here = fileURLToPath(import.meta.url);
const name = (i: number) => `small/d${String(i % 200).padStart(3, '0')}/f${String(i).padStart(5, '0')}`;

/**
 * 20,000 files of 1 kB in 200 directories; then a layer that overwrites every
 * 10th file, deletes every 20th (+5) and makes 5 directories opaque; then a tiny one.
 */
async function fixture(): Promise<string> {
  const out = join(FIXTURES, 'explorer-20k.tar');
  if (existsSync(out)) return out;
  const work = join(FIXTURES, 'explorer-20k.work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const base: EntrySpec[] = [];
  for (let i = 0; i < 20_000; i++) base.push({ name: name(i), content: Buffer.alloc(1000, i % 251) });
  const change: EntrySpec[] = [];
  for (let d = 0; d < 5; d++) change.push({ name: `small/d${String(d).padStart(3, '0')}/.wh..wh..opq`, content: '' });
  for (let i = 0; i < 20_000; i++) {
    if (i % 200 < 5) continue; // inside the opaque directories
    if (i % 10 === 0) change.push({ name: name(i), content: Buffer.alloc(2000, 1) });
    else if (i % 20 === 5) change.push({ name: name(i).replace(/f(\d+)$/, '.wh.f$1'), content: '' });
  }
  const { archive } = await writeImage(work, TAG, [withParents(base), withParents(change), [{ name: 'tiny', content: 'hi\n' }]], [
    { created_by: '/bin/sh -c #(nop) ADD dir:small in /small ' },
    { created_by: '/bin/sh -c ./update-small.sh' },
    { created_by: '/bin/sh -c echo hi > /tiny' },
  ]);
  await rename(archive, out);
  await rm(work, { recursive: true, force: true });
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const fmt = (xs: number[], unit = 'ms') => `${median(xs).toFixed(0)} ${unit} (runs: ${xs.map((x) => x.toFixed(0)).join(' ')})`;

/** Wall time and CPU time (user + system, from /usr/bin/time) of a command: the machine is shared, CPU time is the steadier figure. */
interface Timing {
  ms: number;
  cpuMs: number;
  stdout: string;
}

function timed(cmd: string, args: string[], anyStatus = false): Timing {
  const t0 = process.hrtime.bigint();
  const withTime = existsSync('/usr/bin/time');
  const r = withTime
    ? spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, CI: 'true' } })
    : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, CI: 'true' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !(anyStatus && r.status !== null)) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return { ms, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN, stdout: r.stdout };
}

/** `strata image waste` as a process: bin/strata once main.ts registers it, else the same command module run by node. */
function wasteCommand(root: string): [string, string[]] {
  const args = ['image', 'waste', TAG, '--format', 'json'];
  const help = spawnSync(process.execPath, [STRATA_BIN, 'image', '--help'], { encoding: 'utf8' }).stdout;
  if (/^\s+waste\b/m.test(help)) return [process.execPath, [STRATA_BIN, '--root', root, ...args]];
  const dist = resolve(here, '../../src');
  const script = [
    `const { Command } = await import(${JSON.stringify(createRequire(here).resolve('commander'))});`,
    `const { registerExplore } = await import(${JSON.stringify(`${dist}/cli/commands/explore.js`)});`,
    `const { CliContext } = await import(${JSON.stringify(`${dist}/cli/context.js`)});`,
    `const ctx = new CliContext({ root: ${JSON.stringify(root)} });`,
    `const program = new Command('strata');`,
    `registerExplore(program, program.command('image'), ctx);`,
    `await program.parseAsync(${JSON.stringify(args)}, { from: 'user' });`,
    `await ctx.close();`,
  ].join('\n');
  return [process.execPath, ['--input-type=module', '-e', script]];
}

const archive = await fixture();
const t = await TempRoot.create('strata-bench-');
const browser = await launchChromium();
try {
  const load = await t.strata(['load', '-q', '-i', archive]);
  if (load.code !== 0) throw new Error(load.stderr);
  const indexDir = join(t.root, 'explorer');
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());

  /** Navigation start → the tree in the DOM, as the page itself records it (performance.now() is relative to navigation start). */
  async function firstRender(url: string): Promise<number> {
    await page.goto(url);
    await page.waitForSelector('body[data-tree-ready]');
    return page.evaluate(() => (window as unknown as { __explorerTreeRendered: number }).__explorerTreeRendered);
  }

  const cold: number[] = [];
  const disk: number[] = [];
  const memory: number[] = [];
  for (let i = 0; i < runs; i++) {
    await rm(indexDir, { recursive: true, force: true });
    for (const kind of ['cold', 'disk'] as const) {
      const engine = await Engine.open({ root: t.root });
      const running = await listenExplorer(new Explorer(engine), { addr: '127.0.0.1:0' });
      try {
        const id = engine.images.resolve(TAG).id;
        const url = `${running.url}images/${encodeURIComponent(id)}`;
        (kind === 'cold' ? cold : disk).push(await firstRender(url));
        if (kind === 'disk') memory.push(await firstRender(url));
      } finally {
        await running.close();
        await engine.close();
      }
    }
  }

  const [cmd, args] = wasteCommand(t.root);
  const strataCold: Timing[] = [];
  const strataWarm: Timing[] = [];
  let ours = { wastedBytes: 0, items: [] as unknown[], totalBytes: 0 };
  for (let i = 0; i < runs; i++) {
    await rm(indexDir, { recursive: true, force: true });
    strataCold.push(timed(cmd, args));
    const warm = timed(cmd, args);
    strataWarm.push(warm);
    ours = JSON.parse(warm.stdout);
  }

  // dive --ci exits 1 when its rules fail; its timing counts either way.
  const dive = spawnSync('sh', ['-c', 'command -v dive'], { encoding: 'utf8' }).stdout.trim();
  const peer: Timing[] = [];
  let peerName: string;
  let peerResult = '';
  if (dive) {
    peerName = `dive --ci (${dive})`;
    for (let i = 0; i < runs; i++) {
      const r = timed(dive, ['--ci', '--source', 'docker-archive', archive], true);
      peer.push(r);
      peerResult = r.stdout.split('\n').filter((l) => /efficiency|wasted/i.test(l)).join('; ');
    }
  } else {
    peerName = 'independent tar-walking script (bench/explorer-peer.ts)';
    for (let i = 0; i < runs; i++) {
      const r = timed(process.execPath, [resolve(here, '../explorer-peer.js'), archive]);
      peer.push(r);
      peerResult = r.stdout.trim();
    }
    const p = JSON.parse(peerResult);
    if (p.wastedBytes !== ours.wastedBytes || p.items !== ours.items.length || p.totalBytes !== ours.totalBytes) {
      throw new Error(`the peer disagrees: strata ${ours.wastedBytes} bytes in ${ours.items.length} items, peer ${peerResult}`);
    }
  }

  const wall = (xs: Timing[]) => xs.map((x) => x.ms);
  const cpu = (xs: Timing[]) => xs.map((x) => x.cpuMs);
  const both = (xs: Timing[]) => `wall ${fmt(wall(xs))}, cpu ${fmt(cpu(xs))}`;
  console.log(`image: 20,000 files + 1 changing layer (${TAG}), ${runs} runs each, medians; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`);
  console.log(`first render, no index cached:        ${fmt(cold)}`);
  console.log(`first render, indexes cached on disk: ${fmt(disk)}`);
  console.log(`first render, analysis in memory:     ${fmt(memory)}`);
  console.log(`strata image waste (${cmd === process.execPath && args[0] === STRATA_BIN ? 'bin/strata' : 'command module run by node'}):`);
  console.log(`  no index cached:  ${both(strataCold)}`);
  console.log(`  indexes cached:   ${both(strataWarm)}  → ${ours.wastedBytes} bytes wasted in ${ours.items.length} files`);
  console.log(`peer: ${peerName}: ${both(peer)}  → ${peerResult}`);
  const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(2);
  console.log(`ratio strata/peer, wall: ${ratio(wall(strataCold), wall(peer))} uncached, ${ratio(wall(strataWarm), wall(peer))} cached`);
  console.log(`ratio strata/peer, cpu:  ${ratio(cpu(strataCold), cpu(peer))} uncached, ${ratio(cpu(strataWarm), cpu(peer))} cached`);
} finally {
  await browser.cleanup();
  await t.cleanup();
}
