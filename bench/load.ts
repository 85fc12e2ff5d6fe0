/**
 * `strata load` against `docker load` of the same ~300 MB archive, in one run.
 * Target (issue: foundation): Strata at most 0.7x Docker's time.
 *
 *   node dist/bench/load.js [RUNS]
 *
 * Each run loads into a fresh, empty store on both sides (a new data root and
 * a new private dockerd), and nothing is deleted until the end: on this ext4
 * (no journal) creating files right after deleting many is several times
 * slower for minutes, which would punish whichever side ran after a clean-up.
 */
import { statSync } from 'node:fs';
import { bigImageArchive } from './fixtures.js';
import { PrivateDocker } from '../test/helpers/dockerd.js';
import { TempRoot } from '../test/helpers/strata.js';

const runs = Number(process.argv[2] ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const archive = await bigImageArchive();
const mb = statSync(archive).size / 1e6;
const strataTimes: number[] = [];
const dockerTimes: number[] = [];
const roots: TempRoot[] = [];
const dockers: PrivateDocker[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const root = await TempRoot.create('strata-bench-');
    roots.push(root);
    const docker = await PrivateDocker.start();
    dockers.push(docker);
    const strataRun = async () => {
      strataTimes.push(
        await timed(async () => {
          const r = await root.strata(['load', '-q', '-i', archive]);
          if (r.code !== 0) throw new Error(`strata load failed: ${r.stderr}`);
        }),
      );
    };
    const dockerRun = async () => {
      dockerTimes.push(
        await timed(async () => {
          const r = await docker.docker(['load', '-q', '-i', archive]);
          if (r.code !== 0) throw new Error(`docker load failed: ${r.stderr}`);
        }),
      );
    };
    // Alternate which side goes first, so neither always meets a busier page cache.
    if (i % 2 === 0) await strataRun().then(dockerRun);
    else await dockerRun().then(strataRun);
  }
} finally {
  for (const d of dockers) await d.stop();
  for (const r of roots) await r.cleanup();
}
const s = median(strataTimes);
const d = median(dockerTimes);
console.log(`archive: ${mb.toFixed(0)} MB, ${runs} runs each, medians`);
console.log(`strata load: ${s.toFixed(2)} s (${(mb / s).toFixed(0)} MB/s)  runs: ${strataTimes.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`docker load: ${d.toFixed(2)} s (${(mb / d).toFixed(0)} MB/s)  runs: ${dockerTimes.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`ratio strata/docker: ${(s / d).toFixed(2)} (target <= 0.70)`);
