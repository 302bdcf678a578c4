// New Connection wizard: pick a service type, fill in the details, review, save.
import * as api from './api.js';
import { h, field, page, errorBox, badge, slugify, secretInput, clear, nextId } from './dom.js';
import { authEditor, fulfillmentEditor } from './authfields.js';

const TYPES = [
  ['http', 'HTTP API', 'Any REST API: a base URL, an auth method and the operations you define.'],
  ['openapi', 'OpenAPI', 'Paste or upload a spec (JSON or YAML); review the operations it gives.'],
  ['mcp', 'MCP server', 'A Model Context Protocol server by URL; its tools are discovered.'],
  ['gmail', 'Gmail', 'Send and read mail through a Google account (OAuth2).'],
  ['telegram', 'Telegram', 'A Telegram bot by its token: send messages and photos.'],
];

const SLUG_RE = /^[a-z0-9_]{1,64}$/;

/** Name + slug with the slug suggested from the name and checked live against the workspace. */
function nameAndSlug() {
  const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const slug = h('input', { name: 'slug', required: true, autocomplete: 'off', pattern: '[a-z0-9_]{1,64}', class: 'mono' });
  const status = h('p', { class: 'hint slug-status', 'aria-live': 'polite', id: nextId('slug') });
  let touched = false;
  let timer = null;
  let seq = 0;
  const check = () => {
    clearTimeout(timer);
    const v = slug.value;
    if (!v) { status.textContent = ''; return; }
    if (!SLUG_RE.test(v)) { status.textContent = 'Use lower-case letters, digits and _ (at most 64).'; status.dataset.state = 'bad'; return; }
    status.textContent = 'Checking…';
    status.dataset.state = '';
    const mine = ++seq;
    timer = setTimeout(async () => {
      try {
        const r = await api.get(`/api/connections?q=${encodeURIComponent(v)}&limit=500`);
        if (mine !== seq) return;
        const taken = r.connections.some((c) => c.slug === v);
        status.textContent = taken ? `${v} is taken in this workspace: choose another.` : `${v} is available. Tools will be named ${v}.<operation>.`;
        status.dataset.state = taken ? 'bad' : 'ok';
      } catch {
        status.textContent = '';
      }
    }, 250);
  };
  name.addEventListener('input', () => { if (!touched) { slug.value = slugify(name.value); check(); } });
  slug.addEventListener('input', () => { touched = true; check(); });
  slug.setAttribute('aria-describedby', status.id);
  return {
    el: h('div', { class: 'cols' }, field('Name', name), h('div', { class: 'field' }, h('label', { for: slug.id || (slug.id = nextId()) }, 'Slug'), slug, status)),
    value: () => ({ name: name.value.trim(), slug: slug.value }),
    focus: () => name.focus(),
  };
}

const opValue = new WeakMap(); // li -> () => operation

/** Operations editor for HTTP connections: name, method, path with {{param}}, parameters.
 * initial: the connection's operations (the connection page), or none (a new connection). */
export function operationsEditor(initial = null) {
  const list = h('ol', { class: 'ops' });
  const add = (op = {}) => {
    const n = h('input', { name: 'op_name', value: op.name || '', required: true, class: 'mono', pattern: '[a-z0-9_]{1,64}', autocomplete: 'off' });
    const m = h('select', { name: 'op_method' }, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((x) => h('option', { value: x }, x)));
    m.value = op.method || 'GET';
    const p = h('input', { name: 'op_path', value: op.path || '/', required: true, class: 'mono', autocomplete: 'off' });
    const inPath = new Set([...String(op.path || '').matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)].map((x) => x[1]));
    const others = Object.keys(op.input_schema?.properties || {}).filter((k) => !inPath.has(k));
    const params = h('input', { name: 'op_params', value: others.join(', '), autocomplete: 'off', placeholder: 'e.g. q, limit' });
    const rm = h('button', { type: 'button', class: 'link' }, 'Remove');
    const li = h('li', { class: 'op' }, h('div', { class: 'cols4' }, field('Operation name', n), field('Method', m), field('Path', p, 'Use {{param}} for values from the input.'),
      field('Other parameters', params, 'Comma-separated; sent in the query (GET/DELETE) or the JSON body.')), rm);
    rm.addEventListener('click', () => li.remove());
    opValue.set(li, () => {
      const fromPath = [...p.value.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)].map((x) => x[1]);
      const extra = params.value.split(',').map((s) => s.trim()).filter(Boolean);
      const props = {};
      for (const k of [...fromPath, ...extra]) props[k] = { type: 'string' };
      return { name: n.value.trim(), method: m.value, path: p.value.trim(), input_schema: { type: 'object', required: fromPath, properties: props } };
    });
    list.append(li);
    return n;
  };
  if (initial && initial.length) for (const op of initial) add(op);
  else add({ name: '', method: 'GET', path: '/' });
  const addBtn = h('button', { type: 'button' }, 'Add operation');
  addBtn.addEventListener('click', () => add().focus());
  const value = () => [...list.children].map((li) => opValue.get(li)());
  const start = JSON.stringify(value());
  return {
    el: h('fieldset', {}, h('legend', {}, 'Operations'), list, addBtn),
    value,
    /** Whether anything was added, removed or edited since it was drawn. */
    changed: () => JSON.stringify(value()) !== start,
  };
}

