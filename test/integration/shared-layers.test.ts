import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeDockerArchive, writeLayerTar } from '../fixtures/image-archive.js';
import { TempRoot } from '../helpers/strata.js';

const MB = 1_000_000;

/** `du -sb` of a directory, in bytes. */
function du(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

/**
 * Expected growth per driver: overlay stores only a layer's own files; vfs
 * snapshots are full copies of their parent, so a top layer costs its
 * parent's bytes again. Either way shared layers are never stored twice.
 */
const EXPECT = {
  overlay: { secondImageMax: 6 * MB, dfSize: '33MB', freedA: [1.5 * MB, 3 * MB] },
  vfs: { secondImageMax: 40 * MB, dfSize: '113MB', freedA: [31 * MB, 34 * MB] },
} as const;

for (const driver of ['overlay', 'vfs'] as const) {
  describe(`two images sharing base layers (${driver})`, () => {
    let t: TempRoot;
    before(async () => {
      t = await TempRoot.create();
      const base = await writeLayerTar(join(t.dir, 'base.tar'), [{ name: 'base.bin', random: 20 * MB }]);
      const mid = await writeLayerTar(join(t.dir, 'mid.tar'), [{ name: 'mid.bin', random: 10 * MB }]);
      const a = await writeLayerTar(join(t.dir, 'a.tar'), [{ name: 'a.bin', random: 1 * MB }]);
      const b = await writeLayerTar(join(t.dir, 'b.tar'), [{ name: 'b.bin', random: 2 * MB }]);
      const layers = (x: { diffId: string }, p: string) => [
        { path: join(t.dir, 'base.tar'), diffId: base.diffId },
        { path: join(t.dir, 'mid.tar'), diffId: mid.diffId },
        { path: p, diffId: x.diffId },
      ];
      await writeDockerArchive(join(t.dir, 'img-a.tar'), layers(a, join(t.dir, 'a.tar')), { repoTags: ['img-a:1'] });
      await writeDockerArchive(join(t.dir, 'img-b.tar'), layers(b, join(t.dir, 'b.tar')), { repoTags: ['img-b:1'] });
    });
    after(async () => t.cleanup());

    it('stores and unpacks the shared layers once', async () => {
      assert.equal((await t.strata(['--storage-driver', driver, 'load', '-i', join(t.dir, 'img-a.tar')])).code, 0);
      const afterA = du(t.root);
      assert.equal((await t.strata(['load', '-i', join(t.dir, 'img-b.tar')])).code, 0);
      const grew = du(t.root) - afterA;
      // Image B adds only its own 2 MB layer: its blob and its unpacked copy.
      assert.ok(grew < EXPECT[driver].secondImageMax, `loading the second image grew the data root by ${grew} bytes`);

      const df = await t.strata(['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Size}}']);
      assert.equal(df.code, 0, df.stderr);
      assert.equal(df.stdout.split('\n')[0], `Images 2 ${EXPECT[driver].dfSize}`);
      if (driver === 'overlay') {
        const verbose = await t.strata(['system', 'df', '-v']);
        assert.match(verbose.stdout, /img-a\s+1\s+\w{12}\s+.+\s+31MB\s+30MB\s+1MB\s+0/);
        assert.match(verbose.stdout, /img-b\s+1\s+\w{12}\s+.+\s+32MB\s+30MB\s+2MB\s+0/);
      }
    });

    it('keeps shared layers when one image is removed, and frees them with the last', async () => {
      const before = du(t.root);
      const rmA = await t.strata(['rmi', 'img-a:1']);
      assert.equal(rmA.code, 0, rmA.stderr);
      const freed = before - du(t.root);
      const [lo, hi] = EXPECT[driver].freedA;
      assert.ok(freed > lo && freed < hi, `removing img-a freed ${freed} bytes, expected only its own layer (blob + unpacked)`);
      assert.equal((await t.strata(['rmi', 'img-b:1'])).code, 0);
      assert.ok(du(t.root) < 1 * MB, 'removing the last image frees the shared layers');
    });
  });
}
