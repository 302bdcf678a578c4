// OpenAPI calls validated by an independent mock generated from the same spec: Stoplight Prism
// (npm @stoplight/prism-cli, installed by `npm ci`) checks every request connhub sends against
// the spec (path, query, headers, body, security), so a misplaced parameter or a missing
// credential fails the test. Issue 4.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { api, cleanup, freePort, runCli, startServer, tempDir } from './lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PRISM = path.join(here, 'node_modules', '.bin', 'prism');
const CORPUS = process.env.CONNHUB_OPENAPI_CORPUS || fileURLToPath(new URL('../.corpus/openapi', import.meta.url));
const SPEC = path.join(CORPUS, 'petstore.oas30.json');
let srv, A, prism, prismUrl;

async function startPrism() {
  const port = await freePort('127.0.0.2');
  const proc = spawn(PRISM, ['mock', '-h', '127.0.0.2', '-p', String(port), SPEC], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`prism exited: ${out}`);
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.2', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) return { proc, url: `http://127.0.0.2:${port}` };
    await new Promise((r) => setTimeout(r, 200));
  }
  proc.kill('SIGKILL');
  throw new Error(`prism did not start: ${out}`);
}

before(async () => {
  assert.ok(fs.existsSync(PRISM), 'prism is installed by tools/install-deps (npm ci)');
  const db = path.join(tempDir(), 'c.db');
  for (const args of [['user', 'add', 'u'], ['workspace', 'add', 'w'], ['member', 'add', 'w', 'u', '--role', 'admin']]) {
    assert.equal(runCli([...args, '--db', `sqlite:${db}`]).code, 0);
  }
  const token = runCli(['token', 'create', '--user', 'u', '--workspace', 'w', '--db', `sqlite:${db}`]).stdout.trim();
  ({ proc: prism, url: prismUrl } = await startPrism());
  srv = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32' });
  A = api(srv.url, token);
});

after(async () => {
  await srv?.stop();
  if (prism && prism.exitCode === null) {
    prism.kill('SIGTERM');
    await new Promise((r) => prism.once('exit', r));
  }
  cleanup();
});

test('Prism accepts every request connhub builds from the spec', async () => {
  const spec = fs.readFileSync(SPEC, 'utf8');
  const c = await A.post('/api/connections', { name: 'Prism Pets', slug: 'ppets', service_type: 'openapi', spec, base_url: prismUrl,
    auth: { type: 'api_key_header', name: 'api_key', key: 'any-key-value' } });
  assert.equal(c.status, 201, c.text.slice(0, 300));
  const calls = [
    ['get_pet_by_id', { petId: 1 }],                                        // path param + api_key header
    ['get_inventory', {}],                                                  // api_key header, no params
    ['get_order_by_id', { orderId: 5 }],                                    // path param, no security
    ['login_user', { username: 'ann', password: 'secret' }],                 // query params
    ['place_order', { body: { id: 1, petId: 2, quantity: 3, status: 'placed', complete: false } }], // JSON body
    ['delete_order', { orderId: 3 }],                                       // DELETE
  ];
  for (const [op, input] of calls) {
    const r = await A.post('/api/actions/call', { actionIdentifier: `ppets.${op}`, input });
    assert.equal(r.status, 200, `${op}: ${r.text}`);
    // Prism reports every validation problem in sl-violations (and 401/422 for security and
    // shape); without violations it answers a documented response (deleteOrder documents only
    // 400 and 404, so a valid DELETE gets its first documented answer).
    assert.equal(r.json.headers['sl-violations'], undefined, `${op}: ${r.json.headers['sl-violations']}`);
    assert.ok(![401, 422].includes(r.json.status), `${op}: Prism refused: ${r.json.status} ${JSON.stringify(r.json.body)}`);
    if (op !== 'delete_order') assert.ok(r.json.status >= 200 && r.json.status < 300, `${op}: ${r.json.status}`);
  }
});

test('without the credential Prism answers 401 (the check is real)', async () => {
  const spec = fs.readFileSync(SPEC, 'utf8');
  const c = await A.post('/api/connections', { name: 'No key', slug: 'nokey', service_type: 'openapi', spec, base_url: prismUrl,
    auth: { type: 'none' } });
  assert.equal(c.status, 201, c.text.slice(0, 300));
  const r = await A.post('/api/actions/call', { actionIdentifier: 'nokey.get_pet_by_id', input: { petId: 1 } });
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 401, JSON.stringify(r.json).slice(0, 300));
  // a badly typed input never reaches Prism: the spec's schema is enforced first
  const bad = await A.post('/api/actions/call', { actionIdentifier: 'ppets.get_pet_by_id', input: { petId: 'abc' } });
  assert.equal(bad.status, 400);
  // and a header key sent as a query parameter is refused too
  const q = await A.post('/api/connections', { name: 'Query key', slug: 'qkey', service_type: 'openapi', spec, base_url: prismUrl,
    auth: { type: 'api_key_query', name: 'api_key', key: 'k' } });
  const r2 = await A.post('/api/actions/call', { actionIdentifier: `${q.json.slug}.get_inventory`, input: {} });
  assert.equal(r2.json.status, 401);
});
