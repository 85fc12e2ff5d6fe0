import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyLayer } from '../../src/archive/apply.js';
import { tarDirectory } from '../../src/archive/create.js';
import { linux } from '../../src/native/linux.js';
import { collect, snapshot, streamOf, tempDir } from './helpers.js';

const T1 = 1_600_000_000;
const T2 = 1_650_000_000;

/** A tree with every kind of node and attribute a layer must carry. */
function populate(root: string): void {
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'bin/sh'), '#!shell');
  chmodSync(join(root, 'bin/sh'), 0o755);
  writeFileSync(join(root, 'bin/su'), 'setuid');
  chownSync(join(root, 'bin/su'), 0, 0);
  chmodSync(join(root, 'bin/su'), 0o4755);
  writeFileSync(join(root, 'bin/wall'), 'setgid');
  chownSync(join(root, 'bin/wall'), 0, 5);
  chmodSync(join(root, 'bin/wall'), 0o2755);
  linkSync(join(root, 'bin/sh'), join(root, 'bin/dash'));
  symlinkSync('sh', join(root, 'bin/bash'));
  symlinkSync('/nonexistent/absolute', join(root, 'dangling'));
  lchownSync(join(root, 'dangling'), 7, 8);
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  mkdirSync(join(root, 'home/user/.config'), { recursive: true });
  writeFileSync(join(root, 'home/user/.config/secret'), 'k');
  chownSync(join(root, 'home/user'), 1000, 1000);
  chownSync(join(root, 'home/user/.config/secret'), 1000, 1000);
  chmodSync(join(root, 'home/user/.config/secret'), 0o600);
  writeFileSync(join(root, 'shadow'), 'no one reads this');
  chmodSync(join(root, 'shadow'), 0o000);
  writeFileSync(join(root, 'bigid'), 'uid beyond ustar');
  chownSync(join(root, 'bigid'), 3_000_000, 4_000_000);
  mkdirSync(join(root, 'dev'));
  linux.mknod(join(root, 'dev/null'), linux.S_IFCHR | 0o666, 1, 3);
  linux.mknod(join(root, 'dev/loop7'), linux.S_IFBLK | 0o660, 7, 7);
  linux.mknod(join(root, 'dev/big'), linux.S_IFCHR | 0o600, 300, 70000);
  linux.mknod(join(root, 'fifo'), linux.S_IFIFO | 0o644, 0, 0);
  writeFileSync(join(root, 'xattrs'), 'attrs');
  linux.lsetxattr(join(root, 'xattrs'), 'user.foo', Buffer.from('bar'));
  linux.lsetxattr(join(root, 'xattrs'), 'user.bin', Buffer.from([0, 0xff, 0x80, 10, 0x3d]));
  // A file capability (cap_net_raw+ep): binary, and cleared by chown unless set after it.
  linux.lsetxattr(join(root, 'bin/sh'), 'security.capability', Buffer.from('0100000200200000000000000000000000000000', 'hex'));
  const longDir = join(root, 'd'.repeat(120));
  mkdirSync(longDir);
  writeFileSync(join(longDir, 'ü'.repeat(60)), 'long and unicode');
  symlinkSync('x'.repeat(150), join(root, 'longlink'));
  writeFileSync(join(root, 'empty'), '');
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  writeFileSync(join(root, 'large'), big);
  // Times last: creating children changes directory mtimes.
  for (const p of ['bin/sh', 'bin/su', 'bin/wall', 'tmp', 'home/user/.config/secret', 'shadow', 'dev/null', 'fifo', 'xattrs', 'large']) {
    utimesSync(join(root, p), T1, T1);
  }
  lutimesSync(join(root, 'bin/bash'), T2, T2);
  for (const d of ['home/user/.config', 'home/user', 'home', 'dev', 'bin', 'd'.repeat(120)]) utimesSync(join(root, d), T2, T2);
}

/** Bytes of regular-file content, each inode once (hard links carry no data). */
function fileBytes(root: string): number {
  const seen = new Set<number>();
  let total = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const st = lstatSync(join(dir, name));
      if (st.isDirectory()) walk(join(dir, name));
      else if (st.isFile() && !seen.has(st.ino)) {
        seen.add(st.ino);
        total += st.size;
      }
    }
  };
  walk(root);
  return total;
}

