import { realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hexOf, type Digest } from '../digest/digest.js';
import { errors } from '../errors/errors.js';
import type { ImageRecord } from '../metadata/images.js';
import type { HistoryEntry } from '../oci/image.js';
import type { Engine } from './engine.js';

/** One row of `images`: an image under one of its tags (or <none>). */
export interface ImageRow {
  id: Digest;
  repository: string;
  tag: string;
  digest: string;
  created: Date;
  size: number;
  containers: number;
  labels: Record<string, string>;
}

export interface ImageFilters {
  dangling?: boolean;
  reference: string[];
  label: string[];
  before?: Date;
  since?: Date;
}

const FILTER_KEYS = ['dangling', 'reference', 'label', 'before', 'since'];

export function parseImageFilters(engine: Engine, raw: string[]): ImageFilters {
  const f: ImageFilters = { reference: [], label: [] };
  for (const r of raw) {
    const eq = r.indexOf('=');
    const key = eq < 0 ? r : r.slice(0, eq);
    const value = eq < 0 ? '' : r.slice(eq + 1);
    if (!FILTER_KEYS.includes(key)) {
      throw errors.invalidArgument(`invalid filter '${key}' (valid: ${FILTER_KEYS.join(', ')})`);
    }
    if (eq < 0) throw errors.invalidArgument(`bad format of filter (expected name=value): ${r}`);
    if (key === 'dangling') {
      if (!['true', 'false', '1', '0'].includes(value.toLowerCase())) {
        throw errors.invalidArgument(`invalid filter 'dangling=${value}': expected true or false`);
      }
      f.dangling = value === 'true' || value === '1';
    } else if (key === 'reference') f.reference.push(value);
    else if (key === 'label') f.label.push(value);
    else {
      const created = imageCreated(engine.images.resolve(value));
      if (key === 'before') f.before = created;
      else f.since = created;
    }
  }
  return f;
}

export function imageCreated(img: ImageRecord): Date {
  const d = img.created ? new Date(img.created) : img.loadedAt;
  return Number.isNaN(d.getTime()) ? img.loadedAt : d;
}

/** Rows for `images`, newest first, one per tag, as Docker lists them. */
export async function listImageRows(engine: Engine, opts: { filters: ImageFilters; repository?: string }): Promise<ImageRow[]> {
  const rows: ImageRow[] = [];
  const f = opts.filters;
  const refPatterns = [...f.reference, ...(opts.repository ? [opts.repository] : [])];
  for (const img of engine.images.list()) {
    const created = imageCreated(img);
    if (f.before && created >= f.before) continue;
    if (f.since && created <= f.since) continue;
    const tags = engine.images.tagsOf(img.id);
    if (f.dangling !== undefined && f.dangling !== (tags.length === 0)) continue;
    const config = await engine.images.config(img.id);
    const labels = config.config?.Labels ?? {};
    if (!f.label.every((l) => matchLabel(labels, l))) continue;
    const containers = engine.imageStore.containersUsing(img.id).length;
    const digests = engine.images.repoDigestsOf(img.id);
    const base = { id: img.id, created, size: img.size, containers, labels };
    const names = tags.map((t) => engine.images.displayName(t));
    const matching = refPatterns.length
      ? names.filter((n) => refPatterns.some((p) => referenceMatches(p, n.repository, n.tag)))
      : names;
    if (refPatterns.length && matching.length === 0) continue;
    if (names.length === 0) {
      rows.push({ ...base, repository: '<none>', tag: '<none>', digest: digestFor(digests, undefined) });
    }
    for (const n of matching) {
      rows.push({ ...base, repository: n.repository, tag: n.tag, digest: digestFor(digests, n.full) });
    }
  }
  rows.sort((a, b) => b.created.getTime() - a.created.getTime());
  return rows;
}

function digestFor(repoDigests: string[], full: string | undefined): string {
  const repo = full?.slice(0, full.lastIndexOf(':'));
  const match = repoDigests.find((d) => repo !== undefined && d.startsWith(`${repo}@`)) ?? (full ? undefined : repoDigests[0]);
  return match ? match.slice(match.indexOf('@') + 1) : '<none>';
}

