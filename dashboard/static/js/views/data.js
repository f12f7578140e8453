import { gql, COLLECTION_FIELDS } from '../api.js';
import { h, mount, loading, errorBox, emptyState, field, formMessage, busy, confirmDialog, formDialog, toast, select, nextId, fmtValue, fmtNumber, fmtDate } from '../dom.js';
import { href, navigate, setQuery } from '../router.js';

const PAGE_SIZE = 20;
const SYSTEM = ['_id', 'createdAt', 'updatedAt'];
const HIDDEN = [...SYSTEM, '__v'];
const OPS = [
  ['', 'equals'],
  ['_ne', 'is not'],
  ['_gt', '>'],
  ['_gte', '≥'],
  ['_lt', '<'],
  ['_lte', '≤'],
  ['_in', 'is one of (a,b)'],
  ['_regex', 'matches text'],
  ['_exists', 'exists (true/false)'],
];
const RESERVED = new Set(['sort', 'page', 'limit', 'skip', 'fields', 'meta', 'populate', 'expand', 'count', 'cursor']);

/** Parses a REST query string into filter rows and a sort. */
export function parseQuery(q) {
  const params = new URLSearchParams(q || '');
  const filters = [];
  let sort = '-createdAt';
  for (const [k, v] of params) {
    if (k === 'sort') { sort = v; continue; }
    if (RESERVED.has(k)) continue;
    const op = OPS.find(([suffix]) => suffix && k.endsWith(suffix));
    filters.push(op ? { field: k.slice(0, -op[0].length), op: op[0], value: v } : { field: k, op: '', value: v });
  }
  return { filters, sort };
}

export function buildQuery(filters, sort) {
  const params = new URLSearchParams();
  for (const f of filters) {
    if (!f.field.trim()) continue;
    params.append(f.field.trim() + f.op, f.value);
  }
  if (sort && sort !== '-createdAt') params.set('sort', sort);
  return params.toString();
}

