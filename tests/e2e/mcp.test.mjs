// MCP connections (issue 5) end to end: a real server (@modelcontextprotocol/server-everything)
// in both transports, discovered, saved and called through connhub's API; a bearer-protected
// front proving a wrong token gives a clear auth error; SSRF on MCP URLs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { makeCanary, scanFiles, scanForCanaries, describeHits } from './lib/canary.mjs';
import { startBearerFront, startEverything } from './lib/mcp_peer.mjs';
import { api, cleanup, pgDump, runCli, startServer, tempDir } from './lib/server.mjs';
import { startCanaryListener } from './lib/upstream.mjs';

let srv, A, http, sse, guarded, front, canaryLo, db;
const token = makeCanary('mcptoken');
const seen = [];

before(async () => {
  db = path.join(tempDir(), 'c.db');
  for (const args of [['user', 'add', 'u'], ['workspace', 'add', 'w'], ['member', 'add', 'w', 'u', '--role', 'admin']]) {
    assert.equal(runCli([...args, '--db', `sqlite:${db}`]).code, 0);
  }
  const tok = runCli(['token', 'create', '--user', 'u', '--workspace', 'w', '--db', `sqlite:${db}`]).stdout.trim();
  http = await startEverything('streamableHttp');
  sse = await startEverything('sse');
  guarded = await startEverything('streamableHttp');
  front = await startBearerFront(guarded.url, token);
  canaryLo = await startCanaryListener('127.0.0.1');
  srv = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32' });
  A = api(srv.url, tok);
});

after(async () => {
  await srv?.stop();
  await front?.close();
  await http?.stop();
  await guarded?.stop();
  await sse?.stop();
  await canaryLo?.close();
  cleanup();
});

async function post(p, body) {
  const r = await A.post(p, body);
  seen.push(r.text);
  return r;
}

