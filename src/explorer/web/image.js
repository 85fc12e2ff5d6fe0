// One image: its layer stack, the lazily loaded file tree of a layer, and the waste report.
import { api, h, humanSize, imageUrl, instruction, modeString, percent, shortId, timeAgo } from './util.js';

const PAGE = 500;
const MARKS = { added: ['A', 'added by this layer'], modified: ['M', 'modified by this layer'], deleted: ['D', 'deleted by this layer'] };

const treeUrl = (id, layer, view, path, offset = 0) =>
  `api/images/${encodeURIComponent(id)}/layers/${layer}/tree?${new URLSearchParams({ view, path, ...(offset ? { offset: String(offset) } : {}), limit: String(PAGE) })}`;

export async function imagePage(main, boot) {
  const id = boot.image;
  const state = { layer: boot.layer ?? boot.layerCount - 1, view: boot.view ?? 'layer' };
  const [detail, rootListing] = await Promise.all([api(`api/images/${encodeURIComponent(id)}`), api(treeUrl(id, state.layer, state.view, '/'))]);
  const { summary, layers } = detail;
  const tree = h('div', { id: 'tree', class: 'tree' });
  const treeTitle = h('h2', { id: 'tree-title' });
  const viewButtons = ['layer', 'merged'].map((v) =>
    h('button', { type: 'button', id: `view-${v}`, onclick: () => setView(v) }, v === 'layer' ? "This layer's changes" : 'Image up to this layer'),
  );
  const maxSize = Math.max(1, ...layers.map((l) => l.size));
  const stack = h(
    'ol',
    { id: 'layers', class: 'stack', reversed: true },
    [...layers].reverse().map((l) =>
      h(
        'li',
        { class: 'layer', dataset: { index: l.index }, title: l.createdBy, onclick: () => selectLayer(l.index) },
        h('div', { class: 'bar', style: `width:${Math.max(1, (l.size / maxSize) * 100).toFixed(1)}%` }),
        h('div', { class: 'layer-head' }, h('span', { class: 'index' }, `#${l.index}`), h('span', { class: 'num' }, humanSize(l.size)), h('span', { class: 'created-by' }, instruction(l.createdBy, l.comment))),
        h(
          'div',
          { class: 'layer-stats muted' },
          `${l.stats.added} added · ${l.stats.modified} modified · ${l.stats.deleted} deleted`,
          l.wasteCaused ? h('span', { class: 'waste-tag' }, ` · wastes ${humanSize(l.wasteCaused)}`) : '',
        ),
      ),
    ),
  );

  main.replaceChildren(
    h('h1', {}, summary.names[0] ?? '<none>', ' ', h('span', { class: 'mono muted' }, shortId(summary.id))),
    h(
      'p',
      { class: 'summary' },
      `${layers.length} layers · ${humanSize(summary.unpackedSize)} unpacked · ${humanSize(summary.compressedSize)} compressed · ${humanSize(summary.uniqueSize)} unique · ${humanSize(summary.sharedSize)} shared · created ${timeAgo(summary.created)}`,
    ),
    h(
      'div',
      { class: 'columns' },
      h('section', { id: 'stack-panel' }, h('h2', {}, 'Layers'), stack),
      h('section', { id: 'files' }, treeTitle, h('div', { class: 'toolbar' }, viewButtons), h('div', { class: 'tree-head muted' }, h('span', {}, ''), h('span', {}, 'Mode'), h('span', {}, 'Owner'), h('span', { class: 'num' }, 'Size'), h('span', {}, 'Name')), tree),
    ),
    wasteSection(),
  );

  function showLayerState() {
    for (const li of stack.children) li.classList.toggle('selected', Number(li.dataset.index) === state.layer);
    for (const b of viewButtons) b.classList.toggle('on', b.id === `view-${state.view}`);
    treeTitle.textContent = `Layer #${state.layer}: ${instruction(layers[state.layer].createdBy, layers[state.layer].comment)}`;
  }

  function rowFor(e, depth) {
    const [markChar, markTitle] = MARKS[e.mark] ?? ['', ''];
    const isDir = e.kind === 'dir';
    const toggle = isDir && e.children ? h('span', { class: 'toggle' }, '▸') : h('span', { class: 'toggle' }, '');
    const row = h(
      'div',
      { class: `row${e.mark ? ` mark-${e.mark}` : ''}${isDir ? ' dir' : ''}`, dataset: { path: e.path, kind: e.kind, depth }, title: `${e.path}${e.mark ? ` (${e.mark})` : ''} · from layer #${e.layer}` },
      h('span', { class: 'mark', title: markTitle }, markChar),
      h('span', { class: 'mode mono' }, modeString(e.kind, e.mode)),
      h('span', { class: 'owner mono' }, `${e.uid}:${e.gid}`),
      h('span', { class: 'size num' }, humanSize(e.size)),
      h(
        'span',
        { class: 'name', style: `padding-left:${depth * 1.1}em` },
        toggle,
        h('span', { class: 'fname' }, e.name),
        e.link ? h('span', { class: 'muted' }, e.kind === 'hardlink' ? ` ⇒ /${e.link}` : ` → ${e.link}`) : '',
        e.opaque ? h('span', { class: 'tag' }, 'opaque') : '',
      ),
    );
    if (isDir && e.children) row.addEventListener('click', () => toggleDir(row));
    return row;
  }

  async function loadChildren(path, depth, after, offset = 0) {
    const listing = await api(treeUrl(id, state.layer, state.view, path, offset));
    const rows = listing.entries.map((e) => rowFor(e, depth));
    const rest = listing.total - (listing.offset + listing.entries.length);
    if (rest > 0) {
      const more = h('div', { class: 'row more', dataset: { depth } }, h('button', { type: 'button', style: `margin-left:${depth * 1.1 + 20}em` }, `Show ${Math.min(rest, PAGE)} more of ${rest}`));
      more.addEventListener('click', async () => {
        more.remove();
        await loadChildren(path, depth, rows[rows.length - 1], listing.offset + listing.entries.length);
      });
      rows.push(more);
    }
    if (after) after.after(...rows);
    else tree.replaceChildren(...rows);
    return listing;
  }

  async function toggleDir(row) {
    const depth = Number(row.dataset.depth);
    if (row.classList.contains('open')) {
      row.classList.remove('open');
      while (row.nextElementSibling && Number(row.nextElementSibling.dataset.depth) > depth) row.nextElementSibling.remove();
      return;
    }
    row.classList.add('open');
    await loadChildren(row.dataset.path, depth + 1, row);
  }

  function renderRoot(listing) {
    const rows = listing.entries.map((e) => rowFor(e, 0));
    tree.replaceChildren(...(rows.length ? rows : [h('div', { class: 'empty' }, state.view === 'layer' ? 'This layer changes no file.' : 'The image is empty up to this layer.')]));
    window.__explorerTreeRendered ??= performance.now();
    document.body.dataset.treeReady = `${state.layer}:${state.view}`;
  }

  async function reload(push) {
    showLayerState();
    if (push) history.pushState(state.layer, '', `${imageUrl(id, state.layer)}${state.view === 'merged' ? '?view=merged' : ''}`);
    delete document.body.dataset.treeReady;
    renderRoot(await api(treeUrl(id, state.layer, state.view, '/')));
  }

  function selectLayer(n) {
    if (n === state.layer) return;
    state.layer = n;
    reload(true);
  }

  function setView(v) {
    if (v === state.view) return;
    state.view = v;
    reload(true);
  }

  window.addEventListener('popstate', () => {
    const m = /\/layers\/(\d+)$/.exec(location.pathname);
    state.layer = m ? Number(m[1]) : layers.length - 1;
    state.view = new URLSearchParams(location.search).get('view') === 'merged' ? 'merged' : 'layer';
    reload(false);
  });

  showLayerState();
  renderRoot(rootListing);
  if (boot.path) await expandTo(boot.path);
  loadWaste(id).catch((e) => document.getElementById('waste-body').replaceChildren(h('tr', {}, h('td', { colspan: 5 }, e.message))));

  /** Opens the directories leading to a path given in the URL. */
  async function expandTo(path) {
    let at = '';
    for (const part of path.split('/').filter(Boolean)) {
      at += `/${part}`;
      const row = [...tree.querySelectorAll('.row')].find((r) => r.dataset.path === at);
      if (!row || row.dataset.kind !== 'dir') return;
      if (!row.classList.contains('open')) await toggleDir(row);
    }
  }
}

