import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** Modules the guest needs before it can reach the host's files: PCI virtio and 9p. */
const BOOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p'];

export interface InitramfsSpec {
  /** Kernel release whose modules to pack, e.g. 6.1.0-56-amd64. */
  kernel: string;
  /** Shell command run in the guest, chrooted into the host's root, from `cwd`. */
  command: string;
  cwd: string;
  /** Modules to load (with modprobe, from the host's /lib/modules) before the command. */
  modules: string[];
  env: Record<string, string>;
}

/** Marker lines the guest prints on its serial console. */
export const BOOTED = 'STRATA-VM-BOOTED';
export const EXIT = 'STRATA-VM-EXIT';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Writes an uncompressed initramfs to `out`: busybox, the boot modules in
 * dependency order, and an init that mounts the host's root read-only over
 * 9p (mount tag `hostroot`), puts tmpfs on its /tmp and /run, runs the
 * command chrooted there, prints `STRATA-VM-EXIT <status>` and powers off.
 */
export async function buildInitramfs(dir: string, out: string, spec: InitramfsSpec): Promise<void> {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'newroot', 'modules']) await mkdir(join(dir, d), { recursive: true });
  await copyFile('/bin/busybox', join(dir, 'bin', 'busybox'));
  const order: string[] = [];
  for (const m of BOOT_MODULES) {
    const deps = execFileSync('modprobe', ['-S', spec.kernel, '--show-depends', m], { encoding: 'utf8' });
    for (const line of deps.split('\n')) {
      const path = line.match(/^insmod (\S+)/)?.[1];
      if (!path || order.includes(basename(path))) continue;
      await copyFile(path, join(dir, 'modules', basename(path)));
      order.push(basename(path));
    }
  }
  const exports = Object.entries(spec.env).map(([k, v]) => `export ${k}=${quote(v)}; `).join('');
  const inner = `${exports}${spec.modules.map((m) => `modprobe ${m} && `).join('')}cd ${quote(spec.cwd)} && ${spec.command}`;
  const init = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${order.join(' ')}; do insmod /modules/$m || echo "insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /newroot || echo "mounting the host root failed"
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev
# The repository may live under /tmp or /run (CI clones anywhere): keep it
# visible above the guest's tmpfs by binding it aside first (a 9p tag mounts once).
case ${quote(spec.cwd)} in /tmp/*|/run/*)
  mkdir -p /repo
  mount -o bind /newroot${quote(spec.cwd)} /repo || echo "binding the repository failed";;
esac
mount -t tmpfs -o size=80% tmp /newroot/tmp
mount -t tmpfs run /newroot/run
if [ -d /repo ]; then
  mkdir -p /newroot${quote(spec.cwd)}
  mount -o bind /repo /newroot${quote(spec.cwd)} || echo "binding the repository failed"
fi
echo ${BOOTED} "$(uname -r)"
chroot /newroot /bin/sh -c ${quote(inner)} </dev/null
echo "${EXIT} $?"
sync
poweroff -f
`;
  await writeFile(join(dir, 'init'), init);
  await chmod(join(dir, 'init'), 0o755);
  execFileSync('sh', ['-c', `cd ${quote(dir)} && find . | busybox cpio -o -H newc > ${quote(out)}`], { stdio: 'ignore' });
}
