// Service credentials, built-in tools and Telegram connections (issue 8) against a local upstream
// that records the exact requests: resolution in every combination, each built-in's request,
// permissions, and canary keys absent from every response and log line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

import { makeCanary, scanForCanaries, describeHits } from './lib/canary.mjs';
import { api, cleanup, runCli, startServer, tempDir } from './lib/server.mjs';
import { startUpstream } from './lib/upstream.mjs';

let srv, up, root, alice, bob, other;
const seen = [];
const key = {
  brave_p: makeCanary('bravep'), brave_w: makeCanary('bravew'), openai: makeCanary('openai'),
  anthropic: makeCanary('anthropic'), gemini: makeCanary('gemini'),
};
// bot tokens have a fixed shape: digits ':' 35 characters
const botToken = `123456789:${randomBytes(32).toString('base64url').slice(0, 35)}`;
const connToken = `987654321:${randomBytes(32).toString('base64url').slice(0, 35)}`;

before(async () => {
  const db = path.join(tempDir(), 'c.db');
  const cli = (args) => {
    const r = runCli([...args, '--db', `sqlite:${db}`]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  cli(['user', 'add', 'root', '--platform-admin']);
  cli(['user', 'add', 'alice']);
  cli(['user', 'add', 'bob']);
  cli(['workspace', 'add', 'w']);
  cli(['workspace', 'add', 'v']);
  cli(['member', 'add', 'w', 'root', '--role', 'admin']);
  cli(['member', 'add', 'w', 'alice', '--role', 'admin']);
  cli(['member', 'add', 'w', 'bob', '--role', 'member']);
  cli(['member', 'add', 'v', 'alice', '--role', 'admin']);
  up = await startUpstream({ host: '127.0.0.2' });
  const bases = ['openai', 'anthropic', 'gemini', 'brave', 'telegram'].flatMap((s) => ['--service-base-url', `${s}=${up.url}`]);
  srv = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32', args: bases });
  const mk = (u, ws) => {
    const a = api(srv.url, cli(['token', 'create', '--user', u, '--workspace', ws]));
    const wrap = {};
    for (const m of ['get', 'post', 'put', 'patch', 'del']) wrap[m] = async (...args) => { const r = await a[m](...args); seen.push(r.text); return r; };
    return wrap;
  };
  root = mk('root', 'w');
  alice = mk('alice', 'w');
  bob = mk('bob', 'w');
  other = mk('alice', 'v');
});

after(async () => {
  await srv?.stop();
  await up?.close();
  cleanup();
});

const call = (who, action, input) => who.post('/api/actions/call', { actionIdentifier: action, input });
const effective = async (who, service, path = '/api/workspace/service-credentials') =>
  (await who.get(path)).json.services.find((s) => s.service === service);

test('resolution: none, platform, workspace, both, workspace removed', async () => {
  // no key at all
  let r = await call(alice, 'web_search', { query: 'connhub' });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.message, 'brave is not configured: set a platform key or a workspace key');
  assert.equal(r.json.error.stage, 'credential');
  assert.equal((await effective(alice, 'brave')).effective, 'none');

  // platform only
  assert.equal((await root.put('/api/admin/service-credentials/brave', { key: key.brave_p })).status, 200);
  up.requests.length = 0;
  r = await call(alice, 'web_search', { query: 'connhub' });
  assert.equal(r.json.ok, true, r.text);
  assert.equal(up.requests[0].path, '/res/v1/web/search');
  assert.equal(up.requests[0].query.q, 'connhub');
  assert.equal(up.requests[0].headers['x-subscription-token'], key.brave_p);
  assert.equal((await effective(alice, 'brave')).effective, 'platform');

  // workspace and platform: the workspace key wins, only in its workspace
  assert.equal((await alice.put('/api/workspace/service-credentials/brave', { key: key.brave_w })).status, 200);
  up.requests.length = 0;
  await call(alice, 'news_search', { query: 'x' });
  assert.equal(up.requests[0].path, '/res/v1/news/search');
  assert.equal(up.requests[0].headers['x-subscription-token'], key.brave_w);
  const st = await effective(alice, 'brave');
  assert.deepEqual([st.platform_key_set, st.workspace_key_set, st.effective], [true, true, 'workspace']);
  up.requests.length = 0;
  await call(other, 'web_search', { query: 'y' });
  assert.equal(up.requests[0].headers['x-subscription-token'], key.brave_p, 'workspace v uses the platform key');

  // a blank key keeps the stored one
  assert.equal((await alice.put('/api/workspace/service-credentials/brave', { key: '' })).status, 200);
  up.requests.length = 0;
  await call(alice, 'web_search', { query: 'z' });
  assert.equal(up.requests[0].headers['x-subscription-token'], key.brave_w);

  // workspace key removed: back to the platform key
  assert.equal((await alice.del('/api/workspace/service-credentials/brave')).status, 200);
  up.requests.length = 0;
  await call(alice, 'web_search', { query: 'z' });
  assert.equal(up.requests[0].headers['x-subscription-token'], key.brave_p);
  assert.equal((await alice.del('/api/workspace/service-credentials/brave')).status, 404);
});

test('telegram is not tenant-overridable; only admins set keys', async () => {
  let r = await alice.put('/api/workspace/service-credentials/telegram', { key: botToken });
  assert.equal(r.status, 403, r.text);
  r = await bob.put('/api/workspace/service-credentials/openai', { key: 'x' });
  assert.equal(r.status, 403, 'members cannot set workspace keys');
  r = await alice.put('/api/admin/service-credentials/openai', { key: 'x' });
  assert.equal(r.status, 403, 'workspace admins cannot set platform keys');
  assert.equal((await alice.get('/api/admin/service-credentials')).status, 403);
  r = await alice.put('/api/workspace/service-credentials/nosuch', { key: 'x' });
  assert.equal(r.status, 404);
  const list = await root.get('/api/admin/service-credentials');
  assert.equal(list.status, 200);
  assert.equal(list.json.services.find((s) => s.service === 'telegram').overridable, false);
  assert.ok(!JSON.stringify(list.json).includes(key.brave_p), 'keys are write-only');
});

test('each built-in sends its provider the exact request', async () => {
  await root.put('/api/admin/service-credentials/openai', { key: key.openai });
  await root.put('/api/admin/service-credentials/anthropic', { key: key.anthropic });
  await root.put('/api/admin/service-credentials/gemini', { key: key.gemini });
  await root.put('/api/admin/service-credentials/telegram', { key: botToken });
  const cases = [
    ['openai.chat', { model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }] }, (q) => {
      assert.equal(q.method, 'POST');
      assert.equal(q.path, '/v1/chat/completions');
      assert.equal(q.headers.authorization, `Bearer ${key.openai}`);
      assert.equal(JSON.parse(q.body).model, 'gpt-x');
    }],
    ['anthropic.messages', { model: 'claude-x', messages: [{ role: 'user', content: 'hi' }] }, (q) => {
      assert.equal(q.path, '/v1/messages');
      assert.equal(q.headers['x-api-key'], key.anthropic);
      assert.equal(q.headers['anthropic-version'], '2023-06-01');
    }],
    ['gemini.generate', { model: 'gemini-x', prompt: 'hi' }, (q) => {
      assert.equal(q.path, '/v1beta/models/gemini-x:generateContent');
      assert.equal(q.headers['x-goog-api-key'], key.gemini);
      assert.ok(!q.url.includes(key.gemini), 'the key is never in the URL');
    }],
    ['gemini.embed', { model: 'emb-x', text: 'hi' }, (q) => {
      assert.equal(q.path, '/v1beta/models/emb-x:embedContent');
    }],
    ['telegram.send_message', { chat_id: 42, text: 'hello' }, (q) => {
      assert.equal(q.path, `/bot${botToken}/sendMessage`);
      assert.equal(JSON.parse(q.body).text, 'hello');
    }],
  ];
  for (const [tool, input, check] of cases) {
    up.requests.length = 0;
    const r = await call(alice, tool, input);
    assert.equal(r.status, 200, `${tool}: ${r.text}`);
    assert.equal(up.requests.length, 1, tool);
    check(up.requests[0]);
  }
  const tools = await alice.get('/api/tools');
  assert.equal(tools.json.tools[0].source, 'builtin', 'built-ins are listed first');
  const bad = await call(alice, 'openai.chat', { messages: 'not a list' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.stage, 'input');
});

