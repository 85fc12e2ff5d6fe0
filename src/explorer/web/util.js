// Small helpers shared by the explorer's pages: DOM building, formatting, API calls.

/** Creates an element: h('a', {href: 'x', class: 'y'}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') el.style.cssText = v; // through the CSSOM: the page's CSP forbids style attributes
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Sizes as Docker prints them: decimal units, three significant digits ("12.3kB"). */
export function humanSize(bytes) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${i === 0 ? size : Number(size.toPrecision(3))}${units[i]}`;
}

export function percent(ratio, digits = 1) {
  return `${(ratio * 100).toFixed(digits)}%`;
}

const KIND_CHAR = { dir: 'd', symlink: 'l', hardlink: 'h', char: 'c', block: 'b', fifo: 'p', file: '-' };

/** `drwxr-xr-x`, with setuid, setgid and sticky bits as ls shows them. */
export function modeString(kind, mode) {
  const rwx = ['r', 'w', 'x'];
  let s = KIND_CHAR[kind] ?? '?';
  for (let i = 8; i >= 0; i--) s += mode & (1 << i) ? rwx[(8 - i) % 3] : '-';
  const set = (pos, bit, on, off) => {
    if (mode & bit) s = s.slice(0, pos) + (s[pos] === 'x' ? on : off) + s.slice(pos + 1);
  };
  set(3, 0o4000, 's', 'S');
  set(6, 0o2000, 's', 'S');
  set(9, 0o1000, 't', 'T');
  return s;
}

export function timeAgo(iso) {
  const ms = Date.now() - new Date(iso).getTime();
  if (!(ms >= 0)) return 'just now';
  const s = Math.floor(ms / 1000);
  const steps = [
    [60, 'second'],
    [60, 'minute'],
    [24, 'hour'],
    [30, 'day'],
    [12, 'month'],
    [Infinity, 'year'],
  ];
  let n = s;
  for (const [size, unit] of steps) {
    if (n < size) return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
    n = Math.floor(n / size);
  }
  return iso;
}

export const shortId = (id) => id.replace(/^sha256:/, '').slice(0, 12);

/** The instruction of a history line, as a Dockerfile would spell it. */
export function instruction(createdBy, comment) {
  if (!createdBy) return comment || '(no history)';
  let s = createdBy.replace(/\s+# buildkit$/, '');
  if (s.startsWith('/bin/sh -c #(nop) ')) return s.slice('/bin/sh -c #(nop) '.length).trim();
  if (s.startsWith('/bin/sh -c ')) return `RUN ${s.slice('/bin/sh -c '.length)}`;
  return s;
}

/** GETs a JSON API endpoint relative to the page's base; a non-2xx answer throws its message. */
export async function api(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error?.message ?? `${res.status} ${res.statusText}`);
  return body;
}

export const imageUrl = (id, layer) => `images/${encodeURIComponent(id)}${layer === undefined ? '' : `/layers/${layer}`}`;

export function showError(container, e) {
  container.replaceChildren(h('section', { class: 'error-page' }, h('h1', {}, 'Could not load this page'), h('p', { class: 'error-message' }, e.message)));
}
