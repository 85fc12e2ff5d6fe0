import type { Readable, Writable } from 'node:stream';
import { hexOf, isDigest, type Digest } from '../digest/digest.js';
import { errors } from '../errors/errors.js';
import { writeTx } from '../metadata/db.js';
import type { ImageRecord } from '../metadata/images.js';
import type { ImageConfig } from '../oci/image.js';
import { familiarName, fullName, parseNormalizedNamed, withDefaultTag, type Reference } from '../oci/reference.js';
import { loadArchive } from '../images/archive-load.js';
import { saveArchive } from '../images/archive-save.js';
import { importTarball } from '../images/import.js';
import { parseImageConfig } from '../images/register.js';
import type { Engine } from './engine.js';

/** A tag split for display: REPOSITORY and TAG columns, familiar form. */
export interface ImageName {
  full: string;
  repository: string;
  tag: string;
}

export type RemoveReport = { Untagged: string } | { Deleted: string };

/** Image operations of the engine: resolve, list, import, load, save, tag, remove. */
export class ImageService {
  #engine: Engine;
  #configs = new Map<Digest, ImageConfig>();

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  get #refOpts() {
    return { defaultDomain: this.#engine.defaultRegistry };
  }

  get #store() {
    return this.#engine.imageStore;
  }

  #deps() {
    const e = this.#engine;
    return { content: e.content, snapshotter: e.snapshotter, images: e.imageStore, tmpDir: e.tmpDir };
  }

  /** Parses a user's name into its stored, fully qualified `domain/path:tag` form. */
  normalize(name: string): Reference {
    return withDefaultTag(parseNormalizedNamed(name, this.#refOpts));
  }

  #tagName(ref: Reference): string {
    return `${fullName(ref)}:${ref.tag}`;
  }

  displayName(full: string): ImageName {
    const ref = parseNormalizedNamed(full, this.#refOpts);
    return { full, repository: familiarName(ref, this.#refOpts), tag: ref.tag ?? 'latest' };
  }

  /**
   * Finds an image by name[:tag], name@digest, full ID or ID prefix, as the
   * Docker CLI does: a name that looks like a hex prefix of an ID is tried as one.
   */
  resolve(nameOrId: string): ImageRecord {
    const notFound = () => errors.imageNotFound(`No such image: ${nameOrId}`);
    const idText = nameOrId.startsWith('sha256:') ? nameOrId.slice(7) : nameOrId;
    if (/^[a-f0-9]{64}$/.test(idText)) {
      const img = this.#store.get(`sha256:${idText}`);
      if (img) return img;
    }
    let ref: Reference | undefined;
    try {
      ref = parseNormalizedNamed(nameOrId, this.#refOpts);
    } catch (e) {
      if (!/^[a-f0-9]{1,64}$/.test(idText)) throw e;
    }
    if (ref && !ref.digest) {
      const id = this.#store.resolveTag(this.#tagName(withDefaultTag(ref)));
      if (id) return this.#store.get(id)!;
    }
    if (ref?.digest) {
      const row = this.#engine.db
        .prepare('SELECT image_id FROM repo_digests WHERE name = ? AND manifest_digest = ?')
        .get(fullName(ref), ref.digest) as { image_id: Digest } | undefined;
      if (row) return this.#store.get(row.image_id)!;
      if (isDigest(ref.digest) && this.#store.get(ref.digest)) return this.#store.get(ref.digest)!;
    }
    if (/^[a-f0-9]{1,63}$/.test(idText)) {
      const ids = this.#store.findByPrefix(idText);
      if (ids.length === 1) return this.#store.get(ids[0])!;
      if (ids.length > 1) throw errors.invalidArgument(`image ID prefix "${nameOrId}" is ambiguous: it matches ${ids.length} images`);
    }
    throw notFound();
  }

  list(): ImageRecord[] {
    return this.#store.list();
  }

  tagsOf(id: Digest): string[] {
    return this.#store.tagsOf(id);
  }

  repoDigestsOf(id: Digest): string[] {
    return this.#store.repoDigestsOf(id);
  }

  async config(id: Digest): Promise<ImageConfig> {
    let c = this.#configs.get(id);
    if (!c) {
      c = parseImageConfig(await this.#engine.content.readAll(id, 8 << 20), `image ${id}`);
      this.#configs.set(id, c);
    }
    return c;
  }

  async import(
    input: Readable,
    opts: { source: string; changes?: string[]; message?: string; tag?: string },
  ): Promise<ImageRecord> {
    const tag = opts.tag ? this.#tagName(this.normalize(opts.tag)) : undefined;
    return this.#sweepOnFailure(() =>
      this.#engine.leases.with(async (lease) => {
        const img = await importTarball(input, { source: opts.source, changes: opts.changes ?? [], message: opts.message }, this.#deps(), lease);
        writeTx(this.#engine.db, () => {
          this.#store.put(img);
          if (tag) this.#store.tag(tag, img.id);
        });
        return this.#store.get(img.id)!;
      }),
    );
  }

  /** A failed import or load leaves the store as it was: what it wrote is swept once its lease is gone. */
  async #sweepOnFailure<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      await this.#engine.gc().catch(() => undefined);
      throw e;
    }
  }

  /** Loads a `docker save` or OCI archive; returns each image with the tags it was given. */
  async load(input: Readable): Promise<{ image: ImageRecord; tags: string[] }[]> {
    return this.#sweepOnFailure(() =>
      this.#engine.leases.with(async (lease) => {
        const loaded = (await loadArchive(input, this.#deps(), lease)).map(({ image, names }) => ({
          image,
          tags: names.map((n) => this.#tagName(this.normalize(n))),
        }));
        // Every image of the archive appears at once, or none does.
        writeTx(this.#engine.db, () => {
          for (const { image, tags } of loaded) {
            this.#store.put(image);
            for (const t of tags) this.#store.tag(t, image.id);
          }
        });
        return loaded.map(({ image, tags }) => ({ image: this.#store.get(image.id)!, tags }));
      }),
    );
  }

  /** Writes the named images (tags kept for names given as tags) to `out`. */
  async save(names: string[], out: Writable): Promise<void> {
    const byId = new Map<Digest, { image: ImageRecord; names: Set<string> }>();
    for (const n of names) {
      const image = this.resolve(n);
      const entry = byId.get(image.id) ?? { image, names: new Set<string>() };
      byId.set(image.id, entry);
      const asId = n.startsWith('sha256:') || this.#store.findByPrefix(n.replace(/^sha256:/, '')).includes(image.id);
      if (!asId) {
        const ref = parseNormalizedNamed(n, this.#refOpts);
        if (ref.tag || !ref.digest) {
          // A bare repository name saves every tag of that repository, as docker does.
          const wanted = ref.tag ? [this.#tagName(ref)] : this.#store.tagsOf(image.id).filter((t) => t.startsWith(`${fullName(ref)}:`));
          for (const t of wanted.length ? wanted : [this.#tagName(withDefaultTag(ref))]) entry.names.add(t);
        }
      }
    }
    const familiar = (full: string) => {
      const colon = full.lastIndexOf(':');
      const withTag = colon > full.lastIndexOf('/');
      const ref = parseNormalizedNamed(full, this.#refOpts);
      return withTag ? `${familiarName(ref, this.#refOpts)}:${ref.tag}` : familiarName(ref, this.#refOpts);
    };
    await saveArchive(
      [...byId.values()].map((e) => ({ image: e.image, names: [...e.names], familiar })),
      this.#engine.content,
      out,
    );
  }

  tag(source: string, target: string): void {
    const image = this.resolve(source);
    const name = this.#tagName(this.normalize(target));
    writeTx(this.#engine.db, () => this.#store.tag(name, image.id));
  }

  /**
   * `rmi`: a name removes that tag, and the image with its last tag; an ID
   * removes the image with all its tags unless they span several repositories
   * (then -f is needed). An image a container uses is never deleted; without
   * -f its last tag is kept too.
   */
  async remove(nameOrId: string, opts: { force?: boolean; prune?: boolean } = {}): Promise<RemoveReport[]> {
    const image = this.resolve(nameOrId);
    const tags = this.#store.tagsOf(image.id);
    const byName = this.#matchingTag(nameOrId, tags);
    const containers = this.#store.containersUsing(image.id);
    const reports: RemoveReport[] = [];
    const short = hexOf(image.id).slice(0, 12);
    if (byName && tags.length > 1) {
      writeTx(this.#engine.db, () => this.#store.untag(byName));
      return [{ Untagged: this.#familiarTag(byName) }];
    }
    if (!byName) {
      const repos = new Set(tags.map((t) => t.slice(0, t.lastIndexOf(':'))));
      if (repos.size > 1 && !opts.force) {
        throw errors.conflict(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
      }
    }
    if (containers.length && !opts.force) {
      throw byName
        ? errors.imageInUse(`conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${containers[0]} is using its referenced image ${short}`)
        : errors.imageInUse(`conflict: unable to delete ${short} (must be forced) - image is being used by stopped container ${containers[0]}`);
    }
    const untag = byName ? [byName] : tags;
    writeTx(this.#engine.db, () => {
      for (const t of untag) this.#store.untag(t);
    });
    for (const t of untag) reports.push({ Untagged: this.#familiarTag(t) });
    for (const rd of this.#store.repoDigestsOf(image.id)) reports.push({ Untagged: rd });
    if (containers.length === 0) {
      this.#store.delete(image.id);
      this.#configs.delete(image.id);
      reports.push({ Deleted: image.id });
      if (opts.prune !== false) {
        for (const chain of (await this.#engine.gc()).removedLayers) reports.push({ Deleted: chain });
      }
    }
    return reports;
  }

  #matchingTag(nameOrId: string, tags: string[]): string | undefined {
    try {
      const ref = parseNormalizedNamed(nameOrId, this.#refOpts);
      if (ref.digest) return undefined;
      const t = this.#tagName(withDefaultTag(ref));
      return tags.includes(t) ? t : undefined;
    } catch {
      return undefined;
    }
  }

  #familiarTag(full: string): string {
    const { repository, tag } = this.displayName(full);
    return `${repository}:${tag}`;
  }

  /** `image prune`: dangling images, or with `all` every image no container uses. */
  async prune(opts: { all?: boolean; filter?: (img: ImageRecord) => Promise<boolean> } = {}): Promise<{ reports: RemoveReport[]; spaceReclaimed: number }> {
    const reports: RemoveReport[] = [];
    for (const img of this.list()) {
      const tags = this.#store.tagsOf(img.id);
      if (!opts.all && tags.length) continue;
      if (this.#store.containersUsing(img.id).length) continue;
      if (opts.filter && !(await opts.filter(img))) continue;
      writeTx(this.#engine.db, () => {
        for (const t of tags) this.#store.untag(t);
      });
      for (const t of tags) reports.push({ Untagged: this.#familiarTag(t) });
      this.#store.delete(img.id);
      reports.push({ Deleted: img.id });
    }
    const { bytesFreed } = await this.#engine.gc();
    return { reports, spaceReclaimed: bytesFreed };
  }
}
