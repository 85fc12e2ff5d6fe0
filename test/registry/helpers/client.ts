import { createHash, randomBytes } from 'node:crypto';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface Res {
  status: number;
  headers: Headers;
  body: Buffer;
  json<T = unknown>(): T;
}

/** A tiny distribution API client over fetch, for tests: no redirects followed, bodies read fully. */
export class Client {
  readonly base: string;
  auth?: string;

  constructor(base: string) {
    this.base = base.replace(/\/$/, '');
  }

  url(path: string): string {
    return path.startsWith('http') ? path : `${this.base}${path}`;
  }

  async req(method: string, path: string, opts: { body?: Uint8Array | string; headers?: Record<string, string> } = {}): Promise<Res> {
    const headers: Record<string, string> = { ...(this.auth ? { Authorization: this.auth } : {}), ...opts.headers };
    const r = await fetch(this.url(path), { method, body: opts.body as BodyInit | undefined, headers, redirect: 'manual' });
    const body = Buffer.from(await r.arrayBuffer());
    return { status: r.status, headers: r.headers, body, json: <T>() => JSON.parse(body.toString()) as T };
  }

  /** POST then PUT; returns the blob digest. */
  async pushBlob(name: string, data: Uint8Array): Promise<string> {
    const digest = sha256(data);
    const post = await this.req('POST', `/v2/${name}/blobs/uploads/`);
    if (post.status !== 202) throw new Error(`POST upload: ${post.status} ${post.body}`);
    const loc = post.headers.get('location')!;
    const put = await this.req('PUT', withQuery(loc, `digest=${encodeURIComponent(digest)}`), {
      body: data,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    if (put.status !== 201) throw new Error(`PUT upload: ${put.status} ${put.body}`);
    return digest;
  }

  async pushManifest(name: string, ref: string, manifest: unknown, mediaType: string): Promise<{ digest: string; res: Res; bytes: Buffer }> {
    const bytes = Buffer.from(typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
    const res = await this.req('PUT', `/v2/${name}/manifests/${ref}`, { body: bytes, headers: { 'Content-Type': mediaType } });
    if (res.status !== 201) throw new Error(`PUT manifest ${name}:${ref}: ${res.status} ${res.body}`);
    return { digest: sha256(bytes), res, bytes };
  }

  /** Pushes a small random image (config + `layers` layers) and tags it. */
  async pushImage(name: string, tag: string, opts: { layers?: number; docker?: boolean; layerBytes?: number } = {}): Promise<TestImage> {
    const docker = opts.docker ?? false;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
    const layers = Array.from({ length: opts.layers ?? 2 }, () => randomBytes(opts.layerBytes ?? 2048));
    const configDigest = await this.pushBlob(name, config);
    const layerDigests: string[] = [];
    for (const l of layers) layerDigests.push(await this.pushBlob(name, l));
    const manifest = {
      schemaVersion: 2,
      mediaType: docker ? DOCKER_MANIFEST : OCI_MANIFEST,
      config: { mediaType: docker ? DOCKER_CONFIG : OCI_CONFIG, digest: configDigest, size: config.length },
      layers: layers.map((l, i) => ({ mediaType: docker ? DOCKER_LAYER : OCI_LAYER, digest: layerDigests[i], size: l.length })),
    };
    const { digest, bytes } = await this.pushManifest(name, tag, manifest, manifest.mediaType);
    return { name, tag, digest, bytes, mediaType: manifest.mediaType, config, configDigest, layers, layerDigests, size: bytes.length };
  }
}

export interface TestImage {
  name: string;
  tag: string;
  digest: string;
  bytes: Buffer;
  mediaType: string;
  config: Buffer;
  configDigest: string;
  layers: Buffer[];
  layerDigests: string[];
  size: number;
}

export function withQuery(location: string, q: string): string {
  return location + (location.includes('?') ? '&' : '?') + q;
}

export function errorCodes(r: Res): string[] {
  try {
    return r.json<{ errors: { code: string }[] }>().errors.map((e) => e.code);
  } catch {
    return [];
  }
}
