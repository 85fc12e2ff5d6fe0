import type { DB } from '../../metadata/db.js';
import type { Mount } from '../../mount/mount.js';
import { backingFilesystem } from '../fstype.js';
import { OverlayLayoutSnapshotter } from './base.js';
import type { OverlayFeatures } from './layout.js';
import { probeOverlay } from './probe.js';

/**
 * The `overlay` driver: Docker overlay2's layout under `<root>/overlay` (see
 * layout.ts), snapshot metadata in the shared database, mounted by the
 * kernel. Lowerdirs are the absolute `l/<id>` symlinks, which bounds the
 * depth by the data root's path length (layout.ts `maxLowers`) as well as by
 * the 128-layer cap.
 */
export class OverlaySnapshotter extends OverlayLayoutSnapshotter {
  readonly name = 'overlay';

  constructor(root: string, db: DB) {
    super(root, db, 'overlay');
  }

  /** Tries a real overlay mount under `root`; throws errors.driverUnsupported naming what is missing. */
  static async checkSupported(root: string): Promise<void> {
    await probeOverlay(root);
  }

  protected features(): Promise<OverlayFeatures> {
    return probeOverlay(this.root);
  }

  protected adapt(mounts: Mount[]): Mount[] {
    return mounts;
  }

  async status(): Promise<Array<[string, string]>> {
    await this.features();
    return [
      ['Backing Filesystem', await backingFilesystem(this.layout.home)],
      ['Supports d_type', 'true'],
      // Mounts pass redirect_dir=off where the kernel knows it, which also turns metacopy off:
      // upperdirs then hold whole files and directories, so they are diffs as they are.
      ['Using metacopy', 'false'],
      ['Native Overlay Diff', 'true'],
    ];
  }
}
