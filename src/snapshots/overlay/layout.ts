import { join } from 'node:path';
import { errors } from '../../errors/errors.js';
import { MOUNT_DATA_LIMIT, relativeOverlayOptions, type Mount } from '../../mount/mount.js';
import { ID_LENGTH } from '../metastore.js';

/** Docker overlay2's cap on lower layers per mount. */
export const MAX_LOWERS = 128;

/**
 * mount(2) copies at most one page of options and the kernel silently cuts
 * the string at 4095 bytes, which can drop whole lower layers without any
 * error. Deep mounts are performed with lowerdirs relative to `home`
 * (`l/<id>`, see mountAt), so it is their relative length that must fit.
 */
export const OPTIONS_LIMIT = MOUNT_DATA_LIMIT;

/** Mount options the running kernel accepts (see probe.ts). */
export interface OverlayFeatures {
  /** `index=off`: lets the same lower layers be shared by many mounts. */
  indexOff: boolean;
  /** `redirect_dir=off`: renamed dirs are copied up whole, so upperdirs stay plain diffs (and metacopy stays off). */
  redirectDirOff: boolean;
}

/**
 * Docker overlay2's on-disk layout under `<root>/overlay` (`home`):
 *   <id>/diff    the snapshot's own files (the upperdir while active)
 *   <id>/link    the snapshot's short name in l/ (its id: already 26 chars)
 *   <id>/lower   its ancestors as `l/<id>:l/<id>…`, nearest first (only with a parent)
 *   <id>/work    overlay's workdir, and <id>/merged (only with a parent)
 *   l/<id>       symlink to ../<id>/diff; lowerdirs go through it to stay short
 */
export class OverlayLayout {
  constructor(readonly home: string) {}

  get linkDir(): string {
    return join(this.home, 'l');
  }
  dir(id: string): string {
    return join(this.home, id);
  }
  diff(id: string): string {
    return join(this.home, id, 'diff');
  }
  work(id: string): string {
    return join(this.home, id, 'work');
  }
  merged(id: string): string {
    return join(this.home, id, 'merged');
  }
  link(id: string): string {
    return join(this.home, 'l', id);
  }
  /** Contents of `<id>/lower`: relative, as overlay2 writes it. */
  lowerFile(parentIds: string[]): string {
    return parentIds.map((p) => `l/${p}`).join(':');
  }

  /**
   * The mounts of a snapshot whose own directory is `id`, stacked on
   * `lowers` (ids, uppermost first). Writable when `upper` is set. A single
   * read-only layer, or a writable one with nothing below, is a bind mount:
   * overlay needs an upperdir or at least two lowerdirs.
   */
  mounts(id: string, lowers: string[], writable: boolean, features: OverlayFeatures): Mount[] {
    if (writable && lowers.length === 0) return [{ type: 'bind', source: this.diff(id), options: ['rw', 'rbind'] }];
    if (!writable && lowers.length <= 1) {
      return [{ type: 'bind', source: this.diff(lowers[0] ?? id), options: ['ro', 'rbind'] }];
    }
    const options: string[] = [];
    if (features.indexOff) options.push('index=off');
    if (features.redirectDirOff) options.push('redirect_dir=off');
    options.push(`lowerdir=${lowers.map((l) => this.link(l)).join(':')}`);
    if (writable) options.push(`upperdir=${this.diff(id)}`, `workdir=${this.work(id)}`);
    return [{ type: 'overlay', source: 'overlay', options }];
  }

  /**
   * Throws unless a writable snapshot on `lowers` lower layers can be
   * mounted: at most MAX_LOWERS, and its options within OPTIONS_LIMIT. The
   * writable mount is the longest any snapshot of the chain produces (its
   * committed form swaps upperdir and workdir for one more lowerdir).
   */
  checkDepth(key: string, lowers: number, features: OverlayFeatures): void {
    if (lowers > MAX_LOWERS) {
      throw errors.unsupported(
        `overlay: snapshot "${key}" would stack ${lowers} layers below it, more than the overlay driver's limit of ${MAX_LOWERS}; ` +
          'use an image with fewer layers (squash it) or the vfs storage driver',
      );
    }
    this.checkLength(key, lowers, this.optionsLength(lowers, features), features);
  }

  /** Refuses mounts whose options the kernel would truncate, e.g. after the data root moved to a longer path. */
  checkMounts(key: string, mounts: Mount[], features: OverlayFeatures): void {
    for (const m of mounts) {
      if (m.type !== 'overlay') continue;
      const lowers = m.options.find((o) => o.startsWith('lowerdir='))?.split(':').length ?? 0;
      this.checkLength(key, lowers, mountedLength(m.options), features);
    }
  }

  private checkLength(key: string, lowers: number, length: number, features: OverlayFeatures): void {
    if (length <= OPTIONS_LIMIT) return;
    throw errors.unsupported(
      `overlay: snapshot "${key}" stacks ${lowers} layers, but mount options for that many lowerdirs ` +
        `take ${length} bytes, over the ${OPTIONS_LIMIT}-byte limit of one page; ` +
        `with this data root at most ${this.maxLowers(features)} lower layers fit. ` +
        'Use a data root with a shorter path, an image with fewer layers (squash it), or the vfs storage driver',
    );
  }

  /** How many lower layers a writable snapshot can have under this home: the lesser of the cap and what fits a page. */
  maxLowers(features: OverlayFeatures): number {
    let n = 0;
    while (n < MAX_LOWERS && this.optionsLength(n + 1, features) <= OPTIONS_LIMIT) n++;
    return n;
  }

  /** Bytes of the options of a writable mount on `lowers` layers (every id has the same length). */
  optionsLength(lowers: number, features: OverlayFeatures): number {
    const id = 'x'.repeat(ID_LENGTH);
    const m = this.mounts(id, new Array<string>(lowers).fill(id), true, features)[0];
    return m.type === 'overlay' ? mountedLength(m.options) : 0;
  }
}

/** The length of the data mountAt passes to the kernel: relative paths once absolute ones are too long. */
function mountedLength(options: string[]): number {
  const absolute = Buffer.byteLength(options.join(','));
  if (absolute <= OPTIONS_LIMIT) return absolute;
  const rel = relativeOverlayOptions(options);
  return rel ? Buffer.byteLength(rel.options.join(',')) : absolute;
}
