import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errors } from '../../errors/errors.js';

/**
 * The page's static files (plain HTML, CSS and JS in src/explorer/web, part
 * of the package). They are read once, when a server is created: nothing is
 * ever fetched from elsewhere. A build that copies them beside the compiled
 * code (dist/src/explorer/web) is used first.
 */
const CANDIDATES = ['../web/', '../../../../src/explorer/web/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));

export interface Asset {
  body: Buffer;
  type: string;
}

export interface Assets {
  shell: string;
  files: Map<string, Asset>;
}

const TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'image.js': 'text/javascript; charset=utf-8',
  'util.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

export function loadAssets(): Assets {
  const dir = CANDIDATES.find((d) => existsSync(`${d}index.html`));
  if (!dir) {
    throw errors.unavailable(`the explorer's page files are missing (looked in ${CANDIDATES.join(' and ')}): reinstall Strata`);
  }
  const files = new Map<string, Asset>();
  for (const [name, type] of Object.entries(TYPES)) files.set(name, { body: readFileSync(`${dir}${name}`), type });
  return { shell: readFileSync(`${dir}index.html`, 'utf8'), files };
}
