import { gql, COLLECTION_FIELDS } from '../api.js';
import { h, mount, loading, errorBox, emptyState, field, formMessage, busy, confirmDialog, toast, select, nextId, fmtNumber } from '../dom.js';
import { href, navigate } from '../router.js';

const TYPES = ['String', 'Number', 'Boolean', 'Date', 'Object', 'Array', 'Ref'];
const SCALARS = ['String', 'Number', 'Boolean', 'Date'];
const FORMATS = [['', 'Any text'], ['email', 'E-mail'], ['url', 'URL'], ['color', 'Color'], ['slug', 'Slug']];
const MAX_DEPTH = 3;
const RLS_MODES = [
  ['PUBLIC_READ', 'Public read: anyone with the publishable key reads; users write their own documents'],
  ['PRIVATE', 'Private: users read and write only their own documents'],
  ['OWNER_WRITE_ONLY', 'Owner write only: anyone reads; only the owner writes'],
];

function rlsLabel(rls) {
  if (!rls.enabled) return 'Off';
  return { PUBLIC_READ: 'Public read', PRIVATE: 'Private', OWNER_WRITE_ONLY: 'Owner write only' }[rls.mode] || rls.mode;
}

// ---------------------------------------------------------------- list

export async function collectionsView(ctx) {
  const pid = encodeURIComponent(ctx.project.id);
  const body = h('div', {}, loading('Loading collections…'));
  mount(ctx.main,
    h('div', { class: 'page-head' },
      h('h1', {}, 'Collections'),
      h('a', { class: 'btn btn-primary', href: href(`/p/${pid}/collections/new`) }, 'New collection')),
    body);

  async function load() {
    mount(body, loading('Loading collections…'));
    let cols;
    try {
      cols = (await gql(`query($id: ID!) { project(id: $id) { collections { name documentCount rls { enabled mode } fields { key type } } } }`, { id: ctx.project.id })).project.collections;
    } catch (err) {
      if (ctx.alive()) mount(body, errorBox(err, load));
      return;
    }
    if (!ctx.alive()) return;
    if (!cols.length) {
      mount(body, emptyState('No collections yet.',
        'A collection holds documents. Declare its fields (types, required, unique, defaults, references) to have every write checked, or leave it flexible to accept any JSON.',
        h('a', { class: 'btn btn-primary', href: href(`/p/${pid}/collections/new`) }, 'Define a collection')));
      return;
    }
    mount(body, h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'data-testid': 'collections-table' },
      h('caption', { class: 'sr-only' }, 'Collections of this project'),
      h('thead', {}, h('tr', {}, ['Name', 'Fields', 'Row-level security', 'Documents', ''].map((t) => h('th', { scope: 'col' }, t ? t : h('span', { class: 'sr-only' }, 'Actions'))))),
      h('tbody', {}, cols.map((c) => h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: href(`/p/${pid}/data/${encodeURIComponent(c.name)}`) }, c.name)),
        h('td', {}, c.fields.length ? c.fields.map((f) => `${f.key}: ${f.type}`).join(', ') : h('span', { class: 'muted' }, 'flexible (any JSON)')),
        h('td', {}, rlsLabel(c.rls)),
        h('td', { class: 'num' }, fmtNumber(c.documentCount)),
        h('td', { class: 'row-actions' },
          h('a', { class: 'btn btn-sm', href: href(`/p/${pid}/data/${encodeURIComponent(c.name)}`), 'aria-label': `Browse ${c.name}` }, 'Browse'),
          h('a', { class: 'btn btn-sm', href: href(`/p/${pid}/collections/${encodeURIComponent(c.name)}/edit`), 'aria-label': `Edit ${c.name}` }, 'Edit'),
          h('button', { type: 'button', class: 'btn btn-sm btn-danger-ghost', 'aria-label': `Drop ${c.name}`, onClick: () => drop(c) }, 'Drop'))))))));
  }

  async function drop(c) {
    const ok = await confirmDialog({
      title: `Drop ${c.name}?`,
      message: `The definition and all ${fmtNumber(c.documentCount)} document${c.documentCount === 1 ? '' : 's'} are removed for good.`,
      confirmLabel: 'Drop collection',
      danger: true,
      typeToConfirm: c.name,
    });
    if (!ok) return;
    try {
      await gql(`mutation($id: ID!, $n: String!) { dropCollection(projectId: $id, name: $n) }`, { id: ctx.project.id, n: c.name });
      toast(`Dropped ${c.name}.`, 'success');
      await ctx.reloadProject();
      if (ctx.alive()) load();
    } catch (err) {
      toast(`Could not drop ${c.name}: ${err.message}`, 'error');
    }
  }
  await load();
}

