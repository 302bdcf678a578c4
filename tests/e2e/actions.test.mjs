// Action calls (issue 3) against real loopback upstreams: injection of every auth type as the
// upstream sees it, templating of hostile inputs, the SSRF guard (catalogue IDs in the names),
// redirects and credentials, upstream limits, connection tests, the tool registry, shutdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { makeCanary, scanForCanaries, describeHits } from './lib/canary.mjs';
import { api, cleanup, runCli, seedMember, startServer, tempDir } from './lib/server.mjs';
import { startCanaryListener, startUpstream } from './lib/upstream.mjs';

let srv, A, up, up3, canaryLo, db, tokens;
const responses = [];
const canary = {
  header: makeCanary('header'), query: makeCanary('query'), cookie: makeCanary('cookie'),
  bearer: makeCanary('bearer'), user: makeCanary('user'), pass: makeCanary('pass'),
  custom: makeCanary('custom'), inflight: makeCanary('inflight'),
};

function cli(args) {
  const r = runCli([...args, '--db', `sqlite:${db}`]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function call(action, input, connectionId) {
  const r = await A.post('/api/actions/call', { actionIdentifier: action, input, ...(connectionId ? { connectionId } : {}) });
  responses.push(r.text);
  return r;
}

async function mkconn(body) {
  const r = await A.post('/api/connections', body);
  responses.push(r.text);
  assert.equal(r.status, 201, r.text);
  return r.json;
}

before(async () => {
  const dir = tempDir();
  db = path.join(dir, 'c.db');
  cli(['user', 'add', 'alice']);
  cli(['workspace', 'add', 'w']);
  cli(['member', 'add', 'w', 'alice', '--role', 'admin']);
  tokens = { alice: cli(['token', 'create', '--user', 'alice', '--workspace', 'w']) };
  up = await startUpstream({ host: '127.0.0.2' });
  up3 = await startUpstream({ host: '127.0.0.3' });
  canaryLo = await startCanaryListener('127.0.0.1');
  srv = await startServer({
    dbPath: db,
    allowPrivate: ['127.0.0.2/32', '127.0.0.3/32'],
    args: ['--out-max-response', '200000', '--out-idle-timeout', '700', '--out-timeout', '3000',
      '--drain-timeout', '10'],
    env: { http_proxy: `http://127.0.0.1:${canaryLo.port}`, HTTPS_PROXY: `http://127.0.0.1:${canaryLo.port}`,
      ALL_PROXY: `http://127.0.0.1:${canaryLo.port}` },
  });
  A = api(srv.url, tokens.alice);
});

after(async () => {
  await srv?.stop();
  await up?.close();
  await up3?.close();
  await canaryLo?.close();
  cleanup();
});

test('injection: the upstream sees each auth type exactly as specified', async () => {
  const ops = [{ name: 'get', method: 'GET', path: '/items/{{id}}' }, { name: 'post', method: 'POST', path: '/items' }];
  const cases = [
    [{ type: 'api_key_header', name: 'X-Api-Key', key: canary.header }, (rq) => assert.equal(rq.headers['x-api-key'], canary.header)],
    [{ type: 'api_key_query', name: 'api_key', key: canary.query }, (rq) => assert.equal(rq.query.api_key, canary.query)],
    [{ type: 'api_key_cookie', name: 'sid', key: canary.cookie }, (rq) => assert.equal(rq.headers.cookie, `sid=${canary.cookie}`)],
    [{ type: 'bearer', token: canary.bearer }, (rq) => assert.equal(rq.headers.authorization, `Bearer ${canary.bearer}`)],
    [{ type: 'basic', username: canary.user, password: canary.pass }, (rq) =>
      assert.equal(rq.headers.authorization, `Basic ${Buffer.from(`${canary.user}:${canary.pass}`).toString('base64')}`)],
    [{
      type: 'custom',
      params_schema: { type: 'object', properties: { k: { type: 'string' } }, required: ['k'] },
      inject: [{ in: 'header', name: 'X-Custom', value: 'Key {{k}}' }, { in: 'query', name: 'ck', value: '{{k}}' }],
      values: { k: canary.custom },
    }, (rq) => { assert.equal(rq.headers['x-custom'], `Key ${canary.custom}`); assert.equal(rq.query.ck, canary.custom); }],
    [{ type: 'none' }, (rq) => { assert.equal(rq.headers.authorization, undefined); }],
  ];
  for (const [i, [auth, check]] of cases.entries()) {
    const c = await mkconn({ name: `inj${i}`, base_url: up.url, auth, operations: ops });
    up.requests.length = 0;
    const r = await call(`${c.slug}.get`, { id: '42', extra: 'x y' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.ok, true);
    assert.equal(r.json.status, 200);
    assert.equal(up.requests.length, 1);
    const rq = up.requests[0];
    assert.equal(rq.method, 'GET');
    assert.equal(rq.path, '/items/42');
    assert.equal(rq.query.extra, 'x y', 'remaining GET input goes to the query');
    check(rq);
    // a JSON upstream body is spliced in as JSON
    assert.equal(r.json.body.method, 'GET');
    assert.equal(typeof r.json.duration_ms, 'number');
  }
  // custom body injection and POST input as a JSON body
  const c = await mkconn({
    name: 'bodyinj', base_url: up.url, operations: ops,
    auth: { type: 'custom', params_schema: { type: 'object', properties: { k: { type: 'string' } } },
      inject: [{ in: 'body', name: 'api_key', value: '{{k}}' }], values: { k: canary.custom } },
  });
  up.requests.length = 0;
  const r = await call(`${c.slug}.post`, { title: 'hello', n: 3 });
  assert.equal(r.status, 200, r.text);
  assert.equal(up.requests[0].headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(up.requests[0].body), { title: 'hello', n: 3, api_key: canary.custom });
});

test('SSRF-168: hostile template inputs stay one encoded path segment', async () => {
  const c = await mkconn({ name: 'tmpl', base_url: up.url, operations: [{ name: 'get', method: 'GET', path: '/users/{{id}}/posts?tag={{tag}}' }] });
  for (const id of ['../admin', '%2e%2e%2f', 'x?y=1', 'x#f', '@evil.test', 'http://127.0.0.1/', '//127.0.0.1', 'a/b', 'a\r\nX-Evil: 1']) {
    up.requests.length = 0;
    const r = await call(`${c.slug}.get`, { id, tag: 'a&b=c#d' });
    assert.equal(r.status, 200, `${JSON.stringify(id)}: ${r.text}`);
    const rq = up.requests[0];
    assert.equal(rq.segments.length, 3, `${JSON.stringify(id)} -> ${rq.path}`);
    assert.equal(decodeURIComponent(rq.segments[1]), id);
    assert.deepEqual(Object.keys(rq.query), ['tag']);
    assert.equal(rq.query.tag, 'a&b=c#d');
    assert.equal(rq.headers['x-evil'], undefined);
  }
  // dot segments are refused before anything is sent
  up.requests.length = 0;
  for (const id of ['..', '.', '']) {
    const r = await call(`${c.slug}.get`, { id, tag: 't' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.stage, 'input');
  }
  const missing = await call(`${c.slug}.get`, { tag: 't' });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.error.field, 'input.id');
  assert.equal(up.requests.length, 0);
});

test('input schema is enforced before any request leaves', async () => {
  const c = await mkconn({
    name: 'schema', base_url: up.url,
    operations: [{ name: 'create', method: 'POST', path: '/issues',
      input_schema: { type: 'object', required: ['title'], additionalProperties: false,
        properties: { title: { type: 'string', maxLength: 10 }, state: { enum: ['open', 'closed'] }, n: { type: 'integer', minimum: 1 } } } }],
  });
  up.requests.length = 0;
  for (const [input, field] of [[{}, 'input.title'], [{ title: 5 }, 'input.title'], [{ title: 'x'.repeat(11) }, 'input.title'],
    [{ title: 't', state: 'weird' }, 'input.state'], [{ title: 't', n: 0 }, 'input.n'], [{ title: 't', n: 1.5 }, 'input.n'], [{ title: 't', x: 1 }, 'input']]) {
    const r = await call(`${c.slug}.create`, input);
    assert.equal(r.status, 400, JSON.stringify(input));
    assert.equal(r.json.ok, false);
    assert.equal(r.json.error.stage, 'input');
    assert.ok(r.json.error.field.startsWith(field), `${JSON.stringify(input)}: ${r.json.error.field}`);
  }
  assert.equal(up.requests.length, 0);
  const ok = await call(`${c.slug}.create`, { title: 'fine', state: 'open', n: 2 });
  assert.equal(ok.json.ok, true, ok.text);
});

test('resolve: unknown tools and connection ids fail clearly', async () => {
  const c = await mkconn({ name: 'res', base_url: up.url, operations: [{ name: 'get', method: 'GET', path: '/x' }] });
  for (const [action, id, status, code] of [
    ['nosuch.get', undefined, 404, 'unknown_tool'],
    [`${c.slug}.nosuch`, undefined, 404, 'unknown_tool'],
    ['nodot', undefined, 400, 'invalid_action'],
    [`${c.slug}.get`, 'conn_00000000000000000000000000', 404, 'connection_not_found'],
    ['other.get', c.id, 400, 'connection_mismatch'],
  ]) {
    const r = await call(action, {}, id);
    assert.equal(r.status, status, `${action}: ${r.text}`);
    assert.equal(r.json.error.code, code);
    assert.equal(r.json.error.stage, 'resolve');
  }
  const byId = await call(`${c.slug}.get`, {}, c.id);
  assert.equal(byId.json.ok, true);
});

test('SSRF: refused targets never get a connection (001, 030, 080, 082, 014, 140, 150)', async () => {
  const before = canaryLo.hits;
  const port = canaryLo.port;
  for (const [id, base] of [
    ['SSRF-001', `http://127.0.0.1:${port}`],
    ['SSRF-002', `http://127.255.255.254:${port}`],
    ['SSRF-014', `http://0.0.0.0:${port}`],
    ['SSRF-080', `http://[::1]:${port}`],
    ['SSRF-082', `http://[::ffff:127.0.0.1]:${port}`],
    // addresses off this machine (SSRF-040's metadata address...) are the unit tests' cases
    // (test_client.c), run in a network namespace of their own: here a broken guard would
    // send a request out
  ]) {
    const c = await mkconn({ name: `ssrf ${id}`, base_url: base, auth: { type: 'bearer', token: canary.bearer }, operations: [{ name: 'get', method: 'GET', path: '/secret' }] });
    const r = await call(`${c.slug}.get`, {});
    assert.equal(r.status, 403, `${id}: ${r.text}`);
    assert.equal(r.json.error.code, 'blocked_by_policy', id);
    assert.equal(r.json.error.stage, 'blocked', id);
  }
  // SSRF-030: names for this host are refused when saved
  const lh = await A.post('/api/connections', { name: 'lh', base_url: `http://localhost:${port}` });
  assert.equal(lh.status, 400);
  assert.equal(lh.json.error.field, 'base_url');
  // SSRF-140: an allowed upstream redirecting to loopback
  up.route('/to-loopback', { mode: 'redirect', status: 302, location: `http://127.0.0.1:${port}/secret` });
  const c = await mkconn({ name: 'redir', base_url: up.url, operations: [{ name: 'go', method: 'GET', path: '/to-loopback' }] });
  const r = await call(`${c.slug}.go`, {});
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.code, 'blocked_by_policy');
  assert.equal(canaryLo.hits, before, 'the loopback canary was never reached (SSRF-150: proxy env ignored too)');
  up.route('/to-loopback', null);
});

test('SSRF-144/145: credentials never follow a cross-origin redirect', async () => {
  up.route('/cross', { mode: 'redirect', status: 302, location: `${up3.url}/landed` });
  up.route('/same', { mode: 'redirect', status: 302, location: `${up.url}/landed` });
  const c = await mkconn({
    name: 'xo', base_url: up.url,
    auth: { type: 'custom', params_schema: { type: 'object', properties: { k: { type: 'string' } } },
      inject: [{ in: 'header', name: 'X-Api-Key', value: '{{k}}' }, { in: 'query', name: 'key', value: '{{k}}' },
        { in: 'cookie', name: 'sid', value: '{{k}}' }], values: { k: canary.custom } },
    operations: [{ name: 'cross', method: 'GET', path: '/cross' }, { name: 'same', method: 'GET', path: '/same' }],
  });
  up3.requests.length = 0;
  let r = await call(`${c.slug}.cross`, {});
  assert.equal(r.json.ok, true, r.text);
  assert.equal(up3.requests.length, 1);
  const hits = scanForCanaries(JSON.stringify(up3.requests), [canary.custom]);
  assert.equal(hits.length, 0, `cross-origin hop received a credential: ${describeHits(hits)}`);
  up.requests.length = 0;
  r = await call(`${c.slug}.same`, {});
  assert.equal(r.json.ok, true);
  const landed = up.requests.find((q) => q.path === '/landed');
  assert.equal(landed.headers['x-api-key'], canary.custom, 'same-origin keeps credentials');
  up.route('/cross', null);
  up.route('/same', null);
});

test('limits: oversize, slow, never-ending and gzip-bomb upstreams are cut', async () => {
  const c = await mkconn({ name: 'limits', base_url: up.url, operations: [
    { name: 'huge', method: 'GET', path: '/huge' }, { name: 'slow', method: 'GET', path: '/slow' },
    { name: 'endless', method: 'GET', path: '/endless' }, { name: 'bomb', method: 'GET', path: '/bomb' },
    { name: 'trickle', method: 'GET', path: '/trickle' }, { name: 'loop', method: 'GET', path: '/loop' }] });
  up.route('/huge', { mode: 'huge', bytes: 300000 });
  up.route('/slow', { mode: 'hang' });
  up.route('/endless', { mode: 'endless' });
  up.route('/bomb', { mode: 'gzipBomb', bytes: 64 * 1024 * 1024 });
  up.route('/trickle', { mode: 'trickle', interval: 1000 });
  up.route('/loop', { mode: 'redirect', status: 302, location: '/loop' });
  for (const [op, status, code] of [['huge', 502, 'response_too_large'], ['endless', 502, 'response_too_large'],
    ['bomb', 502, 'response_too_large'], ['slow', 504, 'upstream_timeout'], ['trickle', 504, 'upstream_timeout'],
    ['loop', 502, 'too_many_redirects']]) {
    const t0 = Date.now();
    const r = await call(`${c.slug}.${op}`, {});
    assert.equal(r.status, status, `${op}: ${r.text}`);
    assert.equal(r.json.error.code, code, op);
    assert.ok(Date.now() - t0 < 5000, `${op} was cut quickly`);
  }
  for (const p of ['/huge', '/slow', '/endless', '/bomb', '/trickle', '/loop']) up.route(p, null);
  const m = await (await fetch(`${srv.url}/metrics`)).text();
  assert.match(m, /connhub_calls_total \d+/);
});

test('LEAK-006: an upstream echoing the credential in an error gets it redacted', async () => {
  const c = await mkconn({ name: 'echo500', base_url: up.url, auth: { type: 'bearer', token: canary.bearer }, operations: [{ name: 'e', method: 'GET', path: '/e' }] });
  up.route('/e', { mode: 'status', status: 500, body: `bad token Bearer ${canary.bearer}`, contentType: 'text/plain', headers: { 'x-echo': canary.bearer } });
  const r = await call(`${c.slug}.e`, {});
  assert.equal(r.status, 200);
  assert.equal(r.json.ok, false);
  assert.equal(r.json.status, 500);
  assert.equal(r.json.body, 'bad token Bearer [REDACTED]');
  assert.equal(r.json.headers['x-echo'], '[REDACTED]');
  up.route('/e', null);
});

test('LEAK-007/LEAK-008: at debug level, failing calls log no credential and no URL query; LEAK-013: metrics carry ids only', async () => {
  const dbg = await startServer({ dbPath: db, allowPrivate: ['127.0.0.2/32'], args: ['--log-level', 'debug'],
    env: { INTEGRATION_ENCRYPTION_KEY: srv.key } });
  try {
    const D = api(dbg.url, tokens.alice);
    up.route('/fail', { mode: 'status', status: 500, body: 'upstream broke', contentType: 'text/plain' });
    const auths = [
      { type: 'api_key_query', name: 'api_key', key: canary.query },
      { type: 'api_key_header', name: 'X-Api-Key', key: canary.header },
      { type: 'api_key_cookie', name: 'sid', key: canary.cookie },
      { type: 'bearer', token: canary.bearer },
      { type: 'basic', username: canary.user, password: canary.pass },
    ];
    for (const [i, auth] of auths.entries()) {
      const c = await D.post('/api/connections', { name: `dbg${i}`, base_url: up.url, auth, operations: [{ name: 'f', method: 'GET', path: '/fail?x=1' }] });
      assert.equal(c.status, 201, c.text);
      const r = await D.post('/api/actions/call', { actionIdentifier: `${c.json.slug}.f`, input: {} });
      assert.equal(r.json?.status, 500, r.text);
    }
    const m = await (await fetch(`${dbg.url}/metrics`)).text();
    assert.ok(dbg.logs.some((l) => l.level === 'debug'), 'debug lines were written');
    // every logged URL-ish field is an origin or a path: no query, userinfo or fragment
    for (const l of dbg.logs) {
      for (const [k, v] of Object.entries(l)) {
        if (typeof v === 'string' && /^https?:\/\//.test(v)) assert.ok(!/[?#@]/.test(v), `${l.event}.${k}: ${v}`);
      }
    }
    const hits = scanForCanaries(dbg.output() + m, Object.values(canary));
    assert.equal(hits.length, 0, describeHits(hits));
    // LEAK-013: metric labels name classes, workspaces or connections only
    for (const line of m.split('\n').filter((x) => x && !x.startsWith('#'))) {
      const labels = /\{(.*)\}/.exec(line)?.[1];
      for (const kv of labels ? labels.split(',') : []) assert.ok(['class', 'workspace', 'connection'].includes(kv.split('=')[0]), line);
    }
  } finally {
    up.route('/fail', null);
    await dbg.stop();
  }
});

test('bodies: JSON spliced, text as a string, binary as base64', async () => {
  const c = await mkconn({ name: 'bodies', base_url: up.url, operations: [
    { name: 'j', method: 'GET', path: '/j' }, { name: 't', method: 'GET', path: '/t' }, { name: 'b', method: 'GET', path: '/b' }] });
  up.route('/j', { mode: 'json', body: { a: [1, 2, { b: null }], s: 'é' } });
  up.route('/t', { mode: 'status', status: 200, body: 'plain text', contentType: 'text/plain' });
  up.route('/b', { mode: 'status', status: 200, body: Buffer.from([0, 1, 2, 255]), contentType: 'application/octet-stream' });
  assert.deepEqual((await call(`${c.slug}.j`, {})).json.body, { a: [1, 2, { b: null }], s: 'é' });
  assert.equal((await call(`${c.slug}.t`, {})).json.body, 'plain text');
  const b = (await call(`${c.slug}.b`, {})).json;
  assert.equal(b.body_encoding, 'base64');
  assert.equal(b.body, Buffer.from([0, 1, 2, 255]).toString('base64'));
  for (const p of ['/j', '/t', '/b']) up.route(p, null);
});

test('connection test reports each step with the upstream status', async () => {
  const good = await mkconn({ name: 'tgood', base_url: up.url, auth: { type: 'bearer', token: 't' },
    operations: [{ name: 'me', method: 'GET', path: '/me' }], test_operation: 'me' });
  let r = await A.post(`/api/connections/${good.id}/test`, {});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ok, true);
  assert.deepEqual(r.json.steps.map((s) => s.name), ['configuration', 'credential', 'request']);
  up.route('/me', { mode: 'status', status: 401, body: 'nope' });
  r = await A.post(`/api/connections/${good.id}/test`, {});
  assert.equal(r.json.ok, false);
  assert.match(r.json.steps[2].detail, /401/);
  up.route('/me', null);
  const blocked = await mkconn({ name: 'tblocked', base_url: 'http://127.0.0.1:9' });
  r = await A.post(`/api/connections/${blocked.id}/test`, {});
  assert.equal(r.json.ok, false);
  assert.match(r.json.steps.at(-1).detail, /blocked/);
  assert.equal((await A.post('/api/connections/conn_00000000000000000000000000/test', {})).status, 404);
});

test('tool registry: list, rename and delete make old names unknown', async () => {
  const c = await mkconn({ name: 'Reg Tools', slug: 'regtools', base_url: up.url,
    operations: [{ name: 'list_items', method: 'GET', path: '/items', description: 'List items',
      input_schema: { type: 'object', properties: { limit: { type: 'integer' } } } }] });
  let r = await A.get('/api/tools');
  const t = r.json.tools.find((x) => x.name === 'regtools.list_items');
  assert.ok(t, 'listed');
  assert.equal(t.description, 'List items');
  assert.equal(t.function.name, 'regtools__list_items');
  assert.deepEqual(t.function.parameters, { type: 'object', properties: { limit: { type: 'integer' } } });
  assert.equal((await A.patch(`/api/connections/${c.id}`, { slug: 'regtools2' })).status, 200);
  r = await call('regtools.list_items', {});
  assert.equal(r.json.error.code, 'unknown_tool');
  assert.equal((await call('regtools2.list_items', {})).json.ok, true);
  await A.del(`/api/connections/${c.id}`);
  assert.equal((await call('regtools2.list_items', {})).json.error.code, 'unknown_tool');
});

test('SSRF-036: the server never calls its own listen address, even when the operator allows loopback', async () => {
  const sdb = path.join(tempDir(), 'self.db');
  const token = seedMember(sdb);
  const lo = await startUpstream({ host: '127.0.0.1' });
  const self = await startServer({ dbPath: sdb, allowPrivate: '127.0.0.1/32' });
  try {
    const S = api(self.url, token);
    const mk = async (name, base) => {
      const r = await S.post('/api/connections', { name, base_url: base, auth: { type: 'bearer', token: canary.bearer },
        operations: [{ name: 'me', method: 'GET', path: '/api/me' }] });
      assert.equal(r.status, 201, r.text);
      return r.json.slug;
    };
    const selfSlug = await mk('self', self.url);
    const otherSlug = await mk('other', lo.url);
    let r = await S.post('/api/actions/call', { actionIdentifier: `${selfSlug}.me`, input: {} });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error.code, 'blocked_by_policy');
    // the same allowed address on another port still answers
    r = await S.post('/api/actions/call', { actionIdentifier: `${otherSlug}.me`, input: {} });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.ok, true);
    assert.equal(lo.requests.length, 1);
    assert.ok(self.logs.some((l) => l.event === 'outbound.ssrf_blocked' && /own listen address/.test(l.reason)),
      'the refusal is logged with its reason');
  } finally {
    await self.stop();
    await lo.close();
  }
});

