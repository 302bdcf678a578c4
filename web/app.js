// connhub web UI: session bootstrap, navigation and the hash router.
import * as api from './api.js';
import { h, clear, page, errorBox, toast } from './dom.js';
import { hubView } from './hub.js';
import { wizardView } from './wizard.js';
import { connectionView } from './connection.js';
import { accountsView, workspaceServicesView } from './settings.js';
import { adminServicesView, adminOAuthView } from './admin.js';
import { signInView } from './signin.js';

export const state = { session: null };

const routes = [
  [/^\/connections\/?$/, () => hubView()],
  [/^\/connections\/new$/, () => wizardView()],
  [/^\/connections\/(conn_[a-z0-9]+)$/, (m) => connectionView(m[1])],
  [/^\/settings\/accounts$/, () => accountsView()],
  [/^\/settings\/workspace$/, () => needRole('admin', 'Workspace admins', workspaceServicesView)],
  [/^\/admin\/services$/, () => needPlatformAdmin(adminServicesView)],
  [/^\/admin\/oauth$/, () => needPlatformAdmin(adminOAuthView)],
];

function needPlatformAdmin(view) {
  if (!state.session?.platform_admin) return forbidden('Platform admins only', 'Service credentials and OAuth providers are managed by platform admins. Ask one if a key or a provider is missing.');
  return view();
}

function needRole(role, who, view) {
  if (state.session?.role !== role) return forbidden(`${who} only`, 'This page is for the admins of this workspace.');
  return view();
}

function forbidden(title, text) {
  page(title, h('div', { class: 'alert warn', role: 'alert', 'data-testid': 'forbidden' }, text),
    h('p', {}, h('a', { href: '#/connections' }, 'Back to connections')));
}

function navLink(href, text) {
  const cur = location.hash.startsWith(href);
  return h('a', { href, 'aria-current': cur ? 'page' : null }, text);
}

function renderChrome() {
  const s = state.session;
  const top = document.getElementById('top');
  top.hidden = !s;
  const nav = clear(document.getElementById('nav'));
  const who = clear(document.getElementById('who'));
  if (!s) return;
  const links = [navLink('#/connections', 'Connections'), navLink('#/settings/accounts', 'My accounts')];
  if (s.role === 'admin') links.push(navLink('#/settings/workspace', 'AI & Services'));
  if (s.platform_admin) links.push(navLink('#/admin/services', 'Service credentials'), navLink('#/admin/oauth', 'OAuth providers'));
  nav.append(h('ul', {}, links.map((a) => h('li', {}, a))));
  who.append(
    h('span', { class: 'muted' }, `${s.user} · ${s.workspace} (${s.role}${s.platform_admin ? ', platform admin' : ''})`),
    h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out'),
  );
}

async function signOut() {
  try {
    await api.del('/api/session');
  } catch {
    /* the cookie may already be gone */
  }
  state.session = null;
  api.setCsrf(null);
  location.hash = '#/signin';
  toast('Signed out');
}

async function route() {
  const path = location.hash.replace(/^#/, '') || '/connections';
  renderChrome();
  document.getElementById('nav').classList.remove('open');
  document.getElementById('menu-toggle').setAttribute('aria-expanded', 'false');
  if (!state.session) return signInView(onSignedIn);
  if (path === '/signin') {
    location.hash = '#/connections';
    return;
  }
  for (const [re, fn] of routes) {
    const m = path.match(re);
    if (m) {
      try {
        await fn(m);
      } catch (e) {
        page('Something went wrong', errorBox(e));
      }
      return;
    }
  }
  page('Not found', h('p', {}, 'There is no such page. '), h('a', { href: '#/connections' }, 'Go to connections'));
}

function onSignedIn(session) {
  state.session = session;
  api.setCsrf(session.csrf_token);
  if (!location.hash || location.hash === '#/signin') location.hash = '#/connections';
  else route();
}

async function start() {
  api.whenSignedOut(() => {
    if (!state.session) return;
    state.session = null;
    api.setCsrf(null);
    toast('Your session has ended: sign in again');
    route();
  });
  document.getElementById('menu-toggle').addEventListener('click', (ev) => {
    const nav = document.getElementById('nav');
    const open = nav.classList.toggle('open');
    ev.currentTarget.setAttribute('aria-expanded', String(open));
  });
  try {
    const s = await api.get('/api/session');
    state.session = s;
    api.setCsrf(s.csrf_token);
  } catch {
    state.session = null;
  }
  window.addEventListener('hashchange', route);
  route();
}

start();
