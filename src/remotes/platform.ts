import { errors } from '../errors/errors.js';
import type { Descriptor, Platform } from '../oci/image.js';

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** This host's platform, as OCI names it (linux/amd64 here). */
export function hostPlatform(): PlatformSpec {
  return { os: 'linux', architecture: ARCH[process.arch] ?? process.arch };
}

/** Parses `os[/arch[/variant]]` as `--platform` takes it ("linux/arm64/v8"). */
export function parsePlatform(s: string): PlatformSpec {
  const parts = s.trim().toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw errors.invalidArgument(`invalid platform "${s}": expected os[/arch[/variant]], e.g. linux/amd64`);
  }
  const [os, architecture = hostPlatform().architecture, variant] = parts;
  return { os, architecture: architecture === 'x86_64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture, variant };
}

export function formatPlatform(p: PlatformSpec): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** arm64's only variant is v8: a missing one means the same thing. */
function variantOf(p: { architecture: string; variant?: string }): string | undefined {
  return p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);
}

export function matchesPlatform(p: Platform | undefined, want: PlatformSpec): boolean {
  if (!p || p.os !== want.os || p.architecture !== want.architecture) return false;
  const wanted = variantOf(want);
  return wanted === undefined || variantOf(p) === wanted;
}

/** The entry of an index for `want`; attestation manifests (platform unknown/unknown) never match. */
export function pickPlatform(list: Descriptor[], want: PlatformSpec): Descriptor | undefined {
  const candidates = list.filter((d) => matchesPlatform(d.platform, want));
  // Without a wanted variant, prefer the entry that has none (the baseline build).
  return candidates.find((d) => !d.platform?.variant) ?? candidates[0];
}
