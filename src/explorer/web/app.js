// The explorer's pages. The server validated the URL and put what it names in #boot;
// everything else comes from the JSON API, relative to <base>.
import { imagePage } from './image.js';
import { api, h, humanSize, imageUrl, shortId, showError, timeAgo } from './util.js';

const boot = JSON.parse(document.getElementById('boot').textContent);
const main = document.getElementById('main');

const COLUMNS = [
  { key: 'name', title: 'Name', value: (i) => i.names[0] ?? '<none>', text: true },
  { key: 'id', title: 'Image ID', value: (i) => i.id, text: true, nosort: true },
  { key: 'created', title: 'Created', value: (i) => i.created, text: true },
  { key: 'layers', title: 'Layers', value: (i) => i.layerCount },
  { key: 'compressed', title: 'Compressed', value: (i) => i.compressedSize },
  { key: 'unpacked', title: 'Unpacked', value: (i) => i.unpackedSize },
  { key: 'unique', title: 'Unique', value: (i) => i.uniqueSize },
  { key: 'shared', title: 'Shared', value: (i) => i.sharedSize },
];

async function imagesPage() {
  const images = await api('api/images');
  let sort = boot.sort ?? 'created';
  let order = boot.order ?? (sort === 'name' ? 'asc' : 'desc');
  const filter = h('input', { type: 'search', id: 'filter', placeholder: 'Filter by name or ID', value: boot.q ?? '' });
  const tbody = h('tbody');
  const head = h('tr');
  const syncUrl = () => {
    const q = new URLSearchParams();
    if (boot.sort !== undefined || sort !== 'created') q.set('sort', sort);
    if (boot.order !== undefined || order !== 'desc') q.set('order', order);
    if (filter.value) q.set('q', filter.value);
    history.replaceState(null, '', q.size ? `./?${q}` : './');
  };
  const render = () => {
    const col = COLUMNS.find((c) => c.key === sort);
    const needle = filter.value.trim().toLowerCase();
    const rows = images
      .filter((i) => !needle || i.id.includes(needle) || i.names.some((n) => n.toLowerCase().includes(needle)))
      .sort((a, b) => {
        const [x, y] = [col.value(a), col.value(b)];
        const c = col.text ? String(x).localeCompare(String(y)) : x - y;
        return order === 'asc' ? c : -c;
      });
    head.replaceChildren(
      ...COLUMNS.map((c) =>
        h(
          'th',
          {
            class: c.nosort ? '' : `sortable${c.key === sort ? ` sorted-${order}` : ''}`,
            dataset: { key: c.key },
            onclick: c.nosort
              ? undefined
              : () => {
                  order = c.key === sort ? (order === 'asc' ? 'desc' : 'asc') : c.text && c.key === 'name' ? 'asc' : 'desc';
                  sort = c.key;
                  syncUrl();
                  render();
                },
          },
          c.title,
        ),
      ),
    );
    tbody.replaceChildren(
      ...rows.map((i) =>
        h(
          'tr',
          { class: 'image-row', dataset: { id: i.id } },
          h('td', {}, h('a', { href: imageUrl(i.id), class: 'image-link' }, i.names[0] ?? '<none>'), i.names.length > 1 ? h('span', { class: 'muted' }, ` +${i.names.length - 1}`) : ''),
          h('td', { class: 'mono' }, shortId(i.id)),
          h('td', { title: i.created }, timeAgo(i.created)),
          h('td', { class: 'num' }, i.layerCount),
          h('td', { class: 'num' }, humanSize(i.compressedSize)),
          h('td', { class: 'num' }, humanSize(i.unpackedSize)),
          h('td', { class: 'num' }, humanSize(i.uniqueSize)),
          h('td', { class: 'num' }, humanSize(i.sharedSize)),
        ),
      ),
    );
    if (!rows.length) tbody.append(h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'empty' }, images.length ? 'No image matches the filter.' : 'No images yet: load one with `strata load` or `strata import`.')));
  };
  filter.addEventListener('input', () => {
    syncUrl();
    render();
  });
  render();
  main.replaceChildren(h('h1', {}, 'Images'), h('div', { class: 'toolbar' }, filter), h('table', { id: 'images', class: 'grid' }, h('thead', {}, head), tbody));
}

async function sharingPage() {
  const r = await api('api/sharing');
  const max = Math.max(1, ...r.matrix.flat());
  const matrix = h(
    'table',
    { id: 'matrix', class: 'grid matrix' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), ...r.images.map((i) => h('th', { class: 'rot', title: i.id }, i.name)))),
    h(
      'tbody',
      {},
      ...r.images.map((a, x) =>
        h(
          'tr',
          {},
          h('th', { title: a.id }, h('a', { href: imageUrl(a.id) }, a.name)),
          ...r.matrix[x].map((bytes, y) =>
            h('td', { class: `num cell${x === y ? ' self' : ''}`, style: `--heat:${(bytes / max).toFixed(3)}`, title: `${a.name} and ${r.images[y].name} share ${bytes} bytes` }, bytes ? humanSize(bytes) : ''),
          ),
        ),
      ),
    ),
  );
  const name = (id) => r.images.find((i) => i.id === id)?.name ?? shortId(id);
  const layers = h(
    'table',
    { id: 'shared-layers', class: 'grid' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Layer (chain ID)'), h('th', {}, 'Size'), h('th', {}, 'Used by'), h('th', {}, 'Saved'))),
    h(
      'tbody',
      {},
      r.layers.length
        ? r.layers.map((l) => h('tr', {}, h('td', { class: 'mono', title: l.chainId }, shortId(l.chainId)), h('td', { class: 'num' }, humanSize(l.size)), h('td', {}, l.images.map(name).join(', ')), h('td', { class: 'num' }, humanSize(l.saved))))
        : h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No layer is shared by two images.')),
    ),
  );
  main.replaceChildren(
    h('h1', {}, 'Sharing'),
    h('p', { id: 'saved' }, `Shared layers save ${humanSize(r.savedBytes)} of unpacked layers and ${humanSize(r.savedBlobBytes)} of compressed blobs. Images share layers by chain ID: a layer and every layer below it identical, so two images share a common base.`),
    h('h2', {}, 'Bytes shared between images'),
    r.images.length ? matrix : h('p', { class: 'empty' }, 'No images.'),
    h('h2', {}, 'Shared layers'),
    layers,
  );
}

