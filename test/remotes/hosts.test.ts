import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isLoopback, loadRegistriesConfig, RegistryHosts } from '../../src/remotes/hosts.js';

describe('registry hosts', () => {
  it('allows plain HTTP only for loopback and insecure registries', () => {
    for (const h of ['localhost:5000', '127.0.0.1', '127.3.2.1:80', '[::1]:5000']) assert.ok(isLoopback(h), h);
    for (const h of ['registry.example.com', '10.0.0.1:5000', '128.0.0.1']) assert.ok(!isLoopback(h), h);
    const hosts = new RegistryHosts({ registries: { 'build:5000': { insecure: true } }, certsDirs: [] });
    assert.equal(hosts.endpoint('build:5000').allowHttp, true);
    assert.equal(hosts.endpoint('build:5000').skipVerify, true);
    assert.equal(hosts.endpoint('registry.example.com').allowHttp, false);
  });

  it('puts configured mirrors before the registry for pulls only', () => {
    const hosts = new RegistryHosts({ registries: { 'r.example': { mirrors: ['http://mirror:5000', 'm2.example'] } }, certsDirs: [] });
    assert.deepEqual(hosts.pullEndpoints('r.example').map((e) => [e.host, e.scheme, e.mirror]), [
      ['mirror:5000', 'http', true],
      ['m2.example', undefined, true],
      ['r.example', undefined, false],
    ]);
    assert.equal(hosts.endpoint('r.example').mirror, false);
  });

  it('reads registries.json, with STRATA_DEFAULT_REGISTRY taking precedence', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-hosts-'));
    try {
      const path = join(dir, 'registries.json');
      await writeFile(path, JSON.stringify({ defaultRegistry: 'from-file:5000', registries: { 'x:1': { insecure: true } } }));
      assert.equal(loadRegistriesConfig({ STRATA_REGISTRIES_CONFIG: path }).defaultRegistry, 'from-file:5000');
      assert.equal(loadRegistriesConfig({ STRATA_REGISTRIES_CONFIG: path, STRATA_DEFAULT_REGISTRY: 'env:5000' }).defaultRegistry, 'env:5000');
      assert.equal(loadRegistriesConfig({ STRATA_REGISTRIES_CONFIG: join(dir, 'none.json') }).defaultRegistry, undefined);
      await writeFile(path, '{nope');
      assert.throws(() => loadRegistriesConfig({ STRATA_REGISTRIES_CONFIG: path }), /registry configuration/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