// ---------------------------------------------------------------- model

function blankField() {
  return { key: '', type: 'String', required: false, unique: false, ref: '', format: '', default: '', items: { type: '', ref: '', format: '', fields: [] }, fields: [] };
}

/** A Field from the API (or an items JSON) → the editor's model. */
function fromAPI(f) {
  const m = blankField();
  m.key = f.key || '';
  m.type = f.type;
  m.required = Boolean(f.required);
  m.unique = Boolean(f.unique);
  m.ref = f.ref || '';
  m.format = f.format || '';
  m.default = f.default === null || f.default === undefined ? '' : String(f.default);
  m.fields = (f.fields || []).map(fromAPI);
  if (f.items) {
    m.items = { type: f.items.type || '', ref: f.items.ref || '', format: f.items.format || '', fields: (f.items.fields || []).map(fromAPI) };
  }
  return m;
}

function toInput(m, depth) {
  const o = { key: m.key.trim(), type: m.type };
  if (m.required) o.required = true;
  if (m.unique && depth === 1 && SCALARS.includes(m.type)) o.unique = true;
  if (m.type === 'Ref') o.ref = m.ref;
  if (m.type === 'String' && m.format) o.format = m.format;
  if (!m.required && m.default !== '' && ['String', 'Number', 'Boolean'].includes(m.type)) {
    if (m.type === 'Number') o.default = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(m.default.trim()) ? Number(m.default) : m.default;
    else if (m.type === 'Boolean') o.default = m.default === 'true';
    else o.default = m.default;
  }
  if (m.type === 'Object') o.fields = m.fields.map((f) => toInput(f, depth + 1));
  if (m.type === 'Array' && m.items.type) {
    const it = { type: m.items.type };
    if (it.type === 'Ref') it.ref = m.items.ref;
    if (it.type === 'String' && m.items.format) it.format = m.items.format;
    if (it.type === 'Object') it.fields = m.items.fields.map((f) => toInput(f, depth + 1));
    o.items = it;
  }
  return o;
}

// ---------------------------------------------------------------- editor