const CHANGE_MARKS = { A: ['added', 'added'], C: ['modified', 'changed'], D: ['deleted', 'deleted'] };
const CHANGES_PAGE = 1000;

/** One container's changes, as `docker diff` lists them, marked like the layer tree's files. */
function changeList(r) {
  const list = h('div', { class: 'changes', dataset: { container: r.id } });
  const show = (from) => {
    const rows = r.changes.slice(from, from + CHANGES_PAGE).map((c) =>
      h('div', { class: `change mark-${CHANGE_MARKS[c.kind][0]}`, dataset: { path: c.path, kind: c.kind }, title: `${c.path} (${CHANGE_MARKS[c.kind][1]})` }, h('span', { class: 'mark' }, c.kind), h('span', { class: 'fname mono' }, c.path)),
    );
    const rest = r.changes.length - from - rows.length;
    if (rest > 0) {
      const more = h('button', { type: 'button', class: 'more' }, `Show ${Math.min(rest, CHANGES_PAGE)} more of ${rest}`);
      more.addEventListener('click', () => {
        more.remove();
        show(from + CHANGES_PAGE);
      });
      rows.push(more);
    }
    list.append(...rows);
  };
  show(0);
  const { A, C, D } = r.counts;
  return h(
    'div',
    { class: 'container-changes' },
    h('p', { class: 'muted change-summary' }, r.changes.length ? `${A} added · ${C} changed · ${D} deleted · ${humanSize(r.changedBytes)} in added and changed files` : 'No change: the container\'s filesystem is its image\'s.'),
    list,
  );
}

async function containersPage() {
  const r = await api('api/containers');
  const COLS = 6;
  const toggle = async (tr, c) => {
    const open = tr.nextElementSibling?.classList.contains('changes-row') ? tr.nextElementSibling : undefined;
    if (open) {
      open.remove();
      tr.classList.remove('open');
      return;
    }
    tr.classList.add('open');
    const cell = h('td', { colspan: COLS }, h('span', { class: 'muted' }, 'Loading changes…'));
    tr.after(h('tr', { class: 'changes-row', dataset: { container: c.id } }, cell));
    try {
      cell.replaceChildren(changeList(await api(`api/containers/${encodeURIComponent(c.id)}/changes`)));
    } catch (e) {
      cell.replaceChildren(h('span', { class: 'error-message' }, `Could not list the changes: ${e.message}`));
    }
  };
  const row = (c) => {
    const tr = h(
      'tr',
      { class: 'container-row', dataset: { id: c.id }, title: 'Click to list what the container changed' },
      h('td', {}, h('span', { class: 'toggle' }, '▸'), ' ', c.name),
      h('td', { class: 'mono' }, shortId(c.id)),
      h('td', {}, h('a', { href: imageUrl(c.imageId), title: c.imageId }, c.image ?? shortId(c.imageId))),
      h('td', { title: c.created }, timeAgo(c.created)),
      h('td', { class: 'mono', title: 'snapshot key' }, c.snapshotKey),
      h('td', { class: 'num layer-size' }, c.error ? `error: ${c.error}` : humanSize(c.size)),
    );
    tr.addEventListener('click', (e) => {
      if (!e.target.closest('a')) toggle(tr, c);
    });
    return tr;
  };
  main.replaceChildren(
    h('h1', {}, 'Containers'),
    r.containers.length
      ? h(
          'table',
          { id: 'containers', class: 'grid' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Container ID'), h('th', {}, 'Image'), h('th', {}, 'Created'), h('th', {}, 'Snapshot'), h('th', { class: 'num' }, 'Writable layer'))),
          h('tbody', {}, r.containers.map(row)),
        )
      : h('p', { id: 'containers-empty', class: 'empty' }, r.note),
    r.containers.length ? h('p', { class: 'muted' }, 'The writable layer is what the container wrote on top of its image, as the storage driver stores it; click a container to list what it added (A), changed (C) and deleted (D), as docker diff does.') : '',
  );
}

const PAGES = { images: imagesPage, image: () => imagePage(main, boot), sharing: sharingPage, containers: containersPage };

const page = PAGES[boot.page];
for (const a of document.querySelectorAll('nav a')) if (a.dataset.nav === (boot.page === 'image' ? 'images' : boot.page)) a.classList.add('current');
if (page) page().catch((e) => showError(main, e));
