// Several servers on one PostgreSQL database (issue 9): two connhub processes share a database and
// an encryption key, as they would behind a load balancer without sticky sessions.
//  - Writes and calls spread over both; one is killed with SIGKILL mid-load; every connection whose
//    create was acknowledged (201) is there afterwards, from the survivor and from a restarted
//    server, and its sealed credential still reaches the upstream.
//  - OAuth across processes: the authorization starts on one server and its callback lands on the
//    other (the state is in the database); with the access token expired, 50 concurrent calls
//    split over both servers cause exactly one refresh at the provider (oidc-provider, a real
//    authorization server), and all 50 succeed.
//  - MCP sessions are per process: calls alternate between the servers, each keeps its own
//    session; after the MCP server restarts (every session gone) both re-initialize by themselves.
//  - No per-process cache outlives a change: a connection changed or deleted through one server is
//    what the other uses on its very next call (HTTP credential, URL, operations; MCP token).
// Runs in the PostgreSQL pass of tools/run-tests (make test), or alone under tools/with-pg with
// CONNHUB_E2E_DB=postgres.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { makeCanary, scanForCanaries, describeHits } from './lib/canary.mjs';
import { startBearerFront, startEverything } from './lib/mcp_peer.mjs';
import { authorize, startPeer, stopPeer } from './lib/oauth_peer.mjs';
import { api, cleanup, freePort, ON_PG, pgAdmin, pgDatabase, runCli, startServer } from './lib/server.mjs';
import { startUpstream } from './lib/upstream.mjs';

const skip = !ON_PG && 'runs in the PostgreSQL pass (CONNHUB_E2E_DB=postgres under tools/with-pg)';
const KEY = randomBytes(32).toString('base64');
const clientSecret = makeCanary('miclient');
let db, token, up, peerProc, peer, A, B, appUrlB;
const output = [];

async function serve(port) {
  return startServer({ db, port, env: { INTEGRATION_ENCRYPTION_KEY: KEY }, allowPrivate: ['127.0.0.1/32', '127.0.0.2/32'],
    args: ['--app-url', appUrlB, '--threads', '2'] });
}

before(async () => {
  if (skip) return;
  db = pgDatabase();
  for (const a of [['user', 'add', 'root', '--platform-admin'], ['workspace', 'add', 'w'], ['member', 'add', 'w', 'root', '--role', 'admin']]) {
    const r = runCli([...a, '--db', db]);
    assert.equal(r.code, 0, r.stderr);
  }
  token = runCli(['token', 'create', '--user', 'root', '--workspace', 'w', '--db', db]).stdout.trim();
  up = await startUpstream({ host: '127.0.0.2' });
  const portB = await freePort();
  appUrlB = `http://127.0.0.1:${portB}`;
  const p = await startPeer({ port: 0, 'at-ttl': 3, 'auto-consent': 1,
    'redirect-uri': `${appUrlB}/api/auth/connect/peer/callback`, 'client-secret': clientSecret });
  peerProc = p.child;
  peer = p.ready;
  A = await serve(await freePort());
  B = await serve(portB);
});

after(async () => {
  for (const s of [A, B]) if (s) { await s.stop(); output.push(s.output()); }
  await up?.close();
  await stopPeer(peerProc);
  if (!skip) {
    const hits = scanForCanaries(output.join('\n'), [clientSecret]);
    assert.equal(hits.length, 0, describeHits(hits));
  }
  cleanup();
});

