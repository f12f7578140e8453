// Small DOM helpers: element building (text only, never HTML strings, so
// nothing a document or user holds can become markup), dialogs, toasts,
// and the loading, empty and error states every view shares.

const SVG_NS = 'http://www.w3.org/2000/svg';
const BOOL_PROPS = new Set(['disabled', 'checked', 'required', 'hidden', 'selected', 'readOnly', 'multiple', 'open', 'autofocus']);
let uid = 0;

/** A unique element id with a readable prefix. */
export function nextId(prefix = 'id') {
  uid += 1;
  return `${prefix}-${uid}`;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false || c === true) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

function applyProps(el, props, svg) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false && !BOOL_PROPS.has(k)) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'for') el.htmlFor = v;
    else if (k === 'value' && !svg) el.value = v;
    else if (BOOL_PROPS.has(k) && !svg) el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** h('button', {class: 'btn', onClick}, 'Save') builds an HTML element. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props, false);
  append(el, children);
  return el;
}

/** s('path', {d: '…'}) builds an SVG element. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, props, true);
  append(el, children);
  return el;
}

/** Replaces el's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// ---------------------------------------------------------------- formats

export function fmtNumber(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return new Intl.NumberFormat().format(n);
}

export function fmtMs(ms) {
  if (!ms) return '0 ms';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function fmtBytes(b) {
  if (!b) return '0 B';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = b;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function fmtDate(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A cell-friendly one-line rendering of any JSON value. */
export function fmtValue(v, max = 60) {
  let out;
  if (v === null || v === undefined) out = '';
  else if (typeof v === 'string') out = v;
  else out = JSON.stringify(v);
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

// ---------------------------------------------------------------- states

export function loading(label = 'Loading…') {
  return h('div', { class: 'state state-loading', role: 'status', 'aria-live': 'polite' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, label));
}

export function errorBox(err, retry) {
  const code = err && err.code && !['ERROR', 'NETWORK'].includes(err.code) ? err.code : '';
  return h('div', { class: 'alert alert-error', role: 'alert' },
    h('div', {},
      h('strong', {}, 'Something went wrong. '),
      h('span', {}, err && err.message ? err.message : String(err)),
      code ? h('span', { class: 'muted small' }, ` (${code})`) : null),
    retry ? h('button', { type: 'button', class: 'btn btn-sm', onClick: retry }, 'Try again') : null);
}

export function emptyState(title, text, ...actions) {
  return h('div', { class: 'empty' },
    h('p', { class: 'empty-title' }, title),
    text ? h('p', { class: 'muted' }, text) : null,
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

// ---------------------------------------------------------------- forms

/**
 * A labelled form control with an optional hint and a slot for its
 * error; aria-describedby links all three.
 */
export function field(label, control, { hint, inline = false, className } = {}) {
  const id = control.id || nextId('f');
  control.id = id;
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const described = [hint ? hintId : null, errId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', described);
  const err = h('p', { class: 'field-error', id: errId, hidden: true });
  const lab = h('label', { for: id }, label);
  const wrap = h('div', { class: ['field', inline ? 'field-inline' : '', className] },
    inline ? [control, lab] : [lab, control],
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    err);
  wrap.control = control;
  wrap.setError = (msg) => setFieldError(wrap, msg);
  return wrap;
}

export function setFieldError(wrap, msg) {
  const err = wrap.querySelector(':scope > .field-error');
  if (msg) {
    err.textContent = msg;
    err.hidden = false;
    wrap.control.setAttribute('aria-invalid', 'true');
  } else {
    err.textContent = '';
    err.hidden = true;
    wrap.control.removeAttribute('aria-invalid');
  }
}

/** A region that shows a form's overall error or success message. */
export function formMessage() {
  const el = h('div', { class: 'form-message', hidden: true });
  el.show = (msg, kind = 'error') => {
    el.replaceChildren();
    el.className = `form-message alert alert-${kind}`;
    el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    append(el, [msg]);
    el.hidden = false;
  };
  el.clear = () => { el.hidden = true; el.replaceChildren(); };
  return el;
}

/** Disables a submit button and changes its label while work runs. */
export async function busy(button, label, work) {
  const old = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = old;
  }
}

export function select(options, value, props = {}) {
  return h('select', props, options.map((o) => {
    const [v, label] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v, selected: v === value }, label);
  }));
}

// ---------------------------------------------------------------- copy

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch { /* fall through to the old way */ }
  }
  const ta = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  ta.remove();
  return ok;
}