function matchLabel(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** Docker matches reference filters with path.Match against `repo` and `repo:tag`. */
export function referenceMatches(pattern: string, repository: string, tag: string): boolean {
  const re = globToRegExp(pattern);
  return re.test(repository) || re.test(`${repository}:${tag}`);
}

function globToRegExp(glob: string): RegExp {
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') src += '[^/]*';
    else if (c === '?') src += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) throw errors.invalidArgument(`invalid reference filter pattern "${glob}": unclosed [`);
      const body = glob.slice(i + 1, end).replace(/^\^/, '^').replace(/\\/g, '\\\\');
      src += `[${body}]`;
      i = end;
    } else src += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}

export interface HistoryRow {
  id: string;
  created?: Date;
  createdBy: string;
  size: number;
  comment: string;
  tags: string[];
}

/** History newest first; the top row carries the image ID, others `<missing>`, as Docker shows it. */
export async function imageHistory(engine: Engine, ref: string): Promise<HistoryRow[]> {
  const img = engine.images.resolve(ref);
  const config = await engine.images.config(img.id);
  const history = config.history?.length
    ? config.history
    : img.layers.map((): HistoryEntry => ({ created: config.created, created_by: '', empty_layer: false }));
  const layerSizes = img.layers.map((l) => engine.imageStore.getLayer(l.chainId)?.size ?? 0);
  let layer = 0;
  const rows: HistoryRow[] = history.map((h) => {
    const size = h.empty_layer ? 0 : (layerSizes[layer++] ?? 0);
    const created = h.created ? new Date(h.created) : undefined;
    return { id: '<missing>', created, createdBy: h.created_by ?? '', size, comment: h.comment ?? '', tags: [] };
  });
  rows.reverse();
  if (rows.length) {
    rows[0].id = img.id;
    rows[0].tags = engine.images.tagsOf(img.id).map((t) => {
      const n = engine.images.displayName(t);
      return `${n.repository}:${n.tag}`;
    });
  }
  return rows;
}

/** `inspect` of an image in Docker's JSON shape. */
export async function inspectImage(engine: Engine, ref: string): Promise<Record<string, unknown>> {
  const img = engine.images.resolve(ref);
  const config = await engine.images.config(img.id);
  const tags = engine.images.tagsOf(img.id).map((t) => {
    const n = engine.images.displayName(t);
    return `${n.repository}:${n.tag}`;
  });
  const lastTag = engine.db.prepare('SELECT max(created_at) t FROM tags WHERE image_id = ?').get(img.id) as { t: number | null };
  return {
    Id: img.id,
    RepoTags: tags,
    RepoDigests: engine.images.repoDigestsOf(img.id).map((d) => {
      const at = d.indexOf('@');
      return `${engine.images.displayName(`${d.slice(0, at)}:latest`).repository}${d.slice(at)}`;
    }),
    Parent: '',
    Comment: config.history?.[config.history.length - 1]?.comment ?? '',
    Created: config.created ?? img.loadedAt.toISOString(),
    DockerVersion: (config.docker_version as string | undefined) ?? '',
    Author: config.author ?? '',
    Config: config.config ?? null,
    Architecture: config.architecture,
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os,
    ...(config['os.version'] ? { OsVersion: config['os.version'] } : {}),
    Size: img.size,
    GraphDriver: await graphDriver(engine, img),
    RootFS: { Type: 'layers', Layers: img.layers.map((l) => l.diffId) },
    Metadata: { LastTagTime: lastTag.t ? new Date(lastTag.t).toISOString() : '0001-01-01T00:00:00Z' },
  };
}

/** GraphDriver as Docker reports it for overlay2: the top layer as UpperDir, the rest as LowerDir. */
async function graphDriver(engine: Engine, img: ImageRecord): Promise<{ Name: string; Data: Record<string, string> | null }> {
  const name = engine.storageDriver;
  if (!img.topLayer) return { Name: name, Data: null };
  const mounts = await engine.snapshotter.mounts(img.topLayer);
  const m = mounts[0];
  if (!m) return { Name: name, Data: null };
  const lower = m.options.find((o) => o.startsWith('lowerdir='));
  const dirs = lower ? await Promise.all(lower.slice(9).split(':').map((d) => realpath(d))) : [m.source];
  if (name !== 'overlay') return { Name: name, Data: { Dir: dirs[0] } };
  const base = dirname(dirs[0]);
  const data: Record<string, string> = { MergedDir: `${base}/merged`, UpperDir: dirs[0], WorkDir: `${base}/work` };
  if (dirs.length > 1) data.LowerDir = dirs.slice(1).join(':');
  return { Name: name, Data: data };
}

export function shortImageId(id: string): string {
  return hexOf(id as Digest).slice(0, 12);
}
