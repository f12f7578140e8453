import { gql, session } from '../api.js';
import { h, mount, field, formMessage, busy } from '../dom.js';
import { navigate } from '../router.js';

export async function loginView(ctx) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, spellcheck: 'false' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const msg = formMessage();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
  const form = h('form', { class: 'stack', 'aria-labelledby': 'login-title', novalidate: true },
    msg,
    field('E-mail', email),
    field('Password', password),
    submit);
  if (ctx.query.get('expired')) msg.show('Your session ended. Sign in again.', 'info');

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.clear();
    if (!email.value.trim() || !password.value) {
      msg.show('Enter your e-mail and password.');
      (email.value.trim() ? password : email).focus();
      return;
    }
    await busy(submit, 'Signing in…', async () => {
      try {
        const d = await gql(`mutation($e: String!, $p: String!) { adminLogin(email: $e, password: $p) { token admin { email } } }`,
          { e: email.value.trim(), p: password.value });
        session.set(d.adminLogin.token, d.adminLogin.admin.email);
        const next = ctx.query.get('next');
        navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
      } catch (err) {
        msg.show(err.code === 'UNAUTHENTICATED' ? 'Wrong e-mail or password.' : err.message);
        password.select();
        password.focus();
      }
    });
  });

  mount(ctx.main,
    h('div', { class: 'login' },
      h('div', { class: 'login-brand' },
        h('img', { src: '/dashboard/favicon.svg', alt: '', width: 40, height: 40 }),
        h('span', {}, 'urBackend')),
      h('section', { class: 'card stack login-card' },
        h('h1', { id: 'login-title' }, 'Sign in to the dashboard'),
        h('p', { class: 'muted' }, 'Use an admin account of this server. The first one was printed in the server log on its first start.'),
        form)));
  email.focus();
}