export async function collectionEditorView(ctx) {
  const p = ctx.project;
  const pid = encodeURIComponent(p.id);
  const editing = ctx.params.name || null;
  mount(ctx.main, h('h1', {}, editing ? `Edit ${editing}` : 'New collection'), loading());

  let existing = null;
  let others = [];
  try {
    const d = await gql(`query($id: ID!) { project(id: $id) { collections { ${COLLECTION_FIELDS} } } }`, { id: p.id });
    others = d.project.collections.map((c) => c.name);
    if (editing) {
      existing = d.project.collections.find((c) => c.name === editing);
      if (!existing) {
        if (ctx.alive()) {
          mount(ctx.main, h('h1', {}, 'Collection not found'),
            emptyState(`This project has no collection named ${editing}.`, null,
              h('a', { class: 'btn', href: href(`/p/${pid}/collections`) }, 'Back to collections')));
        }
        return;
      }
    }
  } catch (err) {
    if (ctx.alive()) mount(ctx.main, h('h1', {}, editing ? `Edit ${editing}` : 'New collection'), errorBox(err, () => collectionEditorView(ctx)));
    return;
  }
  if (!ctx.alive()) return;

  const model = {
    name: editing || '',
    fields: existing ? existing.fields.map(fromAPI) : [],
    rls: existing ? { ...existing.rls } : { enabled: false, mode: 'PUBLIC_READ', ownerField: 'userId', requireAuthForWrite: true },
  };
  const refTargets = () => {
    const names = new Set([...others, 'users']);
    const current = model.name.trim();
    if (current) names.add(current);
    return [...names].sort();
  };

  // Name.
  const nameInput = h('input', { type: 'text', name: 'name', required: true, value: model.name, autocomplete: 'off', spellcheck: 'false', readOnly: Boolean(editing), pattern: '[A-Za-z][A-Za-z0-9_-]{0,62}' });
  nameInput.addEventListener('input', () => { model.name = nameInput.value; });
  const nameField = field('Collection name', nameInput, {
    hint: editing ? 'A collection cannot be renamed.' : 'Starts with a letter; letters, digits, _ and -. For example posts or blog_posts.',
  });

  // Fields.
  const fieldsBox = h('div', { class: 'fields-editor' });
  const fieldList = fieldListEditor(model.fields, 1, refTargets, '');
  mount(fieldsBox, fieldList.el);

  // RLS.
  const rlsBox = h('fieldset', { class: 'card stack rls-box' });
  const rlsErr = h('p', { class: 'field-error', hidden: true, id: nextId('rls-err') });
  const rlsFields = {};
  function drawRLS() {
    const enabled = h('input', { type: 'checkbox', checked: model.rls.enabled });
    enabled.addEventListener('change', () => { model.rls.enabled = enabled.checked; drawRLS(); rlsBox.querySelector('input').focus(); });
    const mode = select(RLS_MODES, model.rls.mode, { disabled: !model.rls.enabled });
    mode.addEventListener('change', () => { model.rls.mode = mode.value; });
    const dl = h('datalist', { id: nextId('owners') }, model.fields.filter((f) => f.key && (f.type === 'String' || (f.type === 'Ref' && f.ref === 'users'))).map((f) => h('option', { value: f.key })));
    const owner = h('input', { type: 'text', value: model.rls.ownerField, list: dl.id, disabled: !model.rls.enabled, autocomplete: 'off', spellcheck: 'false' });
    owner.addEventListener('input', () => { model.rls.ownerField = owner.value; });
    const auth = h('input', { type: 'checkbox', checked: model.rls.requireAuthForWrite, disabled: !model.rls.enabled });
    auth.addEventListener('change', () => { model.rls.requireAuthForWrite = auth.checked; });
    rlsFields.mode = field('Mode', mode);
    rlsFields.ownerField = field('Owner field', owner, { hint: 'Holds the owner\'s user id: a String field or a Ref to users (default userId).' });
    mount(rlsBox,
      h('legend', {}, 'Row-level security'),
      h('p', { class: 'muted small' }, 'Off: publishable keys may read, not write. On: signed-in users write their own documents with the publishable key; the owner field is filled in on insert and can never change. The secret key always reads and writes everything.'),
      field('Enable row-level security', enabled, { inline: true }),
      rlsFields.mode,
      rlsFields.ownerField,
      dl,
      field('Require a signed-in user for writes', auth, { inline: true }),
      rlsErr);
  }
  drawRLS();

  const msg = formMessage();
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, editing ? 'Save collection' : 'Create collection');
  const form = h('form', { class: 'stack', novalidate: true, 'data-testid': 'collection-form' },
    msg,
    h('section', { class: 'card stack' }, nameField),
    h('section', { class: 'card stack', 'aria-labelledby': 'fields-h' },
      h('h2', { id: 'fields-h' }, 'Fields'),
      h('p', { class: 'muted small' }, 'Every document also has _id, createdAt and updatedAt. With no fields the collection is flexible: any JSON document goes.'),
      fieldsBox),
    rlsBox,
    h('div', { class: 'actions sticky-actions' }, save, h('a', { class: 'btn', href: href(`/p/${pid}/collections`) }, 'Cancel')));

  function clearErrors() {
    msg.clear();
    nameField.setError(null);
    rlsErr.hidden = true;
    for (const f of Object.values(rlsFields)) f.setError(null);
    for (const el of form.querySelectorAll('.field-row-error')) { el.hidden = true; el.textContent = ''; }
    for (const el of form.querySelectorAll('.field-row[aria-invalid], .field-row [aria-invalid]')) el.removeAttribute('aria-invalid');
  }

  function showError(message) {
    msg.show(h('span', {}, h('strong', {}, 'The collection was not saved. '), message));
    const row = findRow(model.fields, message);
    if (row) {
      const slot = row.querySelector(':scope > .field-row-error');
      slot.textContent = message;
      slot.hidden = false;
      row.setAttribute('aria-invalid', 'true');
      // Focus the control the message is about, and let it read the message.
      const about = [[/\bref\b/, 'field-ref'], [/default/, 'field-default'], [/items/, 'field-items'], [/unique/i, 'field-unique'], [/\btype\b/, 'field-type']]
        .find(([re, id]) => re.test(message.replace(/^field "[^"]*"/, '')) && row.querySelector(`:scope > * [data-testid=${id}]`));
      const own = (el) => el && el.closest('.field-row') === row;
      let input = about ? row.querySelector(`[data-testid=${about[1]}]`) : null;
      if (!own(input)) input = row.querySelector('[data-testid=field-key]');
      if (input) {
        const ids = new Set((input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
        ids.add(slot.id);
        input.setAttribute('aria-describedby', [...ids].join(' '));
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
    }
    const rlsField = /^rls\.ownerField/.test(message) ? rlsFields.ownerField : /^rls\.mode/.test(message) ? rlsFields.mode : null;
    if (rlsField) {
      rlsField.setError(message);
      rlsField.control.focus();
      return;
    }
    if (/^rls\./.test(message)) {
      rlsErr.textContent = message;
      rlsErr.hidden = false;
      rlsBox.querySelector('input').focus();
      return;
    }
    if (/^collection (name|")/i.test(message)) {
      nameField.setError(message);
      nameInput.focus();
      return;
    }
    msg.focus();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    if (!model.name.trim()) {
      nameField.setError('A collection needs a name.');
      nameInput.focus();
      return;
    }
    const input = { name: model.name.trim(), fields: model.fields.map((f) => toInput(f, 1)) };
    const rls = { enabled: model.rls.enabled };
    if (model.rls.enabled) {
      rls.mode = model.rls.mode;
      rls.ownerField = model.rls.ownerField.trim() || 'userId';
      rls.requireAuthForWrite = model.rls.requireAuthForWrite;
    }
    input.rls = rls;
    await busy(save, 'Saving…', async () => {
      try {
        await gql(`mutation($id: ID!, $in: CollectionInput!) { defineCollection(projectId: $id, input: $in) { name } }`, { id: p.id, in: input });
        await ctx.reloadProject();
        toast(editing ? `Saved ${input.name}.` : `Created ${input.name}.`, 'success');
        navigate(`/p/${pid}/collections`);
      } catch (err) {
        showError(err.message);
      }
    });
  });
  msg.tabIndex = -1;

  mount(ctx.main,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: href(`/p/${pid}/collections`) }, 'Collections'), ` / ${editing || 'New'}`),
    h('h1', {}, editing ? `Edit ${editing}` : 'New collection'),
    form);
  if (!editing) nameInput.focus();
}

/** The row element of the field a server message names, if any. */
function findRow(fields, message) {
  const quoted = message.match(/field "([^"]+)"/);
  const unique = message.match(/unique index on '([^']+)'/);
  const numbered = message.match(/\(field (\d+)(?: of ([^)]+))?\)/);
  let path = quoted ? quoted[1] : unique ? unique[1] : null;
  if (path) {
    path = path.replace(/\[\]$/, '');
    return walk(fields, '', (m, p) => p === path);
  }
  if (numbered) {
    const n = Number(numbered[1]);
    const parent = numbered[2] || '';
    if (!parent) return fields[n - 1] ? fields[n - 1].el : null;
    const owner = walkModel(fields, '', (m, p) => p === parent.replace(/\[\]$/, ''));
    if (!owner) return null;
    const list = parent.endsWith('[]') ? owner.items.fields : owner.fields;
    return list[n - 1] ? list[n - 1].el : null;
  }
  return null;
}

