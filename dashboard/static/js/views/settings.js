import { gql, PROJECT_FIELDS } from '../api.js';
import { h, mount, field, formMessage, busy, confirmDialog, toast } from '../dom.js';
import { navigate } from '../router.js';
import { showFieldErrors } from './forms.js';
import { parseOrigins } from './projects.js';

export async function settingsView(ctx) {
  const p = ctx.project;
  const inputs = {
    name: h('input', { type: 'text', required: true, maxlength: 100, value: p.name, autocomplete: 'off' }),
    description: h('input', { type: 'text', value: p.description || '', autocomplete: 'off' }),
    siteUrl: h('input', { type: 'url', value: p.siteUrl || '', placeholder: 'https://app.example.com', autocomplete: 'off' }),
    allowedOrigins: h('textarea', { rows: 3, spellcheck: 'false' }),
    mailFrom: h('input', { type: 'text', value: p.mailFrom || '', placeholder: 'My App <hello@myapp.com>', autocomplete: 'off' }),
  };
  inputs.allowedOrigins.value = p.allowedOrigins.join('\n');
  const fields = {
    name: field('Name', inputs.name),
    description: field('Description', inputs.description),
    siteUrl: field('Site URL', inputs.siteUrl, { hint: 'Social sign-in sends users back to <site URL>/auth/callback.' }),
    allowedOrigins: field('Allowed origins', inputs.allowedOrigins, { hint: 'One per line: *, *.example.com, app.example.com or https://app.example.com. The secret key ignores this list.' }),
    mailFrom: field('E-mail sender', inputs.mailFrom),
  };
  const msg = formMessage();
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save changes');
  const form = h('form', { class: 'card stack', novalidate: true, 'aria-labelledby': 'general-h' },
    h('h2', { id: 'general-h' }, 'General'), msg, Object.values(fields), h('div', { class: 'actions' }, save));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.clear();
    showFieldErrors(fields, null);
    const input = {
      name: inputs.name.value.trim(),
      description: inputs.description.value.trim(),
      siteUrl: inputs.siteUrl.value.trim(),
      allowedOrigins: parseOrigins(inputs.allowedOrigins.value),
      mailFrom: inputs.mailFrom.value.trim(),
    };
    if (!input.name) { fields.name.setError('A project needs a name.'); inputs.name.focus(); return; }
    await busy(save, 'Saving…', async () => {
      try {
        await gql(`mutation($id: ID!, $in: UpdateProjectInput!) { updateProject(id: $id, input: $in) { ${PROJECT_FIELDS} } }`, { id: p.id, in: input });
        await Promise.all([ctx.reloadProject(), ctx.reloadProjects()]);
        msg.show('Saved.', 'success');
        toast('Project settings saved.', 'success');
      } catch (err) {
        if (!showFieldErrors(fields, err.message)) msg.show(err.message);
      }
    });
  });

  // Bring your own database.
  const uri = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'mongodb+srv://user:pass@cluster.example.net/mydb' });
  const uriField = field('MongoDB connection string', uri, {
    hint: 'The URI is checked before it is accepted, stored encrypted and never shown. Data is not copied: move it yourself first.',
  });
  const dbMsg = formMessage();
  const dbSave = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Use this database');
  const dbBack = p.externalDatabase
    ? h('button', { type: 'button', class: 'btn', onClick: () => setURI('') }, 'Move back to this server\'s database')
    : null;
  const dbForm = h('form', { class: 'card stack', novalidate: true, 'aria-labelledby': 'db-h' },
    h('h2', { id: 'db-h' }, 'Database'),
    h('p', {}, p.externalDatabase
      ? 'This project\'s data lives in a MongoDB that you brought.'
      : 'This project\'s data lives in this server\'s database. Give a MongoDB URI to keep it in your own.'),
    dbMsg, uriField, h('div', { class: 'actions' }, dbSave, dbBack));
  async function setURI(value) {
    dbMsg.clear();
    uriField.setError(null);
    if (value === '' && !(await confirmDialog({
      title: 'Move back to this server\'s database?',
      message: 'New reads and writes go to this server\'s database; the data in your MongoDB stays there and is not copied.',
      confirmLabel: 'Move back',
    }))) return;
    await busy(dbSave, 'Checking…', async () => {
      try {
        await gql(`mutation($id: ID!, $in: UpdateProjectInput!) { updateProject(id: $id, input: $in) { id externalDatabase } }`, { id: p.id, in: { databaseUri: value } });
        await ctx.reloadProject();
        toast(value ? 'The project now uses your database.' : 'The project now uses this server\'s database.', 'success');
        if (ctx.alive()) settingsView(ctx);
      } catch (err) {
        uriField.setError(err.message);
        uri.focus();
      }
    });
  }
  dbForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!uri.value.trim()) { uriField.setError('Enter a MongoDB URI (mongodb:// or mongodb+srv://).'); uri.focus(); return; }
    setURI(uri.value.trim());
  });

  const del = h('button', { type: 'button', class: 'btn btn-danger' }, 'Delete project');
  del.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Delete ${p.name}?`,
      message: p.externalDatabase
        ? 'The project, its keys and its collection definitions are removed. Your own database is not dropped.'
        : 'The project, its keys, collections, documents, users and files are removed for good.',
      confirmLabel: 'Delete project',
      danger: true,
      typeToConfirm: p.name,
    });
    if (!ok) return;
    try {
      await gql(`mutation($id: ID!) { deleteProject(id: $id) }`, { id: p.id });
      ctx.forgetProject();
      toast(`Deleted ${p.name}.`, 'success');
      navigate('/');
    } catch (err) {
      toast(`Could not delete: ${err.message}`, 'error');
    }
  });

  mount(ctx.main,
    h('h1', {}, 'Settings'),
    form,
    dbForm,
    h('section', { class: 'card stack danger-zone', 'aria-labelledby': 'danger-h' },
      h('h2', { id: 'danger-h' }, 'Danger zone'),
      h('p', {}, 'Deleting a project cannot be undone.'),
      h('div', { class: 'actions' }, del)));
}
