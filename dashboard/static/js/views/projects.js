import { gql, PROJECT_FIELDS } from '../api.js';
import { h, mount, loading, errorBox, emptyState, field, formMessage, busy, copyField, fmtDate } from '../dom.js';
import { href } from '../router.js';
import { showFieldErrors } from './forms.js';

export async function projectsView(ctx) {
  const body = h('div', {}, loading('Loading projects…'));
  mount(ctx.main,
    h('div', { class: 'page-head' },
      h('h1', {}, 'Projects'),
      h('a', { class: 'btn btn-primary', href: href('/new') }, 'New project')),
    body);

  async function load() {
    mount(body, loading('Loading projects…'));
    let projects;
    try {
      projects = (await gql(`{ projects { ${PROJECT_FIELDS} } }`)).projects;
    } catch (err) {
      if (ctx.alive()) mount(body, errorBox(err, load));
      return;
    }
    if (!ctx.alive()) return;
    if (!projects.length) {
      mount(body, emptyState('No projects yet.',
        'A project has its own API keys, collections, users and files. Create one to get its keys and a quick start.',
        h('a', { class: 'btn btn-primary', href: href('/new') }, 'Create your first project')));
      return;
    }
    mount(body, h('ul', { class: 'project-grid', 'data-testid': 'project-list' }, projects.map((p) => h('li', {},
      h('a', { class: 'card project-card', href: href(`/p/${p.id}`) },
        h('span', { class: 'project-name' }, p.name),
        p.description ? h('span', { class: 'muted' }, p.description) : null,
        h('span', { class: 'mono small muted' }, p.publishableKey),
        h('span', { class: 'small muted' }, `Created ${fmtDate(p.createdAt)}`,
          p.externalDatabase ? h('span', { class: 'badge' }, 'Own database') : null))))));
  }
  await load();
}

/** Splits a textarea of origins (one per line or comma-separated). */
export function parseOrigins(text) {
  return text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

export async function newProjectView(ctx) {
  const inputs = {
    name: h('input', { type: 'text', name: 'name', required: true, maxlength: 100, autocomplete: 'off' }),
    description: h('input', { type: 'text', name: 'description', autocomplete: 'off' }),
    siteUrl: h('input', { type: 'url', name: 'siteUrl', placeholder: 'https://app.example.com', autocomplete: 'off' }),
    allowedOrigins: h('textarea', { name: 'allowedOrigins', rows: 3, spellcheck: 'false', placeholder: '*' }),
    databaseUri: h('input', { type: 'password', name: 'databaseUri', autocomplete: 'off', spellcheck: 'false', placeholder: 'mongodb+srv://user:pass@cluster.example.net/mydb' }),
    mailFrom: h('input', { type: 'text', name: 'mailFrom', placeholder: 'My App <hello@myapp.com>', autocomplete: 'off' }),
  };
  inputs.allowedOrigins.value = '*';
  const fields = {
    name: field('Name', inputs.name),
    description: field('Description (optional)', inputs.description),
    siteUrl: field('Site URL (optional)', inputs.siteUrl, { hint: 'Where your app lives. Social sign-in sends users back to <site URL>/auth/callback.' }),
    allowedOrigins: field('Allowed origins', inputs.allowedOrigins, { hint: 'Sites that may use the publishable key, one per line: * (any), *.example.com, app.example.com or https://app.example.com.' }),
    databaseUri: field('Your own MongoDB URI (optional)', inputs.databaseUri, { hint: 'Bring your own database: the project\'s documents, users and files live there. Checked before it is accepted, stored encrypted, never shown again. Leave empty to use this server\'s database.' }),
    mailFrom: field('E-mail sender (optional)', inputs.mailFrom, { hint: 'For verification and password-reset e-mails.' }),
  };
  const msg = formMessage();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create project');
  const form = h('form', { class: 'card stack form-narrow', novalidate: true },
    msg, Object.values(fields),
    h('div', { class: 'actions' }, submit, h('a', { class: 'btn', href: href('/') }, 'Cancel')));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.clear();
    showFieldErrors(fields, null);
    if (!inputs.name.value.trim()) {
      fields.name.setError('A project needs a name.');
      inputs.name.focus();
      return;
    }
    const input = { name: inputs.name.value.trim(), allowedOrigins: parseOrigins(inputs.allowedOrigins.value) };
    if (!input.allowedOrigins.length) input.allowedOrigins = ['*'];
    for (const k of ['description', 'siteUrl', 'databaseUri', 'mailFrom']) {
      const v = inputs[k].value.trim();
      if (v) input[k] = v;
    }
    await busy(submit, input.databaseUri ? 'Checking the database…' : 'Creating…', async () => {
      try {
        const d = await gql(`mutation($in: CreateProjectInput!) { createProject(input: $in) { secretKey project { ${PROJECT_FIELDS} } } }`, { in: input });
        await ctx.reloadProjects();
        if (ctx.alive()) created(ctx, d.createProject);
      } catch (err) {
        msg.show(err.message);
        showFieldErrors(fields, err.message);
      }
    });
  });

  mount(ctx.main,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: href('/') }, 'Projects'), ' / New project'),
    h('h1', {}, 'New project'),
    form);
  inputs.name.focus();
}

/** The keys of a new project, shown once. */
function created(ctx, { project, secretKey }) {
  const go = h('a', { class: 'btn btn-primary', href: href(`/p/${project.id}`) }, 'Continue to the project');
  mount(ctx.main,
    h('h1', {}, `${project.name} is ready`),
    h('section', { class: 'card stack form-narrow', 'data-testid': 'created-keys' },
      h('div', { class: 'alert alert-warning', role: 'status' },
        h('strong', {}, 'Copy the secret key now. '),
        'It is stored hashed and will not be shown again; rotating it gives a new one.'),
      copyField('Publishable key', project.publishableKey, { hint: 'For browsers and apps: it may read, and write only where row-level security allows.', testid: 'publishable-key' }),
      copyField('Secret key', secretKey, { hint: 'For servers only: it reads and writes everything. Never put it in a web page or app.', testid: 'secret-key', secret: true }),
      h('div', { class: 'actions' }, go)));
  ctx.main.querySelector('h1').focus();
}

