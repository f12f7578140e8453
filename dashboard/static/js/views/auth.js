import { gql } from '../api.js';
import { h, mount, loading, errorBox, field, formMessage, busy, copyField, toast } from '../dom.js';
import { href } from '../router.js';

const AUTH_FIELDS = `enabled allowPublicSignups requireEmailVerification
  github { enabled clientId callbackUrl } google { enabled clientId callbackUrl }`;

export async function authView(ctx) {
  const p = ctx.project;
  mount(ctx.main, h('h1', {}, 'Authentication'), loading());
  let s;
  try {
    s = (await gql(`query($id: ID!) { project(id: $id) { siteUrl authSettings { ${AUTH_FIELDS} } } }`, { id: p.id })).project;
  } catch (err) {
    if (ctx.alive()) mount(ctx.main, h('h1', {}, 'Authentication'), errorBox(err, () => authView(ctx)));
    return;
  }
  if (!ctx.alive()) return;
  const a = s.authSettings;

  const toggle = (label, checked, hint) => {
    const c = h('input', { type: 'checkbox', checked, role: 'switch' });
    return { c, f: field(label, c, { inline: true, hint }) };
  };
  const enabled = toggle('Enable user authentication', a.enabled, 'Turns the /api/userAuth routes on for this project.');
  const signups = toggle('Allow public sign-ups', a.allowPublicSignups, 'Anyone may create an account with POST /api/userAuth/signup.');
  const verify = toggle('Require e-mail verification', a.requireEmailVerification, 'Users must confirm a 6-digit code sent by e-mail before they can sign in.');

  function provider(key, title, current, consoleHint) {
    const on = h('input', { type: 'checkbox', checked: current.enabled, role: 'switch', 'data-testid': `${key}-enabled` });
    const id = h('input', { type: 'text', value: current.clientId, autocomplete: 'off', spellcheck: 'false', 'data-testid': `${key}-client-id` });
    const secret = h('input', { type: 'password', autocomplete: 'new-password', spellcheck: 'false', placeholder: current.clientId ? 'unchanged' : '', 'data-testid': `${key}-client-secret` });
    const fOn = field(`Enable ${title} sign-in`, on, { inline: true });
    const fId = field('Client ID', id);
    const fSecret = field('Client secret', secret, { hint: 'Write-only: stored encrypted and never shown. Leave empty to keep the stored one.' });
    const cb = copyField('Callback URL', current.callbackUrl, { hint: `Register this as the authorization callback URL in ${consoleHint}.`, testid: `${key}-callback-url` });
    const box = h('fieldset', { class: 'card stack' }, h('legend', {}, title), fOn, fId, fSecret, cb);
    return {
      box,
      fields: [fOn, fId, fSecret],
      input() {
        const o = { enabled: on.checked, clientId: id.value.trim() };
        if (secret.value.trim()) o.clientSecret = secret.value.trim();
        return o;
      },
      reset() { secret.value = ''; secret.placeholder = id.value.trim() ? 'unchanged' : ''; },
      focus() { on.focus(); },
    };
  }
  const github = provider('github', 'GitHub', a.github, 'GitHub → Settings → Developer settings → OAuth Apps');
  const google = provider('google', 'Google', a.google, 'Google Cloud console → APIs & Services → Credentials');

  const msg = formMessage();
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save authentication settings');
  const form = h('form', { class: 'stack', novalidate: true, 'data-testid': 'auth-form' },
    msg,
    h('fieldset', { class: 'card stack' }, h('legend', {}, 'E-mail and password'), enabled.f, signups.f, verify.f),
    !s.siteUrl ? h('div', { class: 'alert alert-info' }, 'Social sign-in sends users back to <site URL>/auth/callback: set the site URL in ',
      h('a', { href: href(`/p/${encodeURIComponent(p.id)}/settings`) }, 'Settings'), ' before enabling GitHub or Google.') : null,
    h('div', { class: 'grid-2' }, github.box, google.box),
    h('div', { class: 'actions' }, save));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.clear();
    const input = {
      enabled: enabled.c.checked,
      allowPublicSignups: signups.c.checked,
      requireEmailVerification: verify.c.checked,
      github: github.input(),
      google: google.input(),
    };
    await busy(save, 'Saving…', async () => {
      try {
        await gql(`mutation($id: ID!, $in: AuthSettingsInput!) { updateAuthSettings(projectId: $id, input: $in) { enabled } }`, { id: p.id, in: input });
        github.reset();
        google.reset();
        msg.show('Saved.', 'success');
        toast('Authentication settings saved.', 'success');
      } catch (err) {
        msg.show(err.message);
        if (/^github/i.test(err.message)) github.focus();
        else if (/^google/i.test(err.message)) google.focus();
      }
    });
  });

  mount(ctx.main,
    h('h1', {}, 'Authentication'),
    h('p', { class: 'muted' }, 'How the end users of this project sign up and sign in.'),
    form);
}
