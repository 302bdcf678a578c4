// OAuth2 connections (issue 6), the rest: an upstream 401 forces exactly one refresh and one
// retry; per-operation tiers; health (healthy/degraded/needs_reauth, counters, logged changes);
// the revocation outcome on delete; deleting registry providers; OpenAPI oauth2 schemes as
// providers; and the negative cases: a token endpoint that times out (--oauth-token-timeout),
// a provider error response on refresh, the client secret rotated in the registry while calls
// run. Real peer: oidc-provider (tests/e2e/peers/oidc-peer.mjs), 3-second access tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { makeCanary, scanForCanaries, describeHits } from './lib/canary.mjs';
import { authorize, counters, peerPost, resetCounters, startPeer, stopPeer } from './lib/oauth_peer.mjs';
import { api, cleanup, freePort, runCli, startServer, tempDir } from './lib/server.mjs';

const TOKEN_TIMEOUT_MS = 1000;
let srv, A, M, peer, peerProc, db;
const seen = [];
const secret1 = makeCanary('clientsecret');
const secret2 = makeCanary('clientsecret2');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const definition = () => ({
  name: 'Test peer', authorize_url: `${peer.issuer}/auth`, token_url: `${peer.issuer}/token`,
  revocation_url: `${peer.issuer}/token/revocation`, issuer: peer.issuer, require_iss: true, client_auth: 'basic',
  default_scopes: ['openid', 'offline_access'],
  tiers: { user: { scopes: ['read:user'] }, repo: { scopes: ['repo'] }, full: { scopes: ['repo', 'read:user'], includes: ['user', 'repo'] } },
  extra_authorize_params: { prompt: 'consent' },
});

before(async () => {
  db = path.join(tempDir(), 'c.db');
  for (const args of [['user', 'add', 'root', '--platform-admin'], ['user', 'add', 'bob'], ['workspace', 'add', 'w'],
    ['member', 'add', 'w', 'root', '--role', 'admin'], ['member', 'add', 'w', 'bob', '--role', 'member']]) {
    assert.equal(runCli([...args, '--db', `sqlite:${db}`]).code, 0);
  }
  const tok = (u) => runCli(['token', 'create', '--user', u, '--workspace', 'w', '--db', `sqlite:${db}`]).stdout.trim();
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const p = await startPeer({ port: 0, 'at-ttl': 3, 'auto-consent': 1,
    'redirect-uri': `${appUrl}/api/auth/connect/peer/callback`, 'client-secret': secret1 });
  peerProc = p.child;
  peer = p.ready;
  srv = await startServer({ dbPath: db, port, allowPrivate: '127.0.0.1/32',
    args: ['--app-url', appUrl, '--oauth-token-timeout', String(TOKEN_TIMEOUT_MS)] });
  const wrap = (a) => {
    const w = {};
    for (const m of ['get', 'post', 'put', 'patch', 'del']) w[m] = async (...args) => { const r = await a[m](...args); seen.push(r.text); return r; };
    return w;
  };
  A = wrap(api(srv.url, tok('root')));
  M = wrap(api(srv.url, tok('bob')));
  const reg = await A.put('/api/admin/oauth-providers/peer', { ...definition(), client_id: peer.client_id, client_secret: secret1 });
  assert.equal(reg.status, 200, reg.text);
});

after(async () => {
  await srv?.stop();
  await stopPeer(peerProc);
  cleanup();
});

let n = 0;
/** A new oauth2 connection on the peer's protected resource, connected with `tiers`. */
async function connected(tiers = 'user', ops = [{ name: 'whoami', method: 'GET', path: '/api/whoami' }]) {
  n += 1;
  const c = await A.post('/api/connections', { name: `Peer ${n}`, slug: `peer${n}`, base_url: peer.issuer,
    auth: { type: 'oauth2', provider: 'peer', tiers: tiers.split(',') }, operations: ops });
  assert.equal(c.status, 201, c.text);
  const s = await fetch(`${srv.url}/api/auth/connect/peer/start?connection=${c.json.id}&tiers=${tiers}`, {
    headers: { authorization: `Bearer ${runCli(['token', 'create', '--user', 'root', '--workspace', 'w', '--db', `sqlite:${db}`]).stdout.trim()}` },
    redirect: 'manual' });
  assert.equal(s.status, 302, await s.text());
  const cb = await authorize(s.headers.get('location'), peer.issuer, srv.url);
  const page = await (await fetch(cb, { redirect: 'manual' })).text();
  seen.push(page);
  assert.match(page, /Connected/);
  return c.json;
}

