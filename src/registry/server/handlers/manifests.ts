import { parseDigest } from '../../../digest/digest.js';
import { regError } from '../../storage/errors.js';
import { MAX_MANIFEST_BYTES } from '../../storage/manifest-parse.js';
import { isValidTag } from '../../storage/names.js';
import type { StoredManifest } from '../../storage/manifests.js';
import type { RequestContext } from '../context.js';
import { readBody, sendEmpty } from '../http.js';

function reference(ref: string): { digest: ReturnType<typeof parseDigest> } | { tag: string } {
  if (ref.includes(':')) return { digest: parseDigest(ref, 'manifest digest') };
  if (!isValidTag(ref)) throw regError('MANIFEST_INVALID', `invalid tag "${ref.slice(0, 200)}": use [a-zA-Z0-9_][a-zA-Z0-9._-], at most 128 characters`, { detail: { Tag: ref.slice(0, 200) } });
  return { tag: ref };
}

/** GET and HEAD /v2/<name>/manifests/<reference>. */
export async function getManifest(ctx: RequestContext, name: string, ref: string): Promise<void> {
  const r = reference(ref);
  const m: StoredManifest = 'digest' in r ? await ctx.reg.manifests.get(name, r.digest) : await ctx.reg.manifests.getByTag(name, r.tag);
  const etag = `"${m.digest}"`;
  const headers = { 'Content-Type': m.mediaType, 'Docker-Content-Digest': m.digest, ETag: etag };
  if (ctx.req.headers['if-none-match'] === etag) return sendEmpty(ctx.res, 304, headers);
  ctx.res.writeHead(200, { ...headers, 'Content-Length': m.bytes.length });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : m.bytes);
}

/** PUT /v2/<name>/manifests/<reference>[?tag=...]: stored byte for byte, with extra tags when pushed by digest. */
export async function putManifest(ctx: RequestContext, name: string, ref: string): Promise<void> {
  const r = reference(ref);
  const extraTags = 'digest' in r ? ctx.url.searchParams.getAll('tag') : [];
  for (const t of extraTags) reference(t);
  const bytes = await readBody(ctx.req, MAX_MANIFEST_BYTES, () =>
    regError('MANIFEST_INVALID', `manifest is larger than the ${MAX_MANIFEST_BYTES} bytes this registry accepts`, { status: 413 }),
  );
  const digest = 'digest' in r ? r.digest : undefined;
  if (!(digest && (await ctx.reg.manifests.exists(name, digest)))) await ctx.reg.quotas.check(name, bytes.length);
  const tags = 'tag' in r ? [r.tag] : extraTags;
  const { digest: stored, parsed } = await ctx.reg.manifests.put(name, bytes, ctx.req.headers['content-type'], { digest, tags });
  ctx.reg.quotas.invalidate(name);
  const headers: Record<string, string | string[]> = {
    Location: `/v2/${name}/manifests/${stored}`,
    'Docker-Content-Digest': stored,
  };
  if (parsed.subject) headers['OCI-Subject'] = parsed.subject.digest;
  if (extraTags.length > 0) headers['OCI-Tag'] = extraTags;
  sendEmpty(ctx.res, 201, headers);
}

/** DELETE /v2/<name>/manifests/<reference>: a digest removes the manifest and its tags, a tag only the tag. */
export async function deleteManifest(ctx: RequestContext, name: string, ref: string): Promise<void> {
  if (!ctx.deleteEnabled) throw regError('UNSUPPORTED', 'deletion is disabled on this registry (storage.delete.enabled)');
  const r = reference(ref);
  if ('digest' in r) await ctx.reg.manifests.delete(name, r.digest);
  else await ctx.reg.tags.untag(name, r.tag);
  ctx.reg.quotas.invalidate(name);
  sendEmpty(ctx.res, 202);
}
