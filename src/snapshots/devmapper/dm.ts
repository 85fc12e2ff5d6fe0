import { spawnSync } from 'node:child_process';
import { errors } from '../../errors/errors.js';

/**
 * Synchronous wrappers over dmsetup, losetup and the thin-provisioning tools.
 * Synchronous on purpose: the driver runs every sequence of device changes
 * inside one database write transaction, which is the lock that keeps CLI
 * processes sharing a pool from racing (see devmapper.ts). Each call takes
 * milliseconds; only formatting the base device, once, takes longer.
 *
 * DM_DISABLE_UDEV makes libdevmapper create the /dev/mapper nodes itself, so
 * the driver works the same with or without a udev daemon.
 */

export class DmError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'DmError';
  }
}

const PACKAGES: Record<string, string> = {
  dmsetup: 'dmsetup',
  losetup: 'mount',
  'mkfs.ext4': 'e2fsprogs',
  thin_check: 'thin-provisioning-tools',
  blockdev: 'util-linux',
  modprobe: 'kmod',
};

/** Runs `cmd`, returning its stdout; throws driverUnsupported when it is not installed, DmError when it fails. */
export function run(cmd: string, args: string[], timeoutMs = 120_000): string {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DM_DISABLE_UDEV: '1' },
    timeout: timeoutMs,
  });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw errors.driverUnsupported(
        `devicemapper: the ${cmd} command is not installed; install Debian's ${PACKAGES[cmd] ?? cmd} package`,
        { cause: r.error },
      );
    }
    throw new DmError(`${cmd} ${args.join(' ')}: ${r.error.message}`, '');
  }
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout).trim();
    throw new DmError(`${cmd} ${args.join(' ')} failed (${r.signal ?? `exit ${r.status}`}): ${why}`, r.stderr);
  }
  return r.stdout;
}

export const dmsetup = (...args: string[]): string => run('dmsetup', args);

/** Whether device-mapper device `name` exists, and how many openers (mounts) it has. */
export function deviceInfo(name: string): { exists: false } | { exists: true; open: number } {
  try {
    const out = dmsetup('info', '-c', '--noheadings', '-o', 'open', name).trim();
    return { exists: true, open: Number(out) };
  } catch (e) {
    if (e instanceof DmError && /does not exist|No such device/i.test(e.stderr)) return { exists: false };
    throw e;
  }
}

/** Names of every device-mapper device. */
export function listDevices(): string[] {
  const out = dmsetup('ls').trim();
  if (out === '' || /No devices found/i.test(out)) return [];
  return out.split('\n').map((l) => l.split('\t')[0].trim());
}

export function createDevice(name: string, table: string): void {
  dmsetup('create', name, '--table', table);
}

/** Removes a device; returns false when it does not exist. Retries briefly: a just-unmounted device can be busy for a moment. */
export function removeDevice(name: string): boolean {
  for (let attempt = 0; ; attempt++) {
    if (!deviceInfo(name).exists) return false;
    try {
      dmsetup('remove', name);
      return true;
    } catch (e) {
      if (!(e instanceof DmError && /busy/i.test(e.stderr)) || attempt >= 10) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

export function message(pool: string, msg: string): void {
  dmsetup('message', pool, '0', msg);
}

/** Attaches `file` to a free loop device and returns its path. */
export function attachLoop(file: string): string {
  return run('losetup', ['--find', '--show', file]).trim();
}

/**
 * Detaches a loop device. On one that is in use (by a thin pool) the kernel
 * only marks it autoclear, so it detaches itself when the pool goes away:
 * a crash can then never leave it behind.
 */
export function detachLoop(dev: string): void {
  run('losetup', ['-d', dev]);
}

/** Size of a block device in 512-byte sectors. */
export function sectorsOf(dev: string): number {
  return Number(run('blockdev', ['--getsz', dev]).trim());
}
