// Settings: My accounts (personal accounts: /api/me/accounts) and Workspace → AI & Services.
import * as api from './api.js';
import { h, field, page, errorBox, emptyState, badge, toast, secretInput } from './dom.js';
import { listAll } from './hub.js';

const LEVEL_TEXT = { workspace: 'Workspace key', platform: 'Platform key', none: 'No key' };

/** One service row: which level is in use, a write-only key field, save / remove. */
export function serviceCard(s, { level, base, reload }) {
  const own = level === 'workspace' ? s.workspace_key_set : s.platform_key_set;
  const key = secretInput(`key_${s.service}`, { isSet: own });
  const msg = h('div', { 'aria-live': 'polite' });
  const editable = level === 'platform' || s.overridable;
  const effective = s.effective || 'none';
  const parts = [
    h('h3', {}, s.name || s.service),
    h('p', {}, 'In use: ', h('span', { 'data-testid': `effective-${s.service}` }, badge(LEVEL_TEXT[effective] || effective, effective === 'none' ? 'warn' : 'ok'))),
    h('p', { class: 'muted small' }, `Platform key ${s.platform_key_set ? 'set' : 'not set'} · workspace key ${s.workspace_key_set ? 'set' : 'not set'}`),
  ];
  if (!editable) {
    parts.push(h('p', { class: 'muted' }, 'Set by the platform only (not overridable by a workspace).'));
  } else {
    const form = h('form', {}, field(`${s.name || s.service} API key`, key, own ? 'Set. Type a new key to replace it.' : 'Write-only: stored sealed, never shown again.'), msg);
    const save = h('button', { type: 'submit', class: 'primary' }, own ? 'Replace key' : 'Save key');
    const row = h('div', { class: 'row' }, save);
    if (own) {
      const rm = h('button', { type: 'button', class: 'danger' }, 'Remove key');
      rm.addEventListener('click', async () => {
        try {
          await api.del(`${base}/${s.service}`);
          toast(`${s.name}: key removed`);
          reload();
        } catch (e) {
          msg.replaceChildren(errorBox(e));
        }
      });
      row.append(rm);
    }
    form.append(row);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!key.value) {
        msg.replaceChildren(h('p', { class: 'muted' }, 'Type a key first.'));
        return;
      }
      try {
        await api.put(`${base}/${s.service}`, { key: key.value });
        key.value = '';
        toast(`${s.name}: key saved`);
        reload();
      } catch (e) {
        key.value = '';
        msg.replaceChildren(errorBox(e));
      }
    });
    parts.push(form);
  }
  return h('li', { class: 'card service', 'data-service': s.service }, parts);
}

export async function workspaceServicesView() {
  const list = h('ul', { class: 'cards' });
  page('AI & Services',
    h('p', { class: 'muted' }, 'Keys this workspace uses for the built-in tools (web search, OpenAI, Anthropic, Gemini). A workspace key, when set, is used instead of the platform key.'),
    list);
  let r;
  try {
    r = await api.get('/api/workspace/service-credentials');
  } catch (e) {
    list.replaceWith(errorBox(e));
    return;
  }
  list.append(...r.services.map((s) => serviceCard(s, { level: 'workspace', base: '/api/workspace/service-credentials', reload: workspaceServicesView })));
}

function accountCard(a, reload) {
  const rm = h('button', { type: 'button', class: 'danger' }, 'Disconnect');
  const msg = h('div', { 'aria-live': 'polite' });
  rm.addEventListener('click', async () => {
    try {
      await api.del(`/api/me/accounts/${encodeURIComponent(a.connection_id)}`);
      toast('Disconnected');
      reload();
    } catch (e) {
      msg.replaceChildren(errorBox(e));
    }
  });
  return h('li', { class: 'card' },
    h('h3', {}, a.connection_name || a.connection || a.connection_id),
    h('p', {}, a.provider ? `${a.provider} · ` : '', a.method === 'oauth' ? 'connected by OAuth' : 'API key or token'),
    h('p', {}, 'Granted tiers: ', (a.tiers || []).length ? a.tiers.map((t) => badge(t, 'ok')) : h('span', { class: 'muted' }, 'none')),
    h('p', { class: 'muted small' }, `Since ${a.created_at || '—'}`), rm, msg);
}

/** Connections with caller fulfillment that the user has no account for yet. */
function connectCard(c, reload) {
  const msg = h('div', { 'aria-live': 'polite' });
  if (c.auth?.type === 'oauth2') {
    const tiers = (c.auth.tiers || []).map((t) => ({ t, box: h('input', { type: 'checkbox', checked: true, value: t }) }));
    const go = h('button', { type: 'button', class: 'primary' }, `Connect ${c.auth.provider}`);
    go.addEventListener('click', () => {
      const chosen = tiers.filter((x) => x.box.checked).map((x) => x.t).join(',');
      location.href = `/api/auth/connect/${encodeURIComponent(c.auth.provider)}/start?personal=1&connection=${encodeURIComponent(c.id)}&tiers=${encodeURIComponent(chosen)}`;
    });
    return h('li', { class: 'card' }, h('h3', {}, c.name),
      h('fieldset', {}, h('legend', {}, 'Tiers to grant'), tiers.map(({ t, box }) => h('label', { class: 'check' }, box, ` ${t}`))), go, msg);
  }
  const key = secretInput(`acct_${c.slug}`, { required: true });
  const form = h('form', {}, field('Your key or token', key, 'Stored sealed for you only; never shown again.'), h('button', { type: 'submit', class: 'primary' }, 'Save'), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = c.auth?.type === 'bearer' ? 'token' : 'key';
    try {
      await api.put(`/api/me/accounts/${encodeURIComponent(c.id)}`, { credentials: { [f]: key.value } });
      key.value = '';
      toast('Saved');
      reload();
    } catch (e) {
      key.value = '';
      msg.replaceChildren(errorBox(e));
    }
  });
  return h('li', { class: 'card' }, h('h3', {}, c.name), h('p', { class: 'muted' }, `${c.slug} · ${c.auth?.type}`), form);
}

export async function accountsView() {
  const body = h('div', {});
  page('My accounts', h('p', { class: 'muted' }, 'Your own accounts, used when you run a workflow or agent that calls a connection with caller fulfillment. Nobody else\'s runs can use them.'), body);
  let accounts;
  try {
    accounts = (await api.get('/api/me/accounts')).accounts || [];
  } catch (e) {
    body.append(errorBox(e));
    return;
  }
  let callerConns = [];
  try {
    callerConns = (await listAll()).filter((c) => c.fulfillment === 'caller');
  } catch {
    callerConns = [];
  }
  const have = new Set(accounts.map((a) => a.connection_id));
  body.append(h('h2', {}, 'Connected'),
    accounts.length ? h('ul', { class: 'cards' }, accounts.map((a) => accountCard(a, accountsView)))
      : emptyState('No personal accounts yet', 'Connect one below when a connection asks for your own account.'),
    h('h2', {}, 'Available to connect'),
    callerConns.filter((c) => !have.has(c.id)).length
      ? h('ul', { class: 'cards' }, callerConns.filter((c) => !have.has(c.id)).map((c) => connectCard(c, accountsView)))
      : h('p', { class: 'muted' }, 'No connection of this workspace asks for a personal account.'));
}