function saveButton(text = 'Create connection') {
  return h('button', { type: 'submit', class: 'primary' }, text);
}

async function create(body, msg) {
  try {
    const c = await api.post('/api/connections', body);
    location.hash = `#/connections/${c.id}`;
    return c;
  } catch (e) {
    msg.replaceChildren(errorBox(e));
    return null;
  }
}

function httpForm(ns, ful) {
  const base = h('input', { name: 'base_url', type: 'url', required: true, placeholder: 'https://api.example.com', autocomplete: 'off' });
  const auth = authEditor(null);
  const ops = operationsEditor();
  const msg = h('div', { 'aria-live': 'polite' });
  const form = h('form', { 'aria-label': 'HTTP API connection' }, ns.el, field('Base URL', base), auth.el, ops.el, ful.el, msg, saveButton());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const c = await create({ ...ns.value(), service_type: 'http', base_url: base.value.trim(), auth: auth.value(), operations: ops.value(), ...ful.value() }, msg);
    if (c) auth.wipe();
  });
  return form;
}

function openapiForm(ns, ful) {
  const text = h('textarea', { name: 'spec', rows: 8, class: 'mono', spellcheck: 'false', placeholder: 'openapi: 3.0.0 …' });
  const file = h('input', { type: 'file', name: 'spec_file', accept: '.json,.yaml,.yml,application/json,application/yaml' });
  file.addEventListener('change', async () => {
    if (file.files[0]) text.value = await file.files[0].text();
  });
  const review = h('div', { 'aria-live': 'polite' });
  const reviewBtn = h('button', { type: 'button', class: 'primary' }, 'Review operations');
  const msg = h('div', { 'aria-live': 'polite' });
  const form = h('form', { 'aria-label': 'OpenAPI connection' }, ns.el,
    field('Spec (JSON or YAML)', text), field('…or upload a file', file), reviewBtn, review);
  reviewBtn.addEventListener('click', async () => {
    review.replaceChildren(h('p', { class: 'muted' }, 'Reading the spec…'));
    let p;
    try {
      p = await api.post('/api/openapi/preview', { spec: text.value });
    } catch (e) {
      review.replaceChildren(errorBox(e));
      return;
    }
    const base = h('input', { name: 'base_url', type: 'url', value: p.base_url || '', autocomplete: 'off' });
    const authDefault = p.auth && ['api_key_header', 'api_key_query', 'api_key_cookie', 'bearer', 'basic'].includes(p.auth.type) ? { type: p.auth.type, name: p.auth.name, secrets_set: [] } : null;
    const auth = authEditor(authDefault);
    const rows = p.operations.map((op) => {
      const keep = h('input', { type: 'checkbox', checked: true, name: `keep_${op.name}`, 'aria-label': `Keep ${op.name}` });
      const rename = h('input', { value: op.name, class: 'mono', name: `rename_${op.name}`, 'aria-label': `Tool name for ${op.name}`, autocomplete: 'off' });
      return { op, keep, rename, tr: h('tr', {}, h('td', {}, keep), h('td', {}, rename), h('td', {}, badge(op.method)), h('td', { class: 'mono' }, op.path), h('td', { class: 'muted' }, op.description || '')) };
    });
    const save = saveButton();
    review.replaceChildren(
      h('div', { class: 'card inset' }, h('h2', {}, `${p.title || 'Untitled'} ${p.version ? `v${p.version}` : ''}`),
        h('p', { class: 'muted' }, `OpenAPI ${p.spec_version} · ${p.operations.length} operations`),
        (p.warnings || []).length ? h('details', {}, h('summary', {}, `${p.warnings.length} warnings`), h('ul', {}, p.warnings.map((w) => h('li', {}, typeof w === 'string' ? w : w.message || JSON.stringify(w))))) : null,
        field('Base URL', base, 'From the spec; change it to call another server.'),
        auth.el,
        h('div', { class: 'scroll' }, h('table', { class: 'list ops-review' },
          h('caption', {}, 'Uncheck the operations to drop; rename the ones to keep as you like.'),
          h('thead', {}, h('tr', {}, ['Keep', 'Tool name', 'Method', 'Path', 'Description'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, rows.map((r) => r.tr)))),
        ful.el, msg, save));
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const exclude = rows.filter((r) => !r.keep.checked).map((r) => r.op.name);
      const rename = {};
      for (const r of rows) if (r.keep.checked && r.rename.value.trim() !== r.op.name) rename[r.op.name] = r.rename.value.trim();
      const body = { ...ns.value(), service_type: 'openapi', spec: text.value, ...ful.value() };
      if (base.value.trim()) body.base_url = base.value.trim();
      const a = auth.value();
      if (a.type !== 'none' || !p.auth) body.auth = a;
      if (exclude.length) body.exclude_operations = exclude;
      if (Object.keys(rename).length) body.rename_operations = rename;
      const c = await create(body, msg);
      if (c) auth.wipe();
    };
  });
  form.addEventListener('submit', (ev) => ev.preventDefault());
  return form;
}

function mcpForm(ns, ful) {
  const url = h('input', { name: 'url', type: 'url', required: true, placeholder: 'https://mcp.example.com/mcp', autocomplete: 'off' });
  const transport = h('select', { name: 'transport' }, [['auto', 'Detect'], ['streamable_http', 'Streamable HTTP'], ['sse', 'Legacy SSE']].map(([v, t]) => h('option', { value: v }, t)));
  const token = secretInput('mcp_token');
  const preview = h('div', { 'aria-live': 'polite' });
  const previewBtn = h('button', { type: 'button' }, 'Preview tools');
  const msg = h('div', { 'aria-live': 'polite' });
  const authOf = () => (token.value ? { type: 'bearer', token: token.value } : undefined);
  previewBtn.addEventListener('click', async () => {
    preview.replaceChildren(h('p', { class: 'muted' }, 'Connecting…'));
    try {
      const body = { url: url.value.trim(), transport: transport.value };
      if (authOf()) body.auth = authOf();
      const r = await api.post('/api/mcp/discover', body);
      preview.replaceChildren(h('div', { class: 'card inset', 'data-testid': 'mcp-preview' },
        h('p', {}, `${r.server?.name || 'MCP server'} ${r.server?.version || ''} · ${r.transport} · protocol ${r.protocol_version} · ${r.tools.length} tools`),
        h('ul', { class: 'tools-preview' }, r.tools.map((t) => h('li', {}, h('span', { class: 'mono' }, t.tool_name || t.name), t.description ? h('span', { class: 'muted' }, ` — ${t.description}`) : null)))));
    } catch (e) {
      preview.replaceChildren(errorBox(e));
    }
  });
  const form = h('form', { 'aria-label': 'MCP server connection' }, ns.el, field('Server URL', url), field('Transport', transport),
    field('Bearer token (optional)', token, 'Sent as Authorization: Bearer; stored sealed, never shown again.'),
    previewBtn, preview, ful.el, msg, saveButton());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { ...ns.value(), service_type: 'mcp', base_url: url.value.trim(), transport: transport.value, ...ful.value() };
    if (authOf()) body.auth = authOf();
    if ((await create(body, msg))) token.value = '';
  });
  return form;
}

