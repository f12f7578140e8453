import { gql } from '../api.js';
import { h, mount, loading, errorBox, emptyState, confirmDialog, toast, field, fmtBytes, fmtDate, fmtNumber, nextId } from '../dom.js';
import { setQuery } from '../router.js';
import { publicBase, shellQuote, snippet } from './quickstart.js';

/** The query this view needs; the view shows only on servers that have it. */
export const FILES_OPERATION = 'files';

const PAGE_SIZE = 20;

const KINDS = { image: 'image', video: 'video', audio: 'audio', font: 'font' };
const NAMED = {
  'application/pdf': 'PDF document',
  'application/json': 'JSON',
  'application/zip': 'ZIP archive',
  'application/gzip': 'Gzip archive',
  'application/x-tar': 'Tar archive',
  'application/octet-stream': 'Binary',
  'application/xml': 'XML',
  'application/javascript': 'JavaScript',
  'application/msword': 'Word document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word document',
  'application/vnd.ms-excel': 'Excel spreadsheet',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel spreadsheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'PowerPoint',
  'text/plain': 'Plain text',
  'text/csv': 'CSV',
  'text/html': 'HTML',
  'text/css': 'CSS',
  'text/markdown': 'Markdown',
  'text/javascript': 'JavaScript',
  'image/svg+xml': 'SVG image',
  'image/jpeg': 'JPEG image',
};

/** A readable name of a content type: image/png → PNG image. */
export function fmtType(contentType) {
  const ct = String(contentType || '').split(';')[0].trim().toLowerCase();
  if (!ct) return 'Unknown';
  if (NAMED[ct]) return NAMED[ct];
  const [major, minor = ''] = ct.split('/');
  const sub = minor.replace(/^(x-|vnd\.)/, '').split('+')[0];
  if (KINDS[major]) return `${sub.toUpperCase()} ${KINDS[major]}`;
  if (major === 'text') return `${sub.toUpperCase()} text`;
  return ct;
}

