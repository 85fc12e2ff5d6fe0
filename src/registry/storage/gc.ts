import type { Digest } from '../../digest/digest.js';
import { isStrataError } from '../../errors/errors.js';
import { parseManifest } from './manifest-parse.js';
import type { Registry } from './registry.js';

export interface GcOptions {
  /** Blobs and manifests younger than this are kept even when unreferenced (a push may be about to reference them). */
  gracePeriodMs?: number;
  /** Uploads with no activity for longer than this are purged. */
  uploadMaxAgeMs?: number;
  dryRun?: boolean;
  now?: Date;
}

export interface GcReport {
  dryRun: boolean;
  markedBlobs: number;
  deletedManifests: { repository: string; digest: Digest }[];
  deletedBlobs: { digest: Digest; size: number }[];
  freedBytes: number;
  purgedUploads: { repository: string; id: string }[];
  /** Unreferenced blobs kept because a push or pull touched them during the run. */
  skippedBlobs: number;
}

export const DEFAULT_GRACE_MS = 60 * 60 * 1000;
export const DEFAULT_UPLOAD_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Online mark and sweep. Mark starts from every tag and from manifests and
 * layer links younger than the grace period, and follows indexes, image
 * manifests and referrers. Sweep then removes untagged, unreachable manifests
 * and unreferenced blobs older than the grace period. The registry keeps
 * serving: the GcGuard makes the sweep skip any digest a request touched or is
 * about to link while the collection runs.
 */
export async function collectGarbage(reg: Registry, opts: GcOptions = {}): Promise<GcReport> {
  const now = (opts.now ?? new Date()).getTime();
  const grace = opts.gracePeriodMs ?? DEFAULT_GRACE_MS;
  const young = (t: Date): boolean => now - t.getTime() < grace;
  const report: GcReport = { dryRun: !!opts.dryRun, markedBlobs: 0, deletedManifests: [], deletedBlobs: [], freedBytes: 0, purgedUploads: [], skippedBlobs: 0 };
  reg.guard.begin();
  try {
    const marked = new Set<Digest>();
    const linkedIn = new Map<Digest, string[]>();
    for (const name of await reg.repositories()) {
      const reachable = new Set<Digest>();
      const visit = async (digest: Digest): Promise<void> => {
        if (reachable.has(digest)) return;
        reachable.add(digest);
        marked.add(digest);
        const m = await reg.manifests.get(name, digest).catch(() => undefined);
        if (!m) return;
        const p = parseManifest(m.bytes);
        for (const b of p.blobs) marked.add(b.digest);
        for (const c of p.manifests) await visit(c.digest);
        for (const r of await reg.referrers.referrerDigests(name, digest)) await visit(r);
      };
      for (const tag of await reg.tags.list(name).catch(() => [] as string[])) {
        const d = await reg.tags.lookup(name, tag).catch(() => undefined);
        if (d) await visit(d);
      }
      const revisions = await reg.manifests.list(name);
      for (const d of revisions) {
        if (young(await reg.manifests.linkedAt(name, d).catch(() => new Date(now)))) await visit(d);
      }
      for (const d of await reg.layers.list(name)) {
        linkedIn.set(d, [...(linkedIn.get(d) ?? []), name]);
        if (young((await reg.layers.linkedAt(name, d)) ?? new Date(now))) marked.add(d);
      }
      for (const d of revisions) {
        if (reachable.has(d)) continue;
        if (opts.dryRun || (await reg.guard.sweep(d, () => reg.manifests.delete(name, d).catch(ignoreNotFound)))) {
          report.deletedManifests.push({ repository: name, digest: d });
        }
      }
      const uploadCutoff = now - (opts.uploadMaxAgeMs ?? DEFAULT_UPLOAD_MAX_AGE_MS);
      for (const u of await reg.uploads.list(name)) {
        if (u.lastActive.getTime() >= uploadCutoff) continue;
        report.purgedUploads.push({ repository: name, id: u.id });
        if (!opts.dryRun) await reg.uploads.cancel(name, u.id).catch(ignoreNotFound);
      }
      reg.quotas.invalidate(name);
    }
    report.markedBlobs = marked.size;
    for await (const d of reg.blobs.walk()) {
      if (marked.has(d)) continue;
      const info = await reg.blobs.stat(d).catch(() => undefined);
      if (!info || young(info.modTime)) continue;
      if (opts.dryRun) {
        report.deletedBlobs.push({ digest: d, size: info.size });
        report.freedBytes += info.size;
        continue;
      }
      const swept = await reg.guard.sweep(d, async () => {
        await reg.blobs.delete(d);
        for (const name of linkedIn.get(d) ?? []) await reg.layers.unlink(name, d);
      });
      if (swept) {
        report.deletedBlobs.push({ digest: d, size: info.size });
        report.freedBytes += info.size;
      } else {
        report.skippedBlobs++;
      }
    }
    return report;
  } finally {
    reg.guard.end();
  }
}

function ignoreNotFound(e: unknown): void {
  if (!isStrataError(e, 'NotFound')) throw e;
}
