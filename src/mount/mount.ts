/**
 * A Mount is a serialized mount(2) call: storage drivers emit them as plain
 * data and only the runtime (or a temporary mount helper) performs them.
 */
export interface Mount {
  /** Filesystem type: 'overlay', 'bind', 'tmpfs', ... */
  type: string;
  source: string;
  /** Set only for mounts nested under a rootfs (runtime use). */
  target?: string;
  options: string[];
}

/** The single directory a mount list exposes without mounting, when there is one. */
export function directPath(mounts: Mount[]): string | undefined {
  if (mounts.length === 1 && mounts[0].type === 'bind') return mounts[0].source;
  return undefined;
}

/** The upperdir of an overlay mount: where writes land, used by fast-path appliers. */
export function overlayUpperDir(mounts: Mount[]): string | undefined {
  if (mounts.length !== 1 || mounts[0].type !== 'overlay') return undefined;
  const opt = mounts[0].options.find((o) => o.startsWith('upperdir='));
  return opt?.slice('upperdir='.length);
}