function walkModel(fields, prefix, pred) {
  for (const m of fields) {
    const p = prefix + m.key.trim();
    if (pred(m, p)) return m;
    const inner = walkModel(m.fields, `${p}.`, pred) || walkModel(m.items.fields, `${p}[].`, pred);
    if (inner) return inner;
  }
  return null;
}

function walk(fields, prefix, pred) {
  const m = walkModel(fields, prefix, pred);
  return m ? m.el : null;
}

/** An editable list of fields at one depth (1 = top level). */
function fieldListEditor(list, depth, refTargets, label) {
  const rows = h('div', { class: 'field-rows' });
  const add = h('button', { type: 'button', class: 'btn btn-sm' }, depth === 1 ? 'Add field' : `Add field to ${label || 'object'}`);
  const empty = h('p', { class: 'muted small' }, depth === 1 ? 'No fields: the collection is flexible.' : 'No nested fields yet: an object needs at least one.');
  function redraw(focusIndex) {
    rows.replaceChildren(...list.map((m, i) => fieldRow(m, i, list, depth, refTargets, redraw)));
    empty.hidden = list.length > 0;
    if (focusIndex !== undefined && list[focusIndex]) list[focusIndex].el.querySelector('input').focus();
  }
  add.addEventListener('click', () => {
    list.push(blankField());
    redraw(list.length - 1);
  });
  redraw();
  return { el: h('div', { class: ['field-list', `depth-${depth}`] }, empty, rows, h('div', {}, add)) };
}

