// oidc-flow.mjs: drives the whole authorization-code flow against oidc-peer.mjs with plain
// fetch, printing every HTTP step, so the exact wire behaviour connhub must reproduce is
// visible (and checked): authorize -> login -> consent -> callback -> token -> whoami ->
// refresh (rotation) -> reuse detection -> revoke -> refresh after revoke -> counters.
//
//   node oidc-flow.mjs                 starts its own peer on a free port (AT_TTL=3)
//   ISSUER=http://127.0.0.1:18081 node oidc-flow.mjs   uses a running peer
//   CLIENT_AUTH=post node oidc-flow.mjs                client_secret_post instead of basic
// Exits 0 when every check passed. Loopback only.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const REDIRECT_URI = 'http://127.0.0.1:9999/callback';
const BASE_ID = process.env.CLIENT_ID || 'conn-test';
const SECRET = process.env.CLIENT_SECRET || 's3cret';
const POST = process.env.CLIENT_AUTH === 'post';
const CLIENT_ID = POST ? `${BASE_ID}-post` : BASE_ID;
let failures = 0;

const b64url = (buf) => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
// RFC 6749 §2.3.1: form-encode id and secret, then base64 "id:secret".
const formEnc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const basic = (id, secret) => `Basic ${Buffer.from(`${formEnc(id)}:${formEnc(secret)}`).toString('base64')}`;

function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures += 1;
}
const short = (t) => (typeof t === 'string' ? `${t.slice(0, 12)}...(${t.length})` : t);

async function startPeer() {
  if (process.env.ISSUER) return { issuer: process.env.ISSUER, stop: () => {} };
  const child = spawn(process.execPath, [path.join(here, 'oidc-peer.mjs'), '--port=0', '--at-ttl=3'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.on('exit', (c) => reject(new Error(`peer exited ${c}`)));
  });
  return { issuer: ready.issuer, stop: () => child.kill('SIGTERM') };
}

// A tiny cookie jar + redirect walker (redirects are never followed automatically).
const jar = new Map();
async function hop(url, init = {}) {
  const headers = { ...(init.headers || {}) };
  if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) {
    const [kv] = c.split(';');
    const i = kv.indexOf('=');
    jar.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return res;
}

async function tokenRequest(issuer, params) {
  const body = new URLSearchParams(params);
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (POST) { body.set('client_id', CLIENT_ID); body.set('client_secret', SECRET); }
  else headers.authorization = basic(CLIENT_ID, SECRET);
  const res = await fetch(`${issuer}/token`, { method: 'POST', headers, body });
  const json = await res.json();
  console.log(`     POST /token grant_type=${params.grant_type} -> ${res.status}`,
    JSON.stringify({ ...json, access_token: short(json.access_token), refresh_token: short(json.refresh_token), id_token: short(json.id_token) }));
  return { status: res.status, json };
}