function wasteSection() {
  return h(
    'section',
    { id: 'waste' },
    h('h2', {}, 'Waste'),
    h('p', { id: 'waste-summary', class: 'muted' }, 'Computing…'),
    h(
      'details',
      {},
      h('summary', {}, 'How these numbers are computed'),
      h('p', {}, 'Wasted bytes are file contents that a layer stores but no path of the final image reaches: a later layer overwrote the file, deleted it (a whiteout), or hid its directory (an opaque directory). A hard-linked file is wasted only when all its names are gone. Each row is charged to the layer that overwrote or deleted the file.'),
      h('p', {}, "The efficiency score is dive's: every path is counted once per layer in which it is a leaf (a file, or a directory with nothing below it in that layer), with the size in that layer's tar (for a deletion: 0 for a file, the size of everything below for a directory). Score = Σ over paths of the smallest count ÷ Σ over paths of all counts, so 100% means no path is stored twice and nothing added is deleted later. dive's potential waste is the sum of all counts of the paths seen in two or more layers, and its percentage is of the layers above the first."),
    ),
    h(
      'table',
      { id: 'waste-table', class: 'grid' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Wasted'), h('th', {}, 'Path'), h('th', {}, 'Stored in'), h('th', {}, 'Responsible layer'), h('th', {}, 'How'))),
      h('tbody', { id: 'waste-body' }, h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'Loading…'))),
    ),
  );
}