const call = (c, op = 'whoami') => A.post('/api/actions/call', { actionIdentifier: `${c.slug}.${op}`, input: {} });
const health = async (c) => (await A.get(`/api/connections/${c.id}`)).json.oauth;
const logs = (event) => srv.logs.filter((l) => l.event === event);

test('an upstream 401 forces exactly one refresh and one retry; a second 401 is the answer, not a loop', async () => {
  const c = await connected();
  let r = await call(c);
  assert.equal(r.json.status, 200, r.text);
  await resetCounters(peer.issuer);
  // the token is within its lifetime, but the upstream refuses it once
  await peerPost(peer.issuer, '/_fault_whoami', { count: 1 });
  r = await call(c);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 200, r.text);
  let k = await counters(peer.issuer);
  assert.equal(k.whoami_401, 1);
  assert.equal(k.whoami_ok, 1);
  assert.equal(k.refresh_requests, 1, JSON.stringify(k));
  let h = await health(c);
  assert.equal(h.forced_refreshes, 1, JSON.stringify(h));
  assert.equal(h.state, 'healthy');

  // refused again and again: one forced refresh, one retry, then the 401 is the call's answer
  await resetCounters(peer.issuer);
  await peerPost(peer.issuer, '/_fault_whoami', { count: 5 });
  r = await call(c);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 401, r.text);
  k = await counters(peer.issuer);
  assert.equal(k.whoami_401, 2, JSON.stringify(k));
  assert.equal(k.refresh_requests, 1, JSON.stringify(k));
  h = await health(c);
  assert.equal(h.state, 'degraded', JSON.stringify(h));
  assert.equal(h.last_error_code, 'upstream_401');
  await peerPost(peer.issuer, '/_fault_whoami', { count: 0 });

  // a bearer (non-OAuth) connection that gets a 401 is not refreshed nor retried
  const b = await A.post('/api/connections', { name: 'Plain', slug: 'plain', base_url: peer.issuer,
    auth: { type: 'bearer', token: 'not-a-live-token' }, operations: [{ name: 'whoami', method: 'GET', path: '/api/whoami' }] });
  assert.equal(b.status, 201, b.text);
  await resetCounters(peer.issuer);
  r = await call(b.json);
  assert.equal(r.json.status, 401, r.text);
  k = await counters(peer.issuer);
  assert.equal(k.whoami_401, 1);
  assert.equal(k.token_requests, 0);

  // the next good answer brings the OAuth connection back to healthy, and that is logged
  r = await call(c);
  assert.equal(r.json.status, 200, r.text);
  h = await health(c);
  assert.equal(h.state, 'healthy', JSON.stringify(h));
  const changes = logs('oauth.health_changed').filter((l) => l.connection === c.id);
  assert.deepEqual(changes.map((l) => `${l.from}>${l.to}`), ['healthy>degraded', 'degraded>healthy']);
  assert.equal(changes[1].recovered, true);
});

test('an operation that needs a tier the connection was not granted fails before anything is sent', async () => {
  const c = await connected('user', [{ name: 'whoami', method: 'GET', path: '/api/whoami', tier: 'user' },
    { name: 'repos', method: 'GET', path: '/api/whoami', tier: 'repo' }]);
  await resetCounters(peer.issuer);
  let r = await call(c, 'repos');
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.code, 'needs_tier');
  assert.match(r.json.error.message, /needs tier repo/);
  assert.equal(r.json.error.reconnect_url, `/api/auth/connect/peer/start?tiers=user,repo&connection=${c.id}`);
  let k = await counters(peer.issuer);
  assert.equal(k.whoami_ok + k.whoami_401 + k.token_requests, 0, JSON.stringify(k));
  r = await call(c, 'whoami');
  assert.equal(r.json.status, 200, r.text);
  // a grant of "full" includes "repo"
  const f = await connected('full', [{ name: 'repos', method: 'GET', path: '/api/whoami', tier: 'repo' }]);
  r = await call(f, 'repos');
  assert.equal(r.json.status, 200, r.text);
  assert.ok((await health(f)).tiers.split(',').includes('full'));
});

