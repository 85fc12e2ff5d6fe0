import { parseDigest, type Algorithm } from '../../../digest/digest.js';
import { regError } from '../../storage/errors.js';
import { isValidName } from '../../storage/names.js';
import type { UploadState } from '../../storage/uploads.js';
import type { RequestContext } from '../context.js';
import { contentLength, hasBody, parseContentRange, sendEmpty } from '../http.js';

function uploadHeaders(ctx: RequestContext, s: UploadState): Record<string, string | number> {
  return {
    Location: `/v2/${s.name}/blobs/uploads/${s.id}?_state=${ctx.reg.uploads.pack(s)}`,
    // distribution answers 0-0 for an empty upload; clients expect it.
    Range: `0-${Math.max(0, s.offset - 1)}`,
    'Docker-Upload-UUID': s.id,
  };
}

function blobCreated(ctx: RequestContext, name: string, digest: string): void {
  sendEmpty(ctx.res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

/**
 * Appends the request body after checking the quota from Content-Length: a
 * body that would pass it is refused before a byte is written, and a body of
 * unknown length is cut at the remaining quota.
 */
async function appendBody(ctx: RequestContext, s: UploadState, expectedStart?: number): Promise<UploadState> {
  const len = contentLength(ctx.req);
  const remaining = await ctx.reg.quotas.remaining(s.name);
  if (remaining !== undefined && len !== undefined && s.offset + len > remaining) await ctx.reg.quotas.check(s.name, s.offset + len);
  const next = await ctx.reg.uploads.append(s.name, s.id, ctx.req, {
    expectedStart,
    maxBytes: remaining === undefined ? undefined : Math.max(0, remaining - s.offset),
  });
  if (len !== undefined && next.offset - s.offset !== len) {
    throw regError('SIZE_INVALID', `received ${next.offset - s.offset} bytes but Content-Length said ${len}`);
  }
  return next;
}

/** POST /v2/<name>/blobs/uploads/: a mount, a single-request upload (?digest=), or a new session. */
export async function startUpload(ctx: RequestContext, name: string): Promise<void> {
  const q = ctx.url.searchParams;
  const mount = q.get('mount');
  const from = q.get('from');
  if (mount !== null && from !== null && isValidName(from) && ctx.can(from, 'pull')) {
    const digest = parseDigest(mount, 'mount digest');
    if (await ctx.reg.mount(name, from, digest)) return blobCreated(ctx, name, digest);
  }
  const alg = q.get('digest-algorithm') ?? 'sha256';
  if (alg !== 'sha256' && alg !== 'sha512') throw regError('DIGEST_INVALID', `digest algorithm ${alg.slice(0, 40)} is not supported: use sha256 or sha512`);
  const digestParam = q.get('digest');
  const digest = digestParam === null ? undefined : parseDigest(digestParam, 'upload digest');
  const len = contentLength(ctx.req);
  if (len !== undefined) await ctx.reg.quotas.check(name, len);
  const state = await ctx.reg.uploads.create(name, digest ? (digest.slice(0, digest.indexOf(':')) as Algorithm) : alg);
  if (digest) {
    const s = await appendBody(ctx, state);
    await ctx.reg.uploads.commit(name, s.id, digest, len);
    ctx.reg.quotas.invalidate(name);
    return blobCreated(ctx, name, digest);
  }
  if (hasBody(ctx.req)) {
    await ctx.reg.uploads.cancel(name, state.id);
    throw regError('DIGEST_INVALID', 'a POST with a body needs ?digest= to upload in one request');
  }
  sendEmpty(ctx.res, 202, uploadHeaders(ctx, state));
}

function session(ctx: RequestContext, name: string, id: string): void {
  const token = ctx.url.searchParams.get('_state');
  if (token !== null) ctx.reg.uploads.unpack(token, name, id);
}

/** GET /v2/<name>/blobs/uploads/<id>: where to resume. */
export async function uploadStatus(ctx: RequestContext, name: string, id: string): Promise<void> {
  session(ctx, name, id);
  sendEmpty(ctx.res, 204, uploadHeaders(ctx, await ctx.reg.uploads.status(name, id)));
}

/** PATCH /v2/<name>/blobs/uploads/<id>: one chunk, in order (416 otherwise). */
export async function patchUpload(ctx: RequestContext, name: string, id: string): Promise<void> {
  session(ctx, name, id);
  const range = parseContentRange(ctx.req.headers['content-range']);
  const len = contentLength(ctx.req);
  if (range && len !== undefined && range.end - range.start + 1 !== len) {
    throw regError('BLOB_UPLOAD_INVALID', `Content-Range ${range.start}-${range.end} does not match Content-Length ${len}`, { status: 416 });
  }
  const state = await ctx.reg.uploads.status(name, id);
  const next = await appendBody(ctx, state, range?.start);
  sendEmpty(ctx.res, 202, uploadHeaders(ctx, next));
}

/** PUT /v2/<name>/blobs/uploads/<id>?digest=: the optional last chunk, then verify and publish. */
export async function finishUpload(ctx: RequestContext, name: string, id: string): Promise<void> {
  session(ctx, name, id);
  const digestParam = ctx.url.searchParams.get('digest');
  if (digestParam === null) throw regError('DIGEST_INVALID', 'closing an upload needs ?digest=<digest of the whole blob>');
  const digest = parseDigest(digestParam, 'upload digest');
  let state = await ctx.reg.uploads.status(name, id);
  if (hasBody(ctx.req)) state = await appendBody(ctx, state, parseContentRange(ctx.req.headers['content-range'])?.start);
  await ctx.reg.uploads.commit(name, id, digest);
  ctx.reg.quotas.invalidate(name);
  blobCreated(ctx, name, digest);
}

/** DELETE /v2/<name>/blobs/uploads/<id>: cancel. */
export async function cancelUpload(ctx: RequestContext, name: string, id: string): Promise<void> {
  session(ctx, name, id);
  await ctx.reg.uploads.cancel(name, id);
  sendEmpty(ctx.res, 204);
}
