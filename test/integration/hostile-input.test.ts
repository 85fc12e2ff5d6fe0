import assert from 'node:assert/strict';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tarStream from 'tar-stream';
import { writeDockerArchive, writeLayerTar, type EntrySpec } from '../fixtures/image-archive.js';
import { TempRoot } from '../helpers/strata.js';

/** Every file name under dir, recursively (symlinks not followed). */
async function allNames(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) out.push(join(e.parentPath ?? e.path, e.name));
  return out;
}

/** A tar of one file entry whose header claims `claimed` bytes but whose body has `actual`. */
function truncatedTar(name: string, claimed: number, actual: number): Buffer {
  const header = tarStream.pack();
  const chunks: Buffer[] = [];
  header.on('data', (c) => chunks.push(c as Buffer));
  header.entry({ name, size: claimed }).write(Buffer.alloc(actual, 'x'));
  return Buffer.concat(chunks).subarray(0, 512 + actual);
}

describe('hostile layers are refused and leave nothing behind', () => {
  let t: TempRoot;
  let outside: string;

  before(async () => {
    t = await TempRoot.create();
    outside = join(t.dir, 'outside');
    await mkdir(outside);
    assert.equal((await t.strata(['images'])).code, 0); // initialise the data root
  });
  after(async () => t.cleanup());

  const cases: { name: string; entries: () => EntrySpec[]; names: RegExp }[] = [
    { name: 'a ../ path', entries: () => [{ name: '../escape.txt', content: 'x' }], names: /"\.\.\/escape\.txt"/ },
    { name: 'a ../ path through a directory', entries: () => [{ name: 'a/', type: 'directory' }, { name: 'a/../../escape.txt', content: 'x' }], names: /a\/\.\.\/\.\.\/escape\.txt/ },
    {
      name: 'a file written through an absolute symlink',
      entries: () => [{ name: 'link', type: 'symlink', linkname: outside }, { name: 'link/evil.txt', content: 'x' }],
      names: /link\/evil\.txt/,
    },
    {
      name: 'a file written through a relative symlink that climbs out',
      entries: () => [{ name: 'up', type: 'symlink', linkname: '../../../../../../..' }, { name: 'up/evil.txt', content: 'x' }],
      names: /up\/evil\.txt/,
    },
    {
      name: 'a file written through a symlinked parent directory',
      entries: () => [
        { name: 'd/', type: 'directory' },
        { name: 'd/p', type: 'symlink', linkname: outside },
        { name: 'd/p/sub/evil.txt', content: 'x' },
      ],
      names: /d\/p\/sub\/evil\.txt/,
    },
    { name: 'a hard link to a file outside', entries: () => [{ name: 'hl', type: 'link', linkname: '../../../../etc/passwd' }], names: /"hl"/ },
    { name: 'a hard link to a file the layer does not have', entries: () => [{ name: 'hl2', type: 'link', linkname: 'etc/shadow' }], names: /"hl2"/ },
    { name: 'a whiteout of ..', entries: () => [{ name: 'd/', type: 'directory' }, { name: 'd/.wh..', content: '' }], names: /d\/\.wh\.\./ },
    { name: 'a whiteout of .', entries: () => [{ name: '.wh..', content: '' }], names: /\.wh\./ },
  ];

  for (const c of cases) {
    it(`import refuses ${c.name}`, async () => {
      const tar = join(t.dir, 'hostile.tar');
      await writeLayerTar(tar, c.entries());
      const r = await t.strata(['import', tar, 'hostile:1']);
      assert.equal(r.code, 1, `expected failure, got ${r.code}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, c.names, `the error names the entry: ${r.stderr}`);
      await assertNothingLeft();
    });
  }

  it('import refuses a truncated stream and an absurd header size', async () => {
    for (const [name, body] of [
      ['truncated.bin', truncatedTar('truncated.bin', 10_000, 100)],
      ['garbage', Buffer.from('this is not a tar archive at all, just text'.repeat(40))],
    ] as const) {
      const tar = join(t.dir, `${name}.tar`);
      await writeFile(tar, body);
      const r = await t.strata(['import', tar]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /Error: /);
      await assertNothingLeft();
    }
    const huge = Buffer.alloc(1024);
    huge.write('huge.bin', 0);
    huge.write('0000644\0', 100);
    huge.write('77777777777\0', 124); // 8 GiB - 1 claimed, nothing follows
    huge.write('        ', 148);
    huge.write('0', 156);
    huge.write('ustar\x0000', 257);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += huge[i];
    huge.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    await writeFile(join(t.dir, 'huge.tar'), huge);
    const r = await t.strata(['import', join(t.dir, 'huge.tar')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /huge\.bin/);
    await assertNothingLeft();
  });

  it('load refuses an archive whose layer escapes, and whose DiffID does not match', async () => {
    const bad = join(t.dir, 'bad-layer.tar');
    const { diffId } = await writeLayerTar(bad, [{ name: '../escape.txt', content: 'x' }]);
    await writeDockerArchive(join(t.dir, 'bad.tar'), [{ path: bad, diffId }], { repoTags: ['bad:1'] });
    const r = await t.strata(['load', '-i', join(t.dir, 'bad.tar')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\.\.\/escape\.txt/);
    await assertNothingLeft();

    const good = join(t.dir, 'good-layer.tar');
    await writeLayerTar(good, [{ name: 'ok.txt', content: 'ok' }]);
    await writeDockerArchive(join(t.dir, 'lying.tar'), [{ path: good, diffId: `sha256:${'0'.repeat(64)}` }], { repoTags: ['lying:1'] });
    const lie = await t.strata(['load', '-i', join(t.dir, 'lying.tar')]);
    assert.equal(lie.code, 1);
    assert.match(lie.stderr, /DiffID.*expected sha256:0{64}/);
    await assertNothingLeft();
  });

  it('load refuses a blob claiming the DiffID of a layer that is already unpacked', async () => {
    const real = join(t.dir, 'real-layer.tar');
    const { diffId } = await writeLayerTar(real, [{ name: 'real.txt', content: 'real' }]);
    await writeDockerArchive(join(t.dir, 'real.tar'), [{ path: real, diffId }], { repoTags: ['real:1'] });
    assert.equal((await t.strata(['load', '-i', join(t.dir, 'real.tar')])).code, 0);
    const fake = join(t.dir, 'fake-layer.tar');
    await writeLayerTar(fake, [{ name: 'fake.txt', content: 'fake' }]);
    await writeDockerArchive(join(t.dir, 'fake.tar'), [{ path: fake, diffId }], { repoTags: ['fake:1'], config: { Cmd: ['fake'] } });
    const r = await t.strata(['load', '-i', join(t.dir, 'fake.tar')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`DiffID.*expected ${diffId}`));
    assert.equal((await t.strata(['images', '--format', '{{.Repository}}'])).stdout, 'real\n');
    assert.equal((await t.strata(['rmi', 'real:1'])).code, 0);
    await assertNothingLeft();
  });

  async function assertNothingLeft(): Promise<void> {
    const names = await allNames(t.dir);
    assert.deepEqual(names.filter((n) => /(escape|evil)\.txt$/.test(n)), [], 'no file written outside the layer');
    assert.deepEqual(await readdir(outside), []);
    assert.deepEqual(await readdir(join(t.root, 'content/blobs/sha256')), [], 'no blob left');
    assert.deepEqual(await readdir(join(t.root, 'content/ingest')), [], 'no ingest left');
    assert.equal((await t.strata(['images', '-aq'])).stdout, '', 'no image visible');
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(t.dir), 'no mount left');
    const snaps = (await readdir(join(t.root, 'overlay'))).filter((n) => n !== 'l');
    assert.deepEqual(snaps, [], 'no snapshot left');
  }
});
