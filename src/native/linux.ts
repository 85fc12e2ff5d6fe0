import { createRequire } from 'node:module';

/** Typed view of the native addon built from linux.c (see binding.gyp). */
export interface LinuxSyscalls {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount(target: string, flags?: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** null when the attribute is absent or the filesystem has no xattrs. */
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  readonly MS_RDONLY: number;
  readonly MS_NOSUID: number;
  readonly MS_NODEV: number;
  readonly MS_NOEXEC: number;
  readonly MS_REMOUNT: number;
  readonly MS_BIND: number;
  readonly MS_REC: number;
  readonly MS_PRIVATE: number;
  readonly MS_SLAVE: number;
  readonly MNT_DETACH: number;
  readonly S_IFCHR: number;
  readonly S_IFBLK: number;
  readonly S_IFIFO: number;
}

const require = createRequire(import.meta.url);
// dist/src/native/linux.js → <package root>/build/Release
export const linux: LinuxSyscalls = require('../../../build/Release/strata_linux.node');
