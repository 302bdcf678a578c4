// Personal OAuth accounts (issue 7) against the oidc-provider peer: two users of one workspace
// connect their own accounts to one caller connection through
// /api/auth/connect/<provider>/start?personal=1; each user's runs and calls reach the provider's
// protected resource as that user and never as the other (TEN-006); /api/me/accounts lists the
// granted tiers, never a token; deleting an account revokes its tokens (RFC 7009); another
// workspace cannot start a personal flow on the connection (TEN-001).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { makeCanary, scanFiles } from './lib/canary.mjs';
import { startPeerHandle, authorize } from './lib/oauth_peer.mjs';
import { api, cleanup, freePort, runCli, startServer, tempDir } from './lib/server.mjs';

let srv, peer, peer2, appUrl, conn, conn2, staticConn, dir;
const toks = {};
const seen = [];
const clientSecret = makeCanary('clientsecret');

function client(name) {
  const a = api(srv.url, toks[name]);
  const w = {};
  for (const m of ['get', 'post', 'put', 'patch', 'del']) {
    w[m] = async (...args) => {
      const r = await a[m](...args);
      seen.push(r.text);
      return r;
    };
  }
  return w;
}

async function start(name, connectionId, { personal = true, tiers = 'user' } = {}) {
  const q = `connection=${connectionId}&tiers=${tiers}${personal ? '&personal=1' : ''}`;
  return fetch(`${srv.url}/api/auth/connect/peer/start?${q}`, {
    headers: { authorization: `Bearer ${toks[name]}` }, redirect: 'manual' });
}

async function connectAs(name, login) {
  const s = await start(name, conn.id);
  assert.equal(s.status, 302, await s.text());
  const cb = await authorize(s.headers.get('location'), peer.ready.issuer, appUrl, login);
  const r = await fetch(cb, { redirect: 'manual' });
  const page = await r.text();
  seen.push(page);
  assert.equal(r.status, 200, page);
  return page;
}

before(async () => {
  dir = tempDir();
  const db = path.join(dir, 'c.db');
  for (const args of [['user', 'add', 'root', '--platform-admin'], ['user', 'add', 'bob'], ['user', 'add', 'eve'],
    ['workspace', 'add', 'w'], ['workspace', 'add', 'x'], ['member', 'add', 'w', 'root', '--role', 'admin'],
    ['member', 'add', 'w', 'bob', '--role', 'member'], ['member', 'add', 'x', 'eve', '--role', 'admin']]) {
    assert.equal(runCli([...args, '--db', `sqlite:${db}`]).code, 0);
  }
  const tok = (u, w) => runCli(['token', 'create', '--user', u, '--workspace', w, '--db', `sqlite:${db}`]).stdout.trim();
  toks.root = tok('root', 'w');
  toks.bob = tok('bob', 'w');
  toks.eve = tok('eve', 'x');
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  peer = await startPeerHandle({ redirectUri: `${appUrl}/api/auth/connect/peer/callback`, clientSecret, atTtl: 120 });
  srv = await startServer({ dbPath: db, port, allowPrivate: '127.0.0.1/32', args: ['--app-url', appUrl] });
  const root = client('root');
  const iss = peer.ready.issuer;
  const reg = await root.put('/api/admin/oauth-providers/peer', {
    name: 'Test peer', authorize_url: `${iss}/auth`, token_url: `${iss}/token`, revocation_url: `${iss}/token/revocation`,
    issuer: iss, require_iss: true, client_auth: 'basic', default_scopes: ['openid', 'offline_access'],
    tiers: { user: { scopes: ['read:user'] }, repo: { scopes: ['repo'] } }, extra_authorize_params: { prompt: 'consent' },
    client_id: peer.ready.client_id, client_secret: clientSecret,
  });
  assert.equal(reg.status, 200, reg.text);
  const c = await root.post('/api/connections', {
    name: 'Peer me', base_url: iss, fulfillment: 'caller', auth: { type: 'oauth2', provider: 'peer', tiers: ['user'] },
    operations: [{ name: 'whoami', method: 'GET', path: '/api/whoami' },
      { name: 'repos', method: 'GET', path: '/api/whoami', tier: 'repo' }],
  });
  assert.equal(c.status, 201, c.text);
  conn = c.json;
  // a second provider whose access tokens live 4 s (refreshed 2 s before expiry)
  peer2 = await startPeerHandle({ redirectUri: `${appUrl}/api/auth/connect/peer2/callback`, clientSecret, atTtl: 4 });
  const i2 = peer2.ready.issuer;
  const reg2 = await root.put('/api/admin/oauth-providers/peer2', {
    name: 'Short peer', authorize_url: `${i2}/auth`, token_url: `${i2}/token`, issuer: i2, require_iss: true,
    client_auth: 'basic', default_scopes: ['openid', 'offline_access'], tiers: { user: { scopes: ['read:user'] } },
    extra_authorize_params: { prompt: 'consent' }, client_id: peer2.ready.client_id, client_secret: clientSecret,
  });
  assert.equal(reg2.status, 200, reg2.text);
  const c2 = await root.post('/api/connections', {
    name: 'Short me', base_url: i2, fulfillment: 'caller', auth: { type: 'oauth2', provider: 'peer2', tiers: ['user'] },
    operations: [{ name: 'whoami', method: 'GET', path: '/api/whoami' }],
  });
  assert.equal(c2.status, 201, c2.text);
  conn2 = c2.json;
  const s = await root.post('/api/connections', {
    name: 'Peer shared', base_url: iss, auth: { type: 'oauth2', provider: 'peer', tiers: ['user'] },
    operations: [{ name: 'whoami', method: 'GET', path: '/api/whoami' }],
  });
  assert.equal(s.status, 201, s.text);
  staticConn = s.json;
});

