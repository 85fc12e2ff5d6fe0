/**
 * Schema migrations, applied in order; the database's user_version is the
 * number applied. Never edit a released entry: append a new one.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  -- Snapshots of the data root's one snapshotter (see snapshots/metastore.ts).
  CREATE TABLE snapshots (
    key TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
    parent TEXT REFERENCES snapshots(key),
    labels TEXT NOT NULL DEFAULT '{}',
    size INTEGER,
    inodes INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX snapshots_parent ON snapshots(parent);

  -- Unpacked layers, one per chainID; the snapshot key is the chainID.
  CREATE TABLE layers (
    chain_id TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL,
    parent TEXT REFERENCES layers(chain_id),
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );

  -- Images by ID (the config digest). Layer blobs are kept for save and push.
  CREATE TABLE images (
    id TEXT PRIMARY KEY,
    config_size INTEGER NOT NULL,
    created TEXT,
    top_layer TEXT REFERENCES layers(chain_id),
    size INTEGER NOT NULL,
    loaded_at INTEGER NOT NULL
  );
  CREATE TABLE image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    diff_id TEXT NOT NULL,
    chain_id TEXT NOT NULL,
    blob_digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    blob_size INTEGER NOT NULL,
    PRIMARY KEY (image_id, idx)
  );
  CREATE INDEX image_layers_blob ON image_layers(blob_digest);
  CREATE INDEX image_layers_chain ON image_layers(chain_id);

  -- Repository:tag names (fully qualified) pointing at images.
  CREATE TABLE tags (
    name TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id),
    created_at INTEGER NOT NULL
  );
  CREATE INDEX tags_image ON tags(image_id);

  -- Repository@digest names: the manifest an image was pulled or pushed as.
  CREATE TABLE repo_digests (
    name TEXT NOT NULL,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    manifest_digest TEXT NOT NULL,
    PRIMARY KEY (name, image_id)
  );

  -- Containers: GC roots for their image and snapshot. The runtime issue adds columns.
  CREATE TABLE containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL REFERENCES images(id),
    snapshot_key TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );

  -- Leases protect what an operation in flight has written from GC.
  CREATE TABLE leases (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    pid INTEGER NOT NULL
  );
  CREATE TABLE lease_resources (
    lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('content', 'snapshot')),
    ref TEXT NOT NULL,
    PRIMARY KEY (lease_id, kind, ref)
  );
  `,
  `
  -- DiffIDs verified for compressed layer blobs, so a layer already unpacked
  -- from another blob is never taken on trust for a new one.
  CREATE TABLE blob_diff_ids (
    blob_digest TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL
  );
  `,
];
