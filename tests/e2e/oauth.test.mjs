// OAuth2 connections (issue 6) against a real authorization server: oidc-provider (npm, pinned),
// run by tests/e2e/peers/oidc-peer.mjs on 127.0.0.1 with 3-second access tokens, refresh-token
// rotation with reuse detection, and RFC 7009 revocation. The whole flow is driven over HTTP:
// connhub's start redirect, the provider's login form, connhub's callback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { makeCanary, scanForCanaries, describeHits } from './lib/canary.mjs';
import { authorize as walkAuthorize, counters as peerCounters, startPeer, stopPeer } from './lib/oauth_peer.mjs';
import { api, cleanup, freePort, runCli, startServer, tempDir } from './lib/server.mjs';

let srv, A, other, peer, peerProc, conn, rootTok, eveTok;
const seen = [];
const clientSecret = makeCanary('clientsecret');

before(async () => {
  const db = path.join(tempDir(), 'c.db');
  for (const args of [['user', 'add', 'root', '--platform-admin'], ['user', 'add', 'eve'], ['workspace', 'add', 'w'],
    ['workspace', 'add', 'x'], ['member', 'add', 'w', 'root', '--role', 'admin'], ['member', 'add', 'x', 'eve', '--role', 'admin']]) {
    assert.equal(runCli([...args, '--db', `sqlite:${db}`]).code, 0);
  }
  const tok = (u, w) => runCli(['token', 'create', '--user', u, '--workspace', w, '--db', `sqlite:${db}`]).stdout.trim();
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const p = await startPeer({ port: 0, 'at-ttl': 3, 'auto-consent': 1,
    'redirect-uri': `${appUrl}/api/auth/connect/peer/callback`, 'client-secret': clientSecret });
  peerProc = p.child;
  peer = p.ready;
  srv = await startServer({ dbPath: db, port, allowPrivate: '127.0.0.1/32', args: ['--app-url', appUrl] });
  const wrap = (a) => {
    const w = {};
    for (const m of ['get', 'post', 'put', 'patch', 'del']) w[m] = async (...args) => { const r = await a[m](...args); seen.push(r.text); return r; };
    return w;
  };
  rootTok = tok('root', 'w');
  eveTok = tok('eve', 'x');
  A = wrap(api(srv.url, rootTok));
  other = wrap(api(srv.url, eveTok));
});

after(async () => {
  await srv?.stop();
  await stopPeer(peerProc);
  cleanup();
});

const counters = () => peerCounters(peer.issuer);
const authorize = (url) => walkAuthorize(url, peer.issuer, srv.url);

