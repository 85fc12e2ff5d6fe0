import type { DB } from '../../metadata/db.js';
import type { Mount } from '../../mount/mount.js';
import { backingFilesystem } from '../fstype.js';
import { OverlayLayoutSnapshotter } from '../overlay/base.js';
import type { OverlayFeatures } from '../overlay/layout.js';
import type { SnapshotOpts } from '../snapshotter.js';
import { FUSE_OVERLAYFS_TYPE } from '../../mount/fuse.js';
import { forgetOrigins } from './origins.js';
import { probeFuseOverlayfs } from './probe.js';

/** fuse-overlayfs takes neither index= nor redirect_dir=: it never writes index entries or redirects. */
const FEATURES: OverlayFeatures = { indexOff: false, redirectDirOff: false };

/**
 * The `fuse-overlayfs` driver: Docker overlay2's layout under
 * `<root>/fuse-overlayfs`, mounted by the fuse-overlayfs daemon instead of
 * the kernel, for hosts or sandboxes where kernel overlay mounts are not
 * allowed. Its upperdirs use the kernel's on-disk format (0/0 character
 * device whiteouts, trusted.overlay.opaque), so layers unpack into them as
 * for overlay. Mounts are of type `fuse.fuse-overlayfs` (see
 * src/mount/fuse.ts); single layers are binds, as with overlay.
 */
export class FuseOverlaySnapshotter extends OverlayLayoutSnapshotter {
  readonly name = 'fuse-overlayfs';

  private constructor(root: string, db: DB) {
    super(root, db, 'fuse-overlayfs');
  }

  static async open(root: string, db: DB): Promise<FuseOverlaySnapshotter> {
    await probeFuseOverlayfs(root);
    return new FuseOverlaySnapshotter(root, db);
  }

  /** Tries a real fuse-overlayfs mount under `root`; throws errors.driverUnsupported naming what is missing. */
  static checkSupported(root: string): Promise<void> {
    return probeFuseOverlayfs(root);
  }

  protected async features(): Promise<OverlayFeatures> {
    return FEATURES;
  }

  protected adapt(mounts: Mount[]): Mount[] {
    return mounts.map((m) =>
      m.type === 'overlay'
        ? {
            type: FUSE_OVERLAYFS_TYPE,
            source: 'fuse-overlayfs',
            // Without an upperdir the mount is a read-only view: have the kernel refuse writes with EROFS.
            options: m.options.some((o) => o.startsWith('upperdir=')) ? m.options : ['ro', ...m.options],
          }
        : m,
    );
  }

  override async commit(name: string, key: string, opts?: SnapshotOpts): Promise<void> {
    const r = this.store.get(key);
    if (r.kind === 'active') await forgetOrigins(this.layout.diff(r.id));
    await super.commit(name, key, opts);
  }

  async status(): Promise<Array<[string, string]>> {
    return [
      ['Backing Filesystem', await backingFilesystem(this.layout.home)],
      ['Supports d_type', 'true'],
      ['Mounted By', 'fuse-overlayfs (FUSE)'],
    ];
  }
}
