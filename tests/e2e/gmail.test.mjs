// Gmail connections (issue 8, item 4) against local upstreams that check the exact requests:
// a Google service account (its JSON key sealed; connhub signs an RS256 JWT, verified here with
// the public key by node:crypto, and exchanges it at the token endpoint given by
// --service-base-url google_oauth=...) and personal OAuth through the gmail provider (the
// oidc-provider peer standing in for Google). Tools send_message (RFC 5322, UTF-8 subject,
// base64url raw), list_messages, get_message, each needing its tier.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';

import { makeCanary, scanForCanaries, describeHits } from './lib/canary.mjs';
import { authorize, startPeer, stopPeer } from './lib/oauth_peer.mjs';
import { api, cleanup, freePort, runCli, startServer, tempDir } from './lib/server.mjs';
import { startUpstream } from './lib/upstream.mjs';

let srv, up, A, peer, peerProc, db;
const seen = [];
const accessToken = `ya29.${makeCanary('gsatoken')}`;
const accessToken2 = `ya29.${makeCanary('gsatoken2')}`;
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
const pemBody = pem.split('\n')[5]; // a line of the key material: must never be seen
const keyFile = {
  type: 'service_account', project_id: 'p', private_key_id: 'kid-0123456789', private_key: pem,
  client_email: 'robot@p.iam.gserviceaccount.com', client_id: '1234567890',
  token_uri: 'https://oauth2.googleapis.com/token',
};
const SUBJECT = 'alice@example.com';
const SCOPE = { send: 'https://www.googleapis.com/auth/gmail.send', read: 'https://www.googleapis.com/auth/gmail.readonly' };

before(async () => {
  db = path.join(tempDir(), 'c.db');
  for (const args of [['user', 'add', 'root', '--platform-admin'], ['workspace', 'add', 'w'], ['member', 'add', 'w', 'root', '--role', 'admin']]) {
    assert.equal(runCli([...args, '--db', `sqlite:${db}`]).code, 0);
  }
  up = await startUpstream({ host: '127.0.0.1' });
  up.route('/token', { mode: 'json', body: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } });
  up.route('/gmail/v1/users/me/messages/send', { mode: 'json', body: { id: 'm1', threadId: 't1', labelIds: ['SENT'] } });
  up.route('/gmail/v1/users/me/messages', { mode: 'json', body: { messages: [{ id: 'abc123', threadId: 't1' }], resultSizeEstimate: 1 } });
  up.route('/gmail/v1/users/me/messages/abc123', { mode: 'json', body: { id: 'abc123', snippet: 'hi' } });
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const p = await startPeer({ port: 0, 'at-ttl': 3600, 'auto-consent': 1, 'api-scopes': 'send read full',
    'redirect-uri': `${appUrl}/api/auth/connect/gmail/callback` });
  peerProc = p.child;
  peer = p.ready;
  srv = await startServer({ dbPath: db, port, allowPrivate: '127.0.0.1/32', args: ['--app-url', appUrl,
    '--service-base-url', `gmail=${up.url}`, '--service-base-url', `google_oauth=${up.url}`] });
  const a = api(srv.url, runCli(['token', 'create', '--user', 'root', '--workspace', 'w', '--db', `sqlite:${db}`]).stdout.trim());
  A = {};
  for (const m of ['get', 'post', 'put', 'patch', 'del']) A[m] = async (...args) => { const r = await a[m](...args); seen.push(r.text); return r; };
});

after(async () => {
  await srv?.stop();
  await up?.close();
  await stopPeer(peerProc);
  cleanup();
});

const call = (slug, tool, input) => A.post('/api/actions/call', { actionIdentifier: `${slug}.${tool}`, input });
const b64url = (s) => Buffer.from(s, 'base64url');

