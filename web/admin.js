// Platform admin: service credentials (platform keys) and the OAuth provider registry.
import * as api from './api.js';
import { h, field, page, errorBox, badge, toast, secretInput } from './dom.js';
import { serviceCard } from './settings.js';
import { state } from './app.js';

export async function adminServicesView() {
  const list = h('ul', { class: 'cards' });
  page('Service credentials', h('p', { class: 'muted' }, 'Platform keys for the built-in tools, used by every workspace that has no key of its own.'), list);
  try {
    const r = await api.get('/api/admin/service-credentials');
    list.append(...r.services.map((s) => serviceCard(s, { level: 'platform', base: '/api/admin/service-credentials', reload: adminServicesView })));
  } catch (e) {
    list.replaceWith(errorBox(e));
  }
}

function redirectUri(id) {
  const base = (state.session?.app_url || location.origin).replace(/\/+$/, '');
  return `${base}/api/auth/connect/${id}/callback`;
}

function copyField(label, value) {
  const input = h('input', { value, readonly: true, class: 'mono' });
  const btn = h('button', { type: 'button' }, 'Copy');
  btn.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(value);
      toast('Copied');
    } catch {
      input.select();
      toast('Press Ctrl+C to copy');
    }
  });
  const f = field(label, input, 'Register this exact redirect URI with the provider.');
  input.after(btn); /* on the input's row; the hint below both */
  btn.setAttribute('aria-label', `Copy the ${label.toLowerCase()}`);
  f.classList.add('copy');
  return f;
}

const TEMPLATE = {
  name: 'Example', authorize_url: 'https://auth.example.com/authorize', token_url: 'https://auth.example.com/token',
  pkce: true, client_auth: 'body', scope_separator: ' ',
  tiers: { read: { scopes: ['read'], description: 'Read your data' } },
};

function providerForm(reload) {
  const id = h('input', { name: 'provider_id', required: true, pattern: '[a-z0-9_]{1,64}', class: 'mono', autocomplete: 'off' });
  const def = h('textarea', { name: 'definition', rows: 10, class: 'mono', spellcheck: 'false' }, JSON.stringify(TEMPLATE, null, 2));
  const cid = h('input', { name: 'client_id', autocomplete: 'off' });
  const secret = secretInput('client_secret');
  const msg = h('div', { 'aria-live': 'polite' });
  const form = h('form', {}, field('Provider id', id, 'A registered id replaces a built-in one of the same id.'),
    field('Definition (JSON)', def, 'authorize_url, token_url, tiers (scopes per tier), revocation_url, issuer…; or an issuer with "discover": true to take the endpoints from its published metadata'),
    field('Client id', cid), field('Client secret', secret, 'Write-only: stored sealed; leave blank to keep the current one.'),
    msg, h('button', { type: 'submit', class: 'primary' }, 'Save provider'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let body;
    try {
      body = JSON.parse(def.value);
    } catch {
      msg.replaceChildren(errorBox({ message: 'The definition is not valid JSON', field: 'definition' }));
      return;
    }
    if (cid.value) body.client_id = cid.value;
    if (secret.value) body.client_secret = secret.value;
    try {
      await api.put(`/api/admin/oauth-providers/${encodeURIComponent(id.value)}`, body);
      secret.value = '';
      toast('Provider saved');
      reload();
    } catch (e) {
      secret.value = '';
      msg.replaceChildren(errorBox(e));
    }
  });
  return form;
}

/** Removes a registry entry; the server refuses (409) while a connection uses it. */
function deleteProvider(id) {
  const msg = h('div', { 'aria-live': 'polite' });
  const btn = h('button', { type: 'button', class: 'danger' }, `Delete ${id}`);
  btn.addEventListener('click', async () => {
    if (!window.confirm(`Delete the provider ${id} and its client secret?`)) return;
    try {
      await api.del(`/api/admin/oauth-providers/${encodeURIComponent(id)}`);
      toast(`Provider ${id} deleted`);
      adminOAuthView();
    } catch (e) {
      msg.replaceChildren(errorBox(e));
    }
  });
  return h('div', {}, btn, msg);
}

export async function adminOAuthView() {
  const list = h('ul', { class: 'cards' });
  page('OAuth providers', h('p', { class: 'muted' }, 'The providers users connect accounts with. Each needs a client registered with the provider, using the redirect URI shown.'), list,
    h('section', { class: 'card', 'aria-labelledby': 'add-prov' }, h('h2', { id: 'add-prov' }, 'Add or update a provider'), providerForm(adminOAuthView)));
  let r;
  try {
    r = await api.get('/api/admin/oauth-providers');
  } catch (e) {
    list.replaceWith(errorBox(e));
    return;
  }
  const seen = new Set();
  for (const p of r.providers) {
    if (seen.has(p.id)) continue;
    seen.add(p.id);
    list.append(h('li', { class: 'card', 'data-provider': p.id },
      h('h3', {}, p.name && p.name !== p.id ? `${p.name} ` : '', h('span', { class: 'mono' }, p.id), ' ', p.builtin ? badge('built in') : badge('registered', 'ok')),
      p.builtin ? h('p', { class: 'muted small' }, `Client from CONNECT_${p.id.toUpperCase()}_CLIENT_ID / _SECRET, unless a provider with this id is registered.`)
        : h('p', { class: 'muted small' }, `Client secret ${p.client_secret_set ? 'set' : 'not set'}`,
          p.tiers ? ` · tiers: ${Object.keys(p.tiers).join(', ')}` : ''),
      copyField('Redirect URI', redirectUri(p.id)),
      p.builtin ? null : deleteProvider(p.id)));
  }
}