function gmailForm(ns, ful) {
  const how = h('select', { name: 'gmail_auth' },
    h('option', { value: 'oauth2' }, 'A Google account (OAuth: you sign in at Google)'),
    h('option', { value: 'google_service_account' }, 'A Google service account (Workspace domain-wide delegation)'));
  const tiers = [['send', 'Send mail'], ['read', 'Read mail'], ['full', 'Full access (send, read, delete)']].map(([v, t]) => ({ v, box: h('input', { type: 'checkbox', name: 'tier', value: v, checked: v === 'send' }), t }));
  const tierBox = h('fieldset', {}, h('legend', {}, 'What it may do (tiers)'), tiers.map(({ v, box, t }) => h('label', { class: 'check' }, box, ` ${t}`)));
  const sa = authEditor(null, { types: ['google_service_account'] });
  const saBox = h('div', { hidden: true }, sa.el);
  const note = h('p', { class: 'muted' }, 'After saving, you are sent to Google to grant access.');
  const save = saveButton('Create and connect');
  const sync = () => {
    const oauth = how.value === 'oauth2';
    saBox.hidden = oauth;
    tierBox.hidden = !oauth;
    note.hidden = !oauth;
    save.textContent = oauth ? 'Create and connect' : 'Create connection';
    for (const el of saBox.querySelectorAll('input, textarea')) el.disabled = oauth;
  };
  how.addEventListener('change', sync);
  sync();
  const msg = h('div', { 'aria-live': 'polite' });
  const form = h('form', { 'aria-label': 'Gmail connection' }, ns.el, field('Sign in with', how), tierBox, saBox,
    ful.el, note, msg, save);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (how.value === 'google_service_account') {
      if ((await create({ ...ns.value(), service_type: 'gmail', auth: sa.value(), ...ful.value() }, msg))) sa.wipe();
      return;
    }
    const chosen = tiers.filter((x) => x.box.checked).map((x) => x.v);
    try {
      const c = await api.post('/api/connections', { ...ns.value(), service_type: 'gmail', auth: { type: 'oauth2', provider: 'gmail', tiers: chosen }, ...ful.value() });
      location.href = `/api/auth/connect/gmail/start?connection=${encodeURIComponent(c.id)}&tiers=${encodeURIComponent(chosen.join(','))}`;
    } catch (e) {
      msg.replaceChildren(errorBox(e));
    }
  });
  return form;
}