after(async () => {
  await srv?.stop();
  await peer?.stop();
  await peer2?.stop();
  cleanup();
});

test('before connecting: a clear needs_credential naming the personal connect URL', async () => {
  const r = await client('root').post('/api/actions/call', { actionIdentifier: 'peer_me.whoami', input: {} });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'needs_credential');
  assert.ok(r.json.error.message.includes(`/api/auth/connect/peer/start?personal=1&connection=${conn.id}`), r.text);
});

test('each user connects their own account; runs and calls act as that user only (TEN-006)', async () => {
  await connectAs('root', 'alice-at-peer');
  await connectAs('bob', 'bob-at-peer');
  const wf = { workflow: { nodes: [{ id: 'me', type: 'tool', tool_name: 'peer_me.whoami', input: {} }] } };
  for (const [name, sub] of [['root', 'alice-at-peer'], ['bob', 'bob-at-peer']]) {
    const r = await client(name).post('/api/runs', wf);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'succeeded', r.text);
    assert.equal(r.json.steps.me.output.body.sub, sub);
    const a = await client(name).post('/api/agents/call', { tool: 'peer_me.whoami', input: {} });
    assert.equal(a.json.body.sub, sub);
  }
  const l = await client('root').get('/api/me/accounts');
  assert.equal(l.status, 200);
  assert.equal(l.json.accounts.length, 1);
  const acc = l.json.accounts[0];
  assert.equal(acc.connection, 'peer_me');
  assert.equal(acc.method, 'oauth');
  assert.equal(acc.provider, 'peer');
  assert.deepEqual(acc.tiers, ['user']);
  // names of what is set, never values
  assert.deepEqual(acc.fields_set, ['oauth.access_token', 'oauth.refresh_token']);
  assert.deepEqual(Object.keys(acc).sort(), ['connection', 'connection_id', 'connection_name', 'created_at',
    'fields_set', 'method', 'provider', 'tiers', 'updated_at']);
  // the tokens went to the users' accounts, not to the connection
  const v = await client('root').get(`/api/connections/${conn.id}`);
  assert.deepEqual(v.json.auth.secrets_set, []);
});

