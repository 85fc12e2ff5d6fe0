import { spawn, spawnSync } from 'node:child_process';
import { constants, createWriteStream } from 'node:fs';
import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOOTED, EXIT, buildInitramfs } from './initramfs.js';

/**
 * Runs a command inside a throw-away virtual machine booted from Debian's
 * stock kernel (linux-image-amd64), for tests that need kernel features the
 * host lacks (device-mapper here). The guest's root is the host's own root,
 * shared read-only over 9p, with tmpfs on /tmp and /run: the same node, the
 * same repository, nothing to install in the guest. KVM is used when it
 * works; where /dev/kvm opens but cannot boot a guest (nested
 * virtualization often cannot), the harness falls back to software
 * emulation. Everything it makes is deleted when it returns.
 */

export interface VmOptions {
  command: string;
  cwd: string;
  /** Hard bound for the whole run; the VM is killed after it. */
  timeoutMs: number;
  /** Modules loaded in the guest before the command, e.g. dm_thin_pool. */
  modules?: string[];
  env?: Record<string, string>;
  memoryMb?: number;
}

export interface VmResult {
  /** The command's exit status, or null when the guest never reported one. */
  exitCode: number | null;
  /** Everything the guest wrote on its serial console. */
  output: string;
  accel: 'kvm' | 'tcg';
  timedOut: boolean;
}

/** A KVM guest that has not printed its kernel banner by then is taken as unable to boot. */
const KVM_BOOT_MS = 20_000;

/** The newest installed kernel that has modules, or undefined. */
async function findKernel(): Promise<{ release: string; image: string } | undefined> {
  const images = (await readdir('/boot').catch(() => [] as string[])).filter((f) => f.startsWith('vmlinuz-')).sort().reverse();
  for (const image of images) {
    const release = image.slice('vmlinuz-'.length);
    if (await exists(`/lib/modules/${release}/modules.dep`)) return { release, image: join('/boot', image) };
  }
  return undefined;
}

const exists = (p: string, mode = constants.F_OK) => access(p, mode).then(() => true, () => false);

function hasCommand(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** Why VMs cannot run here (naming the package to install), or undefined when they can. */
export async function vmUnavailable(): Promise<string | undefined> {
  if (!hasCommand('qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  if (!(await findKernel())) return 'no kernel image with modules in /boot (apt-get install linux-image-amd64)';
  if (!(await exists('/bin/busybox'))) return '/bin/busybox is missing (apt-get install busybox-static)';
  return undefined;
}

/** Boots a VM, runs `opts.command` in it, and returns what happened; never throws for a failing guest. */
export async function runInVm(opts: VmOptions): Promise<VmResult> {
  const kernel = await findKernel();
  if (!kernel) throw new Error(await vmUnavailable());
  const dir = await mkdtemp(join(tmpdir(), 'strata-vm-'));
  try {
    const initrd = join(dir, 'initrd.cpio');
    await buildInitramfs(join(dir, 'root'), initrd, {
      kernel: kernel.release,
      command: opts.command,
      cwd: opts.cwd,
      modules: opts.modules ?? [],
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/tmp', ...opts.env },
    });
    const deadline = Date.now() + opts.timeoutMs;
    if (await exists('/dev/kvm', constants.R_OK | constants.W_OK)) {
      const r = await boot('kvm', kernel.image, initrd, opts, deadline);
      if (r) return r;
    }
    return (await boot('tcg', kernel.image, initrd, opts, deadline))!;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One boot; undefined when KVM failed to start the guest, so the caller can retry without it. */
function boot(accel: 'kvm' | 'tcg', kernel: string, initrd: string, opts: VmOptions, deadline: number): Promise<VmResult | undefined> {
  const args = [
    ...(accel === 'kvm' ? ['-enable-kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
    '-m', String(opts.memoryMb ?? 2048),
    '-smp', '2',
    '-nodefaults', '-no-user-config', '-no-reboot',
    '-display', 'none', '-serial', 'stdio',
    '-kernel', kernel,
    '-initrd', initrd,
    '-append', 'console=ttyS0 panic=-1 quiet',
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
  ];
  return new Promise((resolve) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    let bootFailed = false;
    // STRATA_VM_LOG=FILE follows the console while a long suite runs.
    const log = process.env.STRATA_VM_LOG ? createWriteStream(process.env.STRATA_VM_LOG, { flags: 'a' }) : undefined;
    const onData = (d: Buffer) => {
      log?.write(d);
      output += d.toString('utf8');
      if (output.length > 4_000_000) output = output.slice(-2_000_000);
    };
    qemu.stdout.on('data', onData);
    qemu.stderr.on('data', onData);
    const kill = setTimeout(() => {
      timedOut = true;
      qemu.kill('SIGKILL');
    }, Math.max(0, deadline - Date.now()));
    // `quiet` hides the banner, so the first sign of a booting kernel is the init's marker.
    const bootCheck =
      accel === 'kvm'
        ? setTimeout(() => {
            if (!output.includes(BOOTED)) {
              bootFailed = true;
              qemu.kill('SIGKILL');
            }
          }, KVM_BOOT_MS)
        : undefined;
    qemu.on('close', () => {
      log?.end();
      clearTimeout(kill);
      clearTimeout(bootCheck);
      const booted = output.includes(BOOTED);
      if (accel === 'kvm' && !booted && (bootFailed || !timedOut)) return resolve(undefined);
      const m = output.match(new RegExp(`${EXIT} (\\d+)`));
      resolve({ exitCode: m ? Number(m[1]) : null, output, accel, timedOut });
    });
  });
}
