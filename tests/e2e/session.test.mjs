// Web sign-in (issue 10) over plain HTTP against the real binary: `connhub user passwd` (length
// limits at N and N+1), POST/GET/DELETE /api/session, the cookie's attributes, CSRF token and
// Origin checks on cookie-made state-changing requests (API tokens unaffected), the per-name
// lockout at N and N+1, idle and absolute expiry, sessions ended by a password change, and the
// static UI files (CSP, ETag, 304). Passwords and cookies are canaries: never in a response body,
// the server's output or the database file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { makeCanary, scanForCanaries, scanFiles, describeHits } from './lib/canary.mjs';
import { api, cleanup, runCli, startServer, tempDir } from './lib/server.mjs';

const PW_MIN = 10; // PASSWORD_MIN_LEN
const PW_MAX = 1024; // PASSWORD_MAX_LEN
const ADA_PW = makeCanary('ada_password');
const BOB_PW = makeCanary('bob_password');
const FAILS = 3; // --login-max-failures for this file
// --login-lockout: also the window the FAILS failures must fall in. Each sign-in hashes with scrypt
// (about 0.3 s on an ASan build, 1-2 s on a busy 2-core machine), so 2 s was too short for three.
const LOCK_S = 10;

let dir, db, srv, token;
const cookies = []; // every session cookie value handed out, scanned for at the end
const bodies = []; // every response text, scanned for the canaries

