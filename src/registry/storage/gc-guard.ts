import type { Digest } from '../../digest/digest.js';

/**
 * Lets garbage collection run while the registry serves. Every operation that
 * is about to make a blob reachable (linking an upload, a mount, a manifest
 * naming its layers) first calls `protect`: it waits out a sweep of that digest
 * in progress (after which the caller finds the blob gone and acts on it), and
 * while a collection runs it records the digest so the sweep skips it. Digests
 * protected when a collection starts count as touched too, which closes the
 * window between a caller's check and its link write.
 */
export class GcGuard {
  #active = false;
  #touched = new Set<Digest>();
  readonly #inflight = new Map<Digest, number>();
  readonly #sweeping = new Map<Digest, Promise<unknown>>();

  /** Protects digests until `release` is called; the result must be released. */
  async protect(digests: Iterable<Digest>): Promise<() => void> {
    const list = [...new Set(digests)];
    for (const d of list) this.#inflight.set(d, (this.#inflight.get(d) ?? 0) + 1);
    for (const d of list) {
      if (this.#active) this.#touched.add(d);
      const sweep = this.#sweeping.get(d);
      if (sweep) await sweep.catch(() => undefined);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const d of list) {
        const n = (this.#inflight.get(d) ?? 1) - 1;
        if (n === 0) this.#inflight.delete(d);
        else this.#inflight.set(d, n);
      }
    };
  }

  /** Marks a digest as in use right now (a read); cheap when no collection runs. */
  touch(digest: Digest): void {
    if (this.#active) this.#touched.add(digest);
  }

  begin(): void {
    if (this.#active) throw new Error('a garbage collection is already running');
    this.#active = true;
    this.#touched = new Set(this.#inflight.keys());
  }

  end(): void {
    this.#active = false;
    this.#touched = new Set();
  }

  get running(): boolean {
    return this.#active;
  }

  /** Runs `remove` unless the digest was touched since the collection began; false if skipped. */
  async sweep(digest: Digest, remove: () => Promise<unknown>): Promise<boolean> {
    if (this.#touched.has(digest) || this.#inflight.has(digest)) return false;
    const p = remove();
    this.#sweeping.set(digest, p);
    try {
      await p;
    } finally {
      this.#sweeping.delete(digest);
    }
    return true;
  }
}
