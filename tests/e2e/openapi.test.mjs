// OpenAPI import (issue 4) end to end: preview (text and URL through the SSRF guard), save with
// review edits, calls that put each input where the spec says, re-import keeping names, and
// hostile specs refused fast without taking the server down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { makeCanary } from './lib/canary.mjs';
import { api, cleanup, runCli, startServer, tempDir } from './lib/server.mjs';
import { startCanaryListener, startUpstream } from './lib/upstream.mjs';

const CORPUS = process.env.CONNHUB_OPENAPI_CORPUS || fileURLToPath(new URL('../.corpus/openapi', import.meta.url));
let srv, A, up, canaryLo;

before(async () => {
  const db = path.join(tempDir(), 'c.db');
  for (const args of [['user', 'add', 'u'], ['workspace', 'add', 'w'], ['member', 'add', 'w', 'u', '--role', 'admin']]) {
    assert.equal(runCli([...args, '--db', `sqlite:${db}`]).code, 0);
  }
  const token = runCli(['token', 'create', '--user', 'u', '--workspace', 'w', '--db', `sqlite:${db}`]).stdout.trim();
  up = await startUpstream({ host: '127.0.0.2' });
  canaryLo = await startCanaryListener('127.0.0.1');
  srv = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32' });
  A = api(srv.url, token);
});

after(async () => {
  await srv?.stop();
  await up?.close();
  await canaryLo?.close();
  cleanup();
});

const spec = (f) => fs.readFileSync(path.join(CORPUS, f), 'utf8');

test('preview of the Petstore in JSON and YAML, 2.0, 3.0 and 3.1 gives the same 20 operations', async () => {
  const names = [];
  for (const f of ['petstore.swagger20.json', 'petstore.swagger20.yaml', 'petstore.oas30.json', 'petstore.oas30.yaml',
    'petstore.oas31.json', 'petstore.oas31.yaml']) {
    const r = await A.post('/api/openapi/preview', { spec: spec(f) });
    assert.equal(r.status, 200, `${f}: ${r.text.slice(0, 300)}`);
    assert.equal(r.json.base_url, 'http://petstore.swagger.io/v2');
    assert.equal(r.json.operations.length, 20, f);
    assert.ok(r.json.auth_options.some((o) => o.type === 'api_key_header' && o.name === 'api_key'), f);
    names.push(r.json.operations.map((o) => o.name).sort().join(','));
  }
  assert.equal(new Set(names).size, 1, 'same operation names from every format');
});

test('save with review edits, then calls place path, query, header and body inputs', async () => {
  const key = makeCanary('petkey');
  const r = await A.post('/api/connections', {
    name: 'Pets', service_type: 'openapi', spec: spec('petstore.oas30.json'), base_url: up.url,
    auth: { type: 'api_key_header', name: 'api_key', key },
    exclude_operations: ['delete_user'], rename_operations: { get_pet_by_id: 'pet' },
  });
  assert.equal(r.status, 201, r.text.slice(0, 400));
  assert.equal(r.json.operations_count, 19);
  assert.equal(r.json.base_url, up.url);
  const names = r.json.operations.map((o) => o.name);
  assert.ok(names.includes('pet') && !names.includes('get_pet_by_id') && !names.includes('delete_user'));

  up.requests.length = 0;
  let c = await A.post('/api/actions/call', { actionIdentifier: 'pets.pet', input: { petId: 7 } });
  assert.equal(c.json.ok, true, c.text);
  assert.equal(up.requests[0].path, '/pet/7');
  assert.equal(up.requests[0].headers.api_key, key);

  up.requests.length = 0;
  c = await A.post('/api/actions/call', { actionIdentifier: 'pets.find_pets_by_status', input: { status: ['sold', 'pending'] } });
  assert.equal(c.json.ok, true, c.text);
  assert.equal(up.requests[0].path, '/pet/findByStatus');
  assert.deepEqual(up.requests[0].query.status, ['sold', 'pending']);
  c = await A.post('/api/actions/call', { actionIdentifier: 'pets.find_pets_by_status', input: { status: 'sold' } });
  assert.equal(c.status, 400, 'an array parameter given a string is refused by the schema');

  up.requests.length = 0;
  c = await A.post('/api/actions/call', { actionIdentifier: 'pets.place_order', input: { body: { petId: 7, quantity: 2 } } });
  assert.equal(c.json.ok, true, c.text);
  assert.equal(up.requests[0].method, 'POST');
  assert.deepEqual(JSON.parse(up.requests[0].body), { petId: 7, quantity: 2 });

  up.requests.length = 0;
  c = await A.post('/api/actions/call', { actionIdentifier: 'pets.delete_pet', input: { petId: 3, api_key: 'hdr-value' } });
  assert.equal(c.json.ok, true, c.text);
  assert.equal(up.requests[0].method, 'DELETE');
  assert.equal(up.requests[0].path, '/pet/3');

  // inputs that are not parameters, and schema violations, never leave
  up.requests.length = 0;
  c = await A.post('/api/actions/call', { actionIdentifier: 'pets.pet', input: { petId: 1, nope: 2 } });
  assert.equal(c.status, 400, c.text);
  c = await A.post('/api/actions/call', { actionIdentifier: 'pets.pet', input: { petId: 'seven' } });
  assert.equal(c.status, 400, c.text);
  assert.equal(c.json.error.field, 'input.petId');
  assert.equal(up.requests.length, 0);

  // re-import keeps the names of unchanged operations (the rename survives)
  const again = await A.patch(`/api/connections/${r.json.id}`, { spec: spec('petstore.oas31.yaml') });
  assert.equal(again.status, 200, again.text.slice(0, 300));
  assert.ok(again.json.operations.some((o) => o.name === 'pet' && o.path === '/pet/{{petId}}'));
  assert.equal(again.json.base_url, up.url, 'the base URL override is kept');
  assert.deepEqual(again.json.auth.secrets_set, ['key'], 'the key is kept');
});