export async function dataView(ctx) {
  const p = ctx.project;
  const pid = encodeURIComponent(p.id);
  const names = p.collections.map((c) => c.name);
  if (!ctx.params.collection) {
    if (names.length) {
      navigate(`/p/${pid}/data/${encodeURIComponent(names[0])}`, { replace: true });
      return;
    }
    mount(ctx.main, h('h1', {}, 'Data'),
      emptyState('No collections yet.', 'Define a collection, then browse, filter, add and edit its documents here.',
        h('a', { class: 'btn btn-primary', href: href(`/p/${pid}/collections/new`) }, 'Define a collection')));
    return;
  }
  const name = ctx.params.collection;
  mount(ctx.main, h('h1', {}, `Data: ${name}`), loading());
  let col;
  try {
    col = (await gql(`query($id: ID!, $n: String!) { project(id: $id) { collection(name: $n) { ${COLLECTION_FIELDS} } } }`, { id: p.id, n: name })).project.collection;
  } catch (err) {
    if (ctx.alive()) mount(ctx.main, h('h1', {}, `Data: ${name}`), errorBox(err, () => dataView(ctx)));
    return;
  }
  if (!ctx.alive()) return;
  if (!col) {
    mount(ctx.main, h('h1', {}, 'Collection not found'),
      emptyState(`This project has no collection named ${name}.`, null, h('a', { class: 'btn', href: href(`/p/${pid}/data`) }, 'Back to data')));
    return;
  }

  // ------------------------------------------------------------ state
  const initial = parseQuery(ctx.query.get('q'));
  const state = { filters: initial.filters, sort: initial.sort, page: Math.max(1, Number(ctx.query.get('page')) || 1) };
  const fieldNames = [...col.fields.map((f) => f.key), ...SYSTEM];
  const listId = nextId('keys');
  const keyList = h('datalist', { id: listId }, fieldNames.map((k) => h('option', { value: k })));

  // ------------------------------------------------------------ toolbar
  const picker = select(names.map((n) => [n, n]), name, { id: nextId('col') });
  picker.addEventListener('change', () => navigate(`/p/${pid}/data/${encodeURIComponent(picker.value)}`));

  const filterRows = h('div', { class: 'filter-rows' });
  function drawFilters() {
    filterRows.replaceChildren(...state.filters.map((f, i) => {
      const fieldIn = h('input', { type: 'text', value: f.field, list: listId, autocomplete: 'off', spellcheck: 'false', 'aria-label': `Filter ${i + 1} field`, placeholder: 'field', 'data-testid': 'filter-field' });
      fieldIn.addEventListener('input', () => { f.field = fieldIn.value; });
      const op = select(OPS, f.op, { 'aria-label': `Filter ${i + 1} condition`, 'data-testid': 'filter-op' });
      op.addEventListener('change', () => { f.op = op.value; });
      const val = h('input', { type: 'text', value: f.value, autocomplete: 'off', 'aria-label': `Filter ${i + 1} value`, placeholder: 'value', 'data-testid': 'filter-value' });
      val.addEventListener('input', () => { f.value = val.value; });
      const rm = h('button', { type: 'button', class: 'btn btn-sm btn-icon', 'aria-label': `Remove filter ${i + 1}` }, '✕');
      rm.addEventListener('click', () => { state.filters.splice(i, 1); drawFilters(); apply(); });
      fieldIn.classList.add('f-field');
      op.classList.add('f-op');
      val.classList.add('f-value');
      rm.classList.add('f-rm');
      return h('div', { class: 'filter-row' }, fieldIn, op, val, rm);
    }));
  }
  const addFilter = h('button', { type: 'button', class: 'btn btn-sm' }, 'Add filter');
  addFilter.addEventListener('click', () => {
    state.filters.push({ field: col.fields[0] ? col.fields[0].key : '', op: '', value: '' });
    drawFilters();
    filterRows.lastChild.querySelector('input[data-testid=filter-value]').focus();
  });

  const sortOptions = [];
  for (const k of [...SYSTEM.slice(1), ...col.fields.filter((f) => ['String', 'Number', 'Boolean', 'Date'].includes(f.type)).map((f) => f.key), '_id']) {
    sortOptions.push([`-${k}`, `${k}, descending`], [k, `${k}, ascending`]);
  }
  if (!sortOptions.some(([v]) => v === state.sort)) sortOptions.unshift([state.sort, state.sort]);
  const sortSel = select(sortOptions, state.sort, { 'data-testid': 'sort' });
  sortSel.addEventListener('change', () => { state.sort = sortSel.value; apply(); });

  const queryShown = h('code', { class: 'query-shown', 'data-testid': 'query-string' });
  const toolbar = h('form', { class: 'card stack toolbar', role: 'search', 'aria-label': `Filter ${name}` },
    h('div', { class: 'toolbar-row' },
      field('Collection', picker),
      field('Sort by', sortSel),
      h('div', { class: 'toolbar-buttons' },
        h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'insert-document', onClick: () => editDoc(null) }, 'Add document'))),
    h('div', { class: 'filters' }, h('span', { class: 'label' }, 'Filters'), filterRows,
      h('div', { class: 'actions' }, addFilter,
        h('button', { type: 'submit', class: 'btn btn-sm' }, 'Apply filters'),
        h('button', { type: 'button', class: 'btn btn-sm btn-ghost', onClick: () => { state.filters = []; drawFilters(); apply(); } }, 'Clear'))),
    h('p', { class: 'small muted' }, 'REST query: ', queryShown),
    keyList);
  toolbar.addEventListener('submit', (e) => { e.preventDefault(); apply(); });

  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  mount(ctx.main,
    h('div', { class: 'page-head' },
      h('h1', {}, `Data: ${name}`),
      h('a', { class: 'btn', href: href(`/p/${pid}/collections/${encodeURIComponent(name)}/edit`) }, 'Edit fields')),
    toolbar,
    results);
  drawFilters();

  function apply() {
    state.page = 1;
    load();
  }

  let seq = 0;
  async function load() {
    const q = buildQuery(state.filters, state.sort);
    const params = new URLSearchParams();
    if (q) params.set('q', q);
    if (state.page > 1) params.set('page', String(state.page));
    setQuery(params);
    const full = new URLSearchParams(q);
    if (!full.has('sort')) full.set('sort', state.sort);
    full.set('limit', String(PAGE_SIZE));
    full.set('page', String(state.page));
    queryShown.textContent = full.toString();
    const mine = ++seq;
    results.setAttribute('aria-busy', 'true');
    if (!results.firstChild) mount(results, loading('Loading documents…'));
    let page;
    try {
      page = (await gql(`query($id: ID!, $c: String!, $q: String) { documents(projectId: $id, collection: $c, query: $q) { items total } }`,
        { id: p.id, c: name, q: full.toString() })).documents;
    } catch (err) {
      if (mine === seq && ctx.alive()) {
        results.removeAttribute('aria-busy');
        mount(results, err.code === 'BAD_USER_INPUT'
          ? h('div', { class: 'alert alert-error', role: 'alert', 'data-testid': 'query-error' },
            h('span', {}, h('strong', {}, 'The server refused this query: '), err.message, ' Change the filters and apply them again.'))
          : errorBox(err, load));
      }
      return;
    }
    if (mine !== seq || !ctx.alive()) return;
    results.removeAttribute('aria-busy');
    drawResults(page);
  }

  function columns(items) {
    if (col.fields.length) return col.fields.slice(0, 6).map((f) => f.key);
    const seen = [];
    for (const d of items) for (const k of Object.keys(d)) if (!HIDDEN.includes(k) && !seen.includes(k)) seen.push(k);
    return seen.slice(0, 6);
  }

  function drawResults({ items, total }) {
    if (!items.length) {
      const filtered = state.filters.length > 0;
      mount(results, emptyState(
        filtered ? 'No documents match these filters.' : `${name} has no documents yet.`,
        filtered ? 'Change or clear the filters.' : 'Add one here, or insert through the REST API, GraphQL or the SDK.',
        filtered ? null : h('button', { type: 'button', class: 'btn btn-primary', onClick: () => editDoc(null) }, 'Add the first document')));
      return;
    }
    const cols = columns(items);
    const first = (state.page - 1) * PAGE_SIZE + 1;
    const last = first + items.length - 1;
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const prev = h('button', { type: 'button', class: 'btn btn-sm', disabled: state.page <= 1 }, '← Previous');
    const next = h('button', { type: 'button', class: 'btn btn-sm', disabled: state.page >= pages }, 'Next →');
    prev.addEventListener('click', () => { state.page -= 1; load(); });
    next.addEventListener('click', () => { state.page += 1; load(); });
    mount(results,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table table-docs', 'data-testid': 'documents-table' },
        h('caption', { class: 'sr-only' }, `Documents of ${name}, ${first} to ${last} of ${total}`),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, '_id'),
          cols.map((c) => h('th', { scope: 'col' }, c)),
          h('th', { scope: 'col' }, 'createdAt'),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', {}, items.map((d) => h('tr', { 'data-id': d._id },
          h('td', { class: 'mono small id-cell' }, h('span', { title: d._id }, `…${String(d._id).slice(-8)}`)),
          cols.map((c) => h('td', { title: typeof d[c] === 'string' ? d[c] : undefined }, fmtValue(d[c]))),
          h('td', { class: 'small nowrap' }, fmtDate(d.createdAt)),
          h('td', { class: 'row-actions' },
            h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': `Edit document ${d._id}`, onClick: () => editDoc(d) }, 'Edit'),
            h('button', { type: 'button', class: 'btn btn-sm btn-danger-ghost', 'aria-label': `Delete document ${d._id}`, onClick: () => deleteDoc(d) }, 'Delete'))))))),
      h('div', { class: 'pager' },
        h('span', { class: 'small muted', 'data-testid': 'documents-total' }, `${fmtNumber(first)}–${fmtNumber(last)} of ${fmtNumber(total)}`),
        h('span', { class: 'spacer' }),
        prev, h('span', { class: 'small' }, `Page ${state.page} of ${pages}`), next));
  }

  async function deleteDoc(d) {
    const ok = await confirmDialog({
      title: 'Delete this document?',
      message: h('p', {}, 'Document ', h('code', {}, d._id), ' is removed for good.'),
      confirmLabel: 'Delete document',
      danger: true,
    });
    if (!ok) return;
    try {
      await gql(`mutation($id: ID!, $c: String!, $d: ID!) { deleteDocument(projectId: $id, collection: $c, id: $d) }`, { id: p.id, c: name, d: d._id });
      toast('Document deleted.', 'success');
      load();
    } catch (err) {
      toast(`Could not delete: ${err.message}`, 'error');
    }
  }

  async function editDoc(doc) {
    const saved = await formDialog(doc ? 'Edit document' : `Add a document to ${name}`, (close) => documentForm(col, doc, close, p.id), { wide: true });
    if (saved) {
      toast(doc ? 'Document saved.' : 'Document added.', 'success');
      if (!doc) state.page = 1;
      load();
    }
  }

  await load();
}