test('telegram connections: the token goes in the path and nowhere else', async () => {
  const c = await alice.post('/api/connections', { name: 'Bot', service_type: 'telegram', auth: { type: 'bearer', token: connToken } });
  assert.equal(c.status, 201, c.text);
  assert.deepEqual(c.json.operations.map((o) => o.name).sort(), ['get_updates', 'send_message', 'send_photo']);
  up.requests.length = 0;
  let r = await call(alice, 'bot.send_message', { chat_id: 7, text: 'hi' });
  assert.equal(r.status, 200, r.text);
  assert.equal(up.requests[0].path, `/bot${connToken}/sendMessage`);
  r = await call(alice, 'bot.get_updates', { limit: 5 });
  assert.equal(r.status, 200, r.text);
  assert.match(up.requests[1].path, /\/getUpdates$/);
  const badTok = await alice.post('/api/connections', { name: 'Bad bot', service_type: 'telegram', auth: { type: 'bearer', token: 'not-a-token' } });
  assert.equal(badTok.status, 400);
  assert.equal(badTok.json.error.field, 'auth.token');
  assert.ok(!badTok.text.includes('not-a-token'));
});

test('TEN-005: a service-typed (telegram) connection and generic header/query/bearer ones get the same permission answers', async () => {
  const bodies = {
    telegram: { name: 'Perm Bot', service_type: 'telegram', auth: { type: 'bearer', token: connToken } },
    header: { name: 'Perm Header', base_url: up.url, auth: { type: 'api_key_header', name: 'X-K', key: 'k1' }, operations: [{ name: 'send_message', method: 'POST', path: '/h' }] },
    query: { name: 'Perm Query', base_url: up.url, auth: { type: 'api_key_query', name: 'k', key: 'k2' }, operations: [{ name: 'send_message', method: 'POST', path: '/q' }] },
    bearer: { name: 'Perm Bearer', base_url: up.url, auth: { type: 'bearer', token: 'k3' }, operations: [{ name: 'send_message', method: 'POST', path: '/b' }] },
  };
  const missing = await other.get('/api/connections/conn_00000000000000000000000000');
  const answers = {};
  for (const [kind, body] of Object.entries(bodies)) {
    const c = await alice.post('/api/connections', body);
    assert.equal(c.status, 201, c.text);
    const id = c.json.id;
    const cells = [];
    const cell = async (who, label, r) => cells.push(`${who} ${label} ${r.status} ${r.json?.error?.code ?? r.json?.ok ?? ''}`);
    // another workspace (the same user's token for v): like a missing id, on every verb and on call
    for (const [label, go] of [['get', () => other.get(`/api/connections/${id}`)], ['patch', () => other.patch(`/api/connections/${id}`, { name: 'x' })],
      ['delete', () => other.del(`/api/connections/${id}`)]]) {
      const r = await go();
      assert.deepEqual([r.status, r.json], [missing.status, missing.json], `${kind} ${label} from another workspace`);
      await cell('other', label, r);
    }
    await cell('other', 'call', await call(other, `${c.json.slug}.send_message`, { chat_id: 1, text: 'x' }));
    // a member of the workspace: reads, may not change an admin's connection
    await cell('member', 'get', await bob.get(`/api/connections/${id}`));
    await cell('member', 'patch', await bob.patch(`/api/connections/${id}`, { name: 'x' }));
    await cell('member', 'delete', await bob.del(`/api/connections/${id}`));
    await cell('admin', 'delete', await alice.del(`/api/connections/${id}`));
    answers[kind] = cells;
  }
  // the policy of TEN-001 (other workspace: not found; member: read only; admin: all)
  assert.deepEqual(answers.telegram, ['other get 404 connection_not_found', 'other patch 404 connection_not_found',
    'other delete 404 connection_not_found', 'other call 404 unknown_tool', 'member get 200 ', 'member patch 403 not_owner',
    'member delete 403 not_owner', 'admin delete 200 ']);
  for (const kind of ['header', 'query', 'bearer']) assert.deepEqual(answers.telegram, answers[kind], `telegram vs ${kind}`);
});

test('no key appears in any response or log line', async () => {
  const canaries = [...Object.values(key), botToken, connToken];
  const hits = scanForCanaries(seen.join('\n') + srv.output(), canaries);
  assert.equal(hits.length, 0, describeHits(hits));
});