test('the spec auth is used when none is given; unsupported schemes ask for one', async () => {
  const r = await A.post('/api/connections', { name: 'Petstore default auth', service_type: 'openapi', spec: spec('petstore.oas30.json') });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'unsupported_auth');
  const sec = await A.post('/api/connections', { name: 'Sec', service_type: 'openapi', spec: spec('security-schemes.oas30.json'), base_url: up.url });
  assert.equal(sec.status, 400, 'the default (api key) needs its key');
  assert.equal(sec.json.error.field, 'auth.key');
});

test('preview by URL goes through the SSRF guard (SSRF-161)', async () => {
  up.route('/openapi.yaml', { mode: 'status', status: 200, body: spec('petstore.oas30.yaml'), contentType: 'application/yaml' });
  const ok = await A.post('/api/openapi/preview', { url: `${up.url}/openapi.yaml` });
  assert.equal(ok.status, 200, ok.text.slice(0, 300));
  assert.equal(ok.json.operations.length, 20);
  const hits = canaryLo.hits;
  const bad = await A.post('/api/openapi/preview', { url: `http://127.0.0.1:${canaryLo.port}/spec.json` });
  assert.equal(bad.status, 403, bad.text);
  assert.equal(bad.json.error.code, 'blocked_by_policy');
  assert.equal(canaryLo.hits, hits);
  up.route('/openapi.yaml', null);
});

test('servers[0].url or a server variable naming an internal host: stored, execution blocked (SSRF-164)', async () => {
  const port = canaryLo.port;
  const hits = canaryLo.hits;
  const specs = [
    ['plain', `servers: [{url: 'http://127.0.0.1:${port}/v1'}]`],
    ['variable', `servers: [{url: 'http://{host}/v1', variables: {host: {default: '127.0.0.1:${port}', enum: ['127.0.0.1:${port}']}}}]`],
  ];
  for (const [what, servers] of specs) {
    const text = `openapi: 3.0.3\ninfo: {title: T, version: '1'}\n${servers}\npaths: {/x: {get: {operationId: getX}}}\n`;
    const r = await A.post('/api/connections', { name: `Internal ${what}`, service_type: 'openapi', spec: text });
    assert.equal(r.status, 201, `${what}: ${r.text.slice(0, 300)}`);
    assert.equal(r.json.base_url, `http://127.0.0.1:${port}/v1`, what);
    const c = await A.post('/api/actions/call', { actionIdentifier: `${r.json.slug}.get_x`, input: {} });
    assert.equal(c.status, 403, `${what}: ${c.text}`);
    assert.equal(c.json.error.code, 'blocked_by_policy', what);
  }
  assert.equal(canaryLo.hits, hits, 'the loopback canary was never reached');
});

test('hostile specs: clear 4xx, fast, and the server keeps serving (PARSE-002, 007, 008, 015)', async () => {
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  const cases = [
    ['billion laughs', laughs.join('\n'), 413],
    ['deep JSON', '['.repeat(100000), 413],
    ['self alias', 'x: &a [*a]', 400],
    ['not a spec', '{"hello": "world"}', 422],
    ['invalid UTF-8', '{"openapi":"3.0.0","info":{"title":"\udcff"}}', 400],
  ];
  for (const [what, text, status] of cases) {
    const t0 = Date.now();
    const r = await A.post('/api/openapi/preview', { spec: text });
    assert.ok([400, 413, 422].includes(r.status), `${what}: ${r.status} ${r.text.slice(0, 200)}`);
    if (status !== 400 || what !== 'invalid UTF-8') assert.equal(r.status, status, `${what}: ${r.text.slice(0, 200)}`);
    assert.ok(r.json.error.message.length > 0);
    assert.ok(Date.now() - t0 < 2000, `${what} refused fast`);
  }
  const circ = await A.post('/api/openapi/preview', { spec: spec('circular.oas30.json') });
  assert.equal(circ.status, 200, 'circular schemas import (kept as refs)');
  assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
});