/** Checks a jwt-bearer token request: form body, and the JWT's header, claims and signature. */
function checkTokenRequest(rq, scopes) {
  assert.equal(rq.method, 'POST');
  assert.equal(rq.path, '/token');
  assert.equal(rq.headers['content-type'], 'application/x-www-form-urlencoded');
  const form = new URLSearchParams(rq.body);
  assert.deepEqual([...form.keys()], ['grant_type', 'assertion']);
  assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
  const [h, c, s] = form.get('assertion').split('.');
  assert.deepEqual(JSON.parse(b64url(h)), { alg: 'RS256', typ: 'JWT', kid: keyFile.private_key_id });
  const claims = JSON.parse(b64url(c));
  assert.equal(claims.iss, keyFile.client_email);
  assert.equal(claims.sub, SUBJECT);
  assert.equal(claims.aud, 'https://oauth2.googleapis.com/token');
  assert.equal(claims.scope, scopes);
  assert.equal(claims.exp - claims.iat, 3600);
  assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60);
  assert.ok(/^[A-Za-z0-9_-]+$/.test(s), 'signature is base64url without padding');
  assert.ok(crypto.verify('RSA-SHA256', Buffer.from(`${h}.${c}`), publicKey, b64url(s)), 'RS256 signature verifies with the public key');
  // and not with another key
  const { publicKey: other } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  assert.ok(!crypto.verify('RSA-SHA256', Buffer.from(`${h}.${c}`), other, b64url(s)));
}

test('service account: a bad key is refused at create; the key is write-only', async () => {
  let r = await A.post('/api/connections', { name: 'Bad', service_type: 'gmail',
    auth: { type: 'google_service_account', subject: SUBJECT, tiers: ['send'], service_account: JSON.stringify({ ...keyFile, private_key: 'nope' }) } });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.field, 'auth.service_account');
  r = await A.post('/api/connections', { name: 'Bad', service_type: 'gmail',
    auth: { type: 'google_service_account', subject: 'not an address', tiers: ['send'], service_account: JSON.stringify(keyFile) } });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.field, 'auth.subject');
  r = await A.post('/api/connections', { name: 'Bad', service_type: 'gmail',
    auth: { type: 'google_service_account', subject: SUBJECT, tiers: ['write'], service_account: JSON.stringify(keyFile) } });
  assert.equal(r.status, 400, r.text);
  r = await A.post('/api/connections', { name: 'Bad', base_url: up.url,
    auth: { type: 'google_service_account', subject: SUBJECT, tiers: ['send'], service_account: JSON.stringify(keyFile) } });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error.message, /for service_type gmail/);
});