/** A button that copies text; its label says what it copies. */
export function copyButton(text, what) {
  const btn = h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': `Copy ${what}` }, 'Copy');
  btn.addEventListener('click', async () => {
    const value = typeof text === 'function' ? text() : text;
    const ok = await copyText(value);
    btn.textContent = ok ? 'Copied' : 'Select and copy';
    toast(ok ? `Copied ${what}.` : `Could not copy: select the ${what} and copy it.`, ok ? 'success' : 'error');
    setTimeout(() => { btn.textContent = 'Copy'; }, 1600);
  });
  return btn;
}

/** A read-only value (key, URL) with a copy button. */
export function copyField(label, value, { hint, testid, secret = false } = {}) {
  const input = h('input', {
    type: 'text', class: ['mono', secret ? 'secret-value' : ''], value, readOnly: true,
    spellcheck: 'false', 'data-testid': testid, onFocus: (e) => e.target.select(),
  });
  const f = field(label, input, { hint });
  f.classList.add('copy-field');
  const row = h('div', { class: 'input-row' });
  input.replaceWith(row);
  row.append(input, copyButton(() => input.value, label.toLowerCase()));
  return f;
}

// ---------------------------------------------------------------- toasts

export function toast(message, kind = 'info') {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(region);
  }
  const t = h('div', { class: `toast toast-${kind}` }, message);
  region.appendChild(t);
  setTimeout(() => t.remove(), kind === 'error' ? 6000 : 3000);
}

// ---------------------------------------------------------------- dialogs

/**
 * A modal dialog asking to confirm; resolves true when confirmed.
 * typeToConfirm: the text the admin must type first (deleting a project).
 */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false, typeToConfirm }) {
  return new Promise((resolve) => {
    const titleId = nextId('dlg');
    const confirm = h('button', { type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], value: 'ok' }, confirmLabel);
    const cancel = h('button', { type: 'button', class: 'btn', value: 'cancel' }, 'Cancel');
    let input = null;
    if (typeToConfirm) {
      input = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
      confirm.disabled = true;
      input.addEventListener('input', () => { confirm.disabled = input.value !== typeToConfirm; });
    }
    const form = h('form', { method: 'dialog' },
      h('h2', { id: titleId }, title),
      typeof message === 'string' ? h('p', {}, message) : message,
      input ? field(`Type ${typeToConfirm} to confirm`, input) : null,
      h('div', { class: 'dialog-actions' }, cancel, confirm));
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
    let result = false;
    form.addEventListener('submit', (e) => {
      if (input && input.value !== typeToConfirm) { e.preventDefault(); return; }
      result = true;
    });
    cancel.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    document.body.appendChild(dlg);
    dlg.showModal();
    (input || cancel).focus();
  });
}

/**
 * A modal dialog holding a form built by build(form, close); resolves with
 * whatever close(value) is given, or undefined when dismissed.
 */
export function formDialog(title, build, { wide = false } = {}) {
  return new Promise((resolve) => {
    const titleId = nextId('dlg');
    const dlg = h('dialog', { class: ['dialog', wide ? 'dialog-wide' : ''], 'aria-labelledby': titleId });
    let value;
    const close = (v) => { value = v; dlg.close(); };
    const body = build(close);
    dlg.append(h('h2', { id: titleId }, title), body);
    dlg.addEventListener('close', () => { dlg.remove(); resolve(value); });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = dlg.querySelector('input:not([type=hidden]):not([readonly]), select, textarea, button');
    if (first) first.focus();
  });
}