async function start(connectionId, tiers = 'user', token = rootTok) {
  return fetch(`${srv.url}/api/auth/connect/peer/start?connection=${connectionId}&tiers=${tiers}`, {
    headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
}

async function connect() {
  const s = await start(conn.id);
  assert.equal(s.status, 302, await s.text());
  const authz = s.headers.get('location');
  assert.ok(authz.startsWith(`${peer.issuer}/auth?`), authz);
  const u = new URL(authz);
  assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(u.searchParams.get('scope').includes('read:user'));
  const cb = await authorize(authz);
  const r = await fetch(cb, { redirect: 'manual' });
  const page = await r.text();
  seen.push(page);
  return { status: r.status, page, headers: r.headers, cb };
}

test('the full flow: registry, start, provider login, callback; tokens never visible', async () => {
  const reg = await A.put('/api/admin/oauth-providers/peer', {
    name: 'Test peer', authorize_url: `${peer.issuer}/auth`, token_url: `${peer.issuer}/token`,
    revocation_url: `${peer.issuer}/token/revocation`, issuer: peer.issuer, require_iss: true, client_auth: 'basic',
    default_scopes: ['openid', 'offline_access'], tiers: { user: { scopes: ['read:user'] }, repo: { scopes: ['repo'] } },
    extra_authorize_params: { prompt: 'consent' },
    client_id: peer.client_id, client_secret: clientSecret });
  assert.equal(reg.status, 200, reg.text);
  assert.equal(reg.json.client_secret_set, true);
  assert.ok(!reg.text.includes(clientSecret));

  const c = await A.post('/api/connections', { name: 'Peer API', base_url: peer.issuer, auth: { type: 'oauth2', provider: 'peer', tiers: ['user'] },
    operations: [{ name: 'whoami', method: 'GET', path: '/api/whoami' }] });
  assert.equal(c.status, 201, c.text);
  conn = c.json;
  // not connected yet: a clear error
  let call = await A.post('/api/actions/call', { actionIdentifier: 'peer_api.whoami', input: {} });
  assert.equal(call.status, 422, call.text);
  assert.equal(call.json.error.code, 'not_connected');
});

test('connect, call, refresh on expiry with rotation, exactly one refresh for 50 calls', async () => {
  const done = await connect();
  assert.equal(done.status, 200, done.page);
  assert.match(done.page, /Connected/);
  assert.equal(done.headers.get('cache-control'), 'no-store');
  assert.equal(done.headers.get('referrer-policy'), 'no-referrer');
  let call = await A.post('/api/actions/call', { actionIdentifier: 'peer_api.whoami', input: {} });
  assert.equal(call.status, 200, call.text);
  assert.equal(call.json.status, 200, JSON.stringify(call.json));
  // the connection shows no token
  const view = await A.get(`/api/connections/${conn.id}`);
  assert.ok(!/access_token|refresh_token/.test(JSON.stringify(view.json.auth)), view.text);

  // replaying the callback: the state is single use
  const replay = await fetch(done.cb, { redirect: 'manual' });
  const rp = await replay.text();
  assert.equal(replay.status, 404);
  assert.match(rp, /unknown or was already used/);

  // access tokens live 3 s: wait past the refresh margin and call 50 times at once
  await fetch(`${peer.issuer}/_counters/reset`, { method: 'POST' });
  await new Promise((r) => setTimeout(r, 3500));
  const calls = await Promise.all(Array.from({ length: 50 }, () =>
    A.post('/api/actions/call', { actionIdentifier: 'peer_api.whoami', input: {} })));
  for (const r of calls) {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 200, JSON.stringify(r.json).slice(0, 200));
  }
  const n = await counters();
  assert.equal(n.refresh_requests, 1, JSON.stringify(n));
  assert.equal(n.refresh_reuse_detected || 0, 0);
});

test('state negatives and workspace binding store nothing', async () => {
  // missing, malformed and unknown states
  for (const q of ['', '?state=short&code=x', `?state=${'A'.repeat(43)}&code=x`]) {
    const r = await fetch(`${srv.url}/api/auth/connect/peer/callback${q}`);
    assert.ok(r.status === 400 || r.status === 404, `${q}: ${r.status}`);
    assert.match(await r.text(), /Connection failed/);
  }
  // provider error (denied consent)
  const s = await start(conn.id);
  const u = new URL(s.headers.get('location'));
  const denied = await fetch(`${srv.url}/api/auth/connect/peer/callback?state=${u.searchParams.get('state')}&error=access_denied&iss=${encodeURIComponent(peer.issuer)}`);
  assert.notEqual(denied.status, 200);
  assert.match(await denied.text(), /Connection failed/);
  // another workspace cannot start a flow on this connection
  const x = await start(conn.id, 'user', eveTok);
  assert.equal(x.status, 404);
  // unknown tier
  const t = await start(conn.id, 'nope');
  assert.equal(t.status, 400);
});

test('delete revokes the tokens at the provider', async () => {
  await fetch(`${peer.issuer}/_counters/reset`, { method: 'POST' });
  const d = await A.del(`/api/connections/${conn.id}`);
  assert.equal(d.status, 200, d.text);
  // the answer waited for the provider: the outcome of each token's revocation (OAUTH-030)
  assert.equal(d.json.revocation.refresh_token.outcome, 'revoked', d.text);
  assert.equal(d.json.revocation.access_token.outcome, 'revoked', d.text);
  const deadline = Date.now() + 5000;
  let n;
  do {
    await new Promise((r) => setTimeout(r, 100));
    n = await counters();
  } while (n.revocations < 1 && Date.now() < deadline);
  assert.ok(n.revocations >= 1, JSON.stringify(n));
  // nothing secret leaked anywhere
  const hits = scanForCanaries(seen.join('\n') + srv.output(), [clientSecret]);
  assert.equal(hits.length, 0, describeHits(hits));
});
