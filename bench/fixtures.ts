import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDockerArchive, writeLayerTar, type EntrySpec } from '../test/fixtures/image-archive.js';

/** Generated fixtures live beside the sources in bench/fixtures (git-ignored), reused across runs. */
export const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/fixtures');

const MB = 1_000_000;

function* smallFiles(count: number): Generator<EntrySpec> {
  for (let d = 0; d < 200; d++) yield { name: `small/d${String(d).padStart(3, '0')}/`, type: 'directory' };
  for (let i = 0; i < count; i++) {
    yield { name: `small/d${String(i % 200).padStart(3, '0')}/f${String(i).padStart(5, '0')}`, content: Buffer.alloc(1000, i % 251) };
  }
}

/**
 * The ~300 MB image of the load and pull benchmarks: two layers of 130 MB of
 * incompressible data, one of 20,000 small files, one tiny; in the legacy
 * `docker save` layout so Debian's Docker 20.10 loads it too.
 */
export async function bigImageArchive(): Promise<string> {
  const out = join(FIXTURES, 'big-image.tar');
  if (existsSync(out)) return out;
  const work = join(FIXTURES, 'big-image.work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const specs: EntrySpec[][] = [
    [{ name: 'a.bin', random: 130 * MB }],
    [{ name: 'b.bin', random: 130 * MB }],
    [...smallFiles(20_000)],
    [{ name: 'tiny', content: 'hi\n' }],
  ];
  const layers = [];
  for (const [i, entries] of specs.entries()) {
    const path = join(work, `layer${i}.tar`);
    layers.push({ path, ...(await writeLayerTar(path, entries)) });
  }
  await writeDockerArchive(`${out}.tmp`, layers, { repoTags: ['strata-bench/big:1'] });
  await rename(`${out}.tmp`, out);
  await rm(work, { recursive: true, force: true });
  return out;
}
