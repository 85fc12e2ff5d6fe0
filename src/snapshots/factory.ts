import { errors } from '../errors/errors.js';
import type { DB } from '../metadata/db.js';
import { BtrfsSnapshotter } from './btrfs/btrfs.js';
import { DevmapperSnapshotter } from './devmapper/devmapper.js';
import { DM_OPTION_KEYS, parseDmOptions } from './devmapper/options.js';
import { FuseOverlaySnapshotter } from './fuse-overlayfs/fuse-overlayfs.js';
import { OverlaySnapshotter } from './overlay/overlay.js';
import type { Snapshotter } from './snapshotter.js';
import { VfsSnapshotter } from './vfs/vfs.js';

export const DRIVERS = ['overlay', 'vfs', 'btrfs', 'fuse-overlayfs', 'devicemapper'] as const;
export type DriverName = (typeof DRIVERS)[number];

/** Driver options as `docker --storage-opt` takes them: 'btrfs.image' → '/srv/strata.img', 'dm.basesize' → '20G'. */
export type StorageOptions = Record<string, string>;

const OPTION_KEYS: Record<DriverName, readonly string[]> = {
  overlay: [],
  vfs: [],
  btrfs: ['btrfs.image'],
  'fuse-overlayfs': [],
  devicemapper: DM_OPTION_KEYS,
};

/** A driver as the engine holds it: cleanup() sweeps what a crash left behind, at start-up. */
export type ManagedSnapshotter = Snapshotter & { cleanup(): Promise<void> };

/**
 * Opens storage driver `name` over data root `root`; throws
 * errors.driverUnsupported when it cannot work here. Options are fixed by the
 * first open of a data root (they say where its data lives) and remembered in
 * its database, so later opens may omit them but not change them.
 */
export async function openSnapshotter(
  name: string,
  root: string,
  db: DB,
  options: StorageOptions = {},
): Promise<ManagedSnapshotter> {
  const driver = known(name);
  const opts = settleOptions(db, driver, options);
  switch (driver) {
    case 'overlay':
      await OverlaySnapshotter.checkSupported(root);
      return new OverlaySnapshotter(root, db);
    case 'vfs':
      return new VfsSnapshotter(root, db);
    case 'btrfs':
      return BtrfsSnapshotter.open(root, db, { image: opts['btrfs.image'] });
    case 'fuse-overlayfs':
      return FuseOverlaySnapshotter.open(root, db);
    case 'devicemapper':
      return DevmapperSnapshotter.open(root, db, parseDmOptions(opts));
  }
}

export interface DriverSupport {
  name: DriverName;
  supported: boolean;
  /** Why not, naming what is missing and how to fix it. */
  reason?: string;
}

/** Which drivers can work over data root `root` on this host, for `info`. */
export async function supportedDrivers(root: string, options: StorageOptions = {}): Promise<DriverSupport[]> {
  const checks: Record<DriverName, () => Promise<void>> = {
    overlay: () => OverlaySnapshotter.checkSupported(root),
    vfs: async () => {},
    btrfs: () => BtrfsSnapshotter.checkSupported(root, { image: options['btrfs.image'] }),
    'fuse-overlayfs': () => FuseOverlaySnapshotter.checkSupported(root),
    devicemapper: () => DevmapperSnapshotter.checkSupported(),
  };
  const out: DriverSupport[] = [];
  for (const name of DRIVERS) {
    try {
      await checks[name]();
      out.push({ name, supported: true });
    } catch (e) {
      out.push({ name, supported: false, reason: (e as Error).message });
    }
  }
  return out;
}

function known(name: string): DriverName {
  if ((DRIVERS as readonly string[]).includes(name)) return name as DriverName;
  throw errors.driverUnsupported(`unknown storage driver "${name}"; known drivers: ${DRIVERS.join(', ')}`);
}

/** Checks option names and keeps the first open's options in the settings table. */
function settleOptions(db: DB, driver: DriverName, given: StorageOptions): StorageOptions {
  for (const key of Object.keys(given)) {
    if (!OPTION_KEYS[driver].includes(key)) {
      const valid = OPTION_KEYS[driver].length ? `; it takes ${OPTION_KEYS[driver].join(', ')}` : '; it takes none';
      throw errors.invalidArgument(`unknown storage option "${key}" for the ${driver} storage driver${valid}`);
    }
  }
  const row = db.prepare("SELECT value FROM settings WHERE key = 'storage-opts'").get() as { value: string } | undefined;
  if (!row) {
    if (Object.keys(given).length) {
      db.prepare("INSERT OR IGNORE INTO settings (key, value) VALUES ('storage-opts', ?)").run(JSON.stringify(given));
    }
    return given;
  }
  const stored = JSON.parse(row.value) as StorageOptions;
  for (const [key, value] of Object.entries(given)) {
    if (stored[key] !== value) {
      throw errors.failedPrecondition(
        `storage option ${key}=${value} differs from ${key}=${stored[key] ?? '(unset)'} that this data root was set up with; ` +
          'drop the option, or use another data root',
      );
    }
  }
  return stored;
}
