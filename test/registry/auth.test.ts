import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { after, before, describe, it } from 'node:test';
import { Acl } from '../../src/registry/server/auth/acl.js';
import { BasicAuth, TokenAuth } from '../../src/registry/server/auth/authorizer.js';
import { Htpasswd } from '../../src/registry/server/auth/htpasswd.js';
import { TokenSigner } from '../../src/registry/server/auth/jwt.js';
import { parseScope, TokenIssuer } from '../../src/registry/server/auth/token-issuer.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/strata.js';
import { Client, errorCodes } from './helpers/client.js';
import { busyboxArchive } from './helpers/skopeo.js';
import { startStrata, type InProcessRegistry } from './helpers/strata-registry.js';

const htpasswd = () =>
  Htpasswd.parse(['alice', 'bob', 'carol'].map((u) => `${u}:${bcrypt.hashSync(`${u}-pw`, 4)}`).join('\n'));

const ACL = `
groups:
  team: [alice, bob]
access:
  - subjects: [user:alice]
    repositories: ["team/**"]
    actions: [pull, push, delete]
  - subjects: [group:team]
    repositories: ["team/*"]
    actions: [pull]
  - subjects: [anonymous]
    repositories: ["public/*"]
    actions: [pull]
  - subjects: [user:carol]
    repositories: ["public/*"]
    actions: [push]
`;

const basic = (user: string, pw = `${user}-pw`) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

describe('htpasswd basic auth with an ACL', () => {
  let r: InProcessRegistry;
  let c: Client;
  before(async () => {
    r = await startStrata('inmemory', { authorizer: new BasicAuth(htpasswd(), 'strata-test', Acl.parse(ACL)) });
    c = new Client(r.base);
  });
  after(() => r.stop());

  it('answers 401 with a Basic challenge without credentials or with a wrong password', async () => {
    for (const auth of [undefined, basic('alice', 'wrong'), basic('nobody')]) {
      c.auth = auth;
      const res = await c.req('GET', '/v2/');
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Basic realm="strata-test"');
      assert.deepEqual(errorCodes(res), ['UNAUTHORIZED']);
    }
    c.auth = basic('alice');
    assert.equal((await c.req('GET', '/v2/')).status, 200);
  });

  it('grants by the ACL: push where allowed, 403 DENIED elsewhere, anonymous pull of public repositories', async () => {
    c.auth = basic('alice');
    const img = await c.pushImage('team/app', 'v1');
    c.auth = basic('bob');
    assert.equal((await c.req('GET', `/v2/team/app/manifests/v1`, { headers: { Accept: img.mediaType } })).status, 200);
    const push = await c.req('POST', '/v2/team/app/blobs/uploads/');
    assert.equal(push.status, 403);
    assert.deepEqual(errorCodes(push), ['DENIED']);
    c.auth = basic('carol');
    assert.equal((await c.req('GET', '/v2/team/app/tags/list')).status, 403);
    const pub = await c.pushImage('public/app', 'v1');
    c.auth = undefined;
    assert.equal((await c.req('GET', `/v2/public/app/manifests/v1`, { headers: { Accept: pub.mediaType } })).status, 200);
    assert.equal((await c.req('GET', '/v2/team/app/tags/list')).status, 401);
    assert.equal((await c.req('POST', '/v2/public/app/blobs/uploads/')).status, 401);
  });

  it('lists in the catalog only repositories the caller may pull', async () => {
    c.auth = basic('carol');
    assert.deepEqual((await c.req('GET', '/v2/_catalog')).json(), { repositories: ['public/app'] });
    c.auth = basic('alice');
    assert.deepEqual((await c.req('GET', '/v2/_catalog')).json(), { repositories: ['public/app', 'team/app'] });
  });
});