test('health is in the view: a provider error on refresh degrades (clear error, back-off), recovery is logged', async () => {
  const c = await connected();
  let h = await health(c);
  assert.equal(h.state, 'healthy');
  assert.equal(h.connected, true);
  assert.ok(h.last_success_at > 0);
  for (const k of ['refreshes', 'forced_refreshes', 'consecutive_failures', 'total_failures']) assert.equal(typeof h[k], 'number', k);
  assert.ok(!/access_token|refresh_token/.test(JSON.stringify(h)));
  // past half its lifetime the token is refreshed; when that fails the call goes out with the old
  // token while it lives, and the back-off holds (no refresh per call)
  const o = await connected();
  await sleep(1600);
  await resetCounters(peer.issuer);
  await peerPost(peer.issuer, '/_fault', { status: 503, error: 'temporarily_unavailable', count: 1 });
  let r = await call(o);
  assert.equal(r.json?.status, 200, r.text);
  r = await call(o);
  assert.equal(r.json?.status, 200, r.text);
  assert.equal((await counters(peer.issuer)).token_requests, 1);
  assert.equal((await health(o)).state, 'degraded');

  await sleep(3100); // past expiry: the next call refreshes
  await peerPost(peer.issuer, '/_fault', { status: 503, error: 'temporarily_unavailable', count: 1 });
  r = await call(c);
  assert.equal(r.status, 502, r.text);
  assert.equal(r.json.error.code, 'refresh_failed');
  assert.match(r.json.error.message, /temporarily_unavailable/);
  h = await health(c);
  assert.equal(h.state, 'degraded', JSON.stringify(h));
  assert.equal(h.last_error_code, 'temporarily_unavailable');
  assert.equal(h.consecutive_failures, 1);
  assert.ok(h.next_retry_at > Date.now() - 100, JSON.stringify(h));
  // within the back-off no refresh is tried
  await resetCounters(peer.issuer);
  r = await call(c);
  assert.ok(r.status === 503 || r.status === 200, r.text);
  if (r.status === 503) assert.equal(r.json.error.code, 'refresh_backoff');
  await sleep(Math.max(0, h.next_retry_at - Date.now()) + 50);
  r = await call(c);
  assert.equal(r.json.status, 200, r.text);
  h = await health(c);
  assert.equal(h.state, 'healthy');
  assert.equal(h.consecutive_failures, 0);
  assert.equal(h.total_failures, 1);
  const changes = logs('oauth.health_changed').filter((l) => l.connection === c.id);
  assert.deepEqual(changes.map((l) => `${l.from}>${l.to}`), ['healthy>degraded', 'degraded>healthy']);

  // invalid_client (provider configuration) degrades with its code, and says so
  const d = await connected();
  await sleep(3100);
  await peerPost(peer.issuer, '/_fault', { status: 401, error: 'invalid_client', count: 1 });
  r = await call(d);
  assert.equal(r.status, 502, r.text);
  assert.match(r.json.error.message, /invalid_client/);
  h = await health(d);
  assert.equal(h.state, 'degraded');
  assert.equal(h.last_error_code, 'invalid_client');
  assert.ok(h.next_retry_at - Date.now() > 20000, 'a configuration error backs off for longer');

  // invalid_grant: needs_reauth, with the reconnect URL; no further refresh
  const g = await connected();
  await sleep(3100);
  await peerPost(peer.issuer, '/_fault', { status: 400, error: 'invalid_grant', count: 2 });
  r = await call(g);
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'needs_reauth');
  assert.equal(r.json.error.reconnect_url, `/api/auth/connect/peer/start?connection=${g.id}`);
  assert.equal((await health(g)).state, 'needs_reauth');
  await resetCounters(peer.issuer);
  r = await call(g);
  assert.equal(r.json.error.code, 'needs_reauth');
  assert.equal((await counters(peer.issuer)).token_requests, 0);
  await peerPost(peer.issuer, '/_fault', { count: 0 });
});