for (const format of ['plain', 'overlay'] as const) {
  test(`${format}: tarDirectory then applyLayer reproduces the tree`, async (t) => {
    const base = tempDir(t);
    const src = join(base, 'src');
    const dst = join(base, 'dst');
    mkdirSync(src);
    mkdirSync(dst);
    populate(src);
    const tar = await collect(tarDirectory(src, { format }));
    const result = await applyLayer(streamOf(tar, 10_000), dst, { format });
    const want = snapshot(src);
    const got = snapshot(dst);
    assert.deepEqual([...got.nodes.keys()], [...want.nodes.keys()]);
    for (const [path, info] of want.nodes) assert.deepEqual(got.nodes.get(path), info, path);
    assert.deepEqual(got.links, [['bin/dash', 'bin/sh']]);
    assert.equal(result.entries, want.nodes.size);
    assert.equal(result.size, fileBytes(src));
  });
}

test('tarDirectory is deterministic and names entries like Docker', async (t) => {
  const base = tempDir(t);
  const src = join(base, 'src');
  mkdirSync(src);
  populate(src);
  const a = await collect(tarDirectory(src, { format: 'plain' }));
  const b = await collect(tarDirectory(src, { format: 'plain' }));
  assert.ok(a.equals(b));
  const listing = execFileSync('tar', ['-tf', '-'], { input: a, encoding: 'utf8' }).split('\n').filter(Boolean);
  const long = 'd'.repeat(120);
  assert.deepEqual(listing.slice(0, 11), [
    'bigid',
    'bin/',
    'bin/bash',
    'bin/dash',
    'bin/sh',
    'bin/su',
    'bin/wall',
    'dangling',
    `${long}/`,
    `${long}/${'ü'.repeat(60)}`,
    'dev/',
  ]);
  assert.ok(!listing.some((n) => n.startsWith('./') || n.startsWith('/')));
  assert.equal(a.length % 512, 0);
  assert.ok(a.subarray(-1024).equals(Buffer.alloc(1024)), 'ends with two zero blocks');
});

test('GNU tar extracts what tarDirectory writes, xattrs included', async (t) => {
  const base = tempDir(t);
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  mkdirSync(src);
  mkdirSync(dst);
  populate(src);
  const tar = await collect(tarDirectory(src, { format: 'plain' }));
  execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--same-owner', '-xpf', '-', '-C', dst], { input: tar });
  const want = snapshot(src).nodes;
  const got = snapshot(dst).nodes;
  for (const [path, info] of want) {
    if (info.type === 'dir') continue; // GNU tar does not restore directory mtimes after extracting into them
    assert.deepEqual(got.get(path), info, path);
  }
});

test('applyLayer reads GNU tar archives (./ names, GNU long names, base-256 ids)', async (t) => {
  const base = tempDir(t);
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  mkdirSync(src);
  mkdirSync(dst);
  populate(src);
  const tar = execFileSync('tar', ['--format=gnu', '--xattrs', '--xattrs-include=*', '-cf', '-', '-C', src, '.'], { maxBuffer: 64 << 20 });
  await applyLayer(streamOf(tar), dst, { format: 'plain' });
  const want = snapshot(src);
  const got = snapshot(dst);
  for (const [path, info] of want.nodes) {
    // GNU format cannot carry xattrs; the rest must survive.
    assert.deepEqual({ ...got.nodes.get(path), xattrs: {} }, { ...info, xattrs: {} }, path);
  }
  assert.deepEqual(got.links, want.links);
});

test('applyLayer reads POSIX (pax) archives from GNU tar, xattrs included', async (t) => {
  const base = tempDir(t);
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  mkdirSync(src);
  mkdirSync(dst);
  populate(src);
  const tar = execFileSync('tar', ['--format=posix', '--xattrs', '--xattrs-include=*', '-cf', '-', '-C', src, '.'], { maxBuffer: 64 << 20 });
  await applyLayer(streamOf(tar), dst, { format: 'plain' });
  const want = snapshot(src).nodes;
  const got = snapshot(dst).nodes;
  for (const [path, info] of want) assert.deepEqual(got.get(path), info, path);
  assert.equal(readFileSync(join(dst, 'xattrs'), 'utf8'), 'attrs');
});