export async function filesView(ctx) {
  const p = ctx.project;
  const state = {
    prefix: ctx.query.get('prefix') || '',
    page: Math.max(1, Number(ctx.query.get('page')) || 1),
  };

  // ------------------------------------------------------------ usage
  const usage = h('section', { class: 'usage', 'aria-labelledby': 'usage-h' });
  async function loadUsage() {
    let u;
    try {
      u = (await gql(`query($id: ID!) { storageUsage(projectId: $id) { bytes files } }`, { id: p.id })).storageUsage;
    } catch (err) {
      if (ctx.alive()) mount(usage, h('h2', { id: 'usage-h', class: 'sr-only' }, 'Storage used'), errorBox(err, loadUsage));
      return;
    }
    if (!ctx.alive()) return;
    mount(usage,
      h('h2', { id: 'usage-h', class: 'sr-only' }, 'Storage used'),
      h('dl', { class: 'stats stats-2' },
        h('div', { class: 'stat' },
          h('dt', { class: 'stat-label' }, 'Storage used'),
          h('dd', { class: 'stat-value', 'data-testid': 'storage-bytes' }, fmtBytes(u.bytes)),
          h('dd', { class: 'stat-unit small muted' }, `${fmtNumber(u.bytes)} byte${u.bytes === 1 ? '' : 's'}`)),
        h('div', { class: 'stat' },
          h('dt', { class: 'stat-label' }, 'Files'),
          h('dd', { class: 'stat-value', 'data-testid': 'storage-files' }, fmtNumber(u.files)),
          h('dd', { class: 'stat-unit small muted' }, 'confirmed uploads'))));
  }
  mount(usage, h('h2', { id: 'usage-h', class: 'sr-only' }, 'Storage used'), loading('Loading usage…'));

  // ------------------------------------------------------------ search
  const search = h('input', {
    type: 'search', value: state.prefix, autocomplete: 'off', spellcheck: 'false', placeholder: 'photo, or a path prefix', 'data-testid': 'file-search',
  });
  const form = h('form', { class: 'card toolbar', role: 'search', 'aria-label': 'Search files' },
    h('div', { class: 'toolbar-row' },
      field('Name starts with', search, { className: 'grow', hint: `Or a path prefix: ${p.id}/…` }),
      h('div', { class: 'toolbar-buttons' }, h('button', { type: 'submit', class: 'btn' }, 'Search'))));
  let timer = null;
  function searchNow() {
    clearTimeout(timer);
    state.prefix = search.value.trim();
    state.page = 1;
    load();
  }
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(searchNow, 300);
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); searchNow(); });
  ctx.onLeave(() => clearTimeout(timer));

  // ------------------------------------------------------------ upload hint
  const hint = h('section', { class: 'card stack', 'aria-labelledby': 'upload-h' });
  function drawHint(url) {
    const curl = `# With the secret key (sk_live_…)
curl -s -X POST \\
  ${shellQuote(`${url}/api/storage/upload`)} \\
  -H "x-api-key: $URBACKEND_SECRET_KEY" \\
  -F 'file=@./photo.jpg'`;
    mount(hint,
      h('h2', { id: 'upload-h' }, 'Upload a file'),
      h('p', { class: 'muted' }, 'Files are uploaded through the API, with the secret key: from your server, or the SDK\'s storage.upload(). The answer has the file\'s public link.'),
      snippet(curl, 'upload command', 'upload-snippet'));
  }
  drawHint(location.origin);
  gql(`query($id: ID!) { project(id: $id) { authSettings { github { callbackUrl } } } }`, { id: p.id })
    .then((d) => { if (ctx.alive()) drawHint(publicBase(d.project && d.project.authSettings)); })
    .catch(() => { /* this origin is the best guess already shown */ });

  const heading = h('h1', { tabindex: '-1' }, 'Files');
  const results = h('div', { class: 'results', 'aria-live': 'polite' }, loading('Loading files…'));
  mount(ctx.main,
    heading,
    h('p', { class: 'muted' }, 'The files this project\'s apps uploaded. Each has a public link: anyone who has it can open the file.'),
    usage,
    form,
    results,
    hint);

  // ------------------------------------------------------------ list
  let seq = 0;
  async function load({ focusRow } = {}) {
    const params = new URLSearchParams();
    if (state.prefix) params.set('prefix', state.prefix);
    if (state.page > 1) params.set('page', String(state.page));
    setQuery(params);
    const mine = ++seq;
    results.setAttribute('aria-busy', 'true');
    let page;
    try {
      page = (await gql(`query($id: ID!, $p: String, $l: Int, $k: Int) { files(projectId: $id, prefix: $p, limit: $l, skip: $k) {
        total items { path name url size contentType createdAt } } }`,
      { id: p.id, p: state.prefix || null, l: PAGE_SIZE, k: (state.page - 1) * PAGE_SIZE })).files;
    } catch (err) {
      if (mine === seq && ctx.alive()) { results.removeAttribute('aria-busy'); mount(results, errorBox(err, () => load())); }
      return;
    }
    if (mine !== seq || !ctx.alive()) return;
    results.removeAttribute('aria-busy');
    // Past the last page (the last file of it was deleted): go back one.
    if (!page.items.length && state.page > 1 && page.total > 0) {
      state.page = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
      load({ focusRow });
      return;
    }
    draw(page);
    if (focusRow !== undefined) {
      const links = results.querySelectorAll('[data-testid="file-open"]');
      if (links.length) links[Math.min(focusRow, links.length - 1)].focus();
      else heading.focus();
    }
  }

  function draw({ items, total }) {
    if (!items.length) {
      mount(results, state.prefix
        ? emptyState(`No file name or path starts with “${state.prefix}”.`, 'Names are matched from their start, and case matters.',
          h('button', { type: 'button', class: 'btn', onClick: () => { search.value = ''; searchNow(); search.focus(); } }, 'Clear the search'))
        : emptyState('No files yet.', 'Files appear here once an app uploads them through the API: see “Upload a file” below.'));
      return;
    }
    const first = (state.page - 1) * PAGE_SIZE + 1;
    const last = first + items.length - 1;
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const prev = h('button', { type: 'button', class: 'btn btn-sm', disabled: state.page <= 1 }, '← Previous');
    const next = h('button', { type: 'button', class: 'btn btn-sm', disabled: state.page >= pages }, 'Next →');
    prev.addEventListener('click', () => { state.page -= 1; load(); });
    next.addEventListener('click', () => { state.page += 1; load(); });
    mount(results,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table table-files', 'data-testid': 'files-table' },
        h('caption', { class: 'sr-only' }, `Files ${first} to ${last} of ${total}, newest first`),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Name'),
          h('th', { scope: 'col' }, 'Type'),
          h('th', { scope: 'col', class: 'num' }, 'Size'),
          h('th', { scope: 'col' }, 'Uploaded'),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', {}, items.map((f, i) => {
          const pathId = nextId('path');
          return h('tr', { 'data-path': f.path },
            h('th', { scope: 'row', class: 'file-name', title: f.path },
              f.name, h('span', { class: 'sr-only', id: pathId }, `Path ${f.path}`)),
            h('td', { class: 'file-type nowrap', title: f.contentType }, fmtType(f.contentType),
              h('span', { class: 'sr-only' }, ` (${f.contentType})`)),
            h('td', { class: 'file-size num nowrap', title: `${fmtNumber(f.size)} bytes` }, fmtBytes(f.size)),
            h('td', { class: 'file-date small nowrap' }, fmtDate(f.createdAt)),
            h('td', { class: 'row-actions' },
              h('a', {
                class: 'btn btn-sm', href: f.url, target: '_blank', rel: 'noopener', 'data-testid': 'file-open',
                'aria-label': `Open ${f.name} (new tab)`, 'aria-describedby': pathId,
              }, 'Open'),
              h('button', {
                type: 'button', class: 'btn btn-sm btn-danger-ghost', 'aria-label': `Delete ${f.name}`, 'aria-describedby': pathId,
                'data-testid': 'file-delete', onClick: () => remove(f, i),
              }, 'Delete')));
        })))),
      h('div', { class: 'pager' },
        h('span', { class: 'small muted', 'data-testid': 'files-total' }, `${fmtNumber(first)}–${fmtNumber(last)} of ${fmtNumber(total)}`),
        h('span', { class: 'spacer' }),
        prev, h('span', { class: 'small' }, `Page ${state.page} of ${pages}`), next));
  }

  async function remove(f, row) {
    const ok = await confirmDialog({
      title: `Delete ${f.name}?`,
      message: h('p', {}, 'The file ', h('code', {}, f.path), ' is removed for good, and its public link stops working.'),
      confirmLabel: 'Delete file',
      danger: true,
    });
    if (!ok) return;
    let deleted;
    try {
      deleted = (await gql(`mutation($id: ID!, $path: String!) { deleteFile(projectId: $id, path: $path) }`, { id: p.id, path: f.path })).deleteFile;
    } catch (err) {
      toast(`Could not delete ${f.name}: ${err.message}`, 'error');
      return;
    }
    if (!ctx.alive()) return;
    toast(deleted ? `Deleted ${f.name}.` : `${f.name} was already gone.`, deleted ? 'success' : 'info');
    loadUsage();
    await load({ focusRow: row });
  }

  await Promise.all([loadUsage(), load()]);
}
