import { pipeline } from 'node:stream/promises';
import { parseDigest } from '../../../digest/digest.js';
import { regError } from '../../storage/errors.js';
import type { RequestContext } from '../context.js';
import { parseRange, sendEmpty } from '../http.js';

/** GET and HEAD /v2/<name>/blobs/<digest>, with a single byte Range; streamed, never buffered. */
export async function getBlob(ctx: RequestContext, name: string, ref: string): Promise<void> {
  const digest = parseDigest(ref, 'blob digest');
  const info = await ctx.reg.blobInfo(name, digest);
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    ETag: `"${digest}"`,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'max-age=31536000',
  };
  const range = parseRange(ctx.req.headers.range, info.size);
  if (range === 'unsatisfiable') return sendEmpty(ctx.res, 416, { 'Content-Range': `bytes */${info.size}` });
  const start = range?.start ?? 0;
  const end = range?.end ?? info.size - 1;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${info.size}`;
  headers['Content-Length'] = end - start + 1;
  if (ctx.req.method === 'HEAD') await ctx.reg.refreshLink(name, digest);
  if (ctx.req.method === 'HEAD' || info.size === 0) {
    ctx.res.writeHead(range ? 206 : 200, headers);
    ctx.res.end();
    return;
  }
  const body = await ctx.reg.blobReader(digest, start, end);
  ctx.res.writeHead(range ? 206 : 200, headers);
  await pipeline(body, ctx.res).catch((e: unknown) => {
    // A client that goes away mid-body is normal; the socket is already gone.
    if (!ctx.res.destroyed) throw e;
  });
}

/** DELETE /v2/<name>/blobs/<digest>: unlinks it from the repository. */
export async function deleteBlob(ctx: RequestContext, name: string, ref: string): Promise<void> {
  if (!ctx.deleteEnabled) throw regError('UNSUPPORTED', 'deletion is disabled on this registry (storage.delete.enabled)');
  await ctx.reg.deleteBlob(name, parseDigest(ref, 'blob digest'));
  sendEmpty(ctx.res, 202);
}