function telegramForm(ns, ful) {
  const token = secretInput('bot_token', { required: true });
  const msg = h('div', { 'aria-live': 'polite' });
  const form = h('form', { 'aria-label': 'Telegram connection' }, ns.el,
    field('Bot token', token, 'From @BotFather (123456:ABC…). Stored sealed, never shown again.'), ful.el, msg, saveButton());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if ((await create({ ...ns.value(), service_type: 'telegram', auth: { type: 'bearer', token: token.value }, ...ful.value() }, msg))) token.value = '';
  });
  return form;
}

const FORMS = { http: httpForm, openapi: openapiForm, mcp: mcpForm, gmail: gmailForm, telegram: telegramForm };

export function wizardView() {
  const step2 = h('div', {});
  const choose = (type) => {
    const ns = nameAndSlug();
    const ful = fulfillmentEditor();
    clear(step2).append(h('section', { class: 'card', 'aria-labelledby': 'step2' }, h('h2', { id: 'step2' }, `2. ${TYPES.find((t) => t[0] === type)[1]} details`), FORMS[type](ns, ful)));
    ns.focus();
  };
  const picker = h('fieldset', { class: 'types' }, h('legend', {}, '1. What do you want to connect?'),
    TYPES.map(([v, t, d]) => {
      const did = nextId('type');
      const r = h('input', { type: 'radio', name: 'service_type', value: v, 'aria-label': t, 'aria-describedby': did });
      r.addEventListener('change', () => choose(v));
      return h('label', { class: 'type-card' }, r, h('strong', { 'aria-hidden': 'true' }, t), h('span', { class: 'muted', id: did }, d));
    }));
  page('New connection', h('p', { class: 'crumbs' }, h('a', { href: '#/connections' }, 'Connections'), ' / new'), picker, step2);
}