function fieldRow(m, index, list, depth, refTargets, redrawList) {
  const row = h('fieldset', { class: 'field-row', 'data-testid': 'field-row' });
  m.el = row;
  const legend = h('legend', { class: 'field-row-legend' });
  const setLegend = () => { legend.textContent = m.key.trim() ? `Field ${index + 1}: ${m.key.trim()}` : `Field ${index + 1}`; };
  setLegend();

  const key = h('input', { type: 'text', value: m.key, autocomplete: 'off', spellcheck: 'false', 'data-testid': 'field-key' });
  key.addEventListener('input', () => { m.key = key.value; setLegend(); });
  key.addEventListener('change', () => remove.setAttribute('aria-label', `Remove field ${m.key || index + 1}`));
  const typeOpts = TYPES.filter((t) => t !== 'Object' || depth < MAX_DEPTH);
  const type = select(typeOpts, m.type, { 'data-testid': 'field-type' });
  const required = h('input', { type: 'checkbox', checked: m.required, 'data-testid': 'field-required' });
  const unique = h('input', { type: 'checkbox', checked: m.unique, 'data-testid': 'field-unique' });
  const uniqueField = field('Unique', unique, { inline: true });
  const options = h('div', { class: 'field-options' });
  const remove = h('button', { type: 'button', class: 'btn btn-sm btn-danger-ghost', 'aria-label': `Remove field ${m.key || index + 1}` }, 'Remove');
  const up = h('button', { type: 'button', class: 'btn btn-sm btn-icon', 'aria-label': `Move field ${m.key || index + 1} up`, disabled: index === 0 }, '↑');
  const down = h('button', { type: 'button', class: 'btn btn-sm btn-icon', 'aria-label': `Move field ${m.key || index + 1} down`, disabled: index === list.length - 1 }, '↓');

  function syncUnique() {
    const can = depth === 1 && SCALARS.includes(m.type);
    uniqueField.hidden = !can;
    if (!can) { m.unique = false; unique.checked = false; }
  }
  type.addEventListener('change', () => { m.type = type.value; syncUnique(); drawOptions(); });
  required.addEventListener('change', () => { m.required = required.checked; drawOptions(); });
  unique.addEventListener('change', () => { m.unique = unique.checked; });
  remove.addEventListener('click', () => {
    list.splice(index, 1);
    redrawList(Math.min(index, list.length - 1));
  });
  up.addEventListener('click', () => { [list[index - 1], list[index]] = [list[index], list[index - 1]]; redrawList(index - 1); list[index - 1].el.querySelector('button[aria-label$=" up"]')?.focus(); });
  down.addEventListener('click', () => { [list[index + 1], list[index]] = [list[index], list[index + 1]]; redrawList(index + 1); list[index + 1].el.querySelector('button[aria-label$=" down"]')?.focus(); });

  function refSelect(value, onChange, label) {
    const targets = refTargets();
    const opts = [['', 'Choose a collection…'], ...targets.map((t) => [t, t === 'users' ? 'users (end users)' : t])];
    if (value && !targets.includes(value)) opts.push([value, value]);
    const sel = select(opts, value, { 'data-testid': 'field-ref' });
    sel.addEventListener('change', () => onChange(sel.value));
    return field(label, sel);
  }

  function drawOptions() {
    const parts = [];
    if (m.type === 'String') {
      const fmt = select(FORMATS, m.format);
      fmt.addEventListener('change', () => { m.format = fmt.value; });
      parts.push(field('Format', fmt));
    }
    if (['String', 'Number', 'Boolean'].includes(m.type) && !m.required) {
      let def;
      if (m.type === 'Boolean') {
        def = select([['', 'No default'], ['true', 'true'], ['false', 'false']], m.default, { 'data-testid': 'field-default' });
        def.addEventListener('change', () => { m.default = def.value; });
      } else {
        def = h('input', { type: 'text', inputmode: m.type === 'Number' ? 'decimal' : null, value: m.default, autocomplete: 'off', 'data-testid': 'field-default' });
        def.addEventListener('input', () => { m.default = def.value; });
      }
      parts.push(field('Default', def, { hint: 'Used when a document leaves the field out.' }));
    }
    if (m.type === 'Ref') {
      parts.push(refSelect(m.ref, (v) => { m.ref = v; }, 'Refers to'));
    }
    if (m.type === 'Array') {
      const itemTypes = [['', 'Any JSON values'], ...['String', 'Number', 'Boolean', 'Date', 'Object', 'Ref'].filter((t) => t !== 'Object' || depth < MAX_DEPTH).map((t) => [t, t])];
      const it = select(itemTypes, m.items.type, { 'data-testid': 'field-items' });
      it.addEventListener('change', () => { m.items.type = it.value; drawOptions(); options.querySelector('select[data-testid=field-items]').focus(); });
      parts.push(field('Items', it));
      if (m.items.type === 'Ref') parts.push(refSelect(m.items.ref, (v) => { m.items.ref = v; }, 'Items refer to'));
      if (m.items.type === 'String') {
        const fmt = select(FORMATS, m.items.format);
        fmt.addEventListener('change', () => { m.items.format = fmt.value; });
        parts.push(field('Items format', fmt));
      }
      if (m.items.type === 'Object') {
        parts.push(h('div', { class: 'nested' }, h('p', { class: 'nested-title' }, 'Fields of each item'),
          fieldListEditor(m.items.fields, depth + 1, refTargets, `${m.key || 'items'}[]`).el));
      }
    }
    if (m.type === 'Object') {
      parts.push(h('div', { class: 'nested' }, h('p', { class: 'nested-title' }, `Fields of ${m.key || 'this object'}`),
        fieldListEditor(m.fields, depth + 1, refTargets, m.key).el));
    }
    options.replaceChildren(...parts);
    options.hidden = parts.length === 0;
  }
  syncUnique();
  drawOptions();

  row.append(legend,
    h('div', { class: 'field-row-main' },
      field('Name', key, { className: 'grow' }),
      field('Type', type),
      field('Required', required, { inline: true }),
      uniqueField,
      h('div', { class: 'field-row-buttons' }, up, down, remove)),
    options,
    h('p', { class: 'field-row-error field-error', id: nextId('row-err'), hidden: true }));
  return row;
}
