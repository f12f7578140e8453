import { gql } from '../api.js';
import { h, mount, loading, errorBox, emptyState, field, formMessage, busy, confirmDialog, formDialog, toast, copyField, fmtDate, nextId } from '../dom.js';
import { setQuery } from '../router.js';

/** The query this view needs; the view shows only on servers that have it. */
export const WEBHOOKS_OPERATION = 'webhooks';

const WEBHOOK_FIELDS = 'id name url events enabled createdAt';
const DELIVERY_FIELDS = 'id event status attempts responseCode error createdAt lastAttemptAt nextAttemptAt';

function parseEvents(text) {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

function statusBadge(st) {
  const cls = { delivered: 'badge-ok', failed: 'badge-err', pending: 'badge-warn', delivering: 'badge-warn' }[st] || '';
  return h('span', { class: ['badge', cls] }, st);
}

export async function webhooksView(ctx) {
  const p = ctx.project;
  const state = { selected: ctx.query.get('webhook') || '' };
  const list = h('div', {}, loading('Loading webhooks…'));
  const deliveries = h('div', {});
  mount(ctx.main,
    h('div', { class: 'page-head' },
      h('h1', {}, 'Webhooks'),
      h('button', { type: 'button', class: 'btn btn-primary', onClick: () => edit(null) }, 'New webhook')),
    h('p', { class: 'muted' }, 'A signed POST to your URL for every matching write: events are <collection>.<insert|update|delete>, and either part may be *. Failed deliveries are retried after 1 min, 5 min, 15 min, 1 h and 4 h.'),
    list,
    deliveries);

  let hooks = [];
  async function load() {
    try {
      hooks = (await gql(`query($id: ID!) { webhooks(projectId: $id) { ${WEBHOOK_FIELDS} } }`, { id: p.id })).webhooks;
    } catch (err) {
      if (ctx.alive()) mount(list, errorBox(err, load));
      return;
    }
    if (!ctx.alive()) return;
    if (!hooks.length) {
      mount(list, emptyState('No webhooks yet.', 'Tell another service when documents change: add a webhook with its URL and the events it wants.',
        h('button', { type: 'button', class: 'btn btn-primary', onClick: () => edit(null) }, 'Add a webhook')));
      mount(deliveries);
      return;
    }
    mount(list, h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'data-testid': 'webhooks-table' },
      h('caption', { class: 'sr-only' }, 'Webhooks'),
      h('thead', {}, h('tr', {}, ['Name', 'URL', 'Events', 'State', 'Created'].map((t) => h('th', { scope: 'col' }, t)),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h('tbody', {}, hooks.map((w) => h('tr', { 'aria-selected': w.id === state.selected ? 'true' : null },
        h('th', { scope: 'row' }, w.name || h('span', { class: 'muted' }, '(unnamed)')),
        h('td', { class: 'mono small break' }, w.url),
        h('td', { class: 'mono small' }, w.events.join(', ')),
        h('td', {}, w.enabled ? h('span', { class: 'badge badge-ok' }, 'On') : h('span', { class: 'badge' }, 'Off')),
        h('td', { class: 'small nowrap' }, fmtDate(w.createdAt)),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': `Deliveries of ${w.name || w.url}`, onClick: () => select(w.id) }, 'Deliveries'),
          h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': `Send a test ping to ${w.name || w.url}`, onClick: (e) => ping(w, e.currentTarget) }, 'Ping'),
          h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': `Edit ${w.name || w.url}`, onClick: () => edit(w) }, 'Edit'),
          h('button', { type: 'button', class: 'btn btn-sm btn-danger-ghost', 'aria-label': `Delete ${w.name || w.url}`, onClick: () => remove(w) }, 'Delete'))))))));
    if (state.selected && hooks.some((w) => w.id === state.selected)) loadDeliveries();
    else mount(deliveries);
  }

  function select(id) {
    state.selected = id;
    const q = new URLSearchParams();
    q.set('webhook', id);
    setQuery(q);
    load().then(() => {
      const heading = deliveries.querySelector('h2');
      if (heading) heading.focus();
    });
  }

  async function loadDeliveries() {
    const w = hooks.find((x) => x.id === state.selected);
    const refresh = h('button', { type: 'button', class: 'btn btn-sm', onClick: loadDeliveries }, 'Refresh');
    const head = h('div', { class: 'section-head' }, h('h2', { tabindex: '-1', id: 'deliveries-h' }, `Deliveries of ${w.name || w.url}`), refresh);
    const section = h('section', { class: 'card stack', 'aria-labelledby': 'deliveries-h', 'data-testid': 'webhook-deliveries' }, head, loading('Loading deliveries…'));
    mount(deliveries, section);
    let rows;
    try {
      rows = (await gql(`query($id: ID!, $w: ID!) { webhookDeliveries(projectId: $id, webhookId: $w, limit: 50) { ${DELIVERY_FIELDS} } }`, { id: p.id, w: w.id })).webhookDeliveries;
    } catch (err) {
      if (ctx.alive()) mount(section, head, errorBox(err, loadDeliveries));
      return;
    }
    if (!ctx.alive()) return;
    if (!rows.length) {
      mount(section, head, emptyState('No deliveries yet.', 'They appear after a matching write, or after a test ping.'));
      return;
    }
    mount(section, head, h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
      h('caption', { class: 'sr-only' }, 'Deliveries, newest first'),
      h('thead', {}, h('tr', {}, ['Event', 'Status', 'Attempts', 'Answer', 'Created', 'Last attempt', 'Next attempt'].map((t) => h('th', { scope: 'col' }, t)),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h('tbody', {}, rows.map((d) => h('tr', {},
        h('th', { scope: 'row', class: 'mono small' }, d.event),
        h('td', {}, statusBadge(d.status)),
        h('td', { class: 'num' }, String(d.attempts)),
        h('td', { class: 'small' }, d.responseCode ? `HTTP ${d.responseCode}` : '', d.error ? h('span', { class: 'muted' }, ` ${d.error}`) : null),
        h('td', { class: 'small nowrap' }, fmtDate(d.createdAt)),
        h('td', { class: 'small nowrap' }, fmtDate(d.lastAttemptAt)),
        h('td', { class: 'small nowrap' }, d.nextAttemptAt ? fmtDate(d.nextAttemptAt) : '–'),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': `Redeliver ${d.event} ${d.id}`, onClick: () => redeliver(d) }, 'Redeliver'))))))));
  }

  async function redeliver(d) {
    try {
      await gql(`mutation($id: ID!, $d: ID!) { redeliverWebhook(projectId: $id, deliveryId: $d) { id } }`, { id: p.id, d: d.id });
      toast('Queued again as a new delivery.', 'success');
      loadDeliveries();
    } catch (err) {
      toast(`Could not redeliver: ${err.message}`, 'error');
    }
  }

  async function ping(w, button) {
    await busy(button, 'Pinging…', async () => {
      try {
        const d = (await gql(`mutation($id: ID!, $w: ID!) { pingWebhook(projectId: $id, id: $w) { ${DELIVERY_FIELDS} } }`, { id: p.id, w: w.id })).pingWebhook;
        const ok = d.status === 'delivered';
        toast(ok ? `Ping delivered (HTTP ${d.responseCode}).` : `Ping ${d.status}${d.responseCode ? ` (HTTP ${d.responseCode})` : ''}${d.error ? `: ${d.error}` : ''}.`, ok ? 'success' : 'error');
      } catch (err) {
        toast(`Could not ping: ${err.message}`, 'error');
      }
    });
    select(w.id);
  }

  async function remove(w) {
    const ok = await confirmDialog({
      title: `Delete the webhook ${w.name || w.url}?`,
      message: 'It stops at once; its delivery history and queued deliveries are removed.',
      confirmLabel: 'Delete webhook',
      danger: true,
    });
    if (!ok) return;
    try {
      await gql(`mutation($id: ID!, $w: ID!) { deleteWebhook(projectId: $id, id: $w) }`, { id: p.id, w: w.id });
      toast('Webhook deleted.', 'success');
      if (state.selected === w.id) { state.selected = ''; setQuery(new URLSearchParams()); }
      load();
    } catch (err) {
      toast(`Could not delete: ${err.message}`, 'error');
    }
  }

  async function edit(w) {
    const result = await formDialog(w ? 'Edit webhook' : 'New webhook', (close) => {
      const name = h('input', { type: 'text', maxlength: 100, value: w ? w.name : '', autocomplete: 'off' });
      const url = h('input', { type: 'url', required: true, value: w ? w.url : '', placeholder: 'https://example.com/hooks/urbackend', autocomplete: 'off', spellcheck: 'false' });
      const events = h('input', { type: 'text', required: true, value: w ? w.events.join(', ') : '', autocomplete: 'off', spellcheck: 'false', placeholder: 'posts.insert, posts.update, *.delete' });
      const enabled = h('input', { type: 'checkbox', checked: w ? w.enabled : true });
      const examples = p.collections.length ? p.collections.slice(0, 3).map((c) => `${c.name}.*`).join(', ') : 'posts.insert';
      const fields = {
        name: field('Name (optional)', name),
        url: field('URL', url, { hint: 'Must be https (http and private addresses only when the server allows them).' }),
        events: field('Events', events, { hint: `Comma-separated, e.g. ${examples}, *.delete or *.* for everything.` }),
        enabled: field('Enabled', enabled, { inline: true }),
      };
      const msg = formMessage();
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, w ? 'Save webhook' : 'Create webhook');
      const form = h('form', { class: 'stack', novalidate: true, id: nextId('wh') }, msg, Object.values(fields),
        h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', onClick: () => close() }, 'Cancel'), save));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        msg.clear();
        for (const f of Object.values(fields)) f.setError(null);
        const input = { name: name.value.trim(), url: url.value.trim(), events: parseEvents(events.value), enabled: enabled.checked };
        if (!input.url) { fields.url.setError('Enter the URL to deliver to.'); url.focus(); return; }
        if (!input.events.length) { fields.events.setError('Name at least one event, like posts.insert or *.*.'); events.focus(); return; }
        await busy(save, 'Saving…', async () => {
          try {
            if (w) {
              await gql(`mutation($id: ID!, $w: ID!, $in: UpdateWebhookInput!) { updateWebhook(projectId: $id, id: $w, input: $in) { id } }`, { id: p.id, w: w.id, in: input });
              close({ saved: true });
            } else {
              const d = (await gql(`mutation($id: ID!, $in: CreateWebhookInput!) { createWebhook(projectId: $id, input: $in) { secret webhook { id } } }`, { id: p.id, in: input })).createWebhook;
              close({ saved: true, secret: d.secret });
            }
          } catch (err) {
            const m = err.message.toLowerCase();
            const target = m.includes('url') ? 'url' : m.includes('event') ? 'events' : m.includes('name') ? 'name' : null;
            if (target) { fields[target].setError(err.message); fields[target].control.focus(); } else msg.show(err.message);
          }
        });
      });
      return form;
    });
    if (!result) return;
    if (result.secret) {
      await formDialog('Webhook created', (close) => h('div', { class: 'stack' },
        h('p', {}, 'Every delivery is signed with this secret (HMAC-SHA256). Copy it now: it cannot be read again.'),
        copyField('Signing secret', result.secret, { secret: true, testid: 'webhook-secret' }),
        h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-primary', onClick: () => close(true) }, 'Done'))));
    } else {
      toast('Webhook saved.', 'success');
    }
    load();
  }

  await load();
}
