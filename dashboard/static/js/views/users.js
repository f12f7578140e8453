import { gql } from '../api.js';
import { h, mount, loading, errorBox, emptyState, confirmDialog, toast, fmtDate, fmtNumber, field } from '../dom.js';
import { setQuery } from '../router.js';

const PAGE_SIZE = 25;

export async function usersView(ctx) {
  const p = ctx.project;
  const state = { search: ctx.query.get('search') || '', skip: 0 };
  const search = h('input', { type: 'search', value: state.search, autocomplete: 'off', spellcheck: 'false', placeholder: 'e-mail, username or name', 'data-testid': 'user-search' });
  const form = h('form', { class: 'card toolbar', role: 'search', 'aria-label': 'Search users' },
    h('div', { class: 'toolbar-row' },
      field('Search users', search, { className: 'grow' }),
      h('div', { class: 'toolbar-buttons' }, h('button', { type: 'submit', class: 'btn' }, 'Search'))));
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.search = search.value.trim(); state.skip = 0; load(); }, 300);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(timer);
    state.search = search.value.trim();
    state.skip = 0;
    load();
  });
  ctx.onLeave(() => clearTimeout(timer));

  const results = h('div', { 'aria-live': 'polite' }, loading('Loading users…'));
  mount(ctx.main,
    h('h1', {}, 'Users'),
    h('p', { class: 'muted' }, 'The end users of this project: they sign up and sign in through /api/userAuth (or the SDK\'s auth module).'),
    form,
    results);

  let seq = 0;
  async function load() {
    const params = new URLSearchParams();
    if (state.search) params.set('search', state.search);
    setQuery(params);
    const mine = ++seq;
    results.setAttribute('aria-busy', 'true');
    let page;
    try {
      page = (await gql(`query($id: ID!, $s: String, $l: Int, $k: Int) { users(projectId: $id, search: $s, limit: $l, skip: $k) {
        total items { id email username name emailVerified authProviders createdAt } } }`,
      { id: p.id, s: state.search || null, l: PAGE_SIZE, k: state.skip })).users;
    } catch (err) {
      if (mine === seq && ctx.alive()) { results.removeAttribute('aria-busy'); mount(results, errorBox(err, load)); }
      return;
    }
    if (mine !== seq || !ctx.alive()) return;
    results.removeAttribute('aria-busy');
    if (!page.items.length) {
      mount(results, state.search
        ? emptyState(`No user matches “${state.search}”.`, 'Search looks at e-mail, username and name.')
        : emptyState('No users yet.', 'Users appear here when they sign up: POST /api/userAuth/signup, or client.auth.signUp() in the SDK. Turn sign-ups on under Authentication.'));
      return;
    }
    const first = state.skip + 1;
    const last = state.skip + page.items.length;
    const prev = h('button', { type: 'button', class: 'btn btn-sm', disabled: state.skip === 0 }, '← Previous');
    const next = h('button', { type: 'button', class: 'btn btn-sm', disabled: last >= page.total }, 'Next →');
    prev.addEventListener('click', () => { state.skip = Math.max(0, state.skip - PAGE_SIZE); load(); });
    next.addEventListener('click', () => { state.skip += PAGE_SIZE; load(); });
    mount(results,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'data-testid': 'users-table' },
        h('caption', { class: 'sr-only' }, `Users ${first} to ${last} of ${page.total}`),
        h('thead', {}, h('tr', {}, ['E-mail', 'Username', 'Name', 'Verified', 'Sign-in', 'Joined'].map((t) => h('th', { scope: 'col' }, t)),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', {}, page.items.map((u) => h('tr', {},
          h('th', { scope: 'row' }, u.email),
          h('td', {}, u.username || h('span', { class: 'muted' }, '–')),
          h('td', {}, u.name || h('span', { class: 'muted' }, '–')),
          h('td', {}, u.emailVerified ? h('span', { class: 'badge badge-ok' }, 'Yes') : h('span', { class: 'badge' }, 'No')),
          h('td', {}, u.authProviders.length ? u.authProviders.join(', ') : 'password'),
          h('td', { class: 'small nowrap' }, fmtDate(u.createdAt)),
          h('td', { class: 'row-actions' },
            h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': `Revoke the sessions of ${u.email}`, onClick: () => revoke(u) }, 'Revoke sessions'),
            h('button', { type: 'button', class: 'btn btn-sm btn-danger-ghost', 'aria-label': `Delete ${u.email}`, onClick: () => remove(u) }, 'Delete'))))))),
      h('div', { class: 'pager' },
        h('span', { class: 'small muted' }, `${fmtNumber(first)}–${fmtNumber(last)} of ${fmtNumber(page.total)}`),
        h('span', { class: 'spacer' }), prev, next));
  }

  async function revoke(u) {
    const ok = await confirmDialog({
      title: `Sign ${u.email} out everywhere?`,
      message: 'Every refresh session of this user is revoked. Access tokens already issued keep working until they expire (15 minutes by default).',
      confirmLabel: 'Revoke sessions',
    });
    if (!ok) return;
    try {
      await gql(`mutation($p: ID!, $u: ID!) { revokeUserSessions(projectId: $p, userId: $u) }`, { p: p.id, u: u.id });
      toast(`Revoked the sessions of ${u.email}.`, 'success');
    } catch (err) {
      toast(`Could not revoke: ${err.message}`, 'error');
    }
  }

  async function remove(u) {
    const ok = await confirmDialog({
      title: `Delete ${u.email}?`,
      message: 'The account and its sessions are removed for good. Documents it owns stay.',
      confirmLabel: 'Delete user',
      danger: true,
    });
    if (!ok) return;
    try {
      await gql(`mutation($p: ID!, $u: ID!) { deleteUser(projectId: $p, userId: $u) }`, { p: p.id, u: u.id });
      toast(`Deleted ${u.email}.`, 'success');
      load();
    } catch (err) {
      toast(`Could not delete: ${err.message}`, 'error');
    }
  }

  await load();
}
