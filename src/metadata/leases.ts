import { randomBytes } from 'node:crypto';
import { writeTx, type DB } from './db.js';

export type LeaseResourceKind = 'content' | 'snapshot';

export interface Lease {
  readonly id: string;
  /** Records a resource before it is created, so a concurrent GC never sweeps it. */
  add(kind: LeaseResourceKind, ref: string): void;
  release(): void;
}

const DEFAULT_TTL_MS = 24 * 3600_000;

/**
 * Leases protect what an operation in flight writes (blobs, snapshots) until
 * it is referenced by an image or container. A lease dies with its process:
 * GC ignores leases whose pid is gone, so a SIGKILLed load never pins data.
 */
export class LeaseManager {
  #db: DB;

  constructor(db: DB) {
    this.#db = db;
  }

  create(ttlMs = DEFAULT_TTL_MS): Lease {
    const id = randomBytes(12).toString('hex');
    const now = Date.now();
    this.#db
      .prepare('INSERT INTO leases (id, created_at, expires_at, pid) VALUES (?, ?, ?, ?)')
      .run(id, now, now + ttlMs, process.pid);
    const db = this.#db;
    const addStmt = db.prepare('INSERT OR IGNORE INTO lease_resources (lease_id, kind, ref) VALUES (?, ?, ?)');
    return {
      id,
      add: (kind, ref) => {
        addStmt.run(id, kind, ref);
      },
      release: () => {
        db.prepare('DELETE FROM leases WHERE id = ?').run(id);
      },
    };
  }

  /** Runs fn under a lease that is released however fn ends. */
  async with<T>(fn: (lease: Lease) => Promise<T>): Promise<T> {
    const lease = this.create();
    try {
      return await fn(lease);
    } finally {
      lease.release();
    }
  }

  /** Resources of live leases; deletes dead ones on the way (call inside the GC transaction). */
  liveResources(): { kind: LeaseResourceKind; ref: string }[] {
    const now = Date.now();
    const leases = this.#db.prepare('SELECT id, expires_at, pid FROM leases').all() as {
      id: string;
      expires_at: number;
      pid: number;
    }[];
    const dead = leases.filter((l) => l.expires_at < now || !processAlive(l.pid)).map((l) => l.id);
    if (dead.length) {
      writeTx(this.#db, () => {
        const del = this.#db.prepare('DELETE FROM leases WHERE id = ?');
        for (const id of dead) del.run(id);
      });
    }
    return this.#db.prepare('SELECT kind, ref FROM lease_resources').all() as {
      kind: LeaseResourceKind;
      ref: string;
    }[];
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}