test('two servers, one killed with SIGKILL mid-load: no acknowledged write is lost', { skip }, async () => {
  const acked = [];
  let callsOk = 0, refused = 0, killedAt = null;
  const servers = [A, B];
  const t0 = Date.now();
  const LOAD_MS = 4000, KILL_AT_MS = 1500, WORKERS = 8;
  const killer = (async () => {
    await new Promise((r) => setTimeout(r, KILL_AT_MS));
    killedAt = Date.now() - t0;
    await B.kill9();
  })();
  await Promise.all(Array.from({ length: WORKERS }, async (_, w) => {
    for (let i = 0; Date.now() - t0 < LOAD_MS; i++) {
      const s = servers[(w + i) % 2];
      const name = `c-${w}-${i}`;
      const secret = `tok-${w}-${i}-${randomBytes(4).toString('hex')}`;
      try {
        const r = await api(s.url, token).post('/api/connections', { name, base_url: up.url, auth: { type: 'bearer', token: secret },
          operations: [{ name: 'get', method: 'GET', path: '/items/{{id}}' }] });
        if (r.status === 201) acked.push({ id: r.json.id, slug: r.json.slug, name, secret, via: s === A ? 'A' : 'B' });
        else assert.fail(`create answered ${r.status}: ${r.text}`);
        const c = await api(s.url, token).post('/api/actions/call', { actionIdentifier: `${r.json.slug}.get`, input: { id: '1' } });
        assert.equal(c.status, 200, c.text);
        callsOk++;
      } catch (e) {
        if (e.code === 'ERR_ASSERTION') throw e;
        refused++; // the killed server: nothing was acknowledged
        assert.ok(s === B && killedAt !== null, `a request to ${s === A ? 'A' : 'B'} failed before the kill: ${e.message}`);
      }
    }
  }));
  await killer;
  const viaB = acked.filter((a) => a.via === 'B').length;
  assert.ok(viaB >= 5 && acked.length - viaB >= 5, `writes went to both (A ${acked.length - viaB}, B ${viaB})`);
  assert.ok(refused >= 1, 'some requests met the killed server');
  assert.ok(callsOk >= acked.length - WORKERS, `calls succeeded (${callsOk} of ${acked.length})`);

  // Every acknowledged create is there, on the survivor and on a new server.
  output.push(B.output()); // the killed server's, for the scan in after()
  B = await serve(new URL(appUrlB).port);
  for (const s of [A, B]) {
    const a = api(s.url, token);
    for (const w of acked) {
      const r = await a.get(`/api/connections/${w.id}`);
      assert.equal(r.status, 200, `${w.name} (acknowledged by ${w.via}) is missing: ${r.text}`);
      assert.equal(r.json.name, w.name);
    }
  }
  // ... and its credential still opens: a sample of calls reaches the upstream with it.
  up.requests.length = 0;
  const sample = acked.filter((_, i) => i % 10 === 0);
  for (const [i, w] of sample.entries()) {
    const r = await api([A, B][i % 2].url, token).post('/api/actions/call', { actionIdentifier: `${w.slug}.get`, input: { id: '2' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${w.secret}`);
  }
  console.log(`# multi-instance load: ${acked.length} creates acknowledged (${viaB} by the killed server, ` +
    `killed at ${killedAt} ms), ${callsOk} calls ok, ${refused} requests refused by the dead server`);
});

test('OAuth across two servers: callback on the other one; 50 calls split over both -> 1 refresh', { skip }, async () => {
  const root = api(A.url, token);
  const reg = await root.put('/api/admin/oauth-providers/peer', {
    name: 'Test peer', authorize_url: `${peer.issuer}/auth`, token_url: `${peer.issuer}/token`,
    revocation_url: `${peer.issuer}/token/revocation`, issuer: peer.issuer, require_iss: true, client_auth: 'basic',
    default_scopes: ['openid', 'offline_access'], tiers: { user: { scopes: ['read:user'] } },
    extra_authorize_params: { prompt: 'consent' }, client_id: peer.client_id, client_secret: clientSecret });
  assert.equal(reg.status, 200, reg.text);
  const c = await api(B.url, token).post('/api/connections', { name: 'Peer API', base_url: peer.issuer,
    auth: { type: 'oauth2', provider: 'peer', tiers: ['user'] }, operations: [{ name: 'whoami', method: 'GET', path: '/api/whoami' }] });
  assert.equal(c.status, 201, c.text);

  // start on A; the provider sends the browser to B (the app URL); B finds A's state in the database
  const s = await fetch(`${A.url}/api/auth/connect/peer/start?connection=${c.json.id}&tiers=user`,
    { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
  assert.equal(s.status, 302, await s.text());
  const cb = await authorize(s.headers.get('location'), peer.issuer, appUrlB);
  const done = await fetch(cb, { redirect: 'manual' });
  const page = await done.text();
  assert.equal(done.status, 200, page);
  assert.match(page, /Connected/);
  for (const srv of [A, B]) {
    const r = await api(srv.url, token).post('/api/actions/call', { actionIdentifier: 'peer_api.whoami', input: {} });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 200, r.text);
  }

  await fetch(`${peer.issuer}/_counters/reset`, { method: 'POST' });
  await new Promise((r) => setTimeout(r, 3500)); // access tokens live 3 s
  const calls = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    api([A, B][i % 2].url, token).post('/api/actions/call', { actionIdentifier: 'peer_api.whoami', input: {} })));
  for (const r of calls) {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 200, JSON.stringify(r.json).slice(0, 200));
  }
  const n = await (await fetch(`${peer.issuer}/_counters`)).json();
  assert.equal(n.refresh_requests, 1, JSON.stringify(n));
  assert.equal(n.refresh_reuse_detected || 0, 0);
});

test('MCP: each server keeps its own session; both re-initialize after the MCP server lost them', { skip }, async () => {
  let mcp = await startEverything('streamableHttp');
  try {
    const c = await api(A.url, token).post('/api/connections', { name: 'Everything', slug: 'ev', service_type: 'mcp',
      base_url: mcp.mcpUrl, transport: 'streamable_http' });
    assert.equal(c.status, 201, c.text.slice(0, 300));
    const call = async (i) => {
      const r = await api([A, B][i % 2].url, token).post('/api/actions/call', { actionIdentifier: 'ev.echo', input: { message: `m${i}` } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.ok, true, r.text);
      assert.match(JSON.stringify(r.json.content), new RegExp(`m${i}`));
    };
    for (let i = 0; i < 6; i++) await call(i);
    const { port } = mcp;
    await mcp.stop();
    mcp = await startEverything('streamableHttp', { port }); // same URL, no sessions
    for (let i = 6; i < 12; i++) await call(i);
  } finally {
    await mcp.stop();
  }
});

// Nothing a server keeps in memory outlives a change made through another server: every call
// reads the connection, its operations and its sealed credentials from the database, and the
// only per-process cache (MCP sessions, per worker) is keyed by the connection's version and a
// hash of URL and headers. Both servers run two workers, so a few calls warm every worker of B.
test('a connection changed or deleted on one server is what the other uses on its very next call', { skip }, async () => {
  const viaB = (action, input = {}) => api(B.url, token).post('/api/actions/call', { actionIdentifier: action, input });
  // HTTP: credential, base path and operations changed on A; B's next calls use the new ones
  const c = await api(A.url, token).post('/api/connections', { name: 'Changing', slug: 'chg', base_url: up.url,
    auth: { type: 'bearer', token: 'tok-one' }, operations: [{ name: 'get', method: 'GET', path: '/items/{{id}}' }] });
  assert.equal(c.status, 201, c.text);
  up.requests.length = 0;
  for (let i = 0; i < 4; i++) assert.equal((await viaB('chg.get', { id: String(i) })).status, 200);
  assert.deepEqual(up.requests.map((r) => r.headers.authorization), Array(4).fill('Bearer tok-one'));
  const p = await api(A.url, token).patch(`/api/connections/${c.json.id}`, { base_url: `${up.url}/v2`,
    auth: { type: 'bearer', token: 'tok-two' }, operations: [{ name: 'fetch', method: 'GET', path: '/things/{{id}}' }] });
  assert.equal(p.status, 200, p.text);
  up.requests.length = 0;
  for (let i = 0; i < 4; i++) {
    const r = await viaB('chg.fetch', { id: String(i) });
    assert.equal(r.status, 200, r.text);
    const old = await viaB('chg.get', { id: String(i) });
    assert.equal(old.status, 404, old.text); /* the old operation is gone on B too */
  }
  assert.deepEqual(up.requests.map((r) => `${r.headers.authorization} ${r.path}`),
    ['0', '1', '2', '3'].map((i) => `Bearer tok-two /v2/things/${i}`));
  assert.equal((await api(A.url, token).del(`/api/connections/${c.json.id}`)).status, 200);
  up.requests.length = 0;
  for (let i = 0; i < 4; i++) assert.equal((await viaB('chg.fetch', { id: '1' })).status, 404);
  assert.equal(up.requests.length, 0);

  // MCP: B holds sessions with the server behind front one; the connection moves (through A) to
  // front two with another token: B's next calls open sessions there, front one sees none of them
  const mcp = await startEverything('streamableHttp');
  const one = await startBearerFront(mcp.url, 'mcp-one');
  const two = await startBearerFront(mcp.url, 'mcp-two');
  try {
    const m = await api(A.url, token).post('/api/connections', { name: 'Guarded', slug: 'grd', service_type: 'mcp',
      base_url: `${one.url}/mcp`, transport: 'streamable_http', auth: { type: 'bearer', token: 'mcp-one' } });
    assert.equal(m.status, 201, m.text.slice(0, 300));
    for (let i = 0; i < 4; i++) assert.equal((await viaB('grd.echo', { message: `a${i}` })).json?.ok, true);
    const p2 = await api(A.url, token).patch(`/api/connections/${m.json.id}`, { base_url: `${two.url}/mcp`,
      auth: { type: 'bearer', token: 'mcp-two' } });
    assert.equal(p2.status, 200, p2.text.slice(0, 300));
    const [served1, refused2] = [one.served, two.refused];
    for (let i = 0; i < 4; i++) {
      const r = await viaB('grd.echo', { message: `b${i}` });
      assert.equal(r.json?.ok, true, r.text.slice(0, 300));
      assert.match(JSON.stringify(r.json.content), new RegExp(`b${i}`));
    }
    assert.equal(one.served, served1, 'B kept using a session from before the change');
    assert.equal(two.refused, refused2);
    assert.ok(two.served >= 4 + 2, `B opened new sessions at front two (${two.served} requests)`);
  } finally {
    await one.close();
    await two.close();
    await mcp.stop();
  }
});

test('servers started together on an empty database apply each migration once', { skip }, async () => {
  const fresh = pgDatabase();
  const srvs = await Promise.all([0, 1, 2].map(async () => startServer({ db: fresh, env: { INTEGRATION_ENCRYPTION_KEY: KEY } })));
  try {
    for (const s of srvs) {
      const h = await (await fetch(`${s.url}/healthz`)).json();
      assert.equal(h.status, 'ok');
      assert.equal(h.db, 'postgres');
    }
    const rows = pgAdmin('SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version', fresh)
      .split('\n').map((l) => l.split('|').map(Number));
    assert.ok(rows.length >= 3, JSON.stringify(rows));
    rows.forEach(([v, n], i) => { assert.equal(v, i + 1); assert.equal(n, 1); });
    const migrated = srvs.flatMap((s) => s.logs.filter((l) => l.event === 'store.migrated'));
    assert.equal(migrated.length, rows.length, 'each migration logged once, by one of the servers');
  } finally {
    for (const s of srvs) await s.stop();
  }
});

test('the database password is in no log line; a wrong one is refused without echoing it', { skip }, async () => {
  const password = new URL(db).password;
  for (const s of [A, B]) assert.ok(!s.output().includes(password), 'a log line holds the database password');
  assert.match(A.stderr.join('\n'), /"event":"server.starting".*"db":"postgres:\/\/connhub:\*\*\*@/);
  const wrong = new URL(db);
  wrong.password = 'wrongpw-canary-9f3b';
  const r = runCli(['serve', '--listen', '127.0.0.1:1', '--db', wrong.href], { env: { INTEGRATION_ENCRYPTION_KEY: KEY } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /password authentication failed/);
  assert.ok(!(r.stdout + r.stderr).includes('wrongpw-canary-9f3b'));
});

test('serve --dev on PostgreSQL: with a key given, it bootstraps once (no key file needed)', { skip }, async () => {
  const fresh = pgDatabase();
  let s = await startServer({ db: fresh, args: ['--dev'], env: { INTEGRATION_ENCRYPTION_KEY: KEY } });
  const line = s.stdout.find((l) => l.startsWith('dev token'));
  assert.ok(line, s.output());
  const tok = line.split(': ')[1];
  assert.equal((await api(s.url, tok).get('/api/connections')).status, 200);
  await s.stop();
  s = await startServer({ db: fresh, args: ['--dev'], env: { INTEGRATION_ENCRYPTION_KEY: KEY } });
  assert.ok(!s.stdout.some((l) => l.startsWith('dev token')), 'bootstrap happens once');
  await s.stop();
  // without a key, --dev needs a SQLite file for its key file: a clear refusal
  const r = runCli(['serve', '--dev', '--listen', '127.0.0.1:1', '--db', fresh], { env: { INTEGRATION_ENCRYPTION_KEY: '' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /needs a sqlite: database/);
});
