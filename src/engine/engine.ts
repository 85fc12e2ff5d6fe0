import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalContentStore } from '../content/local-store.js';
import { errors } from '../errors/errors.js';
import { openDatabase, writeTx, type DB } from '../metadata/db.js';
import { collectGarbage, type GcResult } from '../metadata/gc.js';
import { ImageStore } from '../metadata/images.js';
import { LeaseManager } from '../metadata/leases.js';
import { DRIVERS, openSnapshotter } from '../snapshots/factory.js';
import { OverlaySnapshotter } from '../snapshots/overlay/overlay.js';
import type { Snapshotter } from '../snapshots/snapshotter.js';
import { ImageService } from './images.js';

export const DEFAULT_ROOT = '/var/lib/strata';

export interface EngineOptions {
  /** Data root; STRATA_ROOT or /var/lib/strata by default. */
  root?: string;
  /** Storage driver for a new data root; must match an existing one's. */
  storageDriver?: string;
  /** Driver options (`btrfs.image`, `dm.basesize`, ...), fixed with the driver. */
  storageOpts?: Record<string, string>;
  /** Registry for names without a host (docker.io unless configured). */
  defaultRegistry?: string;
}

/**
 * The engine composes the stores of one data root. The CLI and the API
 * server are thin shells over it; Node programs can import it directly:
 *
 *   const engine = await Engine.open({ root: '/tmp/strata' });
 *   const [loaded] = await engine.images.load(fs.createReadStream('img.tar'));
 *   await engine.close();
 */
export class Engine {
  readonly root: string;
  readonly db: DB;
  readonly content: LocalContentStore;
  readonly snapshotter: Snapshotter & { cleanup(): Promise<void> };
  readonly imageStore: ImageStore;
  readonly leases: LeaseManager;
  readonly images: ImageService;
  readonly tmpDir: string;
  readonly defaultRegistry: string;

  private constructor(init: {
    root: string;
    db: DB;
    content: LocalContentStore;
    snapshotter: Snapshotter & { cleanup(): Promise<void> };
    defaultRegistry: string;
  }) {
    this.root = init.root;
    this.db = init.db;
    this.content = init.content;
    this.snapshotter = init.snapshotter;
    this.imageStore = new ImageStore(init.db);
    this.leases = new LeaseManager(init.db);
    this.images = new ImageService(this);
    this.tmpDir = join(init.root, 'tmp');
    this.defaultRegistry = init.defaultRegistry;
  }

  static async open(opts: EngineOptions = {}): Promise<Engine> {
    const root = resolve(opts.root ?? process.env.STRATA_ROOT ?? DEFAULT_ROOT);
    await mkdir(join(root, 'tmp'), { recursive: true, mode: 0o700 });
    const db = openDatabase(join(root, 'strata.db'));
    try {
      const driver = await chooseDriver(db, root, opts.storageDriver);
      const content = await LocalContentStore.open(join(root, 'content'));
      const snapshotter = await openSnapshotter(driver, root, db, opts.storageOpts);
      return new Engine({ root, db, content, snapshotter, defaultRegistry: opts.defaultRegistry ?? 'docker.io' });
    } catch (e) {
      db.close();
      throw e;
    }
  }

  get storageDriver(): string {
    return this.snapshotter.name;
  }

  /** Sweeps what no image, container or live lease references. */
  async gc(): Promise<GcResult> {
    const result = await collectGarbage(this.db, this.leases, this.content, this.snapshotter);
    await this.snapshotter.cleanup();
    return result;
  }

  async close(): Promise<void> {
    await this.snapshotter.close();
    this.db.close();
  }
}

/**
 * The driver is fixed when a data root is first used: data written by one
 * driver cannot be read by another, so asking for a different one is an error.
 */
async function chooseDriver(db: DB, root: string, requested: string | undefined): Promise<string> {
  const row = db.prepare("SELECT value FROM settings WHERE key = 'storage-driver'").get() as { value: string } | undefined;
  if (row) {
    if (requested && requested !== row.value) {
      throw errors.driverMismatch(
        `the data root ${root} holds data of the "${row.value}" storage driver; it cannot be used with "${requested}". ` +
          `Drop --storage-driver, use another --root, or remove ${root} to start over.`,
      );
    }
    return row.value;
  }
  let driver = requested;
  if (driver && !(DRIVERS as readonly string[]).includes(driver)) {
    throw errors.driverUnsupported(`unknown storage driver "${driver}" (known: ${DRIVERS.join(', ')})`);
  }
  if (!driver) {
    driver = await OverlaySnapshotter.checkSupported(root).then(
      () => 'overlay',
      () => 'vfs',
    );
  }
  writeTx(db, () => {
    db.prepare("INSERT OR IGNORE INTO settings (key, value) VALUES ('storage-driver', ?)").run(driver);
  });
  return (db.prepare("SELECT value FROM settings WHERE key = 'storage-driver'").get() as { value: string }).value;
}
