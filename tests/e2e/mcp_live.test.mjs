// MCP connections whose server changes under them (issue 5), against a real TypeScript-SDK
// server (lib/mcp_sdk_server.mjs): notifications/tools/list_changed marks the stored tool list
// stale (connection view) until refresh-tools; progress notifications come back with the
// result; a response stream the server closes before the answer is resumed with
// GET + Last-Event-ID. Plus structured content over legacy SSE from server-everything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { startEverything, startSdkPeer } from './lib/mcp_peer.mjs';
import { api, cleanup, runCli, startServer, tempDir } from './lib/server.mjs';

let srv, A, peer, sse, conn;

before(async () => {
  const db = path.join(tempDir(), 'c.db');
  for (const args of [['user', 'add', 'u'], ['workspace', 'add', 'w'], ['member', 'add', 'w', 'u', '--role', 'admin']]) {
    assert.equal(runCli([...args, '--db', `sqlite:${db}`]).code, 0);
  }
  const tok = runCli(['token', 'create', '--user', 'u', '--workspace', 'w', '--db', `sqlite:${db}`]).stdout.trim();
  peer = await startSdkPeer();
  sse = await startEverything('sse');
  srv = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32' });
  A = api(srv.url, tok);
  const c = await A.post('/api/connections', { name: 'Live', slug: 'live', service_type: 'mcp', base_url: peer.mcpUrl, transport: 'streamable_http' });
  assert.equal(c.status, 201, c.text.slice(0, 300));
  conn = c.json;
});

after(async () => {
  await srv?.stop();
  await peer?.stop();
  await sse?.stop();
  cleanup();
});

const call = (tool, input = {}) => A.post('/api/actions/call', { actionIdentifier: `live.${tool}`, input });

test('tools/list_changed marks the tool list stale; refresh-tools lists again and clears it', async () => {
  let v = await A.get(`/api/connections/${conn.id}`);
  assert.equal(v.json.tools_stale, false);
  let r = await call('echo', { message: 'before' });
  assert.equal(r.json.ok, true, r.text);
  assert.equal(r.json.tools_stale, undefined);

  r = await call('add_tool', { name: 'fresh-tool' });
  assert.equal(r.json.ok, true, r.text);
  assert.equal(r.json.tools_stale, true, r.text);
  v = await A.get(`/api/connections/${conn.id}`);
  assert.equal(v.json.tools_stale, true, v.text.slice(0, 300));
  assert.match(v.json.tools_stale_since, /^\d{4}-\d\d-\d\dT/);
  assert.ok(!v.json.operations.some((o) => o.mcp_tool === 'fresh-tool'), 'not listed before a refresh');
  // a second change keeps the first mark (idempotent), other fields survive a PATCH
  r = await call('add_tool', { name: 'second-tool' });
  assert.equal(r.json.tools_stale, true);
  const p = await A.patch(`/api/connections/${conn.id}`, { description: 'still stale' });
  assert.equal(p.status, 200, p.text.slice(0, 300));
  assert.equal(p.json.tools_stale, true);
  assert.equal(p.json.tools_stale_since, v.json.tools_stale_since);

  const f = await A.post(`/api/connections/${conn.id}/refresh-tools`, {});
  assert.equal(f.status, 200, f.text.slice(0, 300));
  assert.equal(f.json.tools_stale, false);
  assert.equal(f.json.tools_stale_since, undefined);
  assert.ok(f.json.operations.some((o) => o.mcp_tool === 'fresh-tool'));
  assert.equal(f.json.description, 'still stale');
  r = await call('fresh_tool');
  assert.equal(r.json.ok, true, r.text);
  assert.match(JSON.stringify(r.json.content), /I am fresh-tool/);
  v = await A.get(`/api/connections/${conn.id}`);
  assert.equal(v.json.tools_stale, false);
});

test('progress notifications for the call come back with its result', async () => {
  const r = await call('progress', { steps: 4 });
  assert.equal(r.json.ok, true, r.text);
  assert.match(JSON.stringify(r.json.content), /done in 4 steps/);
  assert.equal(r.json.progress.notifications, 4, r.text);
  assert.deepEqual(r.json.progress.last, { progress: 4, total: 4, message: 'step 4' });
});

test('a response stream closed before the answer is resumed with GET + Last-Event-ID', async () => {
  const before = await peer.stats();
  const r = await call('drop_stream');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ok, true, r.text);
  assert.match(JSON.stringify(r.json.content), /answered after the drop/);
  const after = await peer.stats();
  assert.equal(after.dropped - before.dropped, 1);
  assert.equal(after.resumes - before.resumes, 1, JSON.stringify(after));
  assert.ok(after.lastEventIds.at(-1), 'the GET named the last event it saw');
  assert.equal(after.calls - before.calls, 1, 'resumed, not sent again');
  // progress sent before and after the drop both arrived
  assert.equal(r.json.progress.notifications, 2, r.text);
});

test('structured content over the legacy SSE transport too', async () => {
  const c = await A.post('/api/connections', { name: 'Legacy', slug: 'legacy', service_type: 'mcp', base_url: sse.sseUrl, transport: 'sse' });
  assert.equal(c.status, 201, c.text.slice(0, 300));
  const op = c.json.operations?.find((o) => o.output_schema) ??
    (await A.get(`/api/connections/${c.json.id}`)).json.operations.find((o) => o.output_schema);
  assert.ok(op, 'server-everything has a tool with an output schema');
  const input = {};
  for (const [k, s] of Object.entries(op.input_schema?.properties || {})) input[k] = s.type === 'number' ? 1 : s.enum ? s.enum[0] : 'New York';
  const r = await A.post('/api/actions/call', { actionIdentifier: `legacy.${op.name}`, input });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.structuredContent && typeof r.json.structuredContent === 'object', r.text);
});
