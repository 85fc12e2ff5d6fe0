import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeDockerArchive, writeLayerTar } from '../fixtures/image-archive.js';
import { STRATA_BIN, TempRoot } from '../helpers/strata.js';

const MB = 1_000_000;

async function blobInodes(root: string): Promise<Map<string, number>> {
  const dir = join(root, 'content/blobs/sha256');
  const out = new Map<string, number>();
  for (const n of await readdir(dir).catch(() => [])) out.set(n, (await stat(join(dir, n))).ino);
  return out;
}

describe('SIGKILL in the middle of a load', () => {
  let t: TempRoot;
  let archive: string;

  before(async () => {
    t = await TempRoot.create();
    // Build the archive in the blobs/sha256 layout (as Docker 25+ and strata save write it).
    const layers = [];
    for (const [i, size] of [60, 60, 60].entries()) {
      const path = join(t.dir, `l${i}.tar`);
      layers.push({ path, ...(await writeLayerTar(path, [{ name: `big${i}.bin`, random: size * MB }])) });
    }
    await writeDockerArchive(join(t.dir, 'legacy.tar'), layers, { repoTags: ['big:1'] });
    const staging = await TempRoot.create();
    try {
      assert.equal((await staging.strata(['load', '-i', join(t.dir, 'legacy.tar')])).code, 0);
      archive = join(t.dir, 'big.tar');
      assert.equal((await staging.strata(['save', '-o', archive, 'big:1'])).code, 0);
    } finally {
      await staging.cleanup();
    }
  });
  after(async () => t.cleanup());

  it('leaves a usable store with nothing half-visible, and a reload reuses committed blobs', async () => {
    assert.equal((await t.strata(['images'])).code, 0);
    const child = spawn(process.execPath, [STRATA_BIN, '--root', t.root, 'load', '-i', archive], { stdio: 'ignore' });
    // Kill once at least one blob is committed and another is part-way in.
    for (let i = 0; i < 500; i++) {
      const committed = (await blobInodes(t.root)).size;
      const ingests = await readdir(join(t.root, 'content/ingest')).catch(() => []);
      if (committed >= 1 && ingests.length >= 1) break;
      await sleep(10);
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));

    const images = await t.strata(['images', '-aq']);
    assert.equal(images.code, 0, images.stderr);
    assert.equal(images.stdout, '', 'the half-loaded image is not visible');
    const committedBefore = await blobInodes(t.root);
    assert.ok(committedBefore.size >= 1, 'some blobs were committed before the kill');

    const reload = await t.strata(['load', '-i', archive]);
    assert.equal(reload.code, 0, reload.stderr);
    assert.equal(reload.stdout, 'Loaded image: big:1\n');
    const committedAfter = await blobInodes(t.root);
    for (const [name, ino] of committedBefore) {
      assert.equal(committedAfter.get(name), ino, `blob ${name} was reused, not rewritten`);
    }
    assert.deepEqual(await readdir(join(t.root, 'content/ingest')), [], 'no ingest left after the reload');
    const [img] = JSON.parse((await t.strata(['inspect', 'big:1'])).stdout);
    assert.equal(img.RootFS.Layers.length, 3);
  });
});
