// urBackend dashboard: the shell (top bar, project navigation), the route
// table and the render loop. Each view lives in js/views/ and renders
// itself into <main>.

import { gql, session, serverOperations, PROJECT_FIELDS } from './js/api.js';
import { h, mount, loading, errorBox, emptyState } from './js/dom.js';
import { appPath, href, navigate, setRenderer, startRouter, match } from './js/router.js';
import { loginView } from './js/views/login.js';
import { projectsView, newProjectView } from './js/views/projects.js';
import { overviewView } from './js/views/overview.js';
import { settingsView } from './js/views/settings.js';
import { collectionsView, collectionEditorView } from './js/views/collections.js';
import { dataView } from './js/views/data.js';
import { filesView, FILES_OPERATION } from './js/views/files.js';
import { usersView } from './js/views/users.js';
import { authView } from './js/views/auth.js';
import { analyticsView } from './js/views/analytics.js';
import { webhooksView, WEBHOOKS_OPERATION } from './js/views/webhooks.js';

const routes = [
  { path: '/login', view: loginView, public: true, title: 'Sign in' },
  { path: '/', view: projectsView, title: 'Projects' },
  { path: '/new', view: newProjectView, title: 'New project' },
  { path: '/p/:id', view: overviewView, nav: 'overview', title: 'Overview' },
  { path: '/p/:id/collections', view: collectionsView, nav: 'collections', title: 'Collections' },
  { path: '/p/:id/collections/new', view: collectionEditorView, nav: 'collections', title: 'New collection' },
  { path: '/p/:id/collections/:name/edit', view: collectionEditorView, nav: 'collections', title: 'Edit collection' },
  { path: '/p/:id/data', view: dataView, nav: 'data', title: 'Data' },
  { path: '/p/:id/data/:collection', view: dataView, nav: 'data', title: 'Data' },
  { path: '/p/:id/files', view: filesView, nav: 'files', title: 'Files', requires: FILES_OPERATION },
  { path: '/p/:id/users', view: usersView, nav: 'users', title: 'Users' },
  { path: '/p/:id/auth', view: authView, nav: 'auth', title: 'Authentication' },
  { path: '/p/:id/webhooks', view: webhooksView, nav: 'webhooks', title: 'Webhooks', requires: WEBHOOKS_OPERATION },
  { path: '/p/:id/analytics', view: analyticsView, nav: 'analytics', title: 'Analytics' },
  { path: '/p/:id/settings', view: settingsView, nav: 'settings', title: 'Settings' },
];

const NAV = [
  ['overview', '', 'Overview'],
  ['collections', '/collections', 'Collections'],
  ['data', '/data', 'Data'],
  ['files', '/files', 'Files', FILES_OPERATION],
  ['users', '/users', 'Users'],
  ['auth', '/auth', 'Authentication'],
  ['webhooks', '/webhooks', 'Webhooks', WEBHOOKS_OPERATION],
  ['analytics', '/analytics', 'Analytics'],
  ['settings', '/settings', 'Settings'],
];

const state = {
  projects: null, // [{id, name}] for the switcher
  project: null, // the current project
  ops: new Set(),
  cleanups: [],
  generation: 0,
  rendered: false,
};

const root = document.getElementById('app');

async function loadProjects(force = false) {
  if (!state.projects || force) {
    const d = await gql(`{ projects { id name } }`);
    state.projects = d.projects;
  }
  return state.projects;
}

async function loadProject(id, force = false) {
  if (!force && state.project && state.project.id === id) return state.project;
  const d = await gql(`query($id: ID!) { project(id: $id) { ${PROJECT_FIELDS} collections { name } } }`, { id });
  state.project = d.project;
  return d.project;
}

function shell(route, params) {
  const inProject = Boolean(params.id);
  const topbar = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: href('/'), 'aria-label': 'urBackend: all projects' },
      h('img', { src: href('/favicon.svg'), alt: '', width: 24, height: 24 }), h('span', {}, 'urBackend')),
    inProject && state.projects ? projectSwitcher(params.id) : null,
    h('span', { class: 'spacer' }),
    h('span', { class: 'who', title: 'Signed in as' }, session.email),
    h('button', {
      type: 'button', class: 'btn btn-sm btn-on-dark', onClick: () => {
        session.clear();
        state.projects = null;
        state.project = null;
        navigate('/login');
      },
    }, 'Log out'));

  const main = h('main', { id: 'main', tabindex: '-1' });
  let nav = null;
  if (inProject) {
    nav = h('nav', { class: 'sidenav', 'aria-label': 'Project sections' },
      h('ul', {}, NAV.filter(([, , , op]) => !op || state.ops.has(op)).map(([key, sub, label]) => h('li', {},
        h('a', { href: href(`/p/${encodeURIComponent(params.id)}${sub}`), 'aria-current': route.nav === key ? 'page' : null }, label)))));
  }
  const skip = h('a', {
    class: 'skip-link', href: '#main', onClick: (e) => { e.preventDefault(); main.focus(); },
  }, 'Skip to content');
  mount(root, skip, topbar, h('div', { class: ['layout', inProject ? 'with-nav' : ''] }, nav, main));
  return main;
}

