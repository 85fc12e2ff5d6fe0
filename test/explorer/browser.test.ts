/**
 * End to end in a real browser (Debian's chromium, driven by playwright-core):
 * an image built by Docker's classic builder that COPYs a file and deletes it
 * in a later RUN, loaded into Strata and explored page by page. Screenshots of
 * each page go to test-artifacts/explorer/.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { Engine } from '../../src/engine/engine.js';
import { Explorer } from '../../src/explorer/explorer.js';
import { listenExplorer, type RunningExplorer } from '../../src/explorer/server/listen.js';
import { writeTx } from '../../src/metadata/db.js';
import { mountAll, unmount } from '../../src/mount/linux.js';
import { writeBusyboxRootfs } from '../fixtures/busybox-rootfs.js';
import { PrivateDocker } from '../helpers/dockerd.js';
import { TempRoot } from '../helpers/strata.js';
import { CHROMIUM, launchChromium } from './helpers.js';

const ARTIFACTS = resolve(fileURLToPath(import.meta.url), '../../../../test-artifacts/explorer');
const FILE_SIZE = 300_000;

const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser test`
  : PrivateDocker.unavailable();

describe('the explorer in a browser', { skip }, () => {
  let t: TempRoot;
  let docker: PrivateDocker | undefined;
  let engine: Engine;
  let running: RunningExplorer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    t = await TempRoot.create();
    docker = await PrivateDocker.start();
    const rootfs = join(t.dir, 'busybox.tar');
    await writeBusyboxRootfs(rootfs);
    assert.equal((await docker.docker(['import', rootfs, 'explore-base:1'])).code, 0);
    const ctx = join(t.dir, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'big.bin'), Buffer.alloc(FILE_SIZE, 7));
    await writeFile(join(ctx, 'Dockerfile'), 'FROM explore-base:1\nCOPY big.bin /data/big.bin\nRUN rm /data/big.bin\n');
    const build = await docker.docker(['build', '--network', 'none', '-q', '-t', 'explore-demo:1', ctx]);
    assert.equal(build.code, 0, build.stderr);
    const archive = join(t.dir, 'demo.tar');
    assert.equal((await docker.docker(['save', '-o', archive, 'explore-demo:1'])).code, 0);
    await docker.stop();
    docker = undefined;
    const load = await t.strata(['load', '-i', archive]);
    assert.equal(load.code, 0, load.stderr);

    engine = await Engine.open({ root: t.root });
    running = await listenExplorer(new Explorer(engine), { addr: '127.0.0.1:0' });
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
  });

  after(async () => {
    await browser?.cleanup();
    await running?.close();
    await engine?.close();
    await docker?.stop();
    await t?.cleanup();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });

  /** Clicks the layer whose instruction matches, then opens /data in its tree. */
  async function openDataIn(instruction: RegExp): Promise<string> {
    const layer = page.locator('#layers .layer').filter({ has: page.locator('.created-by', { hasText: instruction }) });
    await layer.click();
    const index = await layer.getAttribute('data-index');
    await page.waitForSelector(`body[data-tree-ready="${index}:layer"]`);
    await page.locator('#tree .row[data-path="/data"]').click();
    const row = page.locator('#tree .row[data-path="/data/big.bin"]');
    await row.waitFor();
    return (await row.getAttribute('class')) ?? '';
  }

  it('lists the image on the images page', async () => {
    await page.goto(running.url);
    const row = page.locator('#images .image-row', { hasText: 'explore-demo:1' });
    await row.waitFor();
    await shot('1-images.png');
  });

  it('shows the layer stack of the image', async () => {
    await page.locator('a.image-link', { hasText: 'explore-demo:1' }).click();
    await page.waitForSelector('#layers .layer');
    const labels = await page.locator('#layers .layer .created-by').allTextContents();
    assert.equal(labels.length, 3);
    assert.match(labels[0], /^RUN rm \/data\/big\.bin/); // the newest layer on top
    assert.match(labels[1], /^COPY file:[0-9a-f]+ in \/data\/big\.bin/);
    await page.waitForSelector('body[data-tree-ready]');
    await shot('2-image.png');
  });

  it('marks the file added in the COPY layer', async () => {
    const cls = await openDataIn(/^COPY /);
    assert.match(cls, /\bmark-added\b/);
    const size = await page.locator('#tree .row[data-path="/data/big.bin"] .size').textContent();
    assert.equal(size, '300kB');
    await shot('3-copy-layer.png');
  });

  it('marks the file deleted in the RUN layer', async () => {
    const cls = await openDataIn(/^RUN rm/);
    assert.match(cls, /\bmark-deleted\b/);
    await shot('4-run-layer.png');
  });

  it('puts the file at the top of the waste report with its size', async () => {
    const first = page.locator('#waste-body tr.waste-row').first();
    await first.waitFor();
    assert.equal(await first.getAttribute('data-path'), 'data/big.bin');
    assert.equal(await first.locator('.waste-size').getAttribute('data-bytes'), String(FILE_SIZE));
    assert.equal(await first.locator('.waste-size').textContent(), '300kB');
    assert.match((await first.textContent()) ?? '', /RUN rm \/data\/big\.bin/);
    await page.locator('#waste').scrollIntoViewIfNeeded();
    await page.locator('#waste').screenshot({ path: join(ARTIFACTS, '5-waste.png') });
    assert.deepEqual(errors, [], 'no script errors on the pages');
  });

  it("lists a container's changes on the containers page", async () => {
    const img = engine.images.resolve('explore-demo:1');
    const mounts = await engine.snapshotter.prepare('browser-ctr', img.topLayer);
    const dir = await mkdtemp(join(t.dir, 'rootfs-'));
    mountAll(mounts, dir);
    try {
      await writeFile(join(dir, 'etc/motd'), 'hello\n');
      await rm(join(dir, 'bin/ls'));
    } finally {
      unmount(dir);
      await rmdir(dir);
    }
    writeTx(engine.db, () =>
      engine.db
        .prepare('INSERT INTO containers (id, name, image_id, snapshot_key, created_at) VALUES (?, ?, ?, ?, ?)')
        .run('b'.repeat(64), 'demo-ctr', img.id, 'browser-ctr', Date.now()),
    );
    await page.goto(`${running.url}containers`);
    const row = page.locator('#containers tr.container-row', { hasText: 'demo-ctr' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /explore-demo:1/);
    await row.click();
    await page.locator('.changes .change').first().waitFor();
    const marks = await page.locator('.changes .change').evaluateAll((els) => els.map((e) => `${e.className} ${(e as HTMLElement).dataset.path}`));
    assert.deepEqual(marks, ['change mark-modified /bin', 'change mark-deleted /bin/ls', 'change mark-modified /etc', 'change mark-added /etc/motd']);
    await shot('6-containers.png');
    assert.deepEqual(errors, [], 'no script errors on the pages');
  });
});
