import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { chromium, type BrowserContext } from 'playwright-core';
import { registerExplore } from '../../src/cli/commands/explore.js';
import { CliContext } from '../../src/cli/context.js';
import { writeDockerArchive, writeLayerTar, type EntrySpec } from '../fixtures/image-archive.js';

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

class CapturingContext extends CliContext {
  override readonly stdout = new Collector();
  override readonly stderr = new Collector();
}

/**
 * Runs the explorer's commands in this process against a data root, with
 * their output captured (the same commands `strata image layers|waste` run).
 */
export async function explorerCli(root: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const ctx = new CapturingContext({ root });
  const program = new Command('strata').exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  const image = program.command('image');
  registerExplore(program, image, ctx);
  let code = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    code = 1;
    ctx.err(`Error: ${(e as Error).message}`);
  } finally {
    await ctx.close();
  }
  return { code, stdout: ctx.stdout.text, stderr: ctx.stderr.text };
}

/** Adds a directory entry before the first entry below it, as `docker build` writes layers. */
export function withParents(entries: EntrySpec[]): EntrySpec[] {
  const out: EntrySpec[] = [];
  const made = new Set<string>();
  for (const e of entries) {
    const parts = e.name.replace(/\/$/, '').split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (made.has(d)) continue;
      made.add(d);
      out.push({ name: `${d}/`, type: 'directory' });
    }
    if (e.type === 'directory') made.add(parts.join('/'));
    out.push(e);
  }
  return out;
}

/** Writes each layer tar and a `docker save` archive of them; returns the archive and the layer tars. */
export async function writeImage(
  dir: string,
  tag: string,
  layers: EntrySpec[][],
  history?: { created_by: string; empty_layer?: boolean }[],
): Promise<{ archive: string; layerTars: string[] }> {
  const slug = tag.replace(/[^a-z0-9]+/g, '-');
  const tars = [];
  for (const [i, entries] of layers.entries()) {
    const path = join(dir, `${slug}-layer${i}.tar`);
    tars.push({ path, ...(await writeLayerTar(path, entries)) });
  }
  const archive = join(dir, `${slug}.tar`);
  await writeDockerArchive(archive, tars, { repoTags: [tag], history });
  return { archive, layerTars: tars.map((t) => t.path) };
}

/** Debian's chromium (apt-get install chromium). */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless chromium with a fresh profile, driven by playwright-core. */
export async function launchChromium(): Promise<{ context: BrowserContext; cleanup: () => Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'strata-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    cleanup: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
