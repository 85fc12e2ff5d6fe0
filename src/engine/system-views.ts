import { statfs } from 'node:fs/promises';
import { cpus, hostname, release, totalmem } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { Digest } from '../digest/digest.js';
import { supportedDrivers } from '../snapshots/factory.js';
import type { Engine } from './engine.js';
import { imageCreated } from './image-views.js';

export const VERSION = '0.1.0';

export interface ImageUsage {
  id: Digest;
  names: { repository: string; tag: string }[];
  created: Date;
  size: number;
  sharedSize: number;
  uniqueSize: number;
  containers: number;
}

export interface DiskUsage {
  images: ImageUsage[];
  /** Bytes of all layers, each counted once however many images share it. */
  layersSize: number;
  /** Bytes of layers no image in use by a container needs. */
  reclaimable: number;
  containers: { total: number; active: number; size: number };
}

/** `system df`: sizes from the layer table, where each chainID is stored once. */
export function diskUsage(engine: Engine): DiskUsage {
  const layerSize = new Map<string, number>();
  for (const r of engine.db.prepare('SELECT chain_id, size FROM layers').all() as { chain_id: string; size: number }[]) {
    layerSize.set(r.chain_id, r.size);
  }
  const users = new Map<string, number>();
  const images = engine.images.list();
  for (const img of images) for (const l of new Set(img.layers.map((x) => x.chainId))) users.set(l, (users.get(l) ?? 0) + 1);
  const inUse = new Set<string>();
  const usage: ImageUsage[] = images.map((img) => {
    const chains = [...new Set(img.layers.map((x) => x.chainId))];
    const shared = chains.filter((c) => (users.get(c) ?? 0) > 1).reduce((a, c) => a + (layerSize.get(c) ?? 0), 0);
    const containers = engine.imageStore.containersUsing(img.id).length;
    if (containers) chains.forEach((c) => inUse.add(c));
    return {
      id: img.id,
      names: engine.images.tagsOf(img.id).map((t) => engine.images.displayName(t)),
      created: imageCreated(img),
      size: img.size,
      sharedSize: shared,
      uniqueSize: img.size - shared,
      containers,
    };
  });
  const layersSize = [...layerSize.values()].reduce((a, b) => a + b, 0);
  const activeSize = [...inUse].reduce((a, c) => a + (layerSize.get(c) ?? 0), 0);
  const total = (engine.db.prepare('SELECT count(*) n FROM containers').get() as { n: number }).n;
  return { images: usage, layersSize, reclaimable: layersSize - activeSize, containers: { total, active: 0, size: 0 } };
}

/** `info`, with Docker's field names so `--format '{{.Driver}}'` works the same. */
export async function systemInfo(engine: Engine): Promise<Record<string, unknown>> {
  const containers = (engine.db.prepare('SELECT count(*) n FROM containers').get() as { n: number }).n;
  const images = engine.images.list().length;
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const prettyName = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? 'Linux';
  const cgroupV2 = await statfs('/sys/fs/cgroup').then((s) => s.type === 0x63677270, () => false);
  return {
    ID: engine.root,
    Containers: containers,
    ContainersRunning: 0,
    ContainersPaused: 0,
    ContainersStopped: containers,
    Images: images,
    Driver: engine.storageDriver,
    DriverStatus: await engine.snapshotter.status(),
    SupportedDrivers: await supportedDrivers(engine.root),
    DockerRootDir: engine.root,
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cgroupV2 ? '2' : '1',
    KernelVersion: release(),
    OperatingSystem: prettyName,
    OSType: 'linux',
    Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
    NCPU: cpus().length,
    MemTotal: totalmem(),
    Name: hostname(),
    ServerVersion: VERSION,
    DefaultRegistry: engine.defaultRegistry,
  };
}
