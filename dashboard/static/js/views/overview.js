import { gql } from '../api.js';
import { h, mount, loading, errorBox, emptyState, copyField, confirmDialog, formDialog, toast, fmtDate } from '../dom.js';
import { href } from '../router.js';
import { quickStart, publicBase } from './quickstart.js';

export async function overviewView(ctx) {
  const p = ctx.project;
  const pid = encodeURIComponent(p.id);
  const keys = h('section', { class: 'card stack', 'aria-labelledby': 'keys-h' });
  const start = h('section', { class: 'card stack', 'aria-labelledby': 'qs-h' }, h('h2', { id: 'qs-h' }, 'Quick start'), loading());
  const cols = h('section', { class: 'card stack', 'aria-labelledby': 'cols-h' }, h('h2', { id: 'cols-h' }, 'Collections'), loading());

  mount(ctx.main,
    h('div', { class: 'page-head' },
      h('div', {},
        h('h1', {}, p.name),
        p.description ? h('p', { class: 'muted' }, p.description) : null,
        h('p', { class: 'small muted' }, `Created ${fmtDate(p.createdAt)}`,
          p.externalDatabase ? h('span', { class: 'badge' }, 'Own database') : null)),
      h('a', { class: 'btn', href: href(`/p/${pid}/settings`) }, 'Settings')),
    h('div', { class: 'grid-2' }, keys, cols),
    start);

  function drawKeys() {
    mount(keys,
      h('h2', { id: 'keys-h' }, 'API keys'),
      copyField('Publishable key', ctx.project.publishableKey, { hint: 'Safe in browsers and apps.', testid: 'overview-publishable-key' }),
      h('div', { class: 'field' },
        h('span', { class: 'label' }, 'Secret key'),
        h('p', { class: 'muted small' }, 'Shown only when the project was created or the key rotated: it is stored hashed. Rotate it to get a new one.')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', onClick: () => rotate('PUBLISHABLE') }, 'Rotate publishable key'),
        h('button', { type: 'button', class: 'btn', onClick: () => rotate('SECRET') }, 'Rotate secret key')));
  }

  async function rotate(kind) {
    const what = kind === 'SECRET' ? 'secret key' : 'publishable key';
    const ok = await confirmDialog({
      title: `Rotate the ${what}?`,
      message: `A new ${what} is made and the current one stops working at once: every app or server using it must be updated.`,
      confirmLabel: `Rotate ${what}`,
      danger: true,
    });
    if (!ok) return;
    let key;
    try {
      key = (await gql(`mutation($id: ID!, $k: KeyKind!) { rotateKey(projectId: $id, kind: $k) }`, { id: p.id, k: kind })).rotateKey;
    } catch (err) {
      toast(`Could not rotate the ${what}: ${err.message}`, 'error');
      return;
    }
    await formDialog(`New ${what}`, (close) => h('div', { class: 'stack' },
      kind === 'SECRET'
        ? h('div', { class: 'alert alert-warning' }, 'Copy it now: it will not be shown again.')
        : null,
      copyField(kind === 'SECRET' ? 'Secret key' : 'Publishable key', key, { secret: kind === 'SECRET', testid: 'rotated-key' }),
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-primary', onClick: () => close(true) }, 'Done'))));
    if (kind === 'PUBLISHABLE') {
      await ctx.reloadProject();
      if (ctx.alive()) { drawKeys(); drawRest(); }
    }
  }

  let extra = null;
  async function drawRest() {
    if (!extra) {
      try {
        extra = (await gql(`query($id: ID!) { project(id: $id) { authSettings { github { callbackUrl } }
          collections { name rls { enabled mode } fields { key type required format } } } }`, { id: p.id })).project;
      } catch (err) {
        if (ctx.alive()) {
          mount(start, h('h2', { id: 'qs-h' }, 'Quick start'), errorBox(err, drawRest));
          mount(cols, h('h2', { id: 'cols-h' }, 'Collections'), errorBox(err, drawRest));
        }
        return;
      }
    }
    if (!ctx.alive()) return;
    const collections = extra.collections;
    mount(start,
      h('h2', { id: 'qs-h' }, 'Quick start'),
      h('p', { class: 'muted' }, collections.length
        ? `Ready to paste: this server's URL, the publishable key and your collection ${collections[0].name}.`
        : 'Ready to paste: this server\'s URL and the publishable key. Define a collection first, then these work as they are (they use posts until then).'),
      quickStart({ url: publicBase(extra.authSettings), publishableKey: ctx.project.publishableKey, collection: collections[0] }));
    mount(cols,
      h('div', { class: 'section-head' },
        h('h2', { id: 'cols-h' }, 'Collections'),
        h('a', { class: 'btn btn-sm', href: href(`/p/${pid}/collections/new`) }, 'New collection')),
      collections.length
        ? h('ul', { class: 'plain-list' }, collections.map((c) => h('li', {},
          h('a', { href: href(`/p/${pid}/data/${encodeURIComponent(c.name)}`) }, c.name),
          h('span', { class: 'muted small' }, ` ${c.fields.length ? `${c.fields.length} field${c.fields.length === 1 ? '' : 's'}` : 'flexible'}${c.rls.enabled ? ` · RLS ${c.rls.mode.toLowerCase().replace(/_/g, '-')}` : ''}`))))
        : emptyState('No collections yet.', 'A collection is like a table: define its fields, or leave it flexible.',
          h('a', { class: 'btn btn-primary', href: href(`/p/${pid}/collections/new`) }, 'Define a collection')));
  }

  drawKeys();
  await drawRest();
}
