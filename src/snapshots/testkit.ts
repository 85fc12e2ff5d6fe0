/** Helpers for storage driver tests: the conformance suite (testsuite.ts) and driver-specific tests. */

import { mkdtemp, readdir, readFile, readlink, lstat, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStrataError, type ErrorKind } from '../errors/errors.js';
import { openDatabase, type DB } from '../metadata/db.js';
import { unmount, withTempMount } from '../mount/linux.js';
import type { ManagedSnapshotter } from './factory.js';
import type { SnapshotInfo, Snapshotter } from './snapshotter.js';

export type MakeSnapshotter = (root: string, db: DB) => Promise<ManagedSnapshotter>;

export interface SuiteEnv {
  root: string;
  db: DB;
  s: ManagedSnapshotter;
}

/** Rejection matcher for assert.rejects: a StrataError of `kind`. */
export const strataKind = (kind: ErrorKind) => (e: unknown) => isStrataError(e, kind);

/**
 * Runs fn with a fresh data root, database and driver, and afterwards
 * unmounts anything still mounted below the root and deletes it, pass or fail.
 */
export async function withSnapshotter(make: MakeSnapshotter, fn: (env: SuiteEnv) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'ss-'));
  let db: DB | undefined;
  let s: ManagedSnapshotter | undefined;
  try {
    db = openDatabase(join(root, 'strata.db'));
    s = await make(root, db);
    await fn({ root, db, s });
  } finally {
    try {
      await s?.close();
      db?.close();
    } finally {
      await unmountUnder(root);
      await rm(root, { recursive: true, force: true });
    }
  }
}

/** Safety net: a test that failed between mount and unmount must not leave mounts (or rm through them). */
async function unmountUnder(root: string): Promise<void> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const targets = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((t): t is string => t !== undefined && t.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
  for (const t of targets) unmount(t);
}

/** Files of a mounted tree: path → content, '<dir>' or '-> target'. */
export async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of (await readdir(dir, { recursive: true })).sort()) {
    const p = join(dir, rel);
    const st = await lstat(p);
    out[rel] = st.isDirectory() ? '<dir>' : st.isSymbolicLink() ? `-> ${await readlink(p)}` : await readFile(p, 'utf8');
  }
  return out;
}

/** Prepares `name`-active on parent, lets write fill it through a real mount, commits it as `name`. */
export async function layer(
  env: SuiteEnv,
  name: string,
  parent: string | undefined,
  write: (dir: string) => Promise<void>,
): Promise<void> {
  const key = `${name}-active`;
  await withTempMount(await env.s.prepare(key, parent), env.root, write);
  await env.s.commit(name, key);
}

/** Mounts snapshot `key` and returns its tree. */
export async function treeOf(env: SuiteEnv, key: string): Promise<Record<string, string>> {
  return withTempMount(await env.s.mounts(key), env.root, tree);
}

export async function collect(s: Snapshotter): Promise<Map<string, SnapshotInfo>> {
  const out = new Map<string, SnapshotInfo>();
  for await (const info of s.walk()) out.set(info.key, info);
  return out;
}

/** The data root's files, except the database's: what a driver keeps on disk. */
export async function onDisk(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).filter((p) => !p.startsWith('strata.db')).sort();
}
