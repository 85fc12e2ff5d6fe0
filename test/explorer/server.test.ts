/** The explorer's server: 404 and 400 answers, loopback by default, prefix mounting, and the on-disk index cache. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { registerExplore } from '../../src/cli/commands/explore.js';
import { CliContext } from '../../src/cli/context.js';
import { hexOf } from '../../src/digest/digest.js';
import { Engine } from '../../src/engine/engine.js';
import { Explorer } from '../../src/explorer/explorer.js';
import { writeTx } from '../../src/metadata/db.js';
import { mountAll, unmount } from '../../src/mount/linux.js';
import { createExplorerHandler } from '../../src/explorer/server/handler.js';
import { DEFAULT_ADDR, isLoopback, listenExplorer, parseAddress, type RunningExplorer } from '../../src/explorer/server/listen.js';
import { TempRoot } from '../helpers/strata.js';
import { explorerCli, withParents, writeImage } from './helpers.js';

interface Answer {
  status: number;
  type: string;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function get(url: string, opts: { method?: string; host?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: opts.method ?? 'GET', headers: opts.host ? { Host: opts.host } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        // Pages escape what they quote; tests read the text.
        const unescape = (s: string) => s.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body: unescape(body), headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('explorer server', () => {
  let t: TempRoot;
  let engine: Engine;
  let explorer: Explorer;
  let running: RunningExplorer;
  let id: string;

  before(async () => {
    t = await TempRoot.create();
    const layers = [
      [{ name: 'etc/conf', content: Buffer.alloc(1000, 1) }, { name: 'bin/tool', content: Buffer.alloc(500, 1) }],
      [{ name: 'etc/conf', content: Buffer.alloc(2000, 2) }],
    ].map(withParents);
    const { archive } = await writeImage(t.dir, 'server/test:1', layers);
    assert.equal((await t.strata(['load', '-q', '-i', archive])).code, 0);
    engine = await Engine.open({ root: t.root });
    explorer = new Explorer(engine);
    id = engine.images.resolve('server/test:1').id;
    running = await listenExplorer(explorer, { addr: '127.0.0.1:0' });
  });

  after(async () => {
    await running?.close();
    await engine?.close();
    await t?.cleanup();
  });

  const url = (path: string) => `${running.url}${path.replace(/^\//, '')}`;

  it('serves the pages and the API for a known image', async () => {
    for (const path of ['/', `/images/${id}`, '/images/server%2Ftest:1/layers/1', '/sharing', '/containers', '/static/app.js', '/static/style.css']) {
      const r = await get(url(path));
      assert.equal(r.status, 200, path);
    }
    const tree = JSON.parse((await get(url(`/api/images/${id}/layers/1/tree?path=/etc`))).body);
    assert.deepEqual(tree.entries.map((e: { name: string; mark: string; size: number }) => [e.name, e.mark, e.size]), [['conf', 'modified', 2000]]);
    const merged = JSON.parse((await get(url(`/api/images/${id}/layers/1/tree?view=merged&path=/`))).body);
    assert.deepEqual(merged.entries.map((e: { name: string }) => e.name), ['bin', 'etc']);
    const containers = JSON.parse((await get(url('/api/containers'))).body);
    assert.deepEqual(containers.containers, []);
    assert.match(containers.note, /does not create containers yet/);
  });

  it("shows each container's writable layer, its size and, on request, its changes", async (ctx) => {
    const img = engine.images.resolve(id);
    const key = 'explorer-test-ctr';
    const mounts = await engine.snapshotter.prepare(key, img.topLayer);
    const dir = await mkdtemp(join(t.dir, 'rootfs-'));
    ctx.after(async () => {
      writeTx(engine.db, () => engine.db.prepare('DELETE FROM containers WHERE id = ?').run('c0ffee'.repeat(10) + 'c0ff'));
      await engine.snapshotter.remove(key);
    });
    mountAll(mounts, dir);
    try {
      await writeFile(join(dir, 'etc/conf'), 'changed');
      await rm(join(dir, 'bin/tool'));
      await writeFile(join(dir, 'new.txt'), 'new file\n');
    } finally {
      unmount(dir);
      await rmdir(dir);
    }
    const cid = 'c0ffee'.repeat(10) + 'c0ff';
    writeTx(engine.db, () =>
      engine.db.prepare('INSERT INTO containers (id, name, image_id, snapshot_key, created_at) VALUES (?, ?, ?, ?, ?)').run(cid, 'web', id, key, Date.now()),
    );

    const list = JSON.parse((await get(url('/api/containers'))).body);
    assert.equal(list.note, '');
    assert.equal(list.containers.length, 1);
    const [c] = list.containers;
    assert.deepEqual(
      { id: c.id, name: c.name, imageId: c.imageId, image: c.image, snapshotKey: c.snapshotKey },
      { id: cid, name: 'web', imageId: id, image: 'server/test:1', snapshotKey: key },
    );
    assert.equal(c.size, (await engine.snapshotter.usage(key)).size);
    assert.ok(c.size > 0);

    for (const ref of [cid, 'web']) {
      const r = await get(url(`/api/containers/${ref}/changes`));
      assert.equal(r.status, 200, ref);
      const changes = JSON.parse(r.body);
      assert.deepEqual(
        changes.changes.map((x: { kind: string; path: string }) => `${x.kind} ${x.path}`),
        ['C /bin', 'D /bin/tool', 'C /etc', 'C /etc/conf', 'A /new.txt'],
      );
      assert.deepEqual(changes.counts, { A: 1, C: 3, D: 1 });
      assert.equal(changes.changedBytes, 'changed'.length + 'new file\n'.length);
    }
    const missing = await get(url('/api/containers/nope/changes'));
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body).error.message, /No such container: nope/);
    assert.equal((await get(url(`/api/containers/${cid}/changes?x=1`))).status, 400);

    const page = await get(url('/containers'));
    assert.equal(page.status, 200);
    assert.match(page.body, /"page":"containers"/);
  });

  it('answers an unknown image or layer with a 404 page', async () => {
    const cases: [string, RegExp][] = [
      ['/images/no-such-image', /No such image: no-such-image/],
      ['/images/Not%20A%20Name', /No such image: Not A Name/],
      [`/images/${id}/layers/2`, /has no layer 2: it has layers 0 to 1/],
      [`/images/${id}/layers/top`, /no layer "top"/],
      ['/images/sha256:' + 'f'.repeat(64), /No such image/],
      ['/nothing/here', /no page at \/nothing\/here/],
    ];
    for (const [path, message] of cases) {
      const r = await get(url(path));
      assert.equal(r.status, 404, path);
      assert.match(r.type, /^text\/html/);
      assert.match(r.body, /<h1>404 Not found<\/h1>/);
      assert.match(r.body, message);
    }
    const api = await get(url(`/api/images/${id}/layers/0/tree?path=/no/such/dir`));
    assert.equal(api.status, 404);
    assert.match(api.type, /^application\/json/);
    assert.match(JSON.parse(api.body).error.message, /no path \/no\/such\/dir/);
    assert.equal((await get(url('/api/images/missing'))).status, 404);
  });

  it('answers a malformed query with 400', async () => {
    const cases: [string, RegExp][] = [
      [`/images/${id}?view=sideways`, /"view" must be one of layer, merged/],
      [`/images/${id}?bogus=1`, /unknown query parameter "bogus"/],
      ['/?sort=size', /"sort" must be one of/],
      ['/sharing?x=1', /this page takes none/],
      [`/images/${id}?path=etc`, /must be an absolute path/],
      [`/images/${id}?path=/etc/../bin`, /must be normalized/],
      [`/images/${id}?view=layer&view=merged`, /given 2 times/],
      ['/images/%E0%A4%A', /malformed percent-encoding/],
    ];
    for (const [path, message] of cases) {
      const r = await get(url(path));
      assert.equal(r.status, 400, path);
      assert.match(r.body, /<h1>400 Bad request<\/h1>/);
      assert.match(r.body, message);
    }
    for (const q of ['limit=0', 'offset=-1', 'limit=ten', 'path=/a//b', 'view=all']) {
      const r = await get(url(`/api/images/${id}/layers/0/tree?${q}`));
      assert.equal(r.status, 400, q);
      assert.equal(JSON.parse(r.body).error.code, 'STRATA_ERR_INVALID_ARGUMENT');
    }
    assert.equal((await get(url(`/api/images/${id}/waste?limit=-5`))).status, 400);
    assert.equal((await get(url('/'), { method: 'POST' })).status, 405);
  });

  it('listens on loopback by default and refuses other addresses unless told', async () => {
    assert.deepEqual(parseAddress(DEFAULT_ADDR), { host: '127.0.0.1', port: 7878 });
    assert.deepEqual(parseAddress(':0'), { host: '127.0.0.1', port: 0 });
    const program = new Command();
    registerExplore(program, program.command('image'), new CliContext({}));
    const addr = program.commands.find((c) => c.name() === 'explore')!.options.find((o) => o.long === '--addr')!;
    assert.equal(addr.defaultValue, DEFAULT_ADDR);
    assert.equal((running.server.address() as AddressInfo).address, '127.0.0.1');
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopback(h), h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.com']) assert.ok(!isLoopback(h), h);

    const local = await listenExplorer(explorer, { addr: ':0' });
    try {
      assert.equal((local.server.address() as AddressInfo).address, '127.0.0.1');
    } finally {
      await local.close();
    }
    for (const a of ['0.0.0.0:0', '[::]:0', '192.168.1.1:0']) {
      await assert.rejects(listenExplorer(explorer, { addr: a }), /refusing to listen on .*pass --allow-remote/);
    }
    const cli = await explorerCli(t.root, ['explore', '--addr', '0.0.0.0:0']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /refusing to listen on 0\.0\.0\.0/);
    const remote = await listenExplorer(explorer, { addr: '0.0.0.0:0', allowRemote: true });
    try {
      assert.equal((remote.server.address() as AddressInfo).address, '0.0.0.0');
    } finally {
      await remote.close();
    }
    await assert.rejects(listenExplorer(explorer, { addr: 'nonsense' }), /invalid --addr "nonsense"/);
  });

  it('on loopback, answers only loopback Host headers', async () => {
    assert.equal((await get(running.url, { host: 'attacker.example:80' })).status, 421);
    assert.equal((await get(running.url, { host: `localhost:${new URL(running.url).port}` })).status, 200);
  });

  it('mounts under a path prefix', async () => {
    const server: Server = createServer(createExplorerHandler(explorer, { prefix: '/explore' }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const page = await get(`${base}/explore/`);
      assert.equal(page.status, 200);
      assert.match(page.body, /<base href="\/explore\/">/);
      const redirect = await get(`${base}/explore`);
      assert.equal(redirect.status, 308);
      assert.equal(redirect.headers.location, '/explore/');
      assert.equal((await get(`${base}/elsewhere`)).status, 404);
      assert.equal(JSON.parse((await get(`${base}/explore/api/images`)).body)[0].id, id);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('keeps layer indexes by DiffID under <root>/explorer and reuses them', async () => {
    const img = engine.images.resolve(id);
    await explorer.waste(id);
    for (const l of img.layers) assert.ok(existsSync(join(t.root, 'explorer', 'layers', `${hexOf(l.diffId)}.json`)));
    // A fresh explorer analyses the image from the indexes alone: the blobs are not read again.
    const blob = img.layers[1].blobDigest;
    const saved = await engine.content.readAll(blob, 1 << 20);
    await engine.content.delete(blob);
    try {
      const again = await new Explorer(engine).waste(id);
      assert.equal(again.waste.wastedBytes, 1000);
    } finally {
      await engine.content.put(saved, blob);
    }
    assert.equal(await explorer.pruneIndexes(), 0);
  });
});
