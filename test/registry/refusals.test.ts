import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client } from './helpers/client.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';

const MiB = 1024 * 1024;

/**
 * Sends `size` bytes in 256 KiB writes, declared (Content-Length) or chunked,
 * and returns the status, or the connection error when the answer is lost.
 */
function send(base: string, method: string, path: string, size: number, opts: { chunked?: boolean; headers?: Record<string, string> } = {}): Promise<number | string> {
  const u = new URL(path, base);
  const headers = { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', ...opts.headers, ...(opts.chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(size) }) };
  return new Promise((resolve) => {
    const req = request({ host: u.hostname, port: u.port, method, path: u.pathname + u.search, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    const part = randomBytes(256 * 1024);
    let left = size;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, part.length);
        left -= n;
        if (!req.write(part.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/**
 * A refused request whose body is still on its way (an oversized manifest, an
 * upload past its quota) gets its 4xx answer: the registry keeps reading and
 * dropping the rest of the body instead of resetting the connection under a
 * client that is still writing.
 */
describe('refusals of requests still sending their body', () => {
  let reg: ServeProcess;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-refusals-'));
    await writeFile(join(dir, 'config.yml'), 'storage:\n  inmemory: {}\nquotas:\n  - repository: small/*\n    maxBytes: 1048576\n');
    reg = await startServe(['--config', join(dir, 'config.yml'), '--log-level', 'warn']);
  });
  after(async () => {
    await reg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('an oversized manifest, declared or chunked, gets 413 every time', async () => {
    for (let i = 0; i < 4; i++) {
      assert.equal(await send(reg.base, 'PUT', '/v2/big/manifest/manifests/v1', 16 * MiB), 413, `declared, try ${i}`);
      assert.equal(await send(reg.base, 'PUT', '/v2/big/manifest/manifests/v1', 16 * MiB, { chunked: true }), 413, `chunked, try ${i}`);
    }
  });

  it('the registry reads the rest of a refused body, and the connection then serves the next request', async () => {
    const u = new URL(reg.base);
    const socket = connect(Number(u.port), u.hostname);
    try {
      let answer = '';
      socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
      const size = 8 * MiB;
      socket.write(`PUT /v2/big/manifest/manifests/v1 HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: ${size}\r\n\r\n`);
      for (let left = size; left > 0; left -= MiB) if (!socket.write(randomBytes(MiB))) await once(socket, 'drain');
      socket.write(`GET /v2/ HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
      for (let i = 0; i < 100 && (answer.match(/HTTP\/1\.1 /g) ?? []).length < 2; i++) await sleep(50);
      assert.deepEqual(answer.match(/HTTP\/1\.1 \d+/g), ['HTTP/1.1 413', 'HTTP/1.1 200']);
    } finally {
      socket.destroy();
    }
  });

  it('an upload past its quota gets 403, whether refused from Content-Length or cut while chunked', async () => {
    const c = new Client(reg.base);
    const big = randomBytes(16 * MiB);
    for (let i = 0; i < 3; i++) {
      // fetch writes the whole body before it reads the answer.
      const loc = (await c.req('POST', '/v2/small/app/blobs/uploads/')).headers.get('location')!;
      assert.equal((await c.req('PATCH', loc, { body: big, headers: { 'Content-Type': 'application/octet-stream' } })).status, 403, `declared, try ${i}`);
      const loc2 = (await c.req('POST', '/v2/small/app/blobs/uploads/')).headers.get('location')!;
      assert.equal(await send(reg.base, 'PATCH', loc2, 16 * MiB, { chunked: true, headers: { 'Content-Type': 'application/octet-stream' } }), 403, `chunked, try ${i}`);
    }
  });

  it('a blob upload with a bad digest answers 400 after its body', async () => {
    const post = await new Client(reg.base).req('POST', '/v2/big/blob/blobs/uploads/');
    const loc = post.headers.get('location')!;
    const status = await send(reg.base, 'PUT', `${loc}&digest=sha256:${'0'.repeat(64)}`, 16 * MiB, { headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(status, 400);
  });
});