// ---------------------------------------------------------------- the document form

function inputFor(f, value) {
  const v = value === undefined || value === null ? '' : value;
  switch (f.type) {
    case 'Boolean':
      return select([['', '—'], ['true', 'true'], ['false', 'false']], v === '' ? '' : String(v));
    case 'Number':
      return h('input', { type: 'text', inputmode: 'decimal', value: String(v), autocomplete: 'off' });
    case 'Object':
    case 'Array':
      return h('textarea', { rows: 3, class: 'mono', spellcheck: 'false', value: v === '' ? '' : JSON.stringify(v, null, 2) });
    case 'String':
      return h('input', { type: { email: 'email', url: 'url' }[f.format] || 'text', value: String(v), autocomplete: 'off' });
    default:
      return h('input', { type: 'text', value: typeof v === 'object' ? (v && v._id) || JSON.stringify(v) : String(v), autocomplete: 'off', spellcheck: 'false' });
  }
}

function hintFor(f) {
  switch (f.type) {
    case 'Date': return 'A date (2024-01-15) or date and time (2024-01-15T10:30:00Z).';
    case 'Ref': return `The _id of a document in ${f.ref}.`;
    case 'Object': return 'JSON object, for example {"a": 1}.';
    case 'Array': return `JSON array${f.items && f.items.type ? ` of ${f.items.type}` : ''}, for example ["a", "b"].`;
    case 'String': return f.format ? `Format: ${f.format}.` : null;
    default: return null;
  }
}

