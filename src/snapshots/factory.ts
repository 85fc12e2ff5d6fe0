import { errors } from '../errors/errors.js';
import type { DB } from '../metadata/db.js';
import { OverlaySnapshotter } from './overlay/overlay.js';
import type { Snapshotter } from './snapshotter.js';
import { VfsSnapshotter } from './vfs/vfs.js';

export const DRIVERS = ['overlay', 'vfs'] as const;
export type DriverName = (typeof DRIVERS)[number];

/** A driver as the engine holds it: cleanup() sweeps what a crash left behind, at start-up. */
export type ManagedSnapshotter = Snapshotter & { cleanup(): Promise<void> };

/** Opens storage driver `name` over data root `root`; throws errors.driverUnsupported when it cannot work here. */
export async function openSnapshotter(name: string, root: string, db: DB): Promise<ManagedSnapshotter> {
  switch (name) {
    case 'overlay':
      await OverlaySnapshotter.checkSupported(root);
      return new OverlaySnapshotter(root, db);
    case 'vfs':
      return new VfsSnapshotter(root, db);
    default:
      throw errors.driverUnsupported(`unknown storage driver "${name}"; known drivers: ${DRIVERS.join(', ')}`);
  }
}