function projectSwitcher(current) {
  const sel = h('select', { id: 'project-switcher', class: 'project-switcher' },
    state.projects.map((p) => h('option', { value: p.id, selected: p.id === current }, p.name)));
  sel.addEventListener('change', () => navigate(`/p/${encodeURIComponent(sel.value)}`));
  return h('div', { class: 'switcher' }, h('label', { for: 'project-switcher', class: 'sr-only' }, 'Project'), sel);
}

function notFound(main, what = 'This page does not exist.') {
  mount(main, h('h1', { tabindex: '-1' }, 'Not found'),
    emptyState(what, null, h('a', { class: 'btn', href: href('/') }, 'Back to projects')));
}

async function render() {
  for (const fn of state.cleanups.splice(0)) {
    try { fn(); } catch { /* keep going */ }
  }
  state.generation += 1;
  const gen = state.generation;
  const path = appPath();
  const query = new URLSearchParams(location.search);
  let route = null;
  let params = null;
  for (const r of routes) {
    params = match(r.path, path);
    if (params) { route = r; break; }
  }

  if (!session.token && !(route && route.public)) {
    const next = path === '/' ? '' : `?next=${encodeURIComponent(path + location.search)}`;
    navigate(`/login${next}`, { replace: true });
    return;
  }
  if (route && route.public) {
    if (session.token) { navigate('/', { replace: true }); return; }
    const main = h('main', { id: 'main', tabindex: '-1', class: 'main-public' });
    mount(root, main);
    document.title = `${route.title} · urBackend`;
    await route.view(ctxFor(main, route, params, query, gen));
    afterRender(main);
    return;
  }

  const alive = () => gen === state.generation;
  if (!route) {
    const main = shell({}, {});
    notFound(main);
    afterRender(main);
    return;
  }
  // The shell needs the project list (switcher) and which optional
  // operations the server has (navigation).
  let main = shell(route, params);
  mount(main, loading());
  try {
    const [ops] = await Promise.all([
      serverOperations().catch(() => new Set()),
      params.id ? loadProjects() : null,
      params.id ? loadProject(params.id) : null,
    ]);
    state.ops = ops;
  } catch (err) {
    if (!alive()) return;
    if (err.code === 'NOT_FOUND' || (params.id && !state.project)) {
      notFound(main, err.code === 'NOT_FOUND' || err.code === 'BAD_USER_INPUT'
        ? 'This project does not exist, or belongs to another admin.' : err.message);
    } else {
      mount(main, h('h1', { tabindex: '-1' }, route.title), errorBox(err, render));
    }
    afterRender(main);
    return;
  }
  if (!alive()) return;
  if (params.id && !state.project) {
    main = shell(route, params);
    notFound(main, 'This project does not exist, or belongs to another admin.');
    afterRender(main);
    return;
  }
  main = shell(route, params); // again: now with the switcher and navigation
  if (route.requires && !state.ops.has(route.requires)) {
    notFound(main, `This server has no ${route.title.toLowerCase()} API.`);
    afterRender(main);
    return;
  }
  document.title = [route.title, state.project && params.id ? state.project.name : null, 'urBackend'].filter(Boolean).join(' · ');
  try {
    await route.view(ctxFor(main, route, params, query, gen));
  } catch (err) {
    if (!alive()) return;
    mount(main, h('h1', { tabindex: '-1' }, route.title), errorBox(err, render));
  }
  if (alive()) afterRender(main);
}

function ctxFor(main, route, params, query, gen) {
  return {
    main,
    route,
    params,
    query,
    project: params && params.id ? state.project : null,
    alive: () => gen === state.generation,
    onLeave: (fn) => state.cleanups.push(fn),
    async reloadProject() {
      const p = await loadProject(params.id, true);
      this.project = p;
      return p;
    },
    async reloadProjects() { return loadProjects(true); },
    forgetProject() { state.project = null; state.projects = null; },
  };
}

// After a navigation, move focus to the new page's heading so that
// keyboard and screen-reader users start there; not on the first load.
function afterRender(main) {
  if (!state.rendered) { state.rendered = true; return; }
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  } else {
    main.focus();
  }
}

session.onExpired(() => {
  state.projects = null;
  state.project = null;
  const path = appPath();
  if (path !== '/login') navigate(`/login?expired=1&next=${encodeURIComponent(path + location.search)}`, { replace: true });
});

setRenderer(render);
startRouter();
render();
