// Connection page: test, tools with "try it", edit, reconnect (OAuth2), delete.
import * as api from './api.js';
import { h, field, page, errorBox, badge, toast } from './dom.js';
import { SERVICE_LABELS, AUTH_LABELS, healthBadge } from './hub.js';
import { schemaForm } from './schemaform.js';
import { authEditor, fulfillmentEditor } from './authfields.js';
import { operationsEditor } from './wizard.js';

function pre(value) {
  return h('pre', { class: 'response', tabindex: '0' }, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

function stepsReport(r) {
  return h('div', { class: `report ${r.ok ? 'ok' : 'bad'}`, 'data-testid': 'test-report' },
    h('p', {}, h('strong', {}, r.ok ? 'Test passed' : 'Test failed'), ` in ${r.duration_ms} ms`),
    h('ol', { class: 'steps' }, (r.steps || []).map((s) => h('li', { class: s.ok ? 'ok' : 'bad' },
      h('span', { class: 'mark', 'aria-hidden': 'true' }, s.ok ? '✓' : '✗'),
      h('span', { class: 'sr-only' }, s.ok ? 'passed: ' : 'failed: '),
      h('strong', {}, s.name), ' — ', s.detail || ''))));
}

function testSection(c) {
  const out = h('div', { 'aria-live': 'polite' });
  const btn = h('button', { type: 'button', class: 'primary' }, 'Test connection');
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    out.replaceChildren(h('p', { class: 'muted' }, 'Testing…'));
    try {
      out.replaceChildren(stepsReport(await api.post(`/api/connections/${c.id}/test`)));
    } catch (e) {
      out.replaceChildren(errorBox(e));
    } finally {
      btn.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'sec-test' }, h('h2', { id: 'sec-test' }, 'Test'),
    h('p', { class: 'muted' }, 'Makes one cheap real call and reports each step.'), btn, out);
}

function toolCard(c, op) {
  const form = schemaForm(op.input_schema, { idPrefix: `try-${op.name}` });
  const out = h('div', { 'aria-live': 'polite' });
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Call');
  const f = h('form', { class: 'try' }, form.el, btn, out);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let input;
    try {
      input = form.value();
    } catch (e) {
      out.replaceChildren(errorBox(e));
      return;
    }
    btn.disabled = true;
    out.replaceChildren(h('p', { class: 'muted' }, 'Calling…'));
    try {
      const r = await api.post('/api/actions/call', { actionIdentifier: `${c.slug}.${op.name}`, connectionId: c.id, input });
      out.replaceChildren(h('p', {}, badge(r.ok ? `ok · ${r.status}` : `failed · ${r.status ?? r.stage ?? ''}`, r.ok ? 'ok' : 'bad'), ` ${r.duration_ms ?? ''} ms`),
        pre(r.body !== undefined ? r.body : r));
    } catch (e) {
      out.replaceChildren(errorBox(e));
    } finally {
      btn.disabled = false;
    }
  });
  return h('li', { class: 'tool', 'data-tool': op.name },
    h('details', {},
      h('summary', {}, h('span', { class: 'mono' }, `${c.slug}.${op.name}`), ' ',
        op.method ? badge(op.method) : null, ' ', h('span', { class: 'muted mono' }, op.path || op.mcp_tool || '')),
      op.description ? h('p', { class: 'muted' }, op.description) : null,
      h('h3', {}, 'Try it'), f));
}

function toolsSection(c, reload) {
  const ops = c.operations || [];
  const parts = [h('h2', { id: 'sec-tools' }, `Tools (${ops.length})`)];
  if (c.service_type === 'mcp') {
    const msg = h('div', { 'aria-live': 'polite' });
    const btn = h('button', { type: 'button' }, 'Discover tools again');
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        await api.post(`/api/connections/${c.id}/refresh-tools`);
        toast('Tools refreshed');
        reload();
      } catch (e) {
        msg.replaceChildren(errorBox(e));
        btn.disabled = false;
      }
    });
    parts.push(btn, msg);
  }
  parts.push(ops.length ? h('ul', { class: 'tools' }, ops.map((op) => toolCard(c, op)))
    : h('p', { class: 'muted' }, 'No tools: add operations below, or discover them again.'));
  return h('section', { class: 'card', 'aria-labelledby': 'sec-tools' }, parts);
}

