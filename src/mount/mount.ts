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

/** What one page of mount data can hold: the kernel silently cuts the string at 4095 bytes. */
export const MOUNT_DATA_LIMIT = 4095;

const PATH_OPTIONS = ['lowerdir=', 'upperdir=', 'workdir='];

/**
 * Overlay options with every layer path made relative to their deepest
 * common directory, as overlay2 does for deep images: mounted with that
 * directory as the working directory, `l/<id>` entries keep 128 layers
 * within a page. Undefined when the paths share no directory.
 */
export function relativeOverlayOptions(options: string[]): { dir: string; options: string[] } | undefined {
  const paths = options
    .filter((o) => PATH_OPTIONS.some((p) => o.startsWith(p)))
    .flatMap((o) => o.slice(o.indexOf('=') + 1).split(':'));
  if (paths.length === 0 || !paths.every((p) => p.startsWith('/'))) return undefined;
  let dir = paths[0].slice(0, paths[0].lastIndexOf('/'));
  for (const p of paths) while (dir && !p.startsWith(`${dir}/`)) dir = dir.slice(0, dir.lastIndexOf('/'));
  if (!dir) return undefined;
  const rel = (p: string) => p.slice(dir.length + 1);
  return {
    dir,
    options: options.map((o) => {
      const prefix = PATH_OPTIONS.find((p) => o.startsWith(p));
      return prefix ? prefix + o.slice(prefix.length).split(':').map(rel).join(':') : o;
    }),
  };
}