test('personal connect is for caller connections, and only within the workspace (TEN-001)', async () => {
  const s = await start('root', staticConn.id);
  assert.equal(s.status, 400);
  assert.equal((await s.json()).error.code, 'wrong_fulfillment');
  const e = await start('eve', conn.id);
  assert.equal(e.status, 404);
  // a member may connect their own account, but not the shared connection's tokens
  const b = await start('bob', staticConn.id, { personal: false });
  assert.equal(b.status, 403);
});

test('a personal account is held to its granted tiers: needs_tier with a personal reconnect URL, nothing sent', async () => {
  const before = await peer.counters();
  const r = await client('bob').post('/api/actions/call', { actionIdentifier: 'peer_me.repos', input: {} });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.code, 'needs_tier');
  assert.match(r.json.error.message, /user's own account/);
  assert.equal(r.json.error.reconnect_url, `/api/auth/connect/peer/start?tiers=user,repo&connection=${conn.id}&personal=1`);
  const after = await peer.counters();
  assert.equal(after.whoami_ok + after.whoami_401, before.whoami_ok + before.whoami_401, 'nothing reached the upstream');
  // the same in a run: the node fails with the tier named
  const run = await client('bob').post('/api/runs', { workflow: { nodes: [{ id: 'r', type: 'tool', tool_name: 'peer_me.repos', input: {} }] } });
  assert.equal(run.json.status, 'failed', run.text);
  assert.match(JSON.stringify(run.json), /needs_tier/);
});

test('an upstream 401 to a personal token: one forced refresh of that user\'s token and one retry, never a loop', async () => {
  const iss = peer.ready.issuer;
  let k0 = await peer.counters();
  await fetch(`${iss}/_fault_whoami?count=1`, { method: 'POST' });
  let r = await client('bob').post('/api/actions/call', { actionIdentifier: 'peer_me.whoami', input: {} });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 200, r.text);
  assert.equal(r.json.body.sub, 'bob-at-peer', 'the refreshed token is still bob\'s');
  let k1 = await peer.counters();
  assert.equal(k1.refresh_ok - k0.refresh_ok, 1);
  assert.equal(k1.whoami_401 - k0.whoami_401, 1);
  // root's account was not touched: still its own token, no refresh
  r = await client('root').post('/api/actions/call', { actionIdentifier: 'peer_me.whoami', input: {} });
  assert.equal(r.json.body.sub, 'alice-at-peer');
  k0 = await peer.counters();
  assert.equal(k0.refresh_requests, k1.refresh_requests);
  // two 401s in a row: one refresh, one retry, then the 401 is the answer
  await fetch(`${iss}/_fault_whoami?count=2`, { method: 'POST' });
  r = await client('bob').post('/api/actions/call', { actionIdentifier: 'peer_me.whoami', input: {} });
  assert.equal(r.json.status, 401, r.text);
  k1 = await peer.counters();
  assert.equal(k1.whoami_401 - k0.whoami_401, 2);
  assert.equal(k1.refresh_requests - k0.refresh_requests, 1);
  // and the next call works with the refreshed token
  r = await client('bob').post('/api/actions/call', { actionIdentifier: 'peer_me.whoami', input: {} });
  assert.equal(r.json.body.sub, 'bob-at-peer');
});