describe('built-in token issuer and bearer auth', () => {
  let r: InProcessRegistry;
  let c: Client;
  let realm: string;
  const token = async (user: string | undefined, ...scopes: string[]) => {
    const q = new URLSearchParams([['service', 'strata-test'], ...scopes.map((s) => ['scope', s])]);
    const res = await new Client(r.base).req('GET', `/auth/token?${q}`, { headers: user ? { Authorization: basic(user) } : {} });
    assert.equal(res.status, 200, res.body.toString());
    return `Bearer ${res.json<{ token: string }>().token}`;
  };

  before(async () => {
    const opts = { signer: await TokenSigner.open(), service: 'strata-test', issuer: 'strata-issuer', acl: Acl.parse(ACL) };
    r = await startStrata('inmemory', { authorizer: new TokenAuth(opts), tokenIssuer: new TokenIssuer(opts, htpasswd()) });
    c = new Client(r.base);
    realm = `${r.base}/auth/token`;
  });
  after(() => r.stop());

  it('challenges with realm, service and the scope the request needs', async () => {
    c.auth = undefined;
    const base = await c.req('GET', '/v2/');
    assert.equal(base.status, 401);
    assert.equal(base.headers.get('www-authenticate'), `Bearer realm="${realm}",service="strata-test"`);
    const pull = await c.req('GET', '/v2/team/app/tags/list');
    assert.equal(pull.status, 401);
    assert.equal(pull.headers.get('www-authenticate'), `Bearer realm="${realm}",service="strata-test",scope="repository:team/app:pull"`);
    const push = await c.req('POST', '/v2/team/app/blobs/uploads/');
    assert.equal(push.headers.get('www-authenticate'), `Bearer realm="${realm}",service="strata-test",scope="repository:team/app:pull,push"`);
    assert.deepEqual(errorCodes(push), ['UNAUTHORIZED']);
  });

  it('issues tokens holding the intersection of the requested and granted access', async () => {
    c.auth = await token('alice', 'repository:team/app:pull,push');
    const img = await c.pushImage('team/app', 'v1');
    c.auth = await token('bob', 'repository:team/app:pull,push');
    assert.equal((await c.req('GET', `/v2/team/app/manifests/v1`, { headers: { Accept: img.mediaType } })).status, 200);
    const push = await c.req('POST', '/v2/team/app/blobs/uploads/');
    assert.equal(push.status, 401, 'bob was granted pull only');
    assert.match(push.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
  });

  it('a pull-scoped token cannot push, even for a user who may push', async () => {
    c.auth = await token('alice', 'repository:team/app:pull');
    assert.equal((await c.req('GET', '/v2/team/app/tags/list')).status, 200);
    assert.equal((await c.req('POST', '/v2/team/app/blobs/uploads/')).status, 401);
    assert.equal((await c.req('DELETE', `/v2/team/app/manifests/v1`)).status, 401);
  });

  it('a user cannot read a repository the ACL does not grant', async () => {
    c.auth = await token('carol', 'repository:team/app:pull');
    const res = await c.req('GET', '/v2/team/app/tags/list');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    c.auth = await token(undefined, 'repository:team/app:pull');
    assert.equal((await c.req('GET', '/v2/team/app/tags/list')).status, 401);
  });

  it('anonymous tokens pull public repositories', async () => {
    c.auth = await token('carol', 'repository:public/app:push,pull');
    await c.pushImage('public/app', 'v1');
    c.auth = await token(undefined, 'repository:public/app:pull');
    assert.equal((await c.req('GET', '/v2/public/app/tags/list')).status, 200);
  });

  it('refuses wrong passwords at the realm, and forged, foreign or expired tokens at the registry', async () => {
    const bad = await new Client(r.base).req('GET', '/auth/token?service=strata-test', { headers: { Authorization: basic('alice', 'nope') } });
    assert.equal(bad.status, 401);
    const good = (await token('alice', 'repository:team/app:pull')).slice(7);
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'mallory', access: [{ type: 'repository', name: 'team/app', actions: ['push'] }] })).toString('base64url')}.${s}`;
    c.auth = `Bearer ${forged}`;
    const res = await c.req('GET', '/v2/team/app/tags/list');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
    const other = await TokenSigner.open();
    const now = Math.floor(Date.now() / 1000);
    c.auth = `Bearer ${other.sign({ ...claims, iat: now, nbf: now, exp: now + 60 })}`;
    assert.equal((await c.req('GET', '/v2/team/app/tags/list')).status, 401);
    assert.equal(other.verify(other.sign({ ...claims, iat: now - 900, nbf: now - 900, exp: now - 600 }), { iss: claims.iss, aud: claims.aud }), undefined);
  });

  it('skopeo pushes and lists with credentials through the token flow, and is refused without them', async () => {
    const work = await mkdtemp(join(tmpdir(), 'strata-regauth-'));
    try {
      const host = r.base.replace('http://', '');
      const archive = await busyboxArchive(work);
      const push = await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', 'alice:alice-pw', `docker-archive:${archive}`, `docker://${host}/team/skopeo:v1`]);
      assert.equal(push.code, 0, push.stderr);
      c.auth = await token('alice', 'repository:team/skopeo:pull');
      assert.ok(await registryDigestWith(c, 'team/skopeo', 'v1'));
      const tags = await run('skopeo', ['list-tags', '--tls-verify=false', '--creds', 'bob:bob-pw', `docker://${host}/team/skopeo`]);
      assert.equal(tags.code, 0, tags.stderr);
      assert.deepEqual(JSON.parse(tags.stdout).Tags, ['v1']);
      const anon = await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${host}/team/anon:v1`]);
      assert.notEqual(anon.code, 0);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('parses scopes whose names carry a registry port', () => {
    assert.deepEqual(parseScope('repository:localhost:5000/app:pull,push'), { type: 'repository', name: 'localhost:5000/app', actions: ['pull', 'push'] });
    assert.deepEqual(parseScope('repository(plugin):a/b:pull'), { type: 'repository', name: 'a/b', actions: ['pull'] });
    assert.equal(parseScope('nonsense'), undefined);
  });
});

async function registryDigestWith(c: Client, name: string, tag: string): Promise<string | null> {
  const res = await c.req('HEAD', `/v2/${name}/manifests/${tag}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  return res.status === 200 ? res.headers.get('docker-content-digest') : null;
}
