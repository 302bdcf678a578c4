// OAuth2 connections (issue 6) against a real authorization server: oidc-provider (npm, pinned),
// run by tests/e2e/peers/oidc-peer.mjs on 127.0.0.1 with 3-second access tokens, refresh-token
// rotation with reuse detection, and RFC 7009 revocation. The whole flow is driven over HTTP:
// connhub's start redirect, the provider's login form, connhub's callback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { makeCanary, scanFiles, scanForCanaries, describeHits } from './lib/canary.mjs';
import { authorize as walkAuthorize, counters as peerCounters, startPeer, stopPeer } from './lib/oauth_peer.mjs';
import { api, cleanup, freePort, pgDump, runCli, serverSql, startServer, tempDir } from './lib/server.mjs';

let srv, A, other, peer, peerProc, conn, rootTok, eveTok, rootXTok, db;
const seen = [];
const clientSecret = makeCanary('clientsecret');
const ROOT_PW = 'correct horse battery staple';

before(async () => {
  db = path.join(tempDir(), 'c.db');
  for (const args of [['user', 'add', 'root', '--platform-admin'], ['user', 'add', 'eve'], ['workspace', 'add', 'w'],
    ['workspace', 'add', 'x'], ['member', 'add', 'w', 'root', '--role', 'admin'], ['member', 'add', 'x', 'eve', '--role', 'admin'],
    ['member', 'add', 'x', 'root', '--role', 'admin']]) {
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
  rootXTok = tok('root', 'x');
  assert.equal(runCli(['user', 'passwd', 'root', '--db', `sqlite:${db}`], { input: `${ROOT_PW}\n` }).code, 0);
  A = wrap(api(srv.url, rootTok));
  other = wrap(api(srv.url, eveTok));
});

after(async () => {
  await srv?.stop();
  await stopPeer(peerProc);
  cleanup();
});

const counters = () => peerCounters(peer.issuer);
const flows = []; // every callback URL the provider sent back (their code and state are secrets)
const authorize = async (url) => {
  const cb = await walkAuthorize(url, peer.issuer, srv.url);
  flows.push(cb);
  return cb;
};

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

test('connect, call, refresh on expiry with rotation, exactly one refresh for 50 calls; the callback page (OAUTH-031); replay (OAUTH-004)', async () => {
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

  // OAUTH-031: the page holds neither the code nor any token
  assert.ok(!done.page.includes(done.cb.searchParams.get('code')), done.page);
  assert.ok(!/access_token|refresh_token|id_token/.test(done.page), done.page);
  // OAUTH-004: replaying the callback: the state is single use
  const replay = await fetch(done.cb, { redirect: 'manual' });
  const rp = await replay.text();
  assert.equal(replay.status, 400);
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

/** A new oauth2 connection on the peer in the workspace of `api`, not connected yet. */
async function newConn(a, name) {
  const c = await a.post('/api/connections', { name, base_url: peer.issuer, auth: { type: 'oauth2', provider: 'peer', tiers: ['user'] },
    operations: [{ name: 'whoami', method: 'GET', path: '/api/whoami' }] });
  assert.equal(c.status, 201, c.text);
  return c.json;
}
const oauthState = async (a, c) => (await a.get(`/api/connections/${c.id}`)).json.oauth;

test('the flow record alone decides the target (OAUTH-007) (OAUTH-008) (TEN-010); return_to/next are never followed (OAUTH-014)', async () => {
  const c1 = await newConn(A, 'Target one');
  const c2 = await newConn(A, 'Target two');
  const X = api(srv.url, rootXTok);
  const c3 = await newConn(X, 'Other workspace');
  const s = await start(c1.id);
  assert.equal(s.status, 302);
  const cb = new URL(await authorize(s.headers.get('location')));
  // the callback names another connection, another workspace and hostile post-callback redirects,
  // and arrives with a token of the same user in workspace x (the user "switched" workspace)
  for (const [k, v] of [['connection', c2.id], ['connection_id', c3.id], ['workspace', 'x'], ['workspace_id', '2'],
    ['return_to', 'https://evil.test/'], ['next', '//evil.test'], ['redirect', '/\\evil.test']]) cb.searchParams.append(k, v);
  const r = await fetch(cb, { redirect: 'manual', headers: { authorization: `Bearer ${rootXTok}` } });
  const page = await r.text();
  seen.push(page);
  assert.equal(r.status, 200, page);
  assert.equal(r.headers.get('location'), null, 'the callback page redirects nowhere');
  assert.ok(!/evil\.test/.test(page), page);
  assert.ok(page.includes(c1.id), page);
  assert.equal((await oauthState(A, c1)).connected, true);
  assert.notEqual((await oauthState(A, c2)).connected, true, 'c2 got no token');
  assert.notEqual((await oauthState(X, c3)).connected, true, 'workspace x got no token');
  for (const c of [c1, c2]) assert.equal((await A.del(`/api/connections/${c.id}`)).status, 200);
  assert.equal((await X.del(`/api/connections/${c3.id}`)).status, 200);
});

test('OAUTH-006 (TEN-010): login CSRF: a callback for a flow another user started is refused for a signed-in victim; no token anywhere', async () => {
  // the victim, root, is signed in to the web UI (session cookie) or sends an API token
  const si = await fetch(`${srv.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: srv.url },
    body: JSON.stringify({ username: 'root', password: ROOT_PW, workspace: 'w' }) });
  assert.equal(si.status, 201, await si.text());
  const cookie = /connhub_session=([^;]+)/.exec(si.headers.get('set-cookie'))[1];
  const E = api(srv.url, eveTok);
  const victimConn = await newConn(A, 'Victim conn');
  for (const victim of [{ cookie: `connhub_session=${cookie}` }, { authorization: `Bearer ${rootTok}` }]) {
    // the attacker, eve, starts a flow on her own connection and sends the callback URL to root
    const mine = await newConn(E, 'Attacker conn');
    const s = await start(mine.id, 'user', eveTok);
    assert.equal(s.status, 302);
    const cb = await authorize(s.headers.get('location'));
    await fetch(`${peer.issuer}/_counters/reset`, { method: 'POST' });
    const r = await fetch(cb, { redirect: 'manual', headers: victim });
    const page = await r.text();
    seen.push(page);
    assert.equal(r.status, 400, page);
    assert.match(page, /started by another user/);
    assert.equal((await counters()).code_exchanges, 0, 'the code was never exchanged');
    assert.notEqual((await oauthState(E, mine)).connected, true);
    assert.notEqual((await oauthState(A, victimConn)).connected, true);
    // the state is gone: not even the attacker can finish it now
    const again = await fetch(cb, { redirect: 'manual' });
    assert.equal(again.status, 400);
    assert.equal((await E.del(`/api/connections/${mine.id}`)).status, 200);
  }
  assert.equal((await A.del(`/api/connections/${victimConn.id}`)).status, 200);
});

test('OAUTH-011: a provider sharing the authorize endpoint with its own token endpoint never gets the code', async () => {
  let hits = 0;
  const evil = http.createServer((req, res) => { hits += 1; req.resume(); res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"access_token":"stolen","token_type":"Bearer"}'); });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
  try {
    const reg = await A.put('/api/admin/oauth-providers/evil', {
      name: 'Evil', authorize_url: `${peer.issuer}/auth`, token_url: `http://127.0.0.1:${evil.address().port}/token`,
      issuer: peer.issuer, client_auth: 'basic', tiers: { user: { scopes: ['read:user'] } },
      client_id: peer.client_id, client_secret: 'evil-secret' });
    assert.equal(reg.status, 200, reg.text);
    await fetch(`${peer.issuer}/_counters/reset`, { method: 'POST' });
    const c = await newConn(A, 'Mix-up target');
    const s = await start(c.id);
    const cb = new URL(await authorize(s.headers.get('location')));
    // the code of a flow for "peer" delivered to the other provider's callback
    const mixed = new URL(cb.href.replace('/connect/peer/callback', '/connect/evil/callback'));
    const r = await fetch(mixed, { redirect: 'manual' });
    const page = await r.text();
    seen.push(page);
    assert.equal(r.status, 400, page);
    assert.match(page, /Connection failed/);
    assert.equal(hits, 0, 'the other token endpoint got no request');
    assert.equal((await counters()).code_exchanges, 0);
    assert.notEqual((await oauthState(A, c)).connected, true);
    assert.equal((await A.del(`/api/connections/${c.id}`)).status, 200);
  } finally {
    await new Promise((r) => evil.close(r));
    await A.del('/api/admin/oauth-providers/evil');
  }
});

test('OAUTH-005: a callback after the flow record expired is refused; no code exchange, no token', async () => {
  const c = await newConn(A, 'Expired flow');
  const s = await start(c.id);
  const cb = await authorize(s.headers.get('location'));
  // the flow record's 10 minutes pass (OAUTH_FLOW_TTL_S): every pending record is a second past expiry
  serverSql(srv, `UPDATE oauth_states SET expires_at = ${Date.now() - 1000}`);
  await fetch(`${peer.issuer}/_counters/reset`, { method: 'POST' });
  const r = await fetch(cb, { redirect: 'manual' });
  const page = await r.text();
  seen.push(page);
  assert.equal(r.status, 400, page);
  assert.match(page, /expired/);
  assert.equal((await counters()).code_exchanges, 0);
  assert.notEqual((await oauthState(A, c)).connected, true);
  assert.equal((await A.del(`/api/connections/${c.id}`)).status, 200);
});

test('LEAK-010: a token endpoint error echoing the refresh token: not in the stored error, the answer or the logs', async () => {
  const c = await newConn(A, 'Echoing provider');
  const s = await start(c.id);
  const done = await fetch(await authorize(s.headers.get('location')), { redirect: 'manual' });
  seen.push(await done.text());
  assert.equal(done.status, 200);
  await new Promise((r) => setTimeout(r, 3200)); // the 3 s access token expires: the next call refreshes
  await fetch(`${peer.issuer}/_fault?status=400&error=invalid_request&echo=1&count=2`, { method: 'POST' });
  const call = await A.post('/api/actions/call', { actionIdentifier: `${c.slug}.whoami`, input: {} });
  await fetch(`${peer.issuer}/_fault?count=0`, { method: 'POST' });
  assert.equal(call.status, 502, call.text);
  const h = await oauthState(A, c);
  assert.equal(h.state, 'degraded', JSON.stringify(h));
  assert.equal(h.last_error_code, 'invalid_request');
  assert.ok(h.last_error, 'the error is stored');
  const tokens = (await (await fetch(`${peer.issuer}/_issued`)).json()).filter((t) => t.length >= 16);
  const stored = srv.dbUrl.startsWith('sqlite:')
    ? scanFiles([db, `${db}-wal`].filter((f) => fs.existsSync(f)), tokens)
    : scanForCanaries(pgDump(srv.dbUrl), tokens);
  const hits = [...scanForCanaries(`${call.text}\n${JSON.stringify(h)}\n${srv.output()}`, tokens), ...stored];
  assert.equal(hits.length, 0, describeHits(hits));
  assert.equal((await A.del(`/api/connections/${c.id}`)).status, 200);
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

test('LEAK-009: no code, state, verifier, token or client secret in any log line or answer; callbacks logged without query; no secret in any argv (LEAK-017)', async () => {
  const secrets = (await (await fetch(`${peer.issuer}/_issued`)).json()).filter((t) => t.length >= 16);
  for (const cb of flows) secrets.push(cb.searchParams.get('code'), cb.searchParams.get('state'));
  assert.ok(secrets.length >= 6, 'codes, verifiers and tokens were seen');
  const cbs = srv.logs.filter((l) => l.event === 'http.request' && /\/callback/.test(l.path));
  assert.ok(cbs.length > 0);
  for (const l of cbs) assert.ok(!/[?&=]/.test(l.path), l.path);
  const hits = scanForCanaries(seen.join('\n') + srv.output(), [...secrets, clientSecret]);
  assert.equal(hits.length, 0, describeHits(hits));
  // LEAK-017: nothing secret in the argv of the server or of any process it started
  const pids = [srv.proc.pid];
  for (const t of fs.readdirSync(`/proc/${srv.proc.pid}/task`)) {
    pids.push(...fs.readFileSync(`/proc/${srv.proc.pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean));
  }
  const argv = pids.map((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8')).join('\n');
  assert.equal(scanForCanaries(argv, [...secrets, clientSecret, srv.key]).length, 0, argv);
});

test('OAUTH-032: a provider registered by issuer alone takes its endpoints from the issuer\'s discovery document; a hostile document (wrong issuer, huge, deep) is refused and nothing is stored', async () => {
  // the real peer (oidc-provider) publishes /.well-known/openid-configuration
  const reg = await A.put('/api/admin/oauth-providers/disco', {
    name: 'Discovered', issuer: peer.issuer, discover: true, require_iss: true, client_auth: 'basic',
    tiers: { user: { scopes: ['read:user'] } }, client_id: peer.client_id, client_secret: 'disco-secret' });
  assert.equal(reg.status, 200, reg.text);
  const listed = (await A.get('/api/admin/oauth-providers')).json.providers.find((p) => p.id === 'disco');
  assert.ok(listed, 'the provider is registered');
  const meta = await (await fetch(`${peer.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(listed.authorize_url, meta.authorization_endpoint);
  assert.equal(listed.token_url, meta.token_endpoint);
  assert.equal(listed.revocation_url, meta.revocation_endpoint);
  assert.equal((await A.del('/api/admin/oauth-providers/disco')).status, 200);

  let served = '';
  let at = '/.well-known/openid-configuration';
  const asked = [];
  const hostile = http.createServer((req, res) => {
    asked.push(req.url);
    res.writeHead(req.url === at ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.url === at ? served : '{}');
  });
  await new Promise((r) => hostile.listen(0, '127.0.0.1', r));
  const iss = `http://127.0.0.1:${hostile.address().port}`;
  const good = { issuer: iss, authorization_endpoint: `${iss}/auth`, token_endpoint: `${iss}/token` };
  const put = () => A.put('/api/admin/oauth-providers/hostile', {
    name: 'Hostile', issuer: iss, discover: true, tiers: { user: { scopes: ['a'] } }, client_id: 'c', client_secret: 's' });
  try {
    const cases = [
      [JSON.stringify({ ...good, issuer: `${iss}/` }), 502, 'issuer_mismatch'],
      [JSON.stringify({ ...good, issuer: 'https://accounts.example.com' }), 502, 'issuer_mismatch'],
      [JSON.stringify({ ...good, token_endpoint: undefined }), 502, 'bad_discovery'],
      [JSON.stringify({ ...good, pad: 'x'.repeat(256 * 1024) }), 413, 'limit_exceeded'],
      [`${'['.repeat(65)}${']'.repeat(65)}`, 502, 'bad_discovery'],
      ['{"issuer": "a", "issuer": "b"}', 502, 'bad_discovery'],
      ['not json', 502, 'bad_discovery'],
    ];
    for (const [doc, status, code] of cases) {
      served = doc;
      const r = await put();
      assert.equal(r.status, status, `${doc.slice(0, 60)}: ${r.text}`);
      assert.equal(r.json.error.code, code, r.text);
      assert.equal(r.json.error.field, 'issuer');
    }
    const none = (await A.get('/api/admin/oauth-providers')).json.providers.find((p) => p.id === 'hostile');
    assert.equal(none, undefined, 'nothing stored from a refused document');
    // a document that checks out is used; RFC 8414's place is tried after a 404 at OIDC's
    served = JSON.stringify(good);
    at = '/.well-known/oauth-authorization-server';
    asked.length = 0;
    const ok = await put();
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(asked, ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']);
    const stored = (await A.get('/api/admin/oauth-providers')).json.providers.find((p) => p.id === 'hostile');
    assert.equal(stored.token_url, `${iss}/token`);
  } finally {
    await new Promise((r) => hostile.close(r));
    await A.del('/api/admin/oauth-providers/hostile');
  }
});
