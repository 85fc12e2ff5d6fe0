/** `docker diff` of a writable snapshot, on the overlay driver (upperdir walk) and on vfs (two full trees). */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { appendFile, chmod, link, mkdir, mkdtemp, readdir, readFile, rm, rmdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { changes, changeSet } from '../../src/diff/changes.js';
import { Engine } from '../../src/engine/engine.js';
import { mountAll, unmount } from '../../src/mount/linux.js';
import { OverlaySnapshotter } from '../../src/snapshots/overlay/overlay.js';
import { writeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { TempRoot } from '../helpers/strata.js';

/** Mount points under dir, from the kernel's table. */
async function mountsUnder(dir: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)));
}

const PASSWD_LINE = 'app:x:1000:1000::/home/app:/bin/sh\n';
const NEW_TXT = 'hello\n';
const B_TXT = 'b'.repeat(1000);
const FRESH = 'fresh\n';
const GROUP = 'app:x:1000:\n';
const SH_TARGET = 'busybox2';

/** What the container does, and what `docker diff` shows for it, on every driver. */
async function work(root: string): Promise<number> {
  await writeFile(join(root, 'root/new.txt'), NEW_TXT);
  await appendFile(join(root, 'etc/passwd'), PASSWD_LINE);
  await rm(join(root, 'bin/ls'));
  await rm(join(root, 'usr'), { recursive: true }); // then recreated: an opaque directory on overlay
  await mkdir(join(root, 'usr'));
  await writeFile(join(root, 'usr/fresh'), FRESH);
  await mkdir(join(root, 'data/a'), { recursive: true });
  await writeFile(join(root, 'data/a/b.txt'), B_TXT);
  await link(join(root, 'data/a/b.txt'), join(root, 'data/a/link'));
  await rmdir(join(root, 'home'));
  await chmod(join(root, 'tmp'), 0o755);
  await rm(join(root, 'bin/sh'));
  await symlink(SH_TARGET, join(root, 'bin/sh'));
  await writeFile(join(root, 'etc/group'), GROUP); // deleted by the layer below: added again
  // The bytes of the added and changed non-directories, the hard-linked pair once.
  const passwd = (await stat(join(root, 'etc/passwd'))).size;
  return passwd + NEW_TXT.length + B_TXT.length + FRESH.length + GROUP.length + SH_TARGET.length;
}

const EXPECTED = [
  'C /bin',
  'D /bin/ls',
  'C /bin/sh',
  'A /data',
  'A /data/a',
  'A /data/a/b.txt',
  'A /data/a/link',
  'C /etc',
  'A /etc/group',
  'C /etc/passwd',
  'D /home',
  'C /root',
  'A /root/new.txt',
  'C /tmp',
  'C /usr',
  'D /usr/bin',
  'A /usr/fresh',
];

const lines = (cs: { kind: string; path: string }[]) => cs.map((c) => `${c.kind} ${c.path}`);

for (const driver of ['overlay', 'vfs'] as const) {
  describe(`changes on ${driver}`, () => {
    let t: TempRoot;
    let engine: Engine;
    let tmpDir: string;
    let top: string;
    let skip: string | undefined;

    before(async () => {
      t = await TempRoot.create();
      if (driver === 'overlay') {
        skip = await OverlaySnapshotter.checkSupported(t.dir).then(
          () => undefined,
          (e: Error) => `overlay is not supported here: ${e.message}`,
        );
        if (skip) return;
      }
      engine = await Engine.open({ root: t.root, storageDriver: driver });
      const rootfs = join(t.dir, 'busybox.tar');
      await writeBusyboxRootfs(rootfs);
      const img = await engine.images.import(createReadStream(rootfs), { source: rootfs, tag: 'diff/busybox:1' });
      // A second layer, so the parent's view of a container is a stack of two (mounted on overlay).
      await writeInto('mid-extract', img.topLayer!, async (root) => {
        await rm(join(root, 'etc/group'));
        await mkdir(join(root, 'opt'));
        await writeFile(join(root, 'opt/x'), 'x\n');
      });
      await engine.snapshotter.commit('mid', 'mid-extract');
      top = 'mid';
      tmpDir = await mkdtemp(join(t.dir, 'views-'));
    });

    after(async () => {
      await engine?.close();
      await t?.cleanup();
    });

    /** Prepares snapshot `key` on `parent` and runs fn in its mounted root, unmounting after. */
    async function writeInto(key: string, parent: string | undefined, fn: (root: string) => Promise<void>): Promise<void> {
      const mounts = await engine.snapshotter.prepare(key, parent);
      const dir = await mkdtemp(join(t.dir, 'rootfs-'));
      mountAll(mounts, dir);
      try {
        await fn(dir);
      } finally {
        unmount(dir);
        await rmdir(dir);
      }
    }

    it('lists what a container added, changed and deleted, as docker diff does', async (ctx) => {
      if (skip) return ctx.skip(skip);
      let size = 0;
      await writeInto('ctr', top, async (root) => {
        size = await work(root);
      });
      const set = await changeSet(engine.snapshotter, 'ctr', { tmpDir });
      assert.deepEqual(lines(set.changes), EXPECTED);
      assert.equal(set.size, size);
      assert.deepEqual(await mountsUnder(t.dir), [], 'nothing left mounted');
      assert.deepEqual(await readdir(tmpDir), [], 'no temporary mount point left');
    });

    it('lists nothing for an untouched container', async (ctx) => {
      if (skip) return ctx.skip(skip);
      await engine.snapshotter.prepare('clean', top);
      assert.deepEqual(await changes(engine.snapshotter, 'clean', { tmpDir }), []);
    });

    it('reports everything as added in a snapshot without a parent', async (ctx) => {
      if (skip) return ctx.skip(skip);
      await writeInto('scratch', undefined, async (root) => {
        await mkdir(join(root, 'app'));
        await writeFile(join(root, 'app/run'), '#!/bin/sh\n');
      });
      assert.deepEqual(lines(await changes(engine.snapshotter, 'scratch', { tmpDir })), ['A /app', 'A /app/run']);
    });

    it(`reports a rewrite with the same bytes ${driver === 'overlay' ? 'as the copy-up Docker lists' : 'as no change'}`, async (ctx) => {
      if (skip) return ctx.skip(skip);
      await writeInto('same', top, async (root) => {
        const p = join(root, 'opt/x');
        await writeFile(p, await readFile(p));
      });
      // overlay keeps no copy of what the file was, so a copied-up file is C as in Docker's overlay2;
      // a full tree is compared byte for byte once the mtime differs.
      const expected = driver === 'overlay' ? ['C /opt', 'C /opt/x'] : [];
      assert.deepEqual(lines(await changes(engine.snapshotter, 'same', { tmpDir })), expected);
    });

    it('fails clearly for an unknown snapshot', async (ctx) => {
      if (skip) return ctx.skip(skip);
      await assert.rejects(changes(engine.snapshotter, 'no-such-container', { tmpDir }), /no-such-container/);
    });
  });
}