test('TEN-019: a connection deleted while its call is in flight: that call ends cleanly, the next one is refused', async () => {
  const c = await mkconn({ name: 'In Flight', base_url: up.url, auth: { type: 'bearer', token: canary.inflight },
    operations: [{ name: 's', method: 'GET', path: '/inflight' }] });
  up.route('/inflight', { mode: 'slow', delay: 500 });
  const n0 = up.requests.length;
  const inflight = call(`${c.slug}.s`, {});
  const seen = await up.waitForRequests(n0 + 1); // the secret was opened and sent: the call is in flight
  assert.equal(seen[n0].headers.authorization, `Bearer ${canary.inflight}`);
  const d = await A.del(`/api/connections/${c.id}`);
  assert.equal(d.status, 200, d.text);
  // the call already sent ends with its own answer (the server kept what it had opened, ASan-clean)
  const r = await inflight;
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ok, true);
  // the next execution is denied, by name or by id, and nothing more reaches the upstream
  const n1 = up.requests.length;
  assert.equal((await call(`${c.slug}.s`, {})).json.error.code, 'unknown_tool');
  const byId = await call(`${c.slug}.s`, {}, c.id);
  assert.equal(byId.json.ok, false, byId.text);
  assert.equal(byId.json.error.code, 'connection_not_found');
  assert.equal(up.requests.length, n1);
  up.route('/inflight', null);
});

test('graceful shutdown: an in-flight call finishes after SIGTERM (HTTP-010: drains)', async () => {
  const c = await mkconn({ name: 'drain', base_url: up.url, operations: [{ name: 's', method: 'GET', path: '/s' }] });
  up.route('/s', { mode: 'slow', delay: 600 });
  up.requests.length = 0;
  const inflight = call(`${c.slug}.s`, {});
  // in flight = the upstream has the request (it answers 600 ms later), not "200 ms have passed"
  await up.waitForRequests(1, 10000);
  const stopped = srv.stop('SIGTERM');
  const r = await inflight;
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ok, true);
  assert.equal(await stopped, 0);
  up.route('/s', null);
  // LEAK: no canary in any response or log line of the whole run
  const hits = scanForCanaries(responses.join('\n') + srv.output(), Object.values(canary));
  assert.equal(hits.length, 0, describeHits(hits));
});
