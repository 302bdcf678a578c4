// Foundation (issue 2): the real binary on a real SQLite file, identities made with the CLI,
// connections of every auth type with canary secrets, workspace isolation, kill -9 durability,
// key handling at start-up, rekey, and bad input.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { makeCanary, scanForCanaries, scanFiles, describeHits } from './lib/canary.mjs';
import { api, cleanup, ON_PG, pgDump, runCli, SQLITE_ONLY, startServer, tempDir } from './lib/server.mjs';

after(cleanup);

const KEY1 = randomBytes(32).toString('base64');
const KEY2 = randomBytes(32).toString('hex');

function cli(db, args, env = {}) {
  const r = runCli([...args, '--db', `sqlite:${db}`], { env });
  assert.equal(r.code, 0, `connhub ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Workspaces a and b; users alice (admin of a), bob (member of a), carol (admin of b). */
function seed(db) {
  cli(db, ['user', 'add', 'alice']);
  cli(db, ['user', 'add', 'bob']);
  cli(db, ['user', 'add', 'carol']);
  cli(db, ['workspace', 'add', 'a']);
  cli(db, ['workspace', 'add', 'b']);
  cli(db, ['member', 'add', 'a', 'alice', '--role', 'admin']);
  cli(db, ['member', 'add', 'a', 'bob', '--role', 'member']);
  cli(db, ['member', 'add', 'b', 'carol', '--role', 'admin']);
  return {
    alice: cli(db, ['token', 'create', '--user', 'alice', '--workspace', 'a']),
    bob: cli(db, ['token', 'create', '--user', 'bob', '--workspace', 'a']),
    carol: cli(db, ['token', 'create', '--user', 'carol', '--workspace', 'b']),
  };
}

function connectionBodies(c) {
  return [
    { name: 'No Auth', base_url: 'https://none.example.com', auth: { type: 'none' } },
    { name: 'Header Key', base_url: 'https://h.example.com', auth: { type: 'api_key_header', name: 'X-Api-Key', key: c.header } },
    { name: 'Query Key', base_url: 'https://q.example.com', auth: { type: 'api_key_query', name: 'api_key', key: c.query } },
    { name: 'Cookie Key', base_url: 'https://c.example.com', auth: { type: 'api_key_cookie', name: 'session', key: c.cookie } },
    { name: 'Bearer', base_url: 'https://b.example.com', auth: { type: 'bearer', token: c.bearer } },
    { name: 'Basic', base_url: 'https://basic.example.com', auth: { type: 'basic', username: c.user, password: c.pass } },
    {
      name: 'Custom',
      base_url: 'https://custom.example.com',
      auth: {
        type: 'custom',
        params_schema: { type: 'object', properties: { api_key: { type: 'string' }, tenant: { type: 'string' } }, required: ['api_key'] },
        inject: [
          { in: 'header', name: 'X-Key', value: 'Key {{api_key}}' },
          { in: 'query', name: 'tenant', value: '{{tenant}}' },
        ],
        values: { api_key: c.custom, tenant: c.tenant },
      },
      operations: [{ name: 'list_items', method: 'GET', path: '/items/{{id}}?limit={{limit}}' }],
    },
  ];
}

test('connections of every auth type: canaries never leave the vault, in no read by any role (LEAK-002); isolation; kill -9', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'connhub.db');
  const tokens = seed(db);
  const canary = {
    header: makeCanary('header'), query: makeCanary('query'), cookie: makeCanary('cookie'),
    bearer: makeCanary('bearer'), user: makeCanary('user'), pass: makeCanary('pass'),
    custom: makeCanary('custom'), tenant: makeCanary('tenant'), query2: makeCanary('query2'),
  };
  const canaries = Object.values(canary);
  const env = { INTEGRATION_ENCRYPTION_KEY: KEY1 };
  let srv = await startServer({ dbPath: db, env });
  const responses = [];
  const A = api(srv.url, tokens.alice);
  const B = api(srv.url, tokens.carol);
  const track = (r) => { responses.push(r.text, JSON.stringify(r.headers)); return r; };

  const ids = [];
  for (const body of connectionBodies(canary)) {
    const r = track(await A.post('/api/connections', body));
    assert.equal(r.status, 201, `create ${body.name}: ${r.text}`);
    assert.match(r.json.id, /^conn_[0-9a-z]{26}$/);
    assert.equal(r.json.owner.name, 'alice');
    ids.push(r.json.id);
    // LEAK-001: which secrets are set, never their values
    const expected = { none: [], api_key_header: ['key'], api_key_query: ['key'], api_key_cookie: ['key'],
      bearer: ['token'], basic: ['password', 'username'], custom: ['api_key', 'tenant'] }[body.auth.type];
    assert.deepEqual([...r.json.auth.secrets_set].sort(), expected);
  }
  track(await A.get('/api/connections'));
  for (const id of ids) track(await A.get(`/api/connections/${id}`));

  // LEAK-003/004: a PATCH with blank or absent secrets keeps them; a new value replaces.
  const bearerId = ids[4];
  let r = track(await A.patch(`/api/connections/${bearerId}`, { name: 'Bearer renamed', auth: { type: 'bearer', token: '' } }));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.auth.secrets_set, ['token']);
  assert.equal(r.json.name, 'Bearer renamed');
  assert.equal(r.json.version, 2);
  r = track(await A.patch(`/api/connections/${bearerId}`, { description: 'no auth key at all' }));
  assert.deepEqual(r.json.auth.secrets_set, ['token']);
  // changing the auth type drops the old secrets and requires the new ones
  r = track(await A.patch(`/api/connections/${bearerId}`, { auth: { type: 'api_key_header', name: 'X-K' } }));
  assert.equal(r.status, 400);
  assert.equal(r.json.error.field, 'auth.key');

  // CRY-005: a secret replaced by a new value (and, below, a deleted connection): neither the
  // old nor the new canary is in any database file scanned at the end, only ciphertext was written.
  r = track(await A.patch(`/api/connections/${ids[2]}`, { auth: { type: 'api_key_query', name: 'api_key', key: canary.query2 } }));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.auth.secrets_set, ['key']);

  // TEN-001/002: workspace b gets 404 for a's ids on every verb, same body as a missing id.
  const missing = track(await B.get('/api/connections/conn_00000000000000000000000000'));
  assert.equal(missing.status, 404);
  for (const id of ids) {
    for (const [verb, call] of [
      ['GET', () => B.get(`/api/connections/${id}`)],
      ['PATCH', () => B.patch(`/api/connections/${id}`, { name: 'stolen' })],
      ['DELETE', () => B.del(`/api/connections/${id}`)],
    ]) {
      const res = track(await call());
      assert.equal(res.status, 404, `${verb} ${id} from workspace b`);
      assert.deepEqual(res.json, { error: { ...missing.json.error } }, `${verb}: identical to a missing id`);
    }
  }
  const listB = track(await B.get('/api/connections'));
  assert.equal(listB.json.connections.length, 0);

  // A member may read but not change an admin's connection; an admin may change a member's.
  const Bob = api(srv.url, tokens.bob);
  assert.equal(track(await Bob.get(`/api/connections/${ids[0]}`)).status, 200);
  r = track(await Bob.patch(`/api/connections/${ids[0]}`, { name: 'x' }));
  assert.equal(r.status, 403);
  assert.equal(track(await Bob.del(`/api/connections/${ids[0]}`)).status, 403);
  r = track(await Bob.post('/api/connections', { name: 'Bob API', base_url: 'https://bob.example.com' }));
  assert.equal(r.status, 201);
  ids.push(r.json.id);
  assert.equal(track(await A.patch(`/api/connections/${r.json.id}`, { name: 'Bob API v2' })).status, 200);

  // LEAK-002: every read (list, get, tools) by every role (workspace admin, member, platform admin
  // acting in the workspace) says which secrets are set, never a value (the scan at the end)
  cli(db, ['user', 'add', 'root', '--platform-admin']);
  cli(db, ['member', 'add', 'a', 'root', '--role', 'member']);
  const Root = api(srv.url, cli(db, ['token', 'create', '--user', 'root', '--workspace', 'a']));
  for (const who of [A, Bob, Root]) {
    for (const u of ['/api/connections', '/api/tools', ...ids.map((id) => `/api/connections/${id}`)]) {
      assert.equal(track(await who.get(u)).status, 200, u);
    }
  }
  assert.equal(track(await Root.get('/api/admin/oauth-providers')).status, 200);

  // Durability: kill -9 right after the acknowledgements, then restart on the same file.
  await srv.kill9();
  const firstOutput = srv.output();
  srv = await startServer({ dbPath: db, env });
  const A2 = api(srv.url, tokens.alice);
  const list = track(await A2.get('/api/connections'));
  assert.deepEqual(list.json.connections.map((c) => c.id).sort(), [...ids].sort());
  assert.equal(list.json.connections.find((c) => c.id === bearerId).name, 'Bearer renamed');

  // Every stored secret still opens (rekey opens each one; same key: all already current).
  const rk = runCli(['rekey', '--db', `sqlite:${db}`], { env });
  assert.equal(rk.code, 0, rk.stderr);
  assert.match(rk.stdout, /scanned 8, re-sealed 0, already current 8, changed meanwhile 0, failed 0/);

  // Delete removes the row and its secrets.
  assert.equal(track(await A2.del(`/api/connections/${ids[1]}`)).status, 200);
  assert.equal(track(await A2.get(`/api/connections/${ids[1]}`)).status, 404);
  assert.equal(await srv.stop(), 0);

  // CRY-004, CRY-005 / LEAK: no canary in any response, log line, or database file (db, -wal,
  // -shm), the replaced value and the deleted connection's included.
  const hits = [
    ...scanForCanaries(responses.join('\n'), canaries).map((h) => ({ ...h, where: 'API response' })),
    ...scanForCanaries(firstOutput + srv.output() + rk.stdout + rk.stderr, canaries).map((h) => ({ ...h, where: 'logs' })),
    ...scanFiles(fs.readdirSync(dir).map((f) => path.join(dir, f)), canaries),
    // PostgreSQL: the whole database as pg_dump writes it
    ...(srv.dbUrl.startsWith('sqlite:') ? [] : scanForCanaries(pgDump(srv.dbUrl), canaries).map((h) => ({ ...h, where: 'pg_dump' }))),
  ];
  assert.equal(hits.length, 0, describeHits(hits));
});

test('bad input gets a clear error naming the field, and nothing stored changes', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'connhub.db');
  const tokens = seed(db);
  const srv = await startServer({ dbPath: db, env: { INTEGRATION_ENCRYPTION_KEY: KEY1 } });
  const A = api(srv.url, tokens.alice);
  const good = { name: 'Good', slug: 'good', base_url: 'https://api.example.com', auth: { type: 'bearer', token: 't' } };
  const created = await A.post('/api/connections', good);
  assert.equal(created.status, 201);
  const before = (await A.get('/api/connections')).text;

  const raw = async (body, headers = { 'content-type': 'application/json' }) => {
    const res = await fetch(`${srv.url}/api/connections`, {
      method: 'POST', body, headers: { authorization: `Bearer ${tokens.alice}`, ...headers },
    });
    return { status: res.status, json: await res.json() };
  };
  const cases = [
    ['malformed JSON', () => raw('{"name": '), 400, 'invalid_json', undefined],
    ['HTTP-008: not an object', () => raw('[1,2]'), 400, 'invalid_body', undefined],
    ['PARSE-005: duplicate keys', () => raw('{"name":"a","name":"b"}'), 400, 'invalid_json', undefined],
    ['too deep', () => raw('['.repeat(100000)), 400, 'too_deep', undefined],
    ['HTTP-008: wrong content type', () => raw('{}', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type', 'Content-Type'],
    ['missing name', () => A.post('/api/connections', { base_url: 'https://x.example.com' }), 400, 'missing_field', 'name'],
    ['name wrong type', () => A.post('/api/connections', { ...good, slug: 'n2', name: 42 }), 400, 'invalid_type', 'name'],
    ['unknown auth type', () => A.post('/api/connections', { ...good, slug: 'n3', auth: { type: 'magic' } }), 400, 'unknown_auth_type', 'auth.type'],
    ['missing secret', () => A.post('/api/connections', { ...good, slug: 'n4', auth: { type: 'bearer' } }), 400, 'missing_field', 'auth.token'],
    ['secret with CRLF', () => A.post('/api/connections', { ...good, slug: 'n5', auth: { type: 'bearer', token: 'a\r\nX-Evil: 1' } }), 400, 'invalid_characters', 'auth.token'],
    ['typo in auth', () => A.post('/api/connections', { ...good, slug: 'n6', auth: { type: 'bearer', tokne: 'x' } }), 400, 'unknown_field', 'auth.tokne'],
    ['bad header name', () => A.post('/api/connections', { ...good, slug: 'n7', auth: { type: 'api_key_header', name: 'X Key:', key: 'k' } }), 400, 'invalid_name', 'auth.name'],
    ['bad slug', () => A.post('/api/connections', { ...good, slug: 'Bad-Slug' }), 400, 'invalid_slug', 'slug'],
    ['duplicate slug', () => A.post('/api/connections', good), 409, 'slug_taken', 'slug'],
    ['userinfo in base_url', () => A.post('/api/connections', { ...good, slug: 'n8', base_url: 'https://u:p@api.example.com' }), 400, undefined, 'base_url'],
    ['file scheme', () => A.post('/api/connections', { ...good, slug: 'n9', base_url: 'file:///etc/passwd' }), 400, undefined, 'base_url'],
    ['octal host', () => A.post('/api/connections', { ...good, slug: 'n10', base_url: 'http://0177.0.0.1/' }), 400, undefined, 'base_url'],
    ['mass assignment', () => A.post('/api/connections', { ...good, slug: 'n11', workspace_id: 2 }), 400, 'read_only_field', 'workspace_id'],
    ['unknown field', () => A.post('/api/connections', { ...good, slug: 'n12', colour: 'red' }), 400, 'unknown_field', 'colour'],
    ['bad operation path', () => A.post('/api/connections', { ...good, slug: 'n13', operations: [{ name: 'x', method: 'GET', path: 'no-slash' }] }), 400, undefined, 'operations[0].path'],
    ['bad method', () => A.post('/api/connections', { ...good, slug: 'n14', operations: [{ name: 'x', method: 'FETCH', path: '/a' }] }), 400, 'invalid_method', 'operations[0].method'],
    ['duplicate op', () => A.post('/api/connections', { ...good, slug: 'n15', operations: [{ name: 'x', method: 'GET', path: '/a' }, { name: 'x', method: 'GET', path: '/b' }] }), 400, 'duplicate_name', 'operations[1].name'],
    ['gmail auth is oauth2 or a service account', () => A.post('/api/connections', { ...good, slug: 'n16', service_type: 'gmail' }), 400, 'invalid_value', 'auth.type'],
    ['patch service type', () => A.patch(`/api/connections/${created.json.id}`, { service_type: 'telegram' }), 400, 'immutable_field', 'service_type'],
    ['patch bad slug', () => A.patch(`/api/connections/${created.json.id}`, { slug: '' }), 400, 'invalid_slug', 'slug'],
    ['bad list limit', () => A.get('/api/connections?limit=0'), 400, 'invalid_value', 'limit'],
  ];
  for (const [what, call, status, code, field] of cases) {
    const r = await call();
    assert.equal(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
    assert.ok(r.json.error.message.length > 0, `${what}: has a message`);
    if (code) assert.equal(r.json.error.code, code, what);
    if (field) assert.equal(r.json.error.field, field, what);
  }

  // PARSE-006 / HTTP-007: an oversize body is refused by its declared length, before it is read.
  // (/api/connections takes imported specs, up to --max-spec-body; an action call is plain JSON.)
  const big = JSON.stringify({ actionIdentifier: 'good.x', input: { pad: 'x'.repeat(300 * 1024) } });
  const res413 = await fetch(`${srv.url}/api/actions/call`, {
    method: 'POST', body: big, headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
  });
  assert.equal(res413.status, 413);
  assert.equal((await res413.json()).error.code, 'body_too_large');

  // MAX_JSON_DEPTH (64): a body nested 64 deep is parsed (and then fails on its merits), 65 is refused
  const nested = (n) => JSON.stringify({ actionIdentifier: 'nosuch.op', input: { k: JSON.parse('['.repeat(n) + ']'.repeat(n)) } });
  const callRaw = (body) => fetch(`${srv.url}/api/actions/call`, {
    method: 'POST', body, headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' } });
  let deep = await callRaw(nested(62)); // 1 (body) + 1 (input) + 62 = 64
  assert.equal((await deep.json()).error.code, 'unknown_tool');
  deep = await callRaw(nested(63));
  assert.equal(deep.status, 400);
  assert.equal((await deep.json()).error.code, 'too_deep');

  // MAX_DESCRIPTION_LEN (4000), multi-line allowed
  const longest = await A.post('/api/connections', { ...good, slug: 'desc_n', description: `a\n${'x'.repeat(3998)}` });
  assert.equal(longest.status, 201, longest.text.slice(0, 200));
  const over = await A.post('/api/connections', { ...good, slug: 'desc_n1', description: 'x'.repeat(4001) });
  assert.equal(over.status, 400);
  assert.equal(over.json.error.field, 'description');
  assert.equal((await A.del(`/api/connections/${longest.json.id}`)).status, 200);

  // unauthenticated and bad tokens
  assert.equal((await api(srv.url).get('/api/connections')).status, 401);
  assert.equal((await api(srv.url, 'chub_nope').get('/api/connections')).status, 401);
  assert.equal((await A.get('/api/nothing')).status, 404);
  assert.equal((await A.put('/api/connections', {})).status, 405);

  assert.equal((await A.get('/api/connections')).text, before, 'nothing stored changed');
  assert.equal(await srv.stop(), 0);
});

test('LEAK-005: an invalid secret value is refused by name, never echoed in the 400 or a log line', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'connhub.db');
  const tokens = seed(db);
  const srv = await startServer({ dbPath: db, env: { INTEGRATION_ENCRYPTION_KEY: KEY1 } });
  const c = { crlf: makeCanary('crlf'), long: makeCanary('long'), utf8: makeCanary('utf8'), ctl: makeCanary('ctl'), pass: makeCanary('pass') };
  const raw = async (body) => {
    const res = await fetch(`${srv.url}/api/connections`, {
      method: 'POST', body, headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' } });
    return { status: res.status, text: await res.text() };
  };
  const conn = (slug, auth) => JSON.stringify({ name: slug, slug, base_url: 'https://api.example.com', auth });
  const cases = [
    ['CR/LF in a bearer token', conn('a1', { type: 'bearer', token: `${c.crlf}\r\nX-Evil: 1` }), 'auth.token'],
    ['over MAX_SECRET_LEN (64 KiB)', conn('a2', { type: 'bearer', token: c.long + 'x'.repeat(64 * 1024) }), 'auth.token'],
    ['a control character in a header key', conn('a3', { type: 'api_key_header', name: 'X-Key', key: `${c.ctl}\u0001` }), 'auth.key'],
    ['CR in a basic password', conn('a4', { type: 'basic', username: 'u', password: `${c.pass}\r` }), 'auth.password'],
    // not UTF-8: the JSON text itself is refused
    ['invalid UTF-8', Buffer.concat([Buffer.from(conn('a5', { type: 'bearer', token: c.utf8 }).replace(c.utf8, `${c.utf8}`).slice(0, -3)),
      Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]), undefined],
  ];
  const bodies = [];
  for (const [what, body, field] of cases) {
    const r = await raw(body);
    bodies.push(r.text);
    assert.equal(r.status, 400, `${what}: ${r.text.slice(0, 300)}`);
    if (field) assert.equal(JSON.parse(r.text).error.field, field, what);
  }
  assert.equal(await srv.stop(), 0);
  const hits = scanForCanaries(bodies.join('\n') + srv.output(), Object.values(c), { partials: true });
  assert.equal(hits.length, 0, describeHits(hits));
});

test('keys: refuse to start without, with bad, or with the wrong key; rotation with rekey', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'connhub.db');
  const tokens = seed(db);
  const serveArgs = ['serve', '--listen', '127.0.0.1:1', '--db', `sqlite:${db}`];
  const noKey = { INTEGRATION_ENCRYPTION_KEY: '' };

  // CRY-001, CRY-002: no key, malformed keys
  for (const [key, field] of [
    ['', 'INTEGRATION_ENCRYPTION_KEY'],
    ['password', 'INTEGRATION_ENCRYPTION_KEY'],
    [randomBytes(31).toString('base64'), 'INTEGRATION_ENCRYPTION_KEY'],
    ['00'.repeat(32), 'INTEGRATION_ENCRYPTION_KEY'],
  ]) {
    const r = runCli(serveArgs, { env: { ...noKey, INTEGRATION_ENCRYPTION_KEY: key } });
    assert.notEqual(r.code, 0, `key ${JSON.stringify(key)} must be refused`);
    assert.match(r.stderr, new RegExp(field));
    if (key) assert.ok(!r.stderr.includes(key), 'the error never echoes the key');
  }
  const badPrev = runCli(serveArgs, { env: { INTEGRATION_ENCRYPTION_KEY: KEY1, INTEGRATION_ENCRYPTION_KEY_PREVIOUS: 'nope' } });
  assert.notEqual(badPrev.code, 0);
  assert.match(badPrev.stderr, /INTEGRATION_ENCRYPTION_KEY_PREVIOUS/);

  // Secrets under KEY1 (canaries: CRY-023 scans every log of the rotation for them).
  const canaries = [0, 1, 2, 3, 4].map((i) => makeCanary(`rot${i}`));
  const logs = [];
  let srv = await startServer({ dbPath: db, env: { INTEGRATION_ENCRYPTION_KEY: KEY1 } });
  const A = api(srv.url, tokens.alice);
  for (let i = 0; i < 5; i++) {
    const r = await A.post('/api/connections', { name: `C${i}`, base_url: 'https://x.example.com', auth: { type: 'bearer', token: canaries[i] } });
    assert.equal(r.status, 201);
  }
  await srv.stop();
  logs.push(srv.output());

  // CRY-003: a different key refuses to start and says how many secrets are affected.
  const wrong = runCli(serveArgs, { env: { INTEGRATION_ENCRYPTION_KEY: KEY2 } });
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /5 stored secrets are sealed with key id\(s\) [0-9a-f]{8}/);
  logs.push(wrong.stdout, wrong.stderr);

  // CRY-017..019: KEY2 primary + KEY1 previous starts; rekey re-seals all 5; then KEY2 alone works.
  const rot = { INTEGRATION_ENCRYPTION_KEY: KEY2, INTEGRATION_ENCRYPTION_KEY_PREVIOUS: KEY1 };
  srv = await startServer({ dbPath: db, env: rot });
  const rk = runCli(['rekey', '--db', `sqlite:${db}`], { env: rot });
  assert.equal(rk.code, 0, rk.stderr);
  assert.match(rk.stdout, /scanned 5, re-sealed 5, already current 0, changed meanwhile 0, failed 0/);
  assert.match(rk.stderr, /rekey: 5 scanned/);
  await srv.stop();
  logs.push(srv.output(), rk.stdout, rk.stderr);
  const again = runCli(['rekey', '--db', `sqlite:${db}`], { env: { INTEGRATION_ENCRYPTION_KEY: KEY2 } });
  assert.match(again.stdout, /scanned 5, re-sealed 0, already current 5/);
  srv = await startServer({ dbPath: db, env: { INTEGRATION_ENCRYPTION_KEY: KEY2 } });
  assert.equal((await api(srv.url, tokens.alice).get('/api/connections')).json.connections.length, 5);
  await srv.stop();
  logs.push(again.stdout, again.stderr, srv.output());

  // CRY-023: no canary in any output of the rotation (server logs, the refusal, both rekeys).
  const hits = scanForCanaries(logs.join('\n'), canaries);
  assert.equal(hits.length, 0, describeHits(hits));
});

test('CRY-024: a retired key still configured: its values are refused with a clear error and counted', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'connhub.db');
  const tokens = seed(db);
  let srv = await startServer({ dbPath: db, env: { INTEGRATION_ENCRYPTION_KEY: KEY1 } });
  const c = await api(srv.url, tokens.alice).post('/api/connections', { name: 'Old', base_url: 'https://old.example.com',
    auth: { type: 'bearer', token: makeCanary('retired') }, operations: [{ name: 'get', method: 'GET', path: '/x' }] });
  assert.equal(c.status, 201, c.text);
  await srv.stop();
  // the key id as vault.h defines it: the first 4 bytes of HMAC-SHA256(key, "connhub/key-id/v1")
  const k1 = createHmac('sha256', Buffer.from(KEY1, 'base64')).update('connhub/key-id/v1').digest('hex').slice(0, 8);
  srv = await startServer({ dbPath: db, env: { INTEGRATION_ENCRYPTION_KEY: KEY2, INTEGRATION_ENCRYPTION_KEY_PREVIOUS: KEY1, INTEGRATION_ENCRYPTION_KEY_RETIRED: k1 } });
  assert.ok(srv.logs.some((l) => l.event === 'vault.key_usage' && l.key_id === k1 && l.retired === true && l.secrets === 1));
  const r = await api(srv.url, tokens.alice).post('/api/actions/call', { actionIdentifier: `${c.json.slug}.get`, input: {} });
  assert.equal(r.json.ok, false, r.text);
  assert.equal(r.json.error.code, 'credential_key_retired');
  assert.match(r.json.error.message, new RegExp(`key ${k1}, which is retired`));
  const m = await (await fetch(`${srv.url}/metrics`)).text();
  assert.match(m, /^connhub_secret_retired_refusals_total 1$/m);
  await srv.stop();
  // the primary cannot be retired: refused at start
  const bad = runCli(['serve', '--listen', '127.0.0.1:1', '--db', `sqlite:${db}`], { env: { INTEGRATION_ENCRYPTION_KEY: KEY1, INTEGRATION_ENCRYPTION_KEY_RETIRED: k1 } });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /INTEGRATION_ENCRYPTION_KEY_RETIRED/);
});

test('CRY-027, CRY-028: the running server holds no key in /proc environ or cmdline, keys in argv are refused, core dumps are off', async () => {
  // ASan builds lower only the soft core limit themselves; keep them from doing even that
  const asan = [process.env.ASAN_OPTIONS, 'disable_coredump=0'].filter(Boolean).join(':');
  const srv = await startServer({ env: { INTEGRATION_ENCRYPTION_KEY: KEY1, INTEGRATION_ENCRYPTION_KEY_PREVIOUS: KEY2, ASAN_OPTIONS: asan } });
  const pid = srv.proc.pid;
  const environ = fs.readFileSync(`/proc/${pid}/environ`);
  const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`);
  for (const [what, text] of [['KEY1', KEY1], ['KEY2', KEY2]]) {
    assert.equal(environ.indexOf(text), -1, `${what} in /proc/PID/environ`);
    assert.equal(cmdline.indexOf(text), -1, `${what} in /proc/PID/cmdline`);
  }
  assert.ok(environ.indexOf('ASAN_OPTIONS=') >= 0, 'the rest of the environment is still there (the check reads the real block)');
  // CRY-028: RLIMIT_CORE is 0 soft and hard (this process's hard limit is higher: the server set it)
  const core = fs.readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max core file size'));
  assert.match(core, /^Max core file size\s+0\s+0\s+bytes/);
  await srv.stop();
  // no option takes a key: one given in argv is refused before anything starts
  for (const args of [['--key', KEY1], [`--encryption-key=${KEY1}`], [KEY1]]) {
    const r = runCli(['serve', '--listen', '127.0.0.1:1', '--db', `sqlite:${path.join(tempDir(), 'k.db')}`, ...args], { env: { INTEGRATION_ENCRYPTION_KEY: KEY1 } });
    assert.notEqual(r.code, 0, `serve ${args[0]} must be refused`);
  }
});

