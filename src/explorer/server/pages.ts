/** HTML of the app shell and of error pages; everything interpolated is escaped here. */

export type PageName = 'images' | 'image' | 'sharing' | 'containers';

export interface Boot {
  page: PageName;
  image?: string;
  layer?: number;
  layerCount?: number;
  view?: string;
  path?: string;
  sort?: string;
  order?: string;
  q?: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON inside <script type="application/json">: `<` escaped so no `</script>` can end it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function fill(shell: string, vars: { base: string; title: string; boot: string; body: string }): string {
  return shell.replace(/\{\{(base|title|boot|body)\}\}/g, (_, k: keyof typeof vars) => vars[k]);
}

/** The app shell for one page; the script reads `boot` and fetches the rest from the API. */
export function renderPage(shell: string, base: string, title: string, boot: Boot): string {
  return fill(shell, { base: escapeHtml(base), title: escapeHtml(title), boot: scriptJson(boot), body: '' });
}

/** A page of its own for 400 and 404 answers, in the app's layout, with a way back. */
export function renderError(shell: string, base: string, status: number, message: string): string {
  const heading = status === 404 ? 'Not found' : status === 400 ? 'Bad request' : 'Error';
  const body =
    `<section class="error-page" data-status="${status}"><h1>${status} ${heading}</h1>` +
    `<p class="error-message">${escapeHtml(message)}</p>` +
    `<p><a href="./">Back to the list of images</a></p></section>`;
  return fill(shell, { base: escapeHtml(base), title: `${status} ${heading}`, boot: scriptJson({ page: 'error' }), body });
}
