import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hexOf, type Digest } from '../digest/digest.js';
import { errnoCode } from '../errors/errors.js';

const POLL_MS = 100;

/** The lock directory inside an engine's scratch directory. */
export function ingestLockDir(tmpDir: string): string {
  return join(tmpDir, 'ingest-locks');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

/**
 * One downloader per blob across processes: two pulls of the same image
 * would otherwise append to the same ingest file. The lock is a file holding
 * the owner's pid, made whole and then hard-linked into place (so it is
 * never seen empty); a lock whose process is gone (a SIGKILLed pull) is
 * taken over. Returns the release function.
 */
export async function lockIngest(dir: string, digest: Digest, signal?: AbortSignal): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${hexOf(digest)}.lock`);
  const token = `${process.pid} ${Math.random()}`;
  const mine = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(mine, token);
  for (;;) {
    try {
      signal?.throwIfAborted();
      await link(mine, path);
      await unlink(mine);
      return async () => {
        if ((await readFile(path, 'utf8').catch(() => '')) === token) await unlink(path).catch(() => undefined);
      };
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') {
        await unlink(mine).catch(() => undefined);
        throw e;
      }
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).split(' ')[0]);
    if (owner && !alive(owner)) await unlink(path).catch(() => undefined);
    else await sleep(POLL_MS);
  }
}
