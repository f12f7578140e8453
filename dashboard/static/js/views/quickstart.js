// Quick-start snippets with the project's real URL and publishable key.

import { h, copyButton, nextId } from '../dom.js';

/** The server's public base URL: the OAuth callback URL minus its path. */
export function publicBase(authSettings) {
  const cb = authSettings && authSettings.github && authSettings.github.callbackUrl;
  const suffix = '/api/userAuth/social/github/callback';
  if (cb && cb.endsWith(suffix)) return cb.slice(0, -suffix.length);
  return location.origin;
}

/** GraphQL root field base of a collection: blog_posts → blogPosts. */
export function fieldBase(name) {
  const t = name.split(/[_-]/).filter(Boolean).map((p) => p[0].toUpperCase() + p.slice(1)).join('');
  return t ? t[0].toLowerCase() + t.slice(1) : '';
}

function sampleValue(f) {
  switch (f.type) {
    case 'Number': return 1;
    case 'Boolean': return true;
    case 'Date': return new Date().toISOString().slice(0, 10);
    case 'String':
      return { email: 'ada@example.com', url: 'https://example.com', color: '#3366ff', slug: 'hello-world' }[f.format] || 'Hello';
    default: return undefined;
  }
}

export function sampleDoc(collection) {
  const doc = {};
  const fields = collection ? collection.fields || [] : [];
  const scalar = fields.filter((f) => sampleValue(f) !== undefined);
  const pick = scalar.filter((f) => f.required).concat(scalar.filter((f) => !f.required)).slice(0, 3);
  for (const f of pick) doc[f.key] = sampleValue(f);
  if (!fields.length) doc.text = 'Hello';
  return doc;
}

export function shellQuote(s) {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

export function snippets({ url, publishableKey, collection }) {
  const name = collection ? collection.name : 'posts';
  const doc = JSON.stringify(sampleDoc(collection));
  const scalars = (collection ? collection.fields || [] : [])
    .filter((f) => ['String', 'Number', 'Boolean', 'Date'].includes(f.type)).slice(0, 3).map((f) => f.key);
  const selection = ['_id', ...scalars, 'createdAt'].join(' ');
  const gqlBody = JSON.stringify({ query: `{ ${fieldBase(name)}(limit: 10) { ${selection} } }` });
  return {
    sdk: `// npm install @urbackend/sdk
import urBackend from '@urbackend/sdk';

const client = urBackend({
  apiKey: '${publishableKey}',
  baseUrl: '${url}',
});

// Read (publishable keys read every collection unless RLS says otherwise)
const items = await client.db.getAll('${name}', { sort: '-createdAt', limit: 20 });

// Sign a user up, then write as that user (needs RLS enabled on '${name}')
const user = await client.auth.signUp({ email: 'ada@example.com', password: 'a long password' });
const created = await client.db.insert('${name}', ${doc});`,
    curl: `# List, newest first
curl -s '${url}/api/data/${name}?sort=-createdAt&limit=20' \\
  -H 'x-api-key: ${publishableKey}'

# Insert from a server, with the secret key (sk_live_…)
curl -s -X POST '${url}/api/data/${name}' \\
  -H "x-api-key: $URBACKEND_SECRET_KEY" \\
  -H 'Content-Type: application/json' \\
  -d ${shellQuote(doc)}`,
    graphql: `# The project's GraphQL API: ${url}/graphql
curl -s '${url}/graphql' \\
  -H 'x-api-key: ${publishableKey}' \\
  -H 'Content-Type: application/json' \\
  -d ${shellQuote(gqlBody)}`,
  };
}

/** A code block with a copy button; what names it for the button's label. */
export function snippet(text, what, testid) {
  return h('div', { class: 'snippet', 'data-testid': testid },
    h('div', { class: 'snippet-bar' }, copyButton(text, what)),
    h('pre', { tabindex: '0' }, h('code', {}, text)));
}

/** Tabs (SDK, curl, GraphQL) with the snippets and copy buttons. */
export function quickStart(opts) {
  const sn = snippets(opts);
  const tabs = [['sdk', 'JavaScript SDK'], ['curl', 'REST (curl)'], ['graphql', 'GraphQL']];
  const base = nextId('qs');
  const buttons = [];
  const panels = [];
  function selectTab(i, focus) {
    buttons.forEach((b, j) => {
      b.setAttribute('aria-selected', String(i === j));
      b.tabIndex = i === j ? 0 : -1;
      panels[j].hidden = i !== j;
    });
    if (focus) buttons[i].focus();
  }
  tabs.forEach(([key, label], i) => {
    const b = h('button', {
      type: 'button', role: 'tab', id: `${base}-tab-${key}`, 'aria-controls': `${base}-panel-${key}`,
      class: 'tab', onClick: () => selectTab(i, false),
    }, label);
    b.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowRight') { e.preventDefault(); selectTab((i + 1) % tabs.length, true); }
      if (e.key === 'ArrowLeft') { e.preventDefault(); selectTab((i + tabs.length - 1) % tabs.length, true); }
      if (e.key === 'Home') { e.preventDefault(); selectTab(0, true); }
      if (e.key === 'End') { e.preventDefault(); selectTab(tabs.length - 1, true); }
    });
    buttons.push(b);
    const panel = snippet(sn[key], `${label} snippet`, `snippet-${key}`);
    panel.setAttribute('role', 'tabpanel');
    panel.id = `${base}-panel-${key}`;
    panel.setAttribute('aria-labelledby', `${base}-tab-${key}`);
    panels.push(panel);
  });
  selectTab(0, false);
  return h('div', { class: 'quickstart' }, h('div', { role: 'tablist', 'aria-label': 'Quick start', class: 'tabs' }, buttons), panels);
}
