// Client-side routes under /dashboard/ with the History API. Links are
// ordinary <a href> (so they open in a new tab, and the keyboard and
// screen readers know them); a click on one is handled here.

export const BASE = '/dashboard';

let renderer = () => {};

export function setRenderer(fn) { renderer = fn; }

/** The app path of a URL path: /dashboard/p/1 → /p/1. */
export function appPath(pathname = location.pathname) {
  let p = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  if (!p.startsWith('/')) p = `/${p}`;
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

export function href(path) {
  return BASE + (path.startsWith('/') ? path : `/${path}`);
}

export function navigate(path, { replace = false } = {}) {
  const url = href(path);
  if (url === location.pathname + location.search && !replace) {
    renderer();
    return;
  }
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  renderer();
}

/** Replaces the query string without a new render (filters, pages). */
export function setQuery(params) {
  const q = params.toString();
  history.replaceState(null, '', location.pathname + (q ? `?${q}` : ''));
}

export function startRouter() {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest('a[href]');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith(`${BASE}/`)) return;
    e.preventDefault();
    const path = appPath(url.pathname) + url.search;
    navigate(path);
  });
  window.addEventListener('popstate', () => renderer());
}

/** Matches path against a pattern like /p/:id/data/:collection. */
export function match(pattern, path) {
  const a = pattern.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  if (a.length !== b.length) return null;
  const params = {};
  for (let i = 0; i < a.length; i += 1) {
    if (a[i].startsWith(':')) {
      try { params[a[i].slice(1)] = decodeURIComponent(b[i]); } catch { return null; }
    } else if (a[i] !== b[i]) {
      return null;
    }
  }
  return params;
}