for (const [transport, peer, urlOf] of [['streamable_http', () => http, (p) => p.mcpUrl], ['sse', () => sse, (p) => p.sseUrl]]) {
  test(`discover, save and call over ${transport}`, async () => {
    const url = urlOf(peer());
    const d = await post('/api/mcp/discover', { url, transport: 'auto' });
    assert.equal(d.status, 200, d.text.slice(0, 300));
    assert.equal(d.json.transport, transport);
    assert.ok(d.json.protocol_version);
    const names = d.json.tools.map((t) => t.name);
    for (const n of ['echo', 'get-sum', 'get-tiny-image']) assert.ok(names.includes(n), `${n} in ${names}`);
    assert.equal(d.json.tools.find((t) => t.name === 'get-sum').tool_name, 'get_sum');

    const slug = `ev_${transport}`;
    const c = await post('/api/connections', { name: `Everything ${transport}`, slug, service_type: 'mcp', base_url: url, transport });
    assert.equal(c.status, 201, c.text.slice(0, 300));
    assert.ok(c.json.operations_count >= 3);
    assert.equal(c.json.discovery.tool_names['get-sum'], 'get_sum');

    let r = await post('/api/actions/call', { actionIdentifier: `${slug}.echo`, input: { message: 'hello mcp' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.ok, true);
    assert.match(JSON.stringify(r.json.content), /hello mcp/);
    r = await post('/api/actions/call', { actionIdentifier: `${slug}.get_sum`, input: { a: 40, b: 2 } });
    assert.equal(r.json.ok, true, r.text);
    assert.match(JSON.stringify(r.json.content), /42/);
    r = await post('/api/actions/call', { actionIdentifier: `${slug}.get_tiny_image`, input: {} });
    assert.equal(r.json.ok, true, r.text);
    assert.ok(r.json.content.some((x) => x.type === 'image' && x.data && x.mimeType), 'image content kept');
    // input validated against the tool's inputSchema before anything is sent
    r = await post('/api/actions/call', { actionIdentifier: `${slug}.get_sum`, input: { a: 'forty' } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.stage, 'input');
    // tools are in the registry
    const tools = await A.get('/api/tools');
    assert.ok(tools.json.tools.some((t) => t.name === `${slug}.get_sum`));
  });
}

test('structured content comes back as the server sent it', async () => {
  const d = await post('/api/mcp/discover', { url: http.mcpUrl });
  const st = d.json.tools.find((t) => t.output_schema);
  assert.ok(st, 'server-everything has a tool with an output schema');
  const r = await post('/api/connections/' + (await post('/api/connections', { name: 'St', slug: 'st', service_type: 'mcp', base_url: http.mcpUrl })).json.id + '/refresh-tools', {});
  assert.equal(r.status, 200, r.text.slice(0, 300));
  const op = r.json.operations.find((o) => o.mcp_tool === st.name);
  const input = {};
  for (const [k, s] of Object.entries(op.input_schema?.properties || {})) input[k] = s.type === 'number' ? 1 : s.enum ? s.enum[0] : 'New York';
  const call = await post('/api/actions/call', { actionIdentifier: `st.${op.name}`, input });
  assert.equal(call.status, 200, call.text);
  assert.ok(call.json.structuredContent, call.text);
});

test('a bearer-protected MCP server: the right token works, a wrong one is a clear auth error', async () => {
  const good = await post('/api/connections', { name: 'Guarded', slug: 'guarded', service_type: 'mcp', base_url: `${front.url}/mcp`,
    transport: 'streamable_http', auth: { type: 'bearer', token } });
  assert.equal(good.status, 201, good.text.slice(0, 300));
  const r = await post('/api/actions/call', { actionIdentifier: 'guarded.echo', input: { message: 'with token' } });
  assert.equal(r.json.ok, true, r.text);
  const bad = await post('/api/connections', { name: 'Bad', slug: 'bad', service_type: 'mcp', base_url: `${front.url}/mcp`,
    transport: 'streamable_http', auth: { type: 'bearer', token: 'wrong-token' } });
  assert.equal(bad.status, 502, bad.text);
  assert.equal(bad.json.error.code, 'mcp_unauthorized');
  assert.ok(front.refused >= 1);
  const hits = scanForCanaries(seen.join('\n') + srv.output(), [token]);
  assert.equal(hits.length, 0, describeHits(hits));
});

test('LEAK-011: an MCP server echoing the bearer token in its errors: not in the answer, a log line or the database', async () => {
  const c = await post('/api/connections', { name: 'Echoing', slug: 'leak011', service_type: 'mcp', base_url: `${front.url}/mcp`,
    transport: 'streamable_http', auth: { type: 'bearer', token } });
  assert.equal(c.status, 201, c.text.slice(0, 300));
  for (const status of [401, 500]) {
    front.fail = { status, count: 10 };
    const r = await post('/api/actions/call', { actionIdentifier: 'leak011.echo', input: { message: 'refused' } });
    front.fail = null;
    assert.notEqual(r.json?.ok, true, r.text);
  }
  const r = await post('/api/actions/call', { actionIdentifier: 'leak011.echo', input: { message: 'works again' } });
  assert.equal(r.json.ok, true, r.text);
  const stored = srv.dbUrl.startsWith('sqlite:')
    ? scanFiles([db, `${db}-wal`].filter((f) => fs.existsSync(f)), [token])
    : scanForCanaries(pgDump(srv.dbUrl), [token]);
  const hits = [...scanForCanaries(seen.join('\n') + srv.output(), [token]), ...stored];
  assert.equal(hits.length, 0, describeHits(hits));
});

test('SSRF-165: an MCP URL on a refused address is blocked, nothing connects', async () => {
  const before = canaryLo.hits;
  const r = await post('/api/mcp/discover', { url: `http://127.0.0.1:${canaryLo.port}/mcp` });
  assert.equal(r.status, 403, r.text);
  assert.equal(canaryLo.hits, before);
  const bad = await post('/api/connections', { name: 'Bad Auth', service_type: 'mcp', base_url: http.mcpUrl, auth: { type: 'basic', username: 'a', password: 'b' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.field, 'auth.type');
});
