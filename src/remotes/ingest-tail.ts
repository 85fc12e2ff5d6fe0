import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalContentStore } from '../content/local-store.js';
import type { ContentStore } from '../content/store.js';
import { errnoCode } from '../errors/errors.js';
import type { BlobTransfer } from './fetcher.js';

const CHUNK = 1 << 20;

/**
 * The data file of an ingest, per LocalContentStore's documented layout
 * (<root>/ingest/<sha256(ref)>/data). Fetches use ref = the blob's digest.
 */
function ingestDataPath(store: LocalContentStore, ref: string): string {
  return join(store.root, 'ingest', createHash('sha256').update(ref).digest('hex'), 'data');
}

/**
 * A stream of a blob from its first byte while it is still being downloaded:
 * it reads the ingest file (where a resumed download's earlier bytes already
 * are) and waits at its end for the download to append more. This is how a
 * layer is extracted while it downloads, even when extraction starts late
 * because its parent layer was still being applied: nothing is buffered in
 * memory and the download never waits for extraction. The file stays
 * readable through the rename that commits it. The bytes are not verified
 * here; the caller commits the extracted snapshot only after the blob's
 * digest has been checked.
 */
export async function tailBlob(content: ContentStore, t: BlobTransfer): Promise<Readable> {
  let fh: FileHandle | undefined;
  for (;;) {
    if (t.error !== undefined) throw t.error;
    if (t.committed) return content.reader(t.digest);
    if (content instanceof LocalContentStore) {
      try {
        fh = await open(ingestDataPath(content, t.digest), 'r');
        break;
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
      }
    }
    await t.changed(); // not created yet, or committed meanwhile
  }
  const file = fh;
  let pos = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      void (async () => {
        try {
          for (;;) {
            const complete = t.flushed; // read before reading, so no late bytes are missed
            const buf = Buffer.allocUnsafe(CHUNK);
            const { bytesRead } = await file.read(buf, 0, CHUNK, pos);
            if (bytesRead > 0) {
              pos += bytesRead;
              this.push(buf.subarray(0, bytesRead));
              return;
            }
            if (t.error !== undefined) throw t.error;
            if (complete) {
              this.push(null);
              return;
            }
            // At the end of what has landed on disk: wait for the download, polling
            // briefly too since the writer counts bytes before its file write lands.
            await Promise.race([t.changed(), new Promise((r) => setTimeout(r, 20))]);
          }
        } catch (e) {
          this.destroy(e as Error);
        }
      })();
    },
    destroy(err, cb) {
      file.close().then(() => cb(err), () => cb(err));
    },
  });
}
