import { randomBytes } from 'node:crypto';
import { chmod, lchown, lstat, lutimes, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Digest } from '../digest/digest.js';
import { applyStream } from '../diff/apply.js';
import { errors } from '../errors/errors.js';
import type { UnpackDeps } from './unpack.js';
import type { Lease } from '../metadata/leases.js';
import { directPath, overlayUpperDir } from '../mount/mount.js';
import { linux } from '../native/linux.js';

/** A layer extracted ahead of its parent into a parentless snapshot. */
export interface StagedLayer {
  key: string;
  dir: string;
}

/**
 * Whether layers can be extracted before their parents are committed. An
 * overlay layer is extracted into an empty upper directory in overlay form
 * (whiteouts as 0/0 devices, opaque directories as xattrs) and never reads
 * its parent, so it can be extracted on its own and its entries moved into
 * the real snapshot once the parent exists. Drivers that apply a layer on a
 * copy of its parent (vfs) cannot.
 */
export function canStage(deps: UnpackDeps): boolean {
  return deps.snapshotter.name === 'overlay';
}

export async function stageLayer(deps: UnpackDeps, chainId: Digest, diffId: Digest, source: Readable, lease: Lease): Promise<StagedLayer> {
  const key = `extract-${randomBytes(8).toString('hex')} stage ${chainId}`;
  lease.add('snapshot', key);
  const mounts = await deps.snapshotter.prepare(key);
  try {
    const dir = overlayUpperDir(mounts) ?? directPath(mounts);
    if (!dir) throw errors.internal(`snapshot ${key} offers no directory to extract into`);
    await applyStream(source, dir, 'overlay', diffId);
    return { key, dir };
  } catch (e) {
    source.destroy();
    await deps.snapshotter.remove(key).catch(() => undefined);
    throw e;
  }
}

/**
 * Turns a staged layer into the committed snapshot `chainId` on `parent`:
 * a base layer is committed as it is; any other gets a snapshot on its
 * parent whose upper directory receives the staged entries by rename (one
 * filesystem, so no data is copied) and the staged root's owner, mode,
 * xattrs (an opaque root included) and mtime.
 */
export async function adoptStaged(deps: UnpackDeps, staged: StagedLayer, chainId: Digest, parent: Digest | undefined, lease: Lease): Promise<void> {
  if (parent === undefined) {
    await deps.snapshotter.commit(chainId, staged.key);
    return;
  }
  const key = `extract-${randomBytes(8).toString('hex')} ${chainId}`;
  lease.add('snapshot', key);
  const mounts = await deps.snapshotter.prepare(key, parent);
  try {
    const upper = overlayUpperDir(mounts);
    if (!upper) throw errors.internal(`snapshot ${key} has no overlay upper directory`);
    for (const name of await readdir(staged.dir)) await rename(join(staged.dir, name), join(upper, name));
    const st = await lstat(staged.dir);
    await lchown(upper, st.uid, st.gid);
    await chmod(upper, st.mode & 0o7777);
    for (const name of linux.llistxattr(staged.dir)) {
      const value = linux.lgetxattr(staged.dir, name);
      if (value !== null) linux.lsetxattr(upper, name, value);
    }
    await lutimes(upper, st.atime, st.mtime);
    await deps.snapshotter.commit(chainId, key);
  } catch (e) {
    await deps.snapshotter.remove(key).catch(() => undefined);
    throw e;
  }
  await deps.snapshotter.remove(staged.key);
}
