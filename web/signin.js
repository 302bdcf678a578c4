// The sign-in screen.
import * as api from './api.js';
import { h, field, page, errorBox } from './dom.js';

export function signInView(onSignedIn) {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pw = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const ws = h('input', { name: 'workspace', autocomplete: 'organization', autocapitalize: 'none', spellcheck: 'false' });
  const status = h('div', { 'aria-live': 'assertive' });
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'card narrow', 'aria-label': 'Sign in' },
    field('User name', user),
    field('Password', pw),
    field('Workspace (optional)', ws, 'Leave blank for your first workspace.'),
    status, btn,
    h('p', { class: 'hint' }, 'An operator sets your password with ', h('code', {}, 'connhub user passwd NAME'), '.'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.replaceChildren();
    btn.disabled = true;
    try {
      const body = { username: user.value, password: pw.value };
      if (ws.value.trim()) body.workspace = ws.value.trim();
      const s = await api.post('/api/session', body);
      pw.value = '';
      onSignedIn(s);
    } catch (e) {
      pw.value = '';
      status.append(errorBox(e.status === 429 ? { message: 'Too many failed sign-ins for this user name. Wait a while, then try again.' } : e));
      pw.focus();
    } finally {
      btn.disabled = false;
    }
  });
  page('Sign in to connhub', form);
  user.focus();
}