test('a token endpoint that times out: named timeout, lease released, the next call works', async () => {
  const c = await connected();
  await sleep(3100);
  // the answer comes after the token timeout (and, being an error, changes nothing at the peer)
  await peerPost(peer.issuer, '/_fault', { status: 503, error: 'temporarily_unavailable', delay_ms: TOKEN_TIMEOUT_MS + 1500, count: 1 });
  const t0 = Date.now();
  let r = await call(c);
  const took = Date.now() - t0;
  assert.equal(r.status, 504, r.text);
  assert.equal(r.json.error.code, 'token_endpoint_timeout');
  assert.match(r.json.error.message, new RegExp(`OAuth token timeout \\(${TOKEN_TIMEOUT_MS} ms\\)`));
  assert.ok(took >= TOKEN_TIMEOUT_MS && took < TOKEN_TIMEOUT_MS + 1500, `took ${took} ms`);
  const h = await health(c);
  assert.equal(h.state, 'degraded');
  assert.equal(h.last_error_code, 'token_endpoint_timeout');
  await sleep(Math.max(0, h.next_retry_at - Date.now()) + 50);
  r = await call(c); // the lease was released: this call refreshes at once
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 200, r.text);
  assert.equal((await health(c)).state, 'healthy');
});

test('the client secret rotated in the registry while calls run: calls keep working, no restart', async () => {
  const c = await connected();
  await resetCounters(peer.issuer);
  let stop = false;
  const results = [];
  const loop = (async () => {
    while (!stop) {
      results.push(await call(c));
      await sleep(100);
    }
  })();
  await sleep(2000);
  // the provider accepts both secrets for a while; the registry gets the new one; the old one dies
  await peerPost(peer.issuer, '/_client_secret', { value: secret2, keep_old: 1 });
  const put = await A.put('/api/admin/oauth-providers/peer', { ...definition(), client_id: peer.client_id, client_secret: secret2 });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.client_secret_set, true);
  // a refresh that read the old secret just before the PUT may still be on its way: retire the
  // old secret only once a refresh has used the new one (one refresh at a time per connection,
  // so none with the old secret can follow it)
  for (let i = 0; i < 200 && (await counters(peer.issuer)).client_secrets.rotated < 1; i++) await sleep(50);
  await peerPost(peer.issuer, '/_client_secret', { value: secret2, keep_old: 0 });
  await sleep(4500); // more than one token lifetime: at least one refresh with the new secret
  stop = true;
  await loop;
  for (const r of results) assert.equal(r.json?.status, 200, r.text);
  const k = await counters(peer.issuer);
  assert.ok(k.client_secrets.rotated >= 1, JSON.stringify(k));
  assert.equal(k.client_secrets.refused, 0, JSON.stringify(k));
  assert.ok(k.refresh_ok >= 2, JSON.stringify(k));
});

