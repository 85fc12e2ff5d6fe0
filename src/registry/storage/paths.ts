import { algorithmOf, hexOf, type Digest } from '../../digest/digest.js';

/**
 * The only place that turns registry objects into storage paths. The layout is
 * distribution's, so a tree written by one can be served by the other:
 *
 *   /docker/registry/v2/blobs/<alg>/<hex[0:2]>/<hex>/data
 *   /docker/registry/v2/repositories/<name>/
 *       _layers/<alg>/<hex>/link                          repository may read blob
 *       _manifests/revisions/<alg>/<hex>/link             manifest in repository
 *       _manifests/tags/<tag>/current/link                tag -> manifest digest
 *       _manifests/referrers/<alg>/<hex>/<alg>/<hex>/link subject -> referrer (ours)
 *       _uploads/<id>/{data,startedat}                    upload in progress
 *   /docker/registry/v2/_strata/upload-secret             HMAC key for upload state (ours)
 *
 * A link file holds the digest it points to. Keeping spec types apart from the
 * formatting lets the layout change in one place.
 */
export type PathSpec =
  | { kind: 'blobsRoot' }
  | { kind: 'blobData'; digest: Digest }
  | { kind: 'blobDir'; digest: Digest }
  | { kind: 'repositoriesRoot' }
  | { kind: 'repository'; name: string }
  | { kind: 'layersRoot'; name: string }
  | { kind: 'layerDir'; name: string; digest: Digest }
  | { kind: 'layerLink'; name: string; digest: Digest }
  | { kind: 'revisionsRoot'; name: string }
  | { kind: 'revisionLink'; name: string; digest: Digest }
  | { kind: 'revisionDir'; name: string; digest: Digest }
  | { kind: 'tagsRoot'; name: string }
  | { kind: 'tagDir'; name: string; tag: string }
  | { kind: 'tagCurrentLink'; name: string; tag: string }
  | { kind: 'referrersOf'; name: string; subject: Digest }
  | { kind: 'referrerLink'; name: string; subject: Digest; referrer: Digest }
  | { kind: 'referrerDir'; name: string; subject: Digest; referrer: Digest }
  | { kind: 'uploadsRoot'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'uploadData'; name: string; id: string }
  | { kind: 'uploadStartedAt'; name: string; id: string }
  | { kind: 'uploadSecret' };

export const ROOT = '/docker/registry/v2';
const REPOS = `${ROOT}/repositories`;

const ad = (d: Digest): string => `${algorithmOf(d)}/${hexOf(d)}`;

export function pathFor(spec: PathSpec): string {
  switch (spec.kind) {
    case 'blobsRoot':
      return `${ROOT}/blobs`;
    case 'blobDir':
      return `${ROOT}/blobs/${algorithmOf(spec.digest)}/${hexOf(spec.digest).slice(0, 2)}/${hexOf(spec.digest)}`;
    case 'blobData':
      return `${pathFor({ kind: 'blobDir', digest: spec.digest })}/data`;
    case 'repositoriesRoot':
      return REPOS;
    case 'repository':
      return `${REPOS}/${spec.name}`;
    case 'layersRoot':
      return `${REPOS}/${spec.name}/_layers`;
    case 'layerDir':
      return `${REPOS}/${spec.name}/_layers/${ad(spec.digest)}`;
    case 'layerLink':
      return `${pathFor({ ...spec, kind: 'layerDir' })}/link`;
    case 'revisionsRoot':
      return `${REPOS}/${spec.name}/_manifests/revisions`;
    case 'revisionDir':
      return `${REPOS}/${spec.name}/_manifests/revisions/${ad(spec.digest)}`;
    case 'revisionLink':
      return `${pathFor({ ...spec, kind: 'revisionDir' })}/link`;
    case 'tagsRoot':
      return `${REPOS}/${spec.name}/_manifests/tags`;
    case 'tagDir':
      return `${REPOS}/${spec.name}/_manifests/tags/${spec.tag}`;
    case 'tagCurrentLink':
      return `${REPOS}/${spec.name}/_manifests/tags/${spec.tag}/current/link`;
    case 'referrersOf':
      return `${REPOS}/${spec.name}/_manifests/referrers/${ad(spec.subject)}`;
    case 'referrerDir':
      return `${pathFor({ kind: 'referrersOf', name: spec.name, subject: spec.subject })}/${ad(spec.referrer)}`;
    case 'referrerLink':
      return `${pathFor({ ...spec, kind: 'referrerDir' })}/link`;
    case 'uploadsRoot':
      return `${REPOS}/${spec.name}/_uploads`;
    case 'upload':
      return `${REPOS}/${spec.name}/_uploads/${spec.id}`;
    case 'uploadData':
      return `${REPOS}/${spec.name}/_uploads/${spec.id}/data`;
    case 'uploadStartedAt':
      return `${REPOS}/${spec.name}/_uploads/${spec.id}/startedat`;
    case 'uploadSecret':
      return `${ROOT}/_strata/upload-secret`;
  }
}

/** The digest named by a `<alg>/<hex>` pair of directory paths, as found by listing. */
export function digestFromParts(alg: string, hex: string): Digest {
  return `${alg}:${hex}` as Digest;
}

/** The last component of a listed path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