test('serve --dev creates a 0600 key file, an admin and a token, once', { skip: SQLITE_ONLY }, async () => {
  const dir = tempDir();
  const db = path.join(dir, 'sub', 'connhub.db');
  const srv = await startServer({ dbPath: db, args: ['--dev'], env: { INTEGRATION_ENCRYPTION_KEY: '' } });
  const line = srv.stdout.find((l) => l.startsWith('dev token'));
  assert.ok(line, 'prints the dev token');
  const token = line.split(': ').pop();
  assert.equal((await api(srv.url, token).get('/api/me')).json.workspace.slug, 'default');
  assert.ok(srv.logs.some((l) => l.event === 'vault.dev_key_created' && l.level === 'warn'));
  assert.equal(fs.statSync(path.join(dir, 'sub', 'connhub.devkey')).mode & 0o777, 0o600);
  await srv.stop();
  const again = await startServer({ dbPath: db, args: ['--dev'], env: { INTEGRATION_ENCRYPTION_KEY: '' } });
  assert.ok(!again.stdout.some((l) => l.startsWith('dev token')), 'no second token');
  await again.stop();
});

test('every command answers --help; the CLI refuses bad input clearly', () => {
  for (const cmd of [['--help'], ['serve', '--help'], ['user', '--help'], ['workspace', '--help'],
    ['member', '--help'], ['token', '--help'], ['rekey', '--help'], ['openapi-import', '--help']]) {
    const r = runCli(cmd);
    assert.equal(r.code, 0, `${cmd.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /usage: connhub/);
  }
  const db = path.join(tempDir(), 'c.db');
  let r = runCli(['user', 'add', 'bad name', '--db', `sqlite:${db}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /name/);
  r = runCli(['token', 'create', '--user', 'ghost', '--workspace', 'nowhere', '--db', `sqlite:${db}`]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  r = runCli(['member', 'add', 'a', 'b', '--role', 'owner', '--db', `sqlite:${db}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /role/);
  r = runCli(['serve', '--max-body', 'lots']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--max-body/);
  r = runCli(['frobnicate']);
  assert.equal(r.code, 2);
  const corpus = process.env.CONNHUB_OPENAPI_CORPUS || fileURLToPath(new URL('../.corpus/openapi', import.meta.url));
  r = runCli(['openapi-import', path.join(corpus, 'petstore.swagger20.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).operations, 20);
  r = runCli(['openapi-import', '/nonexistent.json']);
  assert.equal(r.code, 1);
});

test('a change made by another process is seen by the very next request (the SQLite memo of hot reads and its quick read scopes never answer stale)', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'connhub.db');
  const tokens = seed(db);
  const srv = await startServer({ dbPath: db, env: { INTEGRATION_ENCRYPTION_KEY: KEY1 }, args: ['--threads', '2'] });
  const A = api(srv.url, tokens.alice);
  const role = async () => (await A.get('/api/me')).json.workspace.role;
  for (let i = 0; i < 6; i++) assert.equal(await role(), 'admin'); // every worker has read it
  assert.equal((await A.get('/api/workspace/service-credentials')).status, 200); // admin only

  cli(db, ['member', 'add', 'a', 'alice', '--role', 'member']); // another process, another connection
  for (let i = 0; i < 6; i++) assert.equal(await role(), 'member', `request ${i} after the CLI demoted alice`);
  const refused = await A.get('/api/workspace/service-credentials');
  assert.equal(refused.status, 403, refused.text);
  cli(db, ['member', 'add', 'a', 'alice', '--role', 'admin']);
  for (let i = 0; i < 6; i++) assert.equal(await role(), 'admin', `request ${i} after the CLI promoted alice again`);

  const metrics = (await fetch(`${srv.url}/metrics`).then((r) => r.text()));
  const hits = Number(/connhub_store_memo_hits_total (\d+)/.exec(metrics)?.[1]);
  const quick = Number(/connhub_store_quick_read_scopes_total (\d+)/.exec(metrics)?.[1]);
  if (ON_PG) assert.equal(hits + quick, 0, 'PostgreSQL reads every time');
  else {
    assert.ok(hits > 0, `the memo answered some reads (hits ${hits})`);
    // the requests above ran without a read transaction while nothing changed, and still saw each change
    assert.ok(quick > 0, `some read scopes were quick (${quick})`);
  }
  await srv.stop();
});

test('DUR-008: a create retried with the same Idempotency-Key makes exactly one connection', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'connhub.db');
  const tokens = seed(db);
  const srv = await startServer({ dbPath: db, env: { INTEGRATION_ENCRYPTION_KEY: KEY1 }, args: ['--threads', '2'] });
  const A = api(srv.url, tokens.alice);
  const Bob = api(srv.url, tokens.bob);
  const body = { name: 'Once', base_url: 'https://once.example.com', auth: { type: 'bearer', token: 'tok-once' } };
  const withKey = (k) => ({ headers: { 'idempotency-key': k } });
  const count = async (name) => (await A.get('/api/connections')).json.connections.filter((c) => c.name === name).length;

  const first = await A.post('/api/connections', body, withKey('key-1'));
  assert.equal(first.status, 201, first.text);
  assert.equal(first.headers['idempotent-replayed'], undefined);
  // the retry (keys reordered: the same request) gets the same connection, marked as a replay
  const again = await A.post('/api/connections', { auth: body.auth, base_url: body.base_url, name: body.name }, withKey('key-1'));
  assert.equal(again.status, 201, again.text);
  assert.equal(again.json.id, first.json.id);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.equal(again.text.includes('tok-once'), false, 'no credential in a replay either');
  assert.equal(await count('Once'), 1);
  // without a key the same body is a new request: the slug is taken
  assert.equal((await A.post('/api/connections', body)).status, 409);

  // the key with another body: refused, naming the header; nothing made
  const other = await A.post('/api/connections', { ...body, name: 'Twice' }, withKey('key-1'));
  assert.equal(other.status, 422, other.text);
  assert.equal(other.json.error.code, 'idempotency_key_reused');
  assert.equal(other.json.error.field, 'Idempotency-Key');
  assert.equal(await count('Twice'), 0);

  // MAX_IDEMPOTENCY_KEY_LEN (255) characters, visible ASCII: 255 taken, 256 and a space refused
  const k255 = 'k'.repeat(255);
  const ok255 = await A.post('/api/connections', { ...body, name: 'Long Key' }, withKey(k255));
  assert.equal(ok255.status, 201, ok255.text);
  for (const bad of ['k'.repeat(256), 'has space']) {
    const r = await A.post('/api/connections', { ...body, name: 'Bad Key' }, withKey(bad));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.field, 'Idempotency-Key');
  }
  assert.equal(await count('Bad Key'), 0);

  // eight tries at once with one new key: one connection, every answer names it
  const tries = await Promise.all(Array.from({ length: 8 }, () => A.post('/api/connections', { ...body, name: 'Racy' }, withKey('key-race'))));
  for (const t of tries) assert.equal(t.status, 201, t.text);
  assert.equal(new Set(tries.map((t) => t.json.id)).size, 1);
  assert.equal(await count('Racy'), 1);

  // another user's key of the same name is another key
  const bobs = await Bob.post('/api/connections', { ...body, name: 'Bobs' }, withKey('key-1'));
  assert.equal(bobs.status, 201, bobs.text);
  assert.notEqual(bobs.json.id, first.json.id);

  // the connection deleted, a late retry does not bring it back
  assert.equal((await A.del(`/api/connections/${first.json.id}`)).status, 200);
  const late = await A.post('/api/connections', body, withKey('key-1'));
  assert.equal(late.status, 409, late.text);
  assert.equal(late.json.error.code, 'idempotency_key_used');
  assert.equal(await count('Once'), 0);
  await srv.stop();
});

test('a second server on a port a connhub already listens on refuses to start, naming --listen (SO_REUSEPORT would have split the requests between them)', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'connhub.db');
  seed(db);
  const srv = await startServer({ dbPath: db, env: { INTEGRATION_ENCRYPTION_KEY: KEY1 }, args: ['--threads', '2'] });
  const second = runCli(['serve', '--listen', `127.0.0.1:${srv.port}`, '--db', `sqlite:${path.join(dir, 'other.db')}`],
    { env: { INTEGRATION_ENCRYPTION_KEY: KEY1 }, timeout: 20000 });
  assert.notEqual(second.code, 0, 'the second server must not run');
  assert.equal(second.signal ?? null, null, `it exits by itself: ${second.stderr}`);
  assert.match(second.stderr, /"event":"server\.bind_failed"/);
  assert.match(second.stderr, /"listen":"127\.0\.0\.1:\d+".*address is in use/);
  assert.equal((await fetch(`${srv.url}/healthz`)).status, 200, 'the first one still serves');
  await srv.stop();
  // once it stopped, the port is free again at once
  const again = await startServer({ dbPath: db, env: { INTEGRATION_ENCRYPTION_KEY: KEY1 }, port: srv.port });
  assert.equal((await fetch(`${again.url}/healthz`)).status, 200);
  await again.stop();
});