function editSection(c, reload) {
  const name = h('input', { name: 'name', value: c.name, required: true });
  const base = h('input', { name: 'base_url', type: 'url', value: c.base_url || '', placeholder: 'https://api.example.com' });
  const desc = h('textarea', { name: 'description', rows: 2 }, c.description || '');
  const auth = c.auth?.type === 'oauth2' ? null
    : c.auth?.type === 'google_service_account' ? authEditor(c.auth, { types: ['google_service_account'] })
      : authEditor(c.auth);
  const ful = fulfillmentEditor(c);
  const ops = c.service_type === 'http' ? operationsEditor(c.operations || []) : null;
  const msg = h('div', { 'aria-live': 'polite' });
  const form = h('form', {},
    field('Name', name), c.service_type !== 'telegram' ? field('Base URL', base) : null, field('Description', desc),
    auth ? auth.el : h('p', { class: 'muted' }, `OAuth2 (${c.auth.provider}): use Reconnect to renew the grant.`),
    ops ? ops.el : null, ful.el, msg, h('button', { type: 'submit', class: 'primary' }, 'Save changes'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    if (name.value !== c.name) body.name = name.value;
    if (c.service_type !== 'telegram' && base.value !== (c.base_url || '')) body.base_url = base.value;
    if (desc.value !== (c.description || '')) body.description = desc.value;
    if (auth) {
      const a = auth.value();
      if (auth.changed(c.auth)) body.auth = a;
    }
    if (ops && ops.changed()) body.operations = ops.value();
    const fv = ful.value();
    if (fv.fulfillment !== c.fulfillment || (fv.participant_role || '') !== (c.participant_role || '')) Object.assign(body, fv);
    if (Object.keys(body).length === 0) {
      msg.replaceChildren(h('p', { class: 'muted' }, 'Nothing changed.'));
      return;
    }
    try {
      await api.patch(`/api/connections/${c.id}`, body);
      auth?.wipe();
      toast('Saved');
      reload();
    } catch (e) {
      msg.replaceChildren(errorBox(e));
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'sec-edit' }, h('h2', { id: 'sec-edit' }, 'Settings'), form);
}

function when(ms) {
  return ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—';
}

/** OAuth2 / Google service account: the health the server reports and (OAuth2) Connect/Reconnect. */
function oauthSection(c) {
  const o = c.oauth;
  if (!o) return null;
  const tiers = (c.auth?.tiers || []).join(',');
  const rows = [
    ['State', healthBadge(c)],
    ['Granted tiers', o.tiers || (o.connected ? '—' : 'none yet')],
    ['Last success', when(o.last_success_at)],
    ['Last failure', o.last_failure_at ? `${when(o.last_failure_at)} (${o.last_error_code || 'error'}${o.last_error ? `: ${o.last_error}` : ''})` : '—'],
    ['Token expires', when(o.expires_at)],
    ['Refreshes', o.connected ? `${o.refreshes} (${o.forced_refreshes} forced after a 401), ${o.total_failures} failures` : '—'],
  ];
  const parts = [h('h2', { id: 'sec-oauth' }, 'Account and health'),
    h('dl', { class: 'kv', 'data-testid': 'oauth-health' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))];
  if (c.auth?.type === 'oauth2') {
    const href = `/api/auth/connect/${encodeURIComponent(c.auth.provider)}/start?connection=${encodeURIComponent(c.id)}${tiers ? `&tiers=${encodeURIComponent(tiers)}` : ''}`;
    parts.push(h('p', { class: 'muted' }, `Provider: ${c.auth.provider}.`),
      h('a', { class: 'button primary', href }, o.connected ? 'Reconnect' : 'Connect'));
  } else {
    parts.push(h('p', { class: 'muted' }, `Google service account acting for ${c.auth?.subject || '—'}; a new key is set under Settings.`));
  }
  return h('section', { class: 'card', 'aria-labelledby': 'sec-oauth' }, parts);
}

function deleteSection(c) {
  const box = h('div', {});
  const ask = h('button', { type: 'button', class: 'danger' }, 'Delete connection…');
  ask.addEventListener('click', () => {
    const tools = (c.operations || []).map((o) => `${c.slug}.${o.name}`);
    const confirmBtn = h('button', { type: 'button', class: 'danger' }, `Delete ${c.name} permanently`);
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const warn = h('div', { class: 'alert warn', role: 'alertdialog', 'aria-labelledby': 'del-title' },
      h('p', { id: 'del-title' }, h('strong', {}, 'This cannot be undone.'), ' The stored credentials are destroyed',
        c.auth?.type === 'oauth2' ? ' and the grant is revoked at the provider' : '', '. Agents and workflows that call these tools will fail:'),
      tools.length ? h('ul', { class: 'mono' }, tools.map((t) => h('li', {}, t))) : h('p', { class: 'muted' }, '(no tools)'),
      h('div', { class: 'row' }, confirmBtn, cancel));
    cancel.addEventListener('click', () => { box.replaceChildren(); ask.hidden = false; ask.focus(); });
    confirmBtn.addEventListener('click', async () => {
      try {
        await api.del(`/api/connections/${c.id}`);
        toast(`Deleted ${c.name}`);
        location.hash = '#/connections';
      } catch (e) {
        warn.append(errorBox(e));
      }
    });
    ask.hidden = true;
    box.replaceChildren(warn);
    confirmBtn.focus();
  });
  return h('section', { class: 'card danger-zone', 'aria-labelledby': 'sec-del' }, h('h2', { id: 'sec-del' }, 'Delete'), ask, box);
}

export async function connectionView(id) {
  let c;
  try {
    c = await api.get(`/api/connections/${encodeURIComponent(id)}`);
  } catch (e) {
    page('Connection', e.status === 404 ? h('p', {}, 'No such connection in this workspace.') : errorBox(e),
      h('p', {}, h('a', { href: '#/connections' }, 'Back to connections')));
    return;
  }
  const reload = () => connectionView(id);
  page(c.name,
    h('p', { class: 'crumbs' }, h('a', { href: '#/connections' }, 'Connections'), ' / ', c.slug),
    c.description ? h('p', { class: 'description', 'data-testid': 'description' }, c.description) : null,
    h('div', { class: 'meta' },
      badge(SERVICE_LABELS[c.service_type] || c.service_type), badge(AUTH_LABELS[c.auth?.type] || c.auth?.type),
      badge(`fulfillment: ${c.fulfillment}`), c.oauth ? healthBadge(c) : null,
      h('span', { class: 'muted' }, ` owner ${c.owner?.name || '—'} · ${c.base_url || ''}`)),
    h('div', { class: 'grid' }, testSection(c), oauthSection(c)),
    toolsSection(c, reload), editSection(c, reload), deleteSection(c));
}