async function main() {
  const peer = await startPeer();
  const AS = peer.issuer;
  try {
    console.log(`== peer ${AS}, client ${CLIENT_ID} (${POST ? 'client_secret_post' : 'client_secret_basic'})`);
    await fetch(`${AS}/_counters/reset`, { method: 'POST' });

    // 1. start: state + PKCE S256 (what oauth_state_new / oauth_pkce_new produce)
    const state = b64url(randomBytes(32));
    const verifier = b64url(randomBytes(48));
    const challenge = b64url(createHash('sha256').update(verifier).digest());
    const authz = new URL(`${AS}/auth`);
    for (const [k, v] of Object.entries({
      response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI,
      scope: 'openid repo read:user', state, code_challenge: challenge, code_challenge_method: 'S256',
      prompt: 'consent',
    })) authz.searchParams.set(k, v);
    console.log(`== 1. GET ${authz.pathname}?response_type=code&client_id=...&redirect_uri=...&scope=...&state=...&code_challenge=...&code_challenge_method=S256`);

    // 2. walk login + consent forms until the AS redirects to the callback
    let res = await hop(authz);
    let loc = res.headers.get('location');
    let callback = null;
    for (let i = 0; i < 10 && loc; i++) {
      const url = new URL(loc, AS);
      console.log(`     ${res.status} -> ${url.origin === AS ? url.pathname : url.origin + url.pathname}`);
      if (url.href.startsWith(REDIRECT_URI)) { callback = url; break; }
      if (url.pathname.startsWith('/interaction/')) {
        const page = await (await hop(url)).text();
        const prompt = /name="prompt" value="(login|consent)"/.exec(page)?.[1];
        console.log(`     interaction page asks prompt=${prompt}; POST the form`);
        const form = new URLSearchParams(prompt === 'login' ? { prompt, login: 'alice', password: 'x' } : { prompt });
        res = await hop(url, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      } else {
        res = await hop(url);
      }
      loc = res.headers.get('location');
    }
    check(callback !== null, '2. reached the callback');
    const q = callback.searchParams;
    console.log(`== 3. callback ?code=${short(q.get('code'))}&state=...&iss=${q.get('iss')}`);
    check(q.get('state') === state, '3. state round-trips unchanged');
    check(q.get('iss') === AS, '3. iss (RFC 9207) equals the issuer: connhub compares it to the provider\'s issuer');

    // 4. code exchange
    console.log('== 4. code exchange (redirect_uri + code_verifier)');
    const t1 = await tokenRequest(AS, { grant_type: 'authorization_code', code: q.get('code'), redirect_uri: REDIRECT_URI, code_verifier: verifier });
    check(t1.status === 200 && t1.json.access_token && t1.json.refresh_token, '4. access + refresh token issued');
    check(/^bearer$/i.test(t1.json.token_type), '4. token_type Bearer');
    check(t1.json.expires_in === 3, '4. expires_in = AT_TTL (3)');
    check(typeof t1.json.scope === 'string', `4. granted scope reported: "${t1.json.scope}"`);

    console.log('== 4b. replaying the code fails');
    const replay = await tokenRequest(AS, { grant_type: 'authorization_code', code: q.get('code'), redirect_uri: REDIRECT_URI, code_verifier: verifier });
    check(replay.status === 400 && replay.json.error === 'invalid_grant', '4b. code is single-use');

    // 5. protected resource
    const who = async (at) => (await fetch(`${AS}/api/whoami`, { headers: { authorization: `Bearer ${at}` } })).status;
    // the code replay above revoked the grant (oidc-provider's replay defence): start a new one
    // is not needed for the wire walk-through, so show the resource with a fresh flow below.

    // 6. a second, clean flow for refresh/revoke (the replay revoked the first grant)
    jar.clear();
    const state2 = b64url(randomBytes(32));
    const verifier2 = b64url(randomBytes(48));
    authz.searchParams.set('state', state2);
    authz.searchParams.set('code_challenge', b64url(createHash('sha256').update(verifier2).digest()));
    res = await hop(authz);
    loc = res.headers.get('location');
    callback = null;
    for (let i = 0; i < 10 && loc; i++) {
      const url = new URL(loc, AS);
      if (url.href.startsWith(REDIRECT_URI)) { callback = url; break; }
      if (url.pathname.startsWith('/interaction/')) {
        const page = await (await hop(url)).text();
        const prompt = /name="prompt" value="(login|consent)"/.exec(page)?.[1];
        const form = new URLSearchParams(prompt === 'login' ? { prompt, login: 'alice', password: 'x' } : { prompt });
        res = await hop(url, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      } else res = await hop(url);
      loc = res.headers.get('location');
    }
    console.log('== 5. second flow (the code replay revoked the first grant)');
    const t2 = await tokenRequest(AS, { grant_type: 'authorization_code', code: callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: verifier2 });
    check(t2.status === 200, '5. second code exchange');
    check(await who(t2.json.access_token) === 200, '5. GET /api/whoami with Bearer -> 200');
    console.log('     waiting 4 s for the 3 s access token to expire');
    await new Promise((r) => { setTimeout(r, 4000); });
    check(await who(t2.json.access_token) === 401, '5. expired token -> 401 (connhub: forced refresh + one retry)');

    console.log('== 6. refresh (rotation)');
    const r1 = await tokenRequest(AS, { grant_type: 'refresh_token', refresh_token: t2.json.refresh_token });
    check(r1.status === 200 && r1.json.refresh_token && r1.json.refresh_token !== t2.json.refresh_token, '6. new refresh token (rotated)');
    check(await who(r1.json.access_token) === 200, '6. new access token works');

    console.log('== 7. reuse of the rotated-out refresh token (connhub must never do this)');
    const reuse = await tokenRequest(AS, { grant_type: 'refresh_token', refresh_token: t2.json.refresh_token });
    check(reuse.status === 400 && reuse.json.error === 'invalid_grant', '7. invalid_grant');
    const after = await tokenRequest(AS, { grant_type: 'refresh_token', refresh_token: r1.json.refresh_token });
    check(after.status === 400, '7. reuse detection revoked the whole grant (new token dead too)');

    // 8. revocation (RFC 7009) on a third grant would repeat the dance; revoke what we have:
    console.log('== 8. revoke (RFC 7009): token + token_type_hint, same client auth');
    const rb = new URLSearchParams({ token: r1.json.refresh_token, token_type_hint: 'refresh_token' });
    const rh = { 'content-type': 'application/x-www-form-urlencoded' };
    if (POST) { rb.set('client_id', CLIENT_ID); rb.set('client_secret', SECRET); } else rh.authorization = basic(CLIENT_ID, SECRET);
    const rv = await fetch(`${AS}/token/revocation`, { method: 'POST', headers: rh, body: rb });
    console.log(`     POST /token/revocation -> ${rv.status} (${(await rv.text()).length} bytes)`);
    check(rv.status === 200, '8. revocation answers 200 (also for unknown/dead tokens)');

    console.log('== 9. wrong client secret -> invalid_client (connhub: provider config error)');
    const bad = await fetch(`${AS}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(BASE_ID, 'wrong') },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
    });
    const badj = await bad.json();
    console.log(`     -> ${bad.status} ${JSON.stringify(badj)}`);
    check(bad.status === 401 && badj.error === 'invalid_client', '9. invalid_client');

    console.log('== 10. injected fault: POST /_fault?status=503&error=temporarily_unavailable');
    await fetch(`${AS}/_fault?status=503&error=temporarily_unavailable&count=1`, { method: 'POST' });
    const f = await tokenRequest(AS, { grant_type: 'refresh_token', refresh_token: 'anything' });
    check(f.status === 503 && f.json.error === 'temporarily_unavailable', '10. fault served once');

    const c = await (await fetch(`${AS}/_counters`)).json();
    console.log('== counters', JSON.stringify(c));
    check(c.refresh_reuse_detected === 1, '11. counters: refresh_reuse_detected = 1 (connhub e2e must keep this 0)');
    check(c.code_exchanges === 3 && c.code_exchanges_ok === 2, '11. counters: code exchanges');
  } finally {
    peer.stop();
  }
  console.log(failures ? `${failures} check(s) FAILED` : 'all checks passed');
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
