// Connections hub: every connection of the workspace, with search and filters.
import * as api from './api.js';
import { h, field, page, errorBox, emptyState, clear } from './dom.js';

export const SERVICE_LABELS = { http: 'HTTP API', openapi: 'OpenAPI', mcp: 'MCP server', gmail: 'Gmail', telegram: 'Telegram' };
export const AUTH_LABELS = {
  none: 'None', bearer: 'Bearer token', basic: 'Basic', api_key_header: 'API key (header)',
  api_key_query: 'API key (query)', api_key_cookie: 'API key (cookie)', custom: 'Custom', oauth2: 'OAuth2',
  google_service_account: 'Google service account',
};

export async function listAll(params = {}) {
  const out = [];
  let cursor = null;
  for (let i = 0; i < 50; i++) {
    const q = new URLSearchParams({ limit: '500', ...params });
    if (cursor) q.set('cursor', cursor);
    const r = await api.get(`/api/connections?${q}`);
    out.push(...r.connections);
    cursor = r.next_cursor;
    if (!cursor) break;
  }
  return out;
}

/** The health a connection reports: OAuth2 and Google service-account connections carry
 * `oauth.state` (healthy, degraded, needs_reauth, revoked, not_connected); others have none. */
export function healthOf(c) {
  return c.oauth?.state || null;
}

export function healthBadge(c) {
  const hl = healthOf(c);
  if (!hl) return h('span', { class: 'muted', title: 'only OAuth connections report a health state' }, 'n/a');
  const kind = hl === 'healthy' ? 'ok' : hl === 'degraded' ? 'warn' : 'bad';
  const title = c.oauth?.last_error ? `${c.oauth.last_error_code || 'error'}: ${c.oauth.last_error}` : null;
  return h('span', { class: `badge ${kind}`, title, 'data-health': hl }, hl.replace(/_/g, ' '));
}

export async function hubView() {
  const q = h('input', { type: 'search', name: 'q', placeholder: 'name or slug', autocomplete: 'off' });
  const svc = h('select', { name: 'service_type' }, h('option', { value: '' }, 'All'),
    Object.entries(SERVICE_LABELS).map(([v, t]) => h('option', { value: v }, t)));
  const ful = h('select', { name: 'fulfillment' }, h('option', { value: '' }, 'All'),
    ['static', 'caller', 'participant'].map((v) => h('option', { value: v }, v)));
  const results = h('div', { 'aria-live': 'polite' });
  const filters = h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
    field('Search', q), field('Service type', svc), field('Fulfillment', ful));
  page('Connections',
    h('div', { class: 'toolbar' }, h('p', { class: 'muted' }, 'Everything agents and workflows of this workspace can call.'),
      h('a', { class: 'button primary', href: '#/connections/new' }, 'New connection')),
    filters, results);

  let all = [];
  try {
    all = await listAll();
  } catch (e) {
    results.append(errorBox(e));
    return;
  }
  const render = () => {
    clear(results);
    if (all.length === 0) {
      results.append(emptyState('No connections yet', 'Connect an HTTP API, an OpenAPI spec, an MCP server, Gmail or Telegram: agents and workflows call them as tools, and the credentials never leave connhub.',
        h('a', { class: 'button primary', href: '#/connections/new' }, 'Create the first connection')));
      return;
    }
    const needle = q.value.trim().toLowerCase();
    const rows = all.filter((c) => (!needle || c.name.toLowerCase().includes(needle) || c.slug.includes(needle)) &&
      (!svc.value || c.service_type === svc.value) && (!ful.value || c.fulfillment === ful.value));
    results.append(h('p', { class: 'muted count' }, `${rows.length} of ${all.length} connection${all.length === 1 ? '' : 's'}`));
    if (rows.length === 0) {
      results.append(emptyState('Nothing matches', 'Change the search or the filters.'));
      return;
    }
    results.append(h('table', { class: 'list', 'data-testid': 'connections' },
      h('thead', {}, h('tr', {}, ['Name', 'Service', 'Auth', 'Fulfillment', 'Owner', 'Health', 'Tools'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((c) => h('tr', {},
        h('td', { 'data-label': 'Name' }, h('a', { href: `#/connections/${c.id}` }, c.name), h('div', { class: 'muted mono' }, c.slug)),
        h('td', { 'data-label': 'Service' }, SERVICE_LABELS[c.service_type] || c.service_type),
        h('td', { 'data-label': 'Auth' }, AUTH_LABELS[c.auth?.type] || c.auth?.type || '—'),
        h('td', { 'data-label': 'Fulfillment' }, c.fulfillment, c.participant_role ? ` (${c.participant_role})` : ''),
        h('td', { 'data-label': 'Owner' }, c.owner?.name || '—'),
        h('td', { 'data-label': 'Health' }, healthBadge(c)),
        h('td', { 'data-label': 'Tools', class: 'num' }, String(c.operations_count ?? 0)))))));
  };
  q.addEventListener('input', render);
  svc.addEventListener('change', render);
  ful.addEventListener('change', render);
  render();
}