async function loadWaste(id) {
  const { waste, dive } = await api(`api/images/${encodeURIComponent(id)}/waste?limit=200`);
  document.getElementById('waste-summary').replaceChildren(
    `Wasted: ${humanSize(waste.wastedBytes)} of the ${humanSize(waste.totalBytes)} of files the layers store (${waste.wastedPercent.toFixed(1)}%), in ${waste.count} file version${waste.count === 1 ? '' : 's'}. `,
    h('strong', { id: 'efficiency' }, `Efficiency score: ${percent(dive.efficiency, 2)}`),
    ` (dive: ${humanSize(dive.wastedBytes)} potential waste, ${percent(dive.userWastedPercent)} of the layers above the base).`,
  );
  document.getElementById('waste-summary').classList.remove('muted');
  const rows = waste.items.map((w) =>
    h(
      'tr',
      { class: 'waste-row', dataset: { path: w.path } },
      h('td', { class: 'num waste-size', dataset: { bytes: w.bytes } }, humanSize(w.bytes)),
      h('td', { class: 'mono waste-path' }, `/${w.path}`),
      h('td', {}, h('a', { href: imageUrl(id, w.addedIn) }, `#${w.addedIn}`)),
      h('td', {}, h('a', { href: imageUrl(id, w.removedIn) }, `#${w.removedIn}`), ' ', h('span', { class: 'created-by' }, instruction(w.createdBy))),
      h('td', {}, w.reason),
    ),
  );
  if (waste.count > waste.items.length) rows.push(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, `… and ${waste.count - waste.items.length} smaller ones (strata image waste lists them all)`)));
  document.getElementById('waste-body').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No waste: no layer overwrites or deletes a file of a layer below.'))]));
}
