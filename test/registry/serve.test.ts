import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAddr, parseConfig } from '../../src/registry/server/config.js';
import { Client, sha256, withQuery } from './helpers/client.js';
import { startServe } from './helpers/serve-process.js';

describe('strata registry serve', () => {
  it('logs one JSON line per request at info, none at --log-level warn', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-serve-'));
    try {
      const info = await startServe(['--storage', `filesystem:${join(dir, 's1')}`]);
      await new Client(info.base).req('GET', '/v2/');
      await new Client(info.base).req('GET', '/v2/none/tags/list');
      await sleep(100);
      await info.stop();
      const lines = info.stderr().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const reqs = lines.filter((l) => l.msg === 'request');
      assert.equal(reqs.length, 2);
      assert.deepEqual({ method: reqs[1].method, path: reqs[1].path, status: reqs[1].status, repository: reqs[1].repository, error: reqs[1].error }, { method: 'GET', path: '/v2/none/tags/list', status: 404, repository: 'none', error: 'NAME_UNKNOWN' });
      assert.equal(typeof reqs[0].duration_ms, 'number');

      const warn = await startServe(['--storage', `filesystem:${join(dir, 's2')}`, '--log-level', 'warn']);
      await new Client(warn.base).req('GET', '/v2/');
      await warn.stop();
      assert.ok(!warn.stderr().includes('"msg":"request"'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('on SIGTERM finishes an upload in flight and exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-serve-'));
    try {
      const s = await startServe(['--storage', `filesystem:${join(dir, 's')}`, '--log-level', 'warn']);
      const c = new Client(s.base);
      const post = await c.req('POST', '/v2/g/app/blobs/uploads/');
      const data = randomBytes(2 * 1024 * 1024);
      const u = new URL(withQuery(post.headers.get('location')!, `digest=${sha256(data)}`), s.base);
      const status = new Promise<number>((resolve, reject) => {
        const req = request({ host: u.hostname, port: u.port, method: 'PUT', path: u.pathname + u.search, headers: { 'Content-Length': data.length } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write(data.subarray(0, 1024 * 1024));
        setTimeout(() => req.end(data.subarray(1024 * 1024)), 500);
      });
      await sleep(150);
      const exited = new Promise<number | null>((resolve) => s.proc.once('exit', (code) => resolve(code)));
      s.proc.kill('SIGTERM');
      assert.equal(await status, 201);
      assert.equal(await exited, 0);
      assert.match(s.stderr(), /"msg":"shutting down","signal":"SIGTERM"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads a YAML config, with flags overriding it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-serve-'));
    try {
      const cfg = parseConfig(
        'http: {addr: "127.0.0.1:5999"}\nstorage:\n  filesystem: {rootdirectory: data}\n  delete: {enabled: false}\nquotas:\n  - {repository: "team/*", maxBytes: 1000}\nlog: {level: warn}\n',
        'cfg.yml',
        dir,
      );
      assert.deepEqual(cfg.storage, { type: 'filesystem', root: join(dir, 'data') });
      assert.equal(cfg.deleteEnabled, false);
      assert.deepEqual(cfg.quotas, [{ repository: 'team/*', maxBytes: 1000 }]);
      assert.throws(() => parseConfig('auth: {token: {service: x}}'), /auth.token needs/);
      assert.throws(() => parseConfig('storage: {filesystem: {}, s3: {bucket: b}}'), /one driver/);
      assert.deepEqual(parseAddr(':5000'), { host: '0.0.0.0', port: 5000 });
      assert.deepEqual(parseAddr('[::1]:80'), { host: '::1', port: 80 });
      await writeFile(join(dir, 'c.yml'), `http: {addr: "127.0.0.1:1"}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'fromfile')}}}\n`);
      const s = await startServe(['--config', join(dir, 'c.yml'), '--log-level', 'warn']);
      assert.equal((await new Client(s.base).req('GET', '/v2/')).status, 200, '--addr won over the file');
      await s.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
