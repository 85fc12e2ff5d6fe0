/**
 * Progress of a pull or push, one event per change of a layer's state, in
 * Docker's vocabulary so the CLI can print what `docker pull` prints.
 */
export interface ProgressEvent {
  /** The layer's short ID (12 hex): the blob digest for pulls, the DiffID for pushes. */
  id: string;
  status: string;
  /** Bytes done and expected, for Downloading / Extracting / Pushing. */
  current?: number;
  total?: number;
}

export type ProgressFn = (e: ProgressEvent) => void;

export const noProgress: ProgressFn = () => undefined;

/** Runs `fn` over `items` with at most `limit` in flight; the first failure aborts the others through `signal`. */
export async function runLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T, signal: AbortSignal) => Promise<void>,
  outer?: AbortSignal,
): Promise<void> {
  const ac = new AbortController();
  const onOuter = () => ac.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++];
      try {
        await fn(item, ac.signal);
      } catch (e) {
        failure ??= { e };
        ac.abort(e);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  } finally {
    outer?.removeEventListener('abort', onOuter);
  }
  if (failure) throw failure.e;
}