test('delete: revocation outcome recorded and answered; providers in use cannot be deleted', async () => {
  const c = await connected();
  // a member cannot delete providers; a provider in use cannot go
  let r = await M.del('/api/admin/oauth-providers/peer');
  assert.equal(r.status, 403, r.text);
  r = await A.del('/api/admin/oauth-providers/peer');
  assert.equal(r.status, 409, r.text);
  assert.equal(r.json.error.code, 'provider_in_use');
  assert.match(r.json.error.message, /connection\(s\) still use provider peer/);
  r = await A.del('/api/admin/oauth-providers/gmail');
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.code, 'builtin_provider');
  r = await A.del('/api/admin/oauth-providers/nosuch');
  assert.equal(r.status, 404, r.text);

  // the revocation endpoint refuses (the secret the registry holds is dead now): the local
  // credentials go all the same, and the outcome says what happened
  await peerPost(peer.issuer, '/_client_secret', { value: makeCanary('other'), keep_old: 0 });
  r = await A.del(`/api/connections/${c.id}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.revocation.refresh_token.outcome, 'failed', r.text);
  assert.equal(r.json.revocation.refresh_token.status, 401);
  assert.equal((await A.get(`/api/connections/${c.id}`)).status, 404);
  const rec = logs('oauth.revoked').filter((l) => l.connection === c.id);
  assert.equal(rec.length, 2);
  assert.ok(rec.every((l) => l.ok === false));
  assert.ok(logs('oauth.health_changed').some((l) => l.connection === c.id && l.to === 'revoked'));
  await peerPost(peer.issuer, '/_client_secret', { value: secret2, keep_old: 0 });

  // with every connection gone the provider can be deleted, its secret with it
  const list = await A.get('/api/connections');
  for (const x of list.json.connections) if (x.auth?.provider === 'peer') assert.equal((await A.del(`/api/connections/${x.id}`)).status, 200);
  r = await A.del('/api/admin/oauth-providers/peer');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.builtin_remains, false);
  r = await A.get('/api/admin/oauth-providers');
  assert.ok(!r.json.providers.some((p) => p.id === 'peer'));
});

test('an OpenAPI import with an oauth2 scheme becomes a provider; the admin still supplies credentials', async () => {
  const spec = {
    openapi: '3.0.3', info: { title: 'Pets', version: '1' }, servers: [{ url: 'https://api.pets.example' }],
    components: { securitySchemes: { oa: { type: 'oauth2', flows: { authorizationCode: {
      authorizationUrl: 'https://auth.pets.example/authorize', tokenUrl: 'https://auth.pets.example/token',
      scopes: { 'pets:read': 'read pets', 'pets:write': 'write pets' } } } } } },
    security: [{ oa: ['pets:read'] }],
    paths: { '/pets': { get: { operationId: 'listPets', responses: { 200: { description: 'ok' } } } } },
  };
  // the preview shows the provider an import would register
  let r = await M.post('/api/openapi/preview', { spec: JSON.stringify(spec) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.oauth_provider.id, 'auth_pets_example');
  assert.equal((await A.get('/api/admin/oauth-providers')).json.providers.some((x) => x.id === 'auth_pets_example'), false);
  r = await M.post('/api/connections', { name: 'Pets', service_type: 'openapi', spec: JSON.stringify(spec) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.auth.type, 'oauth2');
  assert.equal(r.json.auth.provider, 'auth_pets_example');
  assert.deepEqual(r.json.auth.tiers, ['all']);
  const conn = r.json;
  r = await A.get('/api/admin/oauth-providers');
  const p = r.json.providers.find((x) => x.id === 'auth_pets_example');
  assert.ok(p, r.text);
  assert.equal(p.token_url, 'https://auth.pets.example/token');
  assert.deepEqual(Object.keys(p.tiers).sort(), ['all', 'pets_read', 'pets_write']);
  assert.deepEqual(p.tiers.all.scopes, ['pets:read', 'pets:write']);
  assert.equal(p.client_secret_set, false);
  // no client credentials yet: starting a connect names both places to set them
  const s2 = await fetch(`${srv.url}/api/auth/connect/auth_pets_example/start?connection=${conn.id}&tiers=all`, {
    headers: { authorization: `Bearer ${runCli(['token', 'create', '--user', 'root', '--workspace', 'w', '--db', `sqlite:${db}`]).stdout.trim()}` }, redirect: 'manual' });
  const body = await s2.json();
  assert.equal(s2.status, 422, JSON.stringify(body));
  assert.equal(body.error.code, 'provider_not_configured');
  assert.match(body.error.message, /CONNECT_AUTH_PETS_EXAMPLE_CLIENT_ID/);
  // a second import reuses the provider; one with other endpoints under the same host is refused
  r = await M.post('/api/connections', { name: 'Pets 2', service_type: 'openapi', spec: JSON.stringify(spec) });
  assert.equal(r.status, 201, r.text);
  const other = JSON.parse(JSON.stringify(spec));
  other.components.securitySchemes.oa.flows.authorizationCode.tokenUrl = 'https://auth.pets.example/other-token';
  r = await M.post('/api/connections', { name: 'Pets 3', service_type: 'openapi', spec: JSON.stringify(other) });
  assert.equal(r.status, 409, r.text);
  assert.equal(r.json.error.code, 'provider_conflict');
});

test('no secret in any answer or log line', async () => {
  const hits = scanForCanaries(seen.join('\n') + srv.output(), [secret1, secret2]);
  assert.equal(hits.length, 0, describeHits(hits));
});
