import assert from 'node:assert/strict';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../src/engine/engine.js';
import { writeDockerArchive, writeLayerTar } from '../fixtures/image-archive.js';
import { PrivateDocker } from '../helpers/dockerd.js';
import { run, TempRoot } from '../helpers/strata.js';
import { runDistributionCli } from '../remotes/helpers/cli.js';
import { TestRegistry } from '../remotes/helpers/registry.js';
import { TokenServer } from '../remotes/helpers/token-server.js';

const skip = PrivateDocker.unavailable() ?? TestRegistry.unavailable() ?? (existsSync('/usr/bin/htpasswd') ? undefined : 'htpasswd is not installed (Debian package apache2-utils)');

describe('registries that need credentials: htpasswd Basic auth and Bearer tokens', { skip }, () => {
  let t: TempRoot;
  let docker: PrivateDocker;
  let basic: TestRegistry;
  let bearer: TestRegistry;
  let tokens: TokenServer;
  let archive: string;
  let imageId: string;
  const configFile = () => join(t.dir, 'docker-config', 'config.json');

  before(async () => {
    t = await TempRoot.create();
    process.env.DOCKER_CONFIG = join(t.dir, 'docker-config');
    const hash = await run('htpasswd', ['-Bbn', 'alice', 's3cret']);
    assert.equal(hash.code, 0, `htpasswd (apache2-utils): ${hash.stderr}`);
    tokens = await TokenServer.start(t.dir, { bob: 'hunter2' });
    [docker, basic, bearer] = await Promise.all([
      PrivateDocker.start(),
      TestRegistry.start({ htpasswd: hash.stdout }),
      TestRegistry.start({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, certPath: tokens.certPath } }),
    ]);
    const l0 = await writeLayerTar(join(t.dir, 'l0.tar'), [{ name: 'secret.bin', random: 2_000_000 }]);
    archive = join(t.dir, 'img.tar');
    ({ imageId } = await writeDockerArchive(archive, [{ path: join(t.dir, 'l0.tar'), ...l0 }]));
    const engine = await Engine.open({ root: join(t.dir, 'src') });
    const [{ image }] = await engine.images.load(createReadStream(archive));
    engine.images.tag(image.id, `${basic.host}/private/app:1`);
    engine.images.tag(image.id, `${bearer.host}/private/app:1`);
    await engine.close();
  });

  after(async () => {
    await Promise.all([docker?.stop(), basic?.stop(), bearer?.stop(), tokens?.stop()]);
    await t?.cleanup();
    delete process.env.DOCKER_CONFIG;
  });

  for (const kind of ['basic', 'bearer'] as const) {
    const reg = () => (kind === 'basic' ? basic : bearer);
    const [user, password] = kind === 'basic' ? ['alice', 's3cret'] : ['bob', 'hunter2'];

    it(`${kind}: refuses anonymous pushes and wrong passwords with a clear error`, async () => {
      const anon = await runDistributionCli(join(t.dir, 'src'), ['push', '-q', `${reg().host}/private/app:1`]);
      assert.equal(anon.code, 1);
      assert.match(anon.stderr, /authentication required|requires authentication|unauthorized/i);
      assert.match(anon.stderr, new RegExp(`strata login ${reg().host}`));
      const wrong = await runDistributionCli(join(t.dir, 'src'), ['login', '-u', user, '-p', 'wrong', reg().host]);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, new RegExp(`login to ${reg().host} failed: .*incorrect username or password`));
    });

    it(`${kind}: logs in, pushes, and Docker pulls with the same credentials and digest`, async () => {
      const login = await runDistributionCli(join(t.dir, 'src'), ['login', '-u', user, '-p', password, reg().host]);
      assert.equal(login.code, 0, login.stderr);
      assert.match(login.stdout, /Login Succeeded/);
      const auths = JSON.parse(readFileSync(configFile(), 'utf8')).auths;
      assert.equal(Buffer.from(auths[reg().host].auth, 'base64').toString(), `${user}:${password}`);
      const push = await runDistributionCli(join(t.dir, 'src'), ['push', `${reg().host}/private/app:1`]);
      assert.equal(push.code, 0, push.stderr);
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)![1];
      // Docker's CLI reads the same config.json.
      const pull = await docker.docker(['pull', `${reg().host}/private/app:1`]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(pull.stdout, new RegExp(digest));
      assert.equal((await docker.docker(['inspect', '-f', '{{.Id}}', `${reg().host}/private/app:1`])).stdout.trim(), imageId);

      const fresh = join(t.dir, `pull-${kind}`);
      const pulled = await runDistributionCli(fresh, ['pull', `${reg().host}/private/app:1`]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
      const logout = await runDistributionCli(fresh, ['logout', reg().host]);
      assert.equal(logout.stdout, `Removing login credentials for ${reg().host}\n`);
      const denied = await runDistributionCli(join(t.dir, `pull-${kind}-2`), ['pull', `${reg().host}/private/app:1`]);
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, new RegExp(`strata login ${reg().host}`));
    });
  }

  it('bearer: caches tokens per scope instead of asking for one per request', async () => {
    const login = await runDistributionCli(join(t.dir, 'src'), ['login', '-u', 'bob', '-p', 'hunter2', bearer.host]);
    assert.equal(login.code, 0, login.stderr);
    const before = tokens.issued;
    const pulled = await runDistributionCli(join(t.dir, 'pull-cache'), ['pull', '-q', `${bearer.host}/private/app:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    // One anonymous token is never fetched: the first request learns the challenge; then one token for the scope.
    assert.ok(tokens.issued - before <= 2, `issued ${tokens.issued - before} tokens for one pull`);
  });
});