function describe(f, isNew) {
  const parts = [hintFor(f)];
  if (isNew && f.default !== null && f.default !== undefined) parts.push(`Left empty: ${JSON.stringify(f.default)}.`);
  return parts.filter(Boolean).join(' ') || null;
}

/** Reads one control back into a JSON value; throws a message on bad JSON. */
function readValue(f, control) {
  const raw = control.value;
  if (raw.trim() === '') return undefined;
  switch (f.type) {
    case 'Boolean': return raw === 'true';
    case 'Number': return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
    case 'Object':
    case 'Array':
      try { return JSON.parse(raw); } catch { throw new Error(`Field '${f.key}' must be valid JSON.`); }
    default: return raw;
  }
}

function documentForm(col, doc, close, projectId) {
  const msg = formMessage();
  const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'save-document' }, doc ? 'Save document' : 'Add document');
  const cancel = h('button', { type: 'button', class: 'btn', onClick: () => close(false) }, 'Cancel');
  const form = h('form', { class: 'stack', novalidate: true, 'data-testid': 'document-form' });
  const controls = {};
  const wraps = {};
  let json = null;
  let jsonWrap = null;

  if (col.fields.length) {
    for (const f of col.fields) {
      const c = inputFor(f, doc ? doc[f.key] : undefined);
      c.name = f.key;
      if (f.required) c.setAttribute('aria-required', 'true');
      c.dataset.testid = `doc-${f.key}`;
      controls[f.key] = c;
      wraps[f.key] = field(`${f.key}${f.required ? ' (required)' : ''} · ${f.type}`, c, { hint: describe(f, !doc) });
    }
  } else {
    const body = {};
    if (doc) for (const [k, v] of Object.entries(doc)) if (!HIDDEN.includes(k)) body[k] = v;
    json = h('textarea', { rows: 10, class: 'mono', spellcheck: 'false', 'data-testid': 'doc-json', value: JSON.stringify(doc ? body : { text: 'Hello' }, null, 2) });
    jsonWrap = field('Document (JSON)', json, {
      hint: `A flexible collection takes any JSON object. Keys cannot start with $ or contain dots.${doc ? ' A key you remove is set to null.' : ''}`,
    });
    json.original = body;
  }

  mount(form, msg,
    doc ? h('p', { class: 'small muted' }, '_id ', h('code', {}, doc._id), ` · created ${fmtDate(doc.createdAt)}`) : null,
    jsonWrap || Object.values(wraps),
    h('div', { class: 'dialog-actions' }, cancel, save));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.clear();
    for (const w of Object.values(wraps)) w.setError(null);
    if (jsonWrap) jsonWrap.setError(null);
    let payload;
    try {
      if (json) {
        payload = JSON.parse(json.value);
        if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new Error('The document must be a JSON object.');
        if (doc) {
          for (const k of HIDDEN) delete payload[k];
          for (const k of Object.keys(json.original)) if (!(k in payload)) payload[k] = null;
        }
      } else {
        payload = {};
        for (const f of col.fields) {
          let v;
          try {
            v = readValue(f, controls[f.key]);
          } catch (err) {
            wraps[f.key].setError(err.message);
            controls[f.key].focus();
            return;
          }
          if (doc) {
            const before = doc[f.key] === undefined ? undefined : doc[f.key];
            const same = JSON.stringify(before === null ? undefined : before) === JSON.stringify(v);
            if (same) continue;
            if (f.type === 'Ref' && before && typeof before === 'object' && before._id === v) continue;
            payload[f.key] = v === undefined ? null : v;
          } else if (v !== undefined) {
            payload[f.key] = v;
          }
        }
      }
    } catch (err) {
      if (jsonWrap) {
        jsonWrap.setError(`Not a JSON object: ${err.message}`);
        json.focus();
      } else {
        msg.show(err.message);
      }
      return;
    }
    if (doc && !Object.keys(payload).length) { close(false); return; }
    await busy(save, 'Saving…', async () => {
      try {
        if (doc) {
          await gql(`mutation($p: ID!, $c: String!, $id: ID!, $set: JSON!) { updateDocument(projectId: $p, collection: $c, id: $id, set: $set) }`,
            { p: projectId, c: col.name, id: doc._id, set: payload });
        } else {
          await gql(`mutation($p: ID!, $c: String!, $doc: JSON!) { insertDocument(projectId: $p, collection: $c, doc: $doc) }`,
            { p: projectId, c: col.name, doc: payload });
        }
        close(true);
      } catch (err) {
        const m = err.message.match(/Field '([^'.]+)/);
        if (m && wraps[m[1]]) {
          wraps[m[1]].setError(err.message);
          controls[m[1]].focus();
        } else if (jsonWrap) {
          jsonWrap.setError(err.message);
          json.focus();
        } else {
          msg.show(err.message);
        }
      }
    });
  });
  return form;
}
