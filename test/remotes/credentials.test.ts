import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CredentialStore } from '../../src/remotes/credentials.js';

describe("credentials in Docker's config.json", () => {
  let dir: string;
  const oldPath = process.env.PATH;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-creds-'));
  });
  after(async () => {
    process.env.PATH = oldPath;
    await rm(dir, { recursive: true, force: true });
  });

  it('stores, reads and erases base64 "auths" entries, with Docker Hub under its index URL', async () => {
    const store = new CredentialStore(join(dir, 'a', 'config.json'));
    assert.equal(await store.get('reg.example:5000'), undefined);
    await store.store('reg.example:5000', { username: 'u', password: 'p:w' });
    await store.store('docker.io', { username: 'hub', password: 'x' });
    const cfg = JSON.parse(await readFile(store.path, 'utf8'));
    assert.equal(cfg.auths['reg.example:5000'].auth, Buffer.from('u:p:w').toString('base64'));
    assert.ok(cfg.auths['https://index.docker.io/v1/']);
    assert.deepEqual(await store.get('reg.example:5000'), { username: 'u', password: 'p:w' });
    assert.equal(await store.erase('reg.example:5000'), true);
    assert.equal(await store.erase('reg.example:5000'), false);
    assert.equal(await store.get('reg.example:5000'), undefined);
  });

  it('hands secrets to a credential helper named by credHelpers', async () => {
    const bin = join(dir, 'bin');
    const db = join(dir, 'helper-db.json');
    await mkdir(bin, { recursive: true });
    // A fake docker-credential-test keeping one secret in a file.
    await writeFile(
      join(bin, 'docker-credential-test'),
      `#!/bin/sh\ncase "$1" in\n  store) cat > ${db} ;;\n  get) read url; [ -f ${db} ] && sed 's/"ServerURL":"[^"]*",//' ${db} || { echo "credentials not found in native keychain"; exit 1; } ;;\n  erase) rm -f ${db} ;;\n  version) echo 1 ;;\nesac\n`,
    );
    await chmod(join(bin, 'docker-credential-test'), 0o755);
    process.env.PATH = `${bin}:${oldPath}`;
    const path = join(dir, 'b', 'config.json');
    await mkdir(join(dir, 'b'));
    await writeFile(path, JSON.stringify({ credHelpers: { 'helped:5000': 'test' } }));
    const store = new CredentialStore(path);
    assert.equal(await store.store('helped:5000', { username: 'h', password: 'secret' }), 'docker-credential-test');
    assert.deepEqual(await store.get('helped:5000'), { username: 'h', password: 'secret' });
    const cfg = JSON.parse(await readFile(path, 'utf8'));
    assert.deepEqual(cfg.auths['helped:5000'], {}, 'the secret is not in the file');
    assert.equal(await store.erase('helped:5000'), true);
    assert.equal(await store.get('helped:5000'), undefined);
  });
});
