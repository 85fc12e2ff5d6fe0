import { randomInt } from 'node:crypto';
import { errors } from '../errors/errors.js';
import { writeTx, type DB } from '../metadata/db.js';
import type { SnapshotInfo, SnapshotKind, Usage } from './snapshotter.js';

/** A snapshot row: the public info plus the directory id and stored usage. */
export interface SnapshotRecord extends SnapshotInfo {
  /** Random 26-char [a-z0-9] name of the snapshot's directory. */
  id: string;
  /** Set once, at commit. */
  usage?: Usage;
}

interface Row {
  key: string;
  id: string;
  kind: SnapshotKind;
  parent: string | null;
  labels: string;
  size: number | null;
  inodes: number | null;
  created_at: number;
  updated_at: number;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const ID_LENGTH = 26;
export const ID_PATTERN = /^[a-z0-9]{26}$/;

/** 26 chars: Docker overlay2's link length, short enough for many lowerdirs in a page. */
export function newSnapshotId(): string {
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

function toRecord(r: Row): SnapshotRecord {
  return {
    key: r.key,
    id: r.id,
    kind: r.kind,
    ...(r.parent !== null ? { parent: r.parent } : {}),
    labels: JSON.parse(r.labels) as Record<string, string>,
    created: new Date(r.created_at),
    updated: new Date(r.updated_at),
    ...(r.size !== null && r.inodes !== null ? { usage: { size: r.size, inodes: r.inodes } } : {}),
  };
}

/** The public view of a record, as Snapshotter.stat and walk return it. */
export function toInfo(r: SnapshotRecord): SnapshotInfo {
  const { key, parent, kind, labels, created, updated } = r;
  return { key, ...(parent !== undefined ? { parent } : {}), kind, labels, created, updated };
}

/**
 * Snapshot metadata in the `snapshots` table, shared by every file-based
 * driver. Writes run in IMMEDIATE transactions so CLI processes sharing a data
 * root serialize their checks with their changes. Drivers create a snapshot's
 * directory only after its row exists and delete it only after the row is
 * gone, so a directory without a row is always an orphan (see orphans.ts).
 */
export class MetaStore {
  constructor(private readonly db: DB) {}

  find(key: string): SnapshotRecord | undefined {
    const row = this.db.prepare('SELECT * FROM snapshots WHERE key = ?').get(key) as Row | undefined;
    return row && toRecord(row);
  }

  get(key: string): SnapshotRecord {
    const r = this.find(key);
    if (!r) throw errors.snapshotNotFound(`snapshot "${key}" does not exist`);
    return r;
  }

  /**
   * Adds an active or view snapshot on top of the committed `parent`. `check`
   * sees the ids of the new snapshot's ancestors (nearest first) inside the
   * transaction and may throw to refuse, e.g. when the chain is too deep.
   */
  create(
    key: string,
    kind: 'active' | 'view',
    parent: string | undefined,
    labels: Record<string, string> = {},
    check?: (parentIds: string[]) => void,
  ): { record: SnapshotRecord; parentIds: string[] } {
    if (key === '') throw errors.invalidArgument('a snapshot key must not be empty');
    return writeTx(this.db, () => {
      if (this.find(key)) throw errors.alreadyExists(`snapshot "${key}" already exists; pick another key or remove it first`);
      let parentIds: string[] = [];
      if (parent !== undefined) {
        const p = this.find(parent);
        if (!p) throw errors.snapshotNotFound(`parent snapshot "${parent}" of "${key}" does not exist`);
        if (p.kind !== 'committed') {
          throw errors.failedPrecondition(
            `parent snapshot "${parent}" of "${key}" is ${p.kind}, not committed; commit it before building on it`,
          );
        }
        parentIds = [p.id, ...this.parentChain(parent)];
      }
      check?.(parentIds);
      const now = Date.now();
      const id = newSnapshotId();
      this.db
        .prepare(
          'INSERT INTO snapshots (key, id, kind, parent, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(key, id, kind, parent ?? null, JSON.stringify(labels), now, now);
      return { record: this.get(key), parentIds };
    });
  }

  /** Turns active `key` into committed `name`, recording its usage; labels replace the active's when given. */
  commit(name: string, key: string, usage: Usage, labels?: Record<string, string>): SnapshotRecord {
    if (name === '') throw errors.invalidArgument('a snapshot name must not be empty');
    return writeTx(this.db, () => {
      const r = this.get(key);
      if (r.kind !== 'active') {
        throw errors.failedPrecondition(`snapshot "${key}" is ${r.kind}, not active; only active snapshots can be committed`);
      }
      if (name !== key && this.find(name)) {
        throw errors.alreadyExists(`cannot commit "${key}" as "${name}": snapshot "${name}" already exists`);
      }
      this.db
        .prepare(
          "UPDATE snapshots SET key = ?, kind = 'committed', labels = ?, size = ?, inodes = ?, updated_at = ? WHERE key = ?",
        )
        .run(name, JSON.stringify(labels ?? r.labels), usage.size, usage.inodes, Date.now(), key);
      return this.get(name);
    });
  }

  /** Deletes the row of `key`, refusing while other snapshots build on it. Returns what was removed. */
  remove(key: string): SnapshotRecord {
    return writeTx(this.db, () => {
      const r = this.get(key);
      const rows = this.db.prepare('SELECT key FROM snapshots WHERE parent = ? ORDER BY key').all(key) as { key: string }[];
      if (rows.length) {
        const names = rows.map((c) => `"${c.key}"`).join(', ');
        throw errors.conflict(`snapshot "${key}" cannot be removed: ${names} built on it; remove those first`);
      }
      this.db.prepare('DELETE FROM snapshots WHERE key = ?').run(key);
      return r;
    });
  }

  walk(): SnapshotRecord[] {
    return (this.db.prepare('SELECT * FROM snapshots ORDER BY created_at, key').all() as Row[]).map(toRecord);
  }

  /** Ids of the ancestors of `key`, nearest first (not including `key` itself). */
  parentChain(key: string): string[] {
    const rows = this.db
      .prepare(
        `WITH RECURSIVE chain(key, id, parent, depth) AS (
           SELECT key, id, parent, 0 FROM snapshots WHERE key = ?
           UNION ALL
           SELECT s.key, s.id, s.parent, c.depth + 1 FROM snapshots s JOIN chain c ON s.key = c.parent
         )
         SELECT id FROM chain WHERE depth > 0 ORDER BY depth`,
      )
      .all(key) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Every directory id with a row; orphan sweeps must read this after listing directories. */
  liveIds(): Set<string> {
    return new Set((this.db.prepare('SELECT id FROM snapshots').all() as { id: string }[]).map((r) => r.id));
  }
}
