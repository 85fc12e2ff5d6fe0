import { parseDigest } from '../../../digest/digest.js';
import { MediaTypes } from '../../../oci/media-types.js';
import { regError } from '../../storage/errors.js';
import type { RequestContext } from '../context.js';
import { sendJson } from '../http.js';

/** Applies `n` and `last` to a sorted list; a Link to the next page when more remain (never for n=0). */
function paginate(ctx: RequestContext, all: string[], path: string): { page: string[]; link?: string } {
  const q = ctx.url.searchParams;
  const nParam = q.get('n');
  const last = q.get('last');
  if (nParam !== null && !/^\d+$/.test(nParam)) {
    throw regError('UNSUPPORTED', `n=${nParam.slice(0, 20)} is not a non-negative integer`, { status: 400 });
  }
  const rest = last === null ? all : all.filter((t) => t > last);
  if (nParam === null) return { page: rest };
  const n = Number(nParam);
  const page = rest.slice(0, n);
  if (n === 0 || rest.length <= n) return { page };
  return { page, link: `<${path}?n=${n}&last=${encodeURIComponent(page[page.length - 1])}>; rel="next"` };
}

/** GET /v2/<name>/tags/list[?n=&last=]. */
export async function listTags(ctx: RequestContext, name: string): Promise<void> {
  const { page, link } = paginate(ctx, await ctx.reg.tags.list(name), `/v2/${name}/tags/list`);
  sendJson(ctx.res, 200, { name, tags: page }, link ? { Link: link } : {});
}

/** GET /v2/_catalog[?n=&last=]: only repositories the caller may pull. */
export async function listCatalog(ctx: RequestContext): Promise<void> {
  const repos = (await ctx.reg.repositories()).filter((r) => ctx.can(r, 'pull'));
  const { page, link } = paginate(ctx, repos, '/v2/_catalog');
  sendJson(ctx.res, 200, { repositories: page }, link ? { Link: link } : {});
}

/** GET /v2/<name>/referrers/<digest>[?artifactType=]: never 404, an empty index when none. */
export async function listReferrers(ctx: RequestContext, name: string, ref: string): Promise<void> {
  const subject = parseDigest(ref, 'subject digest');
  const artifactType = ctx.url.searchParams.get('artifactType') ?? undefined;
  const index = await ctx.reg.referrers.list(name, subject, artifactType);
  sendJson(ctx.res, 200, index, {
    'Content-Type': MediaTypes.ociIndex,
    ...(artifactType !== undefined ? { 'OCI-Filters-Applied': 'artifactType' } : {}),
  });
}