function cli(args, input) {
  const r = runCli([...args, '--db', `sqlite:${db}`], { input });
  assert.equal(r.code, 0, `connhub ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A request with optional cookie, CSRF token and Origin; records the body for the scans. */
async function req(method, p, { cookie, csrf, origin, body, auth } = {}) {
  const headers = {};
  if (cookie) headers.cookie = `connhub_session=${cookie}`;
  if (csrf) headers['x-csrf-token'] = csrf;
  if (origin) headers.origin = origin;
  if (auth) headers.authorization = `Bearer ${auth}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(srv.url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
  const text = await r.text();
  bodies.push(text);
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: r.status, headers: r.headers, json, text };
}

/** Signs in; returns {cookie, csrf, setCookie, json}. */
async function signIn(username, password, workspace) {
  const body = { username, password };
  if (workspace) body.workspace = workspace;
  const r = await req('POST', '/api/session', { body, origin: srv.url });
  assert.equal(r.status, 201, r.text);
  const setCookie = r.headers.get('set-cookie');
  const m = /^connhub_session=([A-Za-z0-9_-]{43});/.exec(setCookie);
  assert.ok(m, `a session cookie: ${setCookie}`);
  cookies.push(m[1]);
  return { cookie: m[1], csrf: r.json.csrf_token, setCookie, json: r.json };
}

before(async () => {
  dir = tempDir('connhub-session-');
  db = `${dir}/c.db`;
  cli(['user', 'add', 'ada']);
  cli(['user', 'add', 'bob']);
  cli(['user', 'add', 'nopw']);
  cli(['workspace', 'add', 'acme']);
  cli(['workspace', 'add', 'other']);
  cli(['member', 'add', 'acme', 'ada', '--role', 'admin']);
  cli(['member', 'add', 'other', 'ada', '--role', 'member']);
  cli(['member', 'add', 'acme', 'bob', '--role', 'member']);
  cli(['member', 'add', 'acme', 'nopw', '--role', 'member']);
  cli(['user', 'passwd', 'ada'], `${ADA_PW}\n`);
  cli(['user', 'passwd', 'bob'], `${BOB_PW}\n`);
  token = cli(['token', 'create', '--user', 'ada', '--workspace', 'acme']);
  srv = await startServer({
    dbPath: db,
    args: ['--login-max-failures', String(FAILS), '--login-lockout', String(LOCK_S), '--session-max-age', String(90 * 86400)],
  });
});

after(async () => {
  const code = await srv?.stop();
  const secrets = [ADA_PW, BOB_PW, ...cookies];
  const hits = [
    ...scanForCanaries(srv ? srv.output() : '', secrets),
    ...scanForCanaries(bodies.join('\n'), [ADA_PW, BOB_PW]),
    ...(db ? scanFiles([db, `${db}-wal`].filter((f) => f), secrets) : []),
  ];
  cleanup();
  assert.deepEqual(hits, [], `a password or a cookie leaked:\n${describeHits(hits)}`);
  assert.equal(code, 0);
});

test('connhub user passwd: at least 10 and at most 1024 characters (N-1/N and N/N+1), unknown user refused', () => {
  for (const [len, ok] of [[PW_MIN - 1, false], [PW_MIN, true], [PW_MAX, true], [PW_MAX + 1, false]]) {
    const r = runCli(['user', 'passwd', 'nopw', '--db', `sqlite:${db}`], { input: `${'p'.repeat(len)}\n` });
    assert.equal(r.code === 0, ok, `length ${len}: ${r.stderr}`);
    if (!ok) assert.match(r.stderr, /password/);
  }
  const r = runCli(['user', 'passwd', 'nobody', '--db', `sqlite:${db}`], { input: `${'p'.repeat(20)}\n` });
  assert.notEqual(r.code, 0);
  const none = runCli(['user', 'passwd', 'nopw', '--db', `sqlite:${db}`], { input: '' });
  assert.notEqual(none.code, 0, 'no line on standard input');
});

test('sign in: 201 with an HttpOnly SameSite=Strict cookie; the session names user, workspace, role and a CSRF token', async () => {
  const s = await signIn('ada', ADA_PW);
  assert.match(s.setCookie, /HttpOnly/);
  assert.match(s.setCookie, /SameSite=Strict/);
  assert.match(s.setCookie, /Path=\//);
  assert.doesNotMatch(s.setCookie, /Secure/, 'plain http without an https APP_URL');
  assert.equal(s.json.user, 'ada');
  assert.equal(s.json.workspace, 'acme', 'the first workspace when none is named');
  assert.equal(s.json.role, 'admin');
  assert.equal(s.json.auth, 'session');
  assert.match(s.json.csrf_token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(s.json.password, undefined);
  const g = await req('GET', '/api/session', { cookie: s.cookie });
  assert.equal(g.status, 200);
  assert.equal(g.json.csrf_token, s.csrf, 'the same token again: derived from the cookie');
  const other = await signIn('ada', ADA_PW, 'other');
  assert.equal(other.json.workspace, 'other');
  assert.equal(other.json.role, 'member');
  assert.notEqual(other.csrf, s.csrf);
  // an API token sees the session endpoint too, without a CSRF token
  const t = await req('GET', '/api/session', { auth: token });
  assert.equal(t.json.auth, 'token');
  assert.equal(t.json.csrf_token, null);
});

test('wrong password, unknown user, no password set, foreign workspace: the same 401 (HTTP-009)', async () => {
  const answers = [];
  for (const body of [
    { username: 'bob', password: 'wrong password!' },
    { username: 'nobody_here', password: 'wrong password!' },
    { username: 'nopw', password: 'p'.repeat(PW_MIN) + 'x' },
    { username: 'bob', password: BOB_PW, workspace: 'other' },
  ]) {
    const r = await req('POST', '/api/session', { body, origin: srv.url });
    assert.equal(r.status, 401, JSON.stringify(body));
    assert.equal(r.headers.get('set-cookie'), null);
    answers.push(r.json.error.code);
  }
  assert.deepEqual(new Set(answers), new Set(['invalid_credentials']));
  const missing = await req('POST', '/api/session', { body: { username: 'bob' }, origin: srv.url });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.error.field, 'password');
  const nocookie = await req('GET', '/api/connections');
  assert.equal(nocookie.status, 401);
  const forged = await req('GET', '/api/connections', { cookie: 'A'.repeat(43) });
  assert.equal(forged.status, 401);
  assert.match(forged.headers.get('set-cookie') || '', /connhub_session=;.*Max-Age=0/, 'a dead cookie is cleared');
});

test('login CSRF: a sign-in posted from another origin is refused', async () => {
  const r = await req('POST', '/api/session', { body: { username: 'bob', password: BOB_PW }, origin: 'https://evil.example' });
  assert.equal(r.status, 403);
  assert.equal(r.json.error.code, 'origin_mismatch');
  assert.equal(r.headers.get('set-cookie'), null);
});

test('CSRF: a cookie-made POST needs the session\'s token and this server\'s Origin; GET does not; API tokens are unaffected', async () => {
  const s = await signIn('bob', BOB_PW);
  const bob2 = await signIn('bob', BOB_PW);
  const body = (n) => ({ name: `C ${n}`, base_url: 'https://api.example.com', auth: { type: 'none' } });
  const cases = [
    [{ cookie: s.cookie, origin: srv.url }, 403, 'csrf_token_invalid'],
    [{ cookie: s.cookie, csrf: 'x'.repeat(43), origin: srv.url }, 403, 'csrf_token_invalid'],
    [{ cookie: s.cookie, csrf: bob2.csrf, origin: srv.url }, 403, 'csrf_token_invalid'],
    [{ cookie: s.cookie, csrf: s.csrf }, 403, 'origin_mismatch'],
    [{ cookie: s.cookie, csrf: s.csrf, origin: 'https://evil.example' }, 403, 'origin_mismatch'],
    [{ cookie: s.cookie, csrf: s.csrf, origin: 'null' }, 403, 'origin_mismatch'],
  ];
  for (const [i, [opts, status, code]] of cases.entries()) {
    const r = await req('POST', '/api/connections', { ...opts, body: body(i) });
    assert.equal(r.status, status, `case ${i}: ${r.text}`);
    assert.equal(r.json.error.code, code, `case ${i}`);
  }
  const list0 = await req('GET', '/api/connections', { cookie: s.cookie });
  assert.equal(list0.status, 200);
  assert.equal(list0.json.connections.length, 0, 'nothing was created by a refused request');
  const ok = await req('POST', '/api/connections', { cookie: s.cookie, csrf: s.csrf, origin: srv.url, body: body('ok') });
  assert.equal(ok.status, 201, ok.text);
  // DELETE and PATCH are state-changing too
  const del = await req('DELETE', `/api/connections/${ok.json.id}`, { cookie: s.cookie, origin: srv.url });
  assert.equal(del.status, 403);
  const patch = await req('PATCH', `/api/connections/${ok.json.id}`, { cookie: s.cookie, csrf: s.csrf, body: { name: 'x' } });
  assert.equal(patch.status, 403);
  // the API token: no cookie, no CSRF token, no Origin
  const viaToken = await req('POST', '/api/connections', { auth: token, body: body('token') });
  assert.equal(viaToken.status, 201, viaToken.text);
  // a token beats a cookie: with both, the token is the identity and no CSRF check applies
  const both = await req('GET', '/api/session', { auth: token, cookie: s.cookie });
  assert.equal(both.json.user, 'ada');
});

test(`lockout: ${FAILS} failures lock the name (N), the next try is 429 even with the right password (N+1); unknown names too; the lock ends`, async () => {
  const wrong = { username: 'bob', password: 'not bob password' };
  let lastFailure = 0;
  for (let i = 1; i <= FAILS; i++) {
    const r = await req('POST', '/api/session', { body: wrong, origin: srv.url });
    assert.equal(r.status, 401, `failure ${i}`);
    lastFailure = Date.now(); // the failure was recorded before this answer
  }
  const locked = await req('POST', '/api/session', { body: { username: 'bob', password: BOB_PW }, origin: srv.url });
  assert.equal(locked.status, 429);
  assert.equal(locked.headers.get('set-cookie'), null);
  // another name is not locked by bob's failures
  await signIn('ada', ADA_PW);
  for (let i = 1; i <= FAILS; i++) {
    const r = await req('POST', '/api/session', { body: { username: 'ghost', password: 'whatever12' }, origin: srv.url });
    assert.equal(r.status, 401);
  }
  const ghost = await req('POST', '/api/session', { body: { username: 'ghost', password: 'whatever12' }, origin: srv.url });
  assert.equal(ghost.status, 429, 'a name that does not exist locks the same way (no user enumeration)');
  // bob's lock ends LOCK_S after his last failure
  await sleep(Math.max(0, lastFailure + LOCK_S * 1000 + 300 - Date.now()));
  await signIn('bob', BOB_PW);
});

test('sign out ends the session and clears the cookie; a password change ends every session of the user', async () => {
  const a = await signIn('bob', BOB_PW);
  const b = await signIn('bob', BOB_PW);
  const out = await req('DELETE', '/api/session', { cookie: a.cookie, csrf: a.csrf, origin: srv.url });
  assert.equal(out.status, 200);
  assert.match(out.headers.get('set-cookie'), /connhub_session=;.*Max-Age=0/);
  assert.equal((await req('GET', '/api/connections', { cookie: a.cookie })).status, 401);
  assert.equal((await req('GET', '/api/connections', { cookie: b.cookie })).status, 200, 'the other session lives on');
  const viaToken = await req('DELETE', '/api/session', { auth: token });
  assert.equal(viaToken.status, 400, 'an API token is not a session');
  const NEW_PW = makeCanary('bob_new_password');
  cli(['user', 'passwd', 'bob'], `${NEW_PW}\n`);
  assert.equal((await req('GET', '/api/connections', { cookie: b.cookie })).status, 401);
  const old = await req('POST', '/api/session', { body: { username: 'bob', password: BOB_PW }, origin: srv.url });
  assert.equal(old.status, 401);
  const s = await signIn('bob', NEW_PW);
  assert.equal(s.json.user, 'bob');
  assert.equal(scanForCanaries(bodies.join('\n'), [NEW_PW]).length, 0);
});

test('idle timeout and absolute age end a session (N: still valid, N+1: over)', async () => {
  // A session's clock starts when its sign-in starts, before the password hash (1-2 s on a busy
  // machine with an ASan build): the limits leave room for that, and every bound below is taken
  // on the safe side of the sign-in request (before it for "over", after it for "still valid").
  const IDLE_MS = 4000;
  const MAX_MS = 8000; // past the idle part below, so its 401 can only be the idle timeout
  const s2 = await startServer({ dbPath: db, args: ['--session-idle-timeout', String(IDLE_MS / 1000), '--session-max-age', String(MAX_MS / 1000)] });
  try {
    const call = (c) => fetch(`${s2.url}/api/connections`, { headers: { cookie: `connhub_session=${c}` } }).then(async (r) => {
      bodies.push(await r.text());
      return r.status;
    });
    const login = async () => {
      const before = Date.now();
      const r = await fetch(`${s2.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: s2.url }, body: JSON.stringify({ username: 'ada', password: ADA_PW }) });
      bodies.push(await r.text());
      const c = /connhub_session=([^;]+)/.exec(r.headers.get('set-cookie'))[1];
      cookies.push(c);
      return { c, before, after: Date.now() };
    };
    // idle: used 2 s after it began (under 4) lives; then unused for 4.5 s is over
    const a = await login();
    await sleep(Math.max(0, a.before + IDLE_MS / 2 - Date.now()));
    assert.equal(await call(a.c), 200);
    await sleep(IDLE_MS + 500);
    assert.equal(await call(a.c), 401);
    assert.equal(await call(a.c), 401, 'and it stays over');
    // absolute: used every second it still ends MAX_MS after it began
    const b = await login();
    let last = 200;
    while (last === 200) {
      await sleep(900);
      const sent = Date.now();
      last = await call(b.c);
      if (last === 200) assert.ok(sent - b.after <= MAX_MS, `still valid ${sent - b.after} ms after the sign-in: past the maximum age`);
    }
    assert.equal(last, 401);
    assert.ok(Date.now() - b.before > MAX_MS, `ended ${Date.now() - b.before} ms after the sign-in began: before the maximum age`);
  } finally {
    assert.equal(await s2.stop(), 0);
    assert.deepEqual(scanForCanaries(s2.output(), [ADA_PW, ...cookies]), []);
  }
});

test('serve refuses session and lockout flags out of range (0 and N+1); N of --session-max-age is this file\'s server setting', () => {
  for (const [flag, bad] of [['--session-idle-timeout', 30 * 86400 + 1], ['--session-max-age', 90 * 86400 + 1], ['--login-max-failures', 1001], ['--login-lockout', 86401]]) {
    for (const v of ['0', String(bad)]) {
      const r = runCli(['serve', '--listen', '127.0.0.1:0', '--db', `sqlite:${dir}/never.db`, flag, v], { env: { INTEGRATION_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') } });
      assert.equal(r.code, 2, `${flag} ${v}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(flag));
    }
  }
  // --session-max-age 7776000 (N) is the main server's own setting in this file
});

test('the UI files: / and /ui/{file} without sign-in, with a strict CSP, an ETag (304 when unchanged) and no-cache', async () => {
  const r = await fetch(`${srv.url}/`);
  const html = await r.text();
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(html, /<script type="module" src="\/ui\/app.js"><\/script>/);
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  const etag = r.headers.get('etag');
  assert.ok(etag);
  const again = await fetch(`${srv.url}/`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal((await again.arrayBuffer()).byteLength, 0);
  const js = await fetch(`${srv.url}/ui/app.js`);
  await js.text();
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  for (const p of ['/ui/nope.js', '/ui/..%2Fconnhub.db', '/ui/%2e%2e/c.db']) {
    const x = await fetch(`${srv.url}${p}`);
    await x.text();
    assert.equal(x.status, 404, p);
  }
  // no inline script anywhere in the page (the CSP would block it)
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
  assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
});