test('an expiring personal token is refreshed before the call, and stays the user\'s own', async () => {
  const s = await fetch(`${srv.url}/api/auth/connect/peer2/start?connection=${conn2.id}&tiers=user&personal=1`, {
    headers: { authorization: `Bearer ${toks.bob}` }, redirect: 'manual' });
  assert.equal(s.status, 302, await s.text());
  const cb = await authorize(s.headers.get('location'), peer2.ready.issuer, appUrl, 'bob-at-peer2');
  assert.equal((await fetch(cb, { redirect: 'manual' })).status, 200);
  const acc = async () => (await client('bob').get('/api/me/accounts')).json.accounts.find((a) => a.connection === 'short_me');
  const first = await acc();
  let r = await client('bob').post('/api/agents/call', { tool: 'short_me.whoami', input: {} });
  assert.equal(r.json.body.sub, 'bob-at-peer2', r.text);
  const k0 = await peer2.counters();
  assert.equal(k0.refresh_requests, 0, 'a fresh token is not refreshed');
  await new Promise((res) => setTimeout(res, 2300)); // inside the 2 s margin before expiry
  r = await client('bob').post('/api/runs', { workflow: { nodes: [{ id: 'me', type: 'tool', tool_name: 'short_me.whoami', input: {} }] } });
  assert.equal(r.json.status, 'succeeded', r.text);
  assert.equal(r.json.steps.me.output.body.sub, 'bob-at-peer2');
  const k1 = await peer2.counters();
  assert.equal(k1.refresh_ok, 1, JSON.stringify(k1));
  assert.equal(k1.whoami_401, 0, 'refreshed before, not after a refusal');
  const second = await acc();
  assert.ok(second.updated_at > first.updated_at, 'the new tokens were sealed as the account again');
  // root has no account on this connection: needs_credential, nothing refreshed for it
  r = await client('root').post('/api/agents/call', { tool: 'short_me.whoami', input: {} });
  assert.equal(r.json.error.code, 'needs_credential', r.text);
});

test('an oauth2 connection with participant fulfillment is refused before anything is sent', async () => {
  const c = await client('root').post('/api/connections', {
    name: 'Peer part', base_url: peer.ready.issuer, fulfillment: 'participant', participant_role: 'customer',
    auth: { type: 'oauth2', provider: 'peer', tiers: ['user'] }, operations: [{ name: 'whoami', method: 'GET', path: '/api/whoami' }],
  });
  assert.equal(c.status, 201, c.text);
  const before = await peer.counters();
  const r = await client('root').post('/api/agents/call', { tool: 'peer_part.whoami', input: {}, participants: [{ id: 'p-1', role: 'customer' }] });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'unsupported_fulfillment');
  assert.equal(r.json.error.field, 'fulfillment');
  const after = await peer.counters();
  assert.equal(after.whoami_ok + after.whoami_401, before.whoami_ok + before.whoami_401);
});

test('deleting an account revokes its tokens; only that user loses access', async () => {
  const before = await peer.counters();
  const d = await client('root').del('/api/me/accounts/peer_me');
  assert.equal(d.status, 200, d.text);
  for (let i = 0; i < 50; i++) {
    if ((await peer.counters()).revocations >= before.revocations + 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await peer.counters()).revocations, before.revocations + 2, 'refresh and access token revoked');
  const r = await client('root').post('/api/actions/call', { actionIdentifier: 'peer_me.whoami', input: {} });
  assert.equal(r.status, 422);
  assert.equal(r.json.error.code, 'needs_credential');
  const b = await client('bob').post('/api/actions/call', { actionIdentifier: 'peer_me.whoami', input: {} });
  assert.equal(b.status, 200, b.text);
  assert.equal(b.json.body.sub, 'bob-at-peer');
  assert.deepEqual((await client('root').get('/api/me/accounts')).json.accounts, []);
  // nothing secret in what connhub answered or wrote in the clear
  assert.ok(!seen.join('\n').includes(clientSecret));
  assert.deepEqual(scanFiles([dir], [clientSecret]), []);
});

test('deleting a caller connection revokes every user\'s personal tokens on it, then they are gone', async () => {
  const before = await peer.counters();
  const d = await client('root').del(`/api/connections/${conn.id}`);
  assert.equal(d.status, 200, d.text);
  assert.equal(d.json.revocation.personal_accounts, 1, d.text); // bob's (root removed theirs)
  for (let i = 0; i < 50; i++) {
    if ((await peer.counters()).revocations >= before.revocations + 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await peer.counters()).revocations, before.revocations + 2, 'bob\'s refresh and access token');
  assert.deepEqual((await client('bob').get('/api/me/accounts')).json.accounts.map((a) => a.connection), ['short_me']);
  const r = await client('bob').post('/api/actions/call', { actionIdentifier: 'peer_me.whoami', input: {} });
  assert.equal(r.status, 404, r.text);
});