test('service account: JWT signed and exchanged once, exact Gmail requests, tiers enforced', async () => {
  const c = await A.post('/api/connections', { name: 'Mail', slug: 'mail', service_type: 'gmail',
    auth: { type: 'google_service_account', subject: SUBJECT, tiers: ['send', 'read'], service_account: JSON.stringify(keyFile) } });
  assert.equal(c.status, 201, c.text);
  assert.deepEqual(c.json.operations.map((o) => [o.name, o.tier]), [['send_message', 'send'], ['list_messages', 'read'], ['get_message', 'read']]);
  assert.equal(c.json.base_url, up.url);
  assert.ok(!c.text.includes(pemBody));
  const tools = await A.get('/api/tools');
  assert.ok(tools.json.tools.some((t) => t.name === 'mail.send_message'), tools.text);

  up.requests.length = 0;
  const subject = 'Grüße — 日本語 ✓';
  let r = await call('mail', 'send_message', { to: ['bob@example.org', 'Carol <carol@example.net>'], subject, text: 'Hallo Bob,\nwie geht’s?' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 200, r.text);
  assert.equal(r.json.body.id, 'm1');
  assert.equal(up.requests.length, 2);
  checkTokenRequest(up.requests[0], `${SCOPE.send} ${SCOPE.read}`);
  const send = up.requests[1];
  assert.equal(send.method, 'POST');
  assert.equal(send.path, '/gmail/v1/users/me/messages/send');
  assert.equal(send.headers.authorization, `Bearer ${accessToken}`);
  assert.equal(send.headers['content-type'], 'application/json');
  const body = JSON.parse(send.body);
  assert.deepEqual(Object.keys(body), ['raw']);
  assert.ok(/^[A-Za-z0-9_-]+$/.test(body.raw), 'raw is base64url without padding');
  const msg = b64url(body.raw).toString('utf8');
  assert.ok(!/[^\r]\n/.test(msg), 'CRLF line ends only');
  const [head, text] = msg.split('\r\n\r\n');
  const h = Object.fromEntries(head.replace(/\r\n /g, ' ').split('\r\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
  assert.equal(h.From, SUBJECT);
  assert.equal(h.To, 'bob@example.org, Carol <carol@example.net>');
  assert.equal(h['MIME-Version'], '1.0');
  assert.match(h['Content-Type'], /^text\/plain; charset=(UTF-8|"UTF-8")$/i);
  assert.equal(h['Content-Transfer-Encoding'], 'base64');
  assert.match(h['Message-ID'], /^<[^@<>\s]+@example\.com>$/);
  assert.ok(!Number.isNaN(Date.parse(h.Date)));
  // RFC 2047: encoded-words of whole UTF-8 characters, decoding to the subject
  const words = h.Subject.split(' ');
  assert.ok(words.every((w) => /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/.test(w)), h.Subject);
  assert.equal(words.map((w) => Buffer.from(w.slice(10, -2), 'base64').toString('utf8')).join(''), subject);
  assert.equal(Buffer.from(text.replace(/\r\n/g, ''), 'base64').toString('utf8'), 'Hallo Bob,\nwie geht’s?');

  // the token is reused while it lives: no second exchange
  up.requests.length = 0;
  r = await call('mail', 'list_messages', { query: 'from:bob is:unread', max_results: 5 });
  assert.equal(r.json.status, 200, r.text);
  assert.equal(up.requests.length, 1);
  assert.equal(up.requests[0].method, 'GET');
  assert.equal(up.requests[0].path, '/gmail/v1/users/me/messages');
  assert.deepEqual(up.requests[0].query, { q: 'from:bob is:unread', maxResults: '5' });
  assert.equal(up.requests[0].headers.authorization, `Bearer ${accessToken}`);
  r = await call('mail', 'get_message', { id: 'abc123', format: 'metadata' });
  assert.equal(r.json.status, 200, r.text);
  assert.equal(up.requests[1].path, '/gmail/v1/users/me/messages/abc123');
  assert.deepEqual(up.requests[1].query, { format: 'metadata' });
  assert.equal((await A.get(`/api/connections/${c.json.id}`)).json.oauth.state, 'healthy');

  // the upstream refuses the token: one new exchange, one retry with the new token
  up.route('/token', { mode: 'json', body: { access_token: accessToken2, expires_in: 3599 } });
  up.route('/gmail/v1/users/me/messages/abc123', { mode: 'json', status: 401, body: { error: { code: 401 } } });
  up.requests.length = 0;
  r = await call('mail', 'get_message', { id: 'abc123' });
  assert.equal(up.requests.length, 3, JSON.stringify(up.requests.map((q) => q.path)));
  assert.deepEqual(up.requests.map((q) => q.path), ['/gmail/v1/users/me/messages/abc123', '/token', '/gmail/v1/users/me/messages/abc123']);
  assert.equal(up.requests[2].headers.authorization, `Bearer ${accessToken2}`);
  assert.equal(r.json.status, 401, 'a second 401 is the answer');
  up.route('/gmail/v1/users/me/messages/abc123', { mode: 'json', body: { id: 'abc123', snippet: 'hi' } });

  // a read-only service account cannot send: refused before any request
  const ro = await A.post('/api/connections', { name: 'Reader', slug: 'reader', service_type: 'gmail',
    auth: { type: 'google_service_account', subject: SUBJECT, tiers: ['read'], service_account: JSON.stringify(keyFile) } });
  assert.equal(ro.status, 201, ro.text);
  up.requests.length = 0;
  r = await call('reader', 'send_message', { to: 'bob@example.org', text: 'x' });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.code, 'needs_tier');
  assert.match(r.json.error.message, /needs tier send/);
  assert.equal(up.requests.length, 0);
  r = await call('reader', 'list_messages', {});
  assert.equal(r.json.status, 200, r.text);
  checkTokenRequest(up.requests[0], SCOPE.read);
  // granting the tier (PATCH; the key stays as stored) takes a token for the new scopes
  let pr = await A.patch(`/api/connections/${ro.json.id}`, { operations: [] });
  assert.equal(pr.status, 400, pr.text);
  assert.equal(pr.json.error.code, 'read_only_field');
  pr = await A.patch(`/api/connections/${ro.json.id}`, { auth: { type: 'google_service_account', tiers: ['read', 'send'] } });
  assert.equal(pr.status, 200, pr.text);
  assert.deepEqual(pr.json.auth.tiers, ['read', 'send']);
  up.requests.length = 0;
  r = await call('reader', 'send_message', { to: 'bob@example.org', text: 'x' });
  assert.equal(r.json.status, 200, r.text);
  checkTokenRequest(up.requests[0], `${SCOPE.read} ${SCOPE.send}`);
  // "full" covers send and read
  const full = await A.post('/api/connections', { name: 'Full', slug: 'full', service_type: 'gmail',
    auth: { type: 'google_service_account', subject: SUBJECT, tiers: ['full'], service_account: JSON.stringify(keyFile) } });
  up.requests.length = 0;
  r = await call(full.json.slug, 'send_message', { to: 'bob@example.org', subject: 'plain', text: 'x' });
  assert.equal(r.json.status, 200, r.text);
  checkTokenRequest(up.requests[0], 'https://mail.google.com/');
  // header injection through the subject is refused
  r = await call('mail', 'send_message', { to: 'bob@example.org', subject: 'x\r\nBcc: eve@example.com', text: 'x' });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.code, 'header_injection');
});

test('personal OAuth through the gmail provider: tiers from the grant, needs_tier with a reconnect URL', async () => {
  const reg = await A.put('/api/admin/oauth-providers/gmail', {
    name: 'Gmail (test peer)', authorize_url: `${peer.issuer}/auth`, token_url: `${peer.issuer}/token`,
    issuer: peer.issuer, client_auth: 'basic', default_scopes: ['openid', 'offline_access'],
    tiers: { send: { scopes: ['send'] }, read: { scopes: ['read'] }, full: { scopes: ['full'], includes: ['send', 'read'] } },
    extra_authorize_params: { prompt: 'consent' }, client_id: peer.client_id, client_secret: 's3cret' });
  assert.equal(reg.status, 200, reg.text);
  const c = await A.post('/api/connections', { name: 'My mail', slug: 'mymail', service_type: 'gmail',
    auth: { type: 'oauth2', provider: 'gmail', tiers: ['read'] } });
  assert.equal(c.status, 201, c.text);
  let r = await call('mymail', 'list_messages', {});
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'not_connected');
  assert.equal(r.json.error.reconnect_url, `/api/auth/connect/gmail/start?tiers=read&connection=${c.json.id}`);
  const s = await fetch(`${srv.url}${r.json.error.reconnect_url}`, {
    headers: { authorization: `Bearer ${runCli(['token', 'create', '--user', 'root', '--workspace', 'w', '--db', `sqlite:${db}`]).stdout.trim()}` }, redirect: 'manual' });
  assert.equal(s.status, 302, await s.text());
  assert.ok(new URL(s.headers.get('location')).searchParams.get('scope').split(' ').includes('read'));
  const page = await (await fetch(await authorize(s.headers.get('location'), peer.issuer, srv.url))).text();
  assert.match(page, /Connected/, page);
  up.requests.length = 0;
  r = await call('mymail', 'list_messages', { max_results: 1 });
  assert.equal(r.json.status, 200, r.text);
  assert.equal(up.requests.length, 1);
  assert.match(up.requests[0].headers.authorization, /^Bearer \S+$/);
  assert.notEqual(up.requests[0].headers.authorization, `Bearer ${accessToken}`);
  r = await call('mymail', 'send_message', { to: 'bob@example.org', from: 'me@example.com', text: 'x' });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.code, 'needs_tier');
  assert.equal(r.json.error.reconnect_url, `/api/auth/connect/gmail/start?tiers=read,send&connection=${c.json.id}`);
  assert.equal(up.requests.length, 1);
});

test('no key material or access token in any answer or log line', async () => {
  const hits = scanForCanaries(seen.join('\n') + srv.output(), [accessToken, accessToken2, pemBody]);
  assert.equal(hits.length, 0, describeHits(hits));
});
