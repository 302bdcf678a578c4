// Fulfillment, personal accounts, participants, workflow runs and agent tools (issue 7), against a
// real loopback upstream that records every request: which credential each node sends, per run
// and per user; a template chain from one node's answer into the next node's path; per-run
// credentials that are nowhere after the run (responses, logs, the database file); isolation
// (TEN-006 personal accounts, participants, TEN-001/TEN-003 other workspaces); workflows refused
// before any request leaves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { describeHits, makeCanary, scanFiles, scanForCanaries } from './lib/canary.mjs';
import { api, cleanup, runCli, startServer, tempDir } from './lib/server.mjs';
import { startUpstream } from './lib/upstream.mjs';

const MAX_RUN_INPUT_BYTES = 64 * 1024;
const MAX_RUN_NODES = 64;

let srv, up, db, dir;
let A, B, C; // alice (w admin), bob (w member), carol (w2 admin)
let ta, tb, tc;
const responses = [];
const canary = {
  static: makeCanary('static'),
  alice: makeCanary('alice'),
  bob: makeCanary('bob'),
  p1: makeCanary('p1'),
  p2: makeCanary('p2'),
  run: makeCanary('perrun'),
  agent: makeCanary('agentrun'),
};

function cli(args) {
  const r = runCli([...args, '--db', `sqlite:${db}`]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

function keep(r) {
  responses.push(JSON.stringify(r.headers) + '\n' + r.text);
  return r;
}

const ops = {
  get: [{ name: 'get', method: 'GET', path: '/static/{{id}}' }],
  caller: [{ name: 'get', method: 'GET', path: '/caller/{{thing}}' }],
  part: [{ name: 'post', method: 'POST', path: '/participant/{{path}}' }],
};

const workflow = {
  nodes: [
    { id: 'n1', type: 'tool', tool_name: 'st.get', input: { id: '{{input.item}}', q: 'v-{{input.item}}' } },
    // the chain: node 1's answer (the echo of its query) becomes node 2's path
    { id: 'n2', type: 'tool', tool_name: 'me.get', input: { thing: '{{steps.n1.output.body.query.q}}' } },
    { id: 'n3', type: 'tool', tool_name: 'cust.post', depends_on: ['n2'],
      input: { path: '{{steps.n2.output.status}}', n: '{{input.n}}', note: 'from {{steps.n1.output.body.path}}' } },
  ],
};

async function run(client, body) {
  return keep(await client.post('/api/runs', body));
}

// polls GET /api/runs/{id} until a background run (wait: false) has left 'running'
async function finished(client, id) {
  let g;
  for (let i = 0; i < 200; i++) {
    g = keep(await client.get(`/api/runs/${id}`));
    if (g.json.status !== 'running') return g;
    await new Promise((res) => setTimeout(res, 50));
  }
  return g;
}

before(async () => {
  dir = tempDir();
  db = path.join(dir, 'c.db');
  cli(['user', 'add', 'alice']);
  cli(['user', 'add', 'bob']);
  cli(['user', 'add', 'carol']);
  cli(['workspace', 'add', 'w']);
  cli(['workspace', 'add', 'w2']);
  cli(['member', 'add', 'w', 'alice', '--role', 'admin']);
  cli(['member', 'add', 'w', 'bob', '--role', 'member']);
  cli(['member', 'add', 'w2', 'carol', '--role', 'admin']);
  const tok = (u, w) => cli(['token', 'create', '--user', u, '--workspace', w]);
  ta = tok('alice', 'w');
  tb = tok('bob', 'w');
  tc = tok('carol', 'w2');
  up = await startUpstream({ host: '127.0.0.2' });
  srv = await startServer({ dbPath: db, allowPrivate: ['127.0.0.2/32'], args: ['--log-level', 'debug'] });
  A = api(srv.url, ta);
  B = api(srv.url, tb);
  C = api(srv.url, tc);
  const mk = async (body) => {
    const r = keep(await A.post('/api/connections', body));
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  await mk({ name: 'st', base_url: up.url, auth: { type: 'bearer', token: canary.static }, operations: ops.get });
  await mk({ name: 'me', base_url: up.url, fulfillment: 'caller', auth: { type: 'bearer' }, operations: ops.caller });
  await mk({ name: 'me2', base_url: up.url, fulfillment: 'caller', auth: { type: 'bearer' }, operations: ops.caller });
  await mk({
    name: 'cust', base_url: up.url, fulfillment: 'participant', participant_role: 'customer',
    auth: { type: 'api_key_header', name: 'X-Api-Key' }, operations: ops.part,
  });
  // personal accounts: each user enters their own token once
  for (const [client, value] of [[A, canary.alice], [B, canary.bob]]) {
    const r = keep(await client.put('/api/me/accounts/me', { credentials: { token: value } }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.fields_set, ['token']);
  }
  const r2 = keep(await A.put('/api/me/accounts/me2', { credentials: { token: canary.alice } }));
  assert.equal(r2.status, 200, r2.text);
  // participants provide theirs
  for (const [pid, value] of [['p-1', canary.p1], ['p-2', canary.p2]]) {
    const r = keep(await A.post(`/api/participants/${pid}/credentials`, { connection: 'cust', credentials: { key: value } }));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.role, 'customer');
  }
});

after(async () => {
  const code = await srv?.stop();
  assert.doesNotMatch(srv?.output() ?? '', /Sanitizer|runtime error/);
  assert.equal(code, 0);
  await up?.close();
  cleanup();
});

test('fulfillment is validated on create and edit, the field named', async () => {
  const cases = [
    [{ fulfillment: 'participant' }, 'participant_role'],
    [{ fulfillment: 'caller', participant_role: 'customer' }, 'participant_role'],
    [{ fulfillment: 'everyone' }, 'fulfillment'],
    [{ fulfillment: 'participant', participant_role: 'x'.repeat(65) }, 'participant_role'],
  ];
  for (const [extra, field] of cases) {
    const r = keep(await A.post('/api/connections', { name: 'bad', base_url: up.url, ...extra }));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.field, field);
  }
  const ok = keep(await A.post('/api/connections', {
    name: 'role64', base_url: up.url, fulfillment: 'participant', participant_role: 'r'.repeat(64),
  }));
  assert.equal(ok.status, 201, ok.text);
  const p = keep(await A.patch(`/api/connections/${ok.json.id}`, { fulfillment: 'static', participant_role: 'x' }));
  assert.equal(p.status, 400);
  assert.equal(p.json.error.field, 'participant_role');
});

test('one workflow, three fulfillments: each node and each run sends the right credential', async () => {
  up.requests.length = 0;
  const r1 = await run(A, { workflow, input: { item: '42', n: 7 }, participants: [{ id: 'p-1', role: 'customer' }] });
  assert.equal(r1.status, 200, r1.text);
  assert.equal(r1.json.status, 'succeeded', r1.text);
  const seen1 = up.requests.splice(0);
  const r2 = await run(B, { workflow, input: { item: '43', n: 8 }, participants: [{ id: 'p-2', role: 'customer' }] });
  assert.equal(r2.json.status, 'succeeded', r2.text);
  const seen2 = up.requests.splice(0);

  for (const [seen, item, user, part] of [[seen1, '42', canary.alice, canary.p1], [seen2, '43', canary.bob, canary.p2]]) {
    assert.equal(seen.length, 3);
    assert.equal(seen[0].path, `/static/${item}`);
    assert.equal(seen[0].headers.authorization, `Bearer ${canary.static}`);
    // template chain: node 1's echoed query value is node 2's path segment
    assert.equal(seen[1].path, `/caller/v-${item}`);
    assert.equal(seen[1].headers.authorization, `Bearer ${user}`);
    assert.equal(seen[2].path, '/participant/200');
    assert.equal(seen[2].headers['x-api-key'], part);
    assert.equal(seen[2].headers.authorization, undefined);
    const body = JSON.parse(seen[2].body);
    assert.equal(body.n, item === '42' ? 7 : 8, 'a whole-string template keeps the JSON type');
    assert.equal(body.note, `from /static/${item}`);
  }
  // never the other's
  const all1 = JSON.stringify(seen1);
  const all2 = JSON.stringify(seen2);
  assert.ok(!all1.includes(canary.bob) && !all1.includes(canary.p2));
  assert.ok(!all2.includes(canary.alice) && !all2.includes(canary.p1));

  // the state: each node's output is the action-call envelope; echoed secrets redacted
  assert.equal(r1.json.steps.n1.output.ok, true);
  assert.equal(r1.json.steps.n1.output.status, 200);
  assert.equal(r1.json.steps.n2.output.body.path, '/caller/v-42');
  assert.equal(r1.json.steps.n2.output.body.headers.authorization, 'Bearer [REDACTED]');
  assert.deepEqual(r1.json.participants, [{ id: 'p-1', role: 'customer' }]);
  assert.equal(r1.json.triggered_by, 'alice');
  const g = keep(await A.get(`/api/runs/${r1.json.id}`));
  assert.equal(g.status, 200);
  assert.equal(g.json.status, 'succeeded');
  assert.deepEqual(g.json.steps, r1.json.steps);
  assert.deepEqual(scanForCanaries(r1.text + r2.text + g.text, Object.values(canary)), []);
});

test('runs in the background: 202, then GET shows the finished state', async () => {
  const r = await run(A, { workflow, input: { item: '9', n: 1 }, participants: [{ id: 'p-1', role: 'customer' }], wait: false });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.status, 'running');
  const g = await finished(A, r.json.id);
  assert.equal(g.json.status, 'succeeded', g.text);
  assert.equal(g.json.steps.n3.output.status, 200);
});

test('per-run credentials are used for that run only and appear nowhere afterwards', async () => {
  up.requests.length = 0;
  const r = await run(A, {
    workflow, input: { item: '5', n: 5 }, participants: [{ id: 'p-1', role: 'customer' }],
    credentials: { me: { token: canary.run } },
  });
  assert.equal(r.json.status, 'succeeded', r.text);
  assert.equal(up.requests[1].headers.authorization, `Bearer ${canary.run}`, 'the run brought its own token');
  assert.deepEqual(r.json.credentials_for, ['me']);
  // the next run without it goes back to alice's account
  up.requests.length = 0;
  const r2 = await run(A, { workflow, input: { item: '6', n: 6 }, participants: [{ id: 'p-1', role: 'customer' }] });
  assert.equal(r2.json.status, 'succeeded');
  assert.equal(up.requests[1].headers.authorization, `Bearer ${canary.alice}`);
  const g = keep(await A.get(`/api/runs/${r.json.id}`));
  // an agent call with a per-run credential, too
  up.requests.length = 0;
  const ag = keep(await A.post('/api/agents/call', { tool: 'me.get', input: { thing: 'x' }, credentials: { me: { token: canary.agent } } }));
  assert.equal(ag.status, 200, ag.text);
  assert.equal(up.requests[0].headers.authorization, `Bearer ${canary.agent}`);
  // a refused run with credentials: nothing of them in the error either
  const bad = await run(A, { workflow: { nodes: [{ id: 'x', type: 'tool', tool_name: 'nope.op' }] }, credentials: { me: { token: canary.run } } });
  assert.equal(bad.status, 400);

  const secrets = [canary.run, canary.agent];
  assert.deepEqual(scanForCanaries(responses.join('\n'), secrets), [], 'responses');
  assert.deepEqual(scanForCanaries(g.text, secrets), []);
  assert.equal(await srv.stop(), 0, 'clean exit (sanitizers report nothing)');
  assert.doesNotMatch(srv.output(), /Sanitizer|runtime error/);
  assert.deepEqual(scanForCanaries(srv.output(), secrets), [], 'server logs (debug level)');
  const hits = scanFiles([dir], secrets);
  assert.deepEqual(hits, [], `database and files: ${describeHits(hits)}`);
  // and the stored ones are sealed, not in the clear
  assert.deepEqual(scanFiles([dir], [canary.alice, canary.bob, canary.p1, canary.p2, canary.static]), []);
  srv = await startServer({ dbPath: db, allowPrivate: ['127.0.0.2/32'], env: { INTEGRATION_ENCRYPTION_KEY: srv.key } });
  A = api(srv.url, ta);
  B = api(srv.url, tb);
  C = api(srv.url, tc);
});

test('personal accounts: listed without secrets, usable only by their owner (TEN-006)', async () => {
  const l = keep(await A.get('/api/me/accounts'));
  assert.equal(l.status, 200, l.text);
  const slugs = l.json.accounts.map((a) => a.connection).sort();
  assert.deepEqual(slugs, ['me', 'me2']);
  for (const a of l.json.accounts) {
    assert.equal(a.method, 'key');
    assert.deepEqual(a.fields_set, ['token']);
    assert.deepEqual(a.tiers, []);
  }
  const lb = keep(await B.get('/api/me/accounts'));
  assert.deepEqual(lb.json.accounts.map((a) => a.connection), ['me']);
  // bob has no account for me2: his run cannot use alice's
  up.requests.length = 0;
  const r = await run(B, { workflow: { nodes: [{ id: 'a', type: 'tool', tool_name: 'me2.get', input: { thing: 'x' } }] } });
  assert.equal(r.json.status, 'failed');
  assert.equal(r.json.error.node, 'a');
  assert.equal(r.json.error.error.code, 'needs_credential');
  assert.match(r.json.error.error.message, /user bob must add it with PUT \/api\/me\/accounts\/me2/);
  assert.equal(r.json.steps.a.output.ok, false);
  assert.equal(up.requests.length, 0, 'nothing was sent');
  // a run cannot name another triggering user...
  for (const key of ['triggered_by', 'user', 'user_id']) {
    const t = await run(B, { workflow: { nodes: [{ id: 'a', type: 'tool', tool_name: 'me2.get', input: { thing: 'x' } }] }, [key]: 'alice' });
    assert.equal(t.status, 400, t.text);
    assert.equal(t.json.error.code, 'unknown_field');
    assert.equal(t.json.error.field, key);
  }
  // ...nor reach alice's account by naming her (user id 1, the first user added) as a participant
  const asPart = await run(B, {
    workflow: { nodes: [{ id: 'a', type: 'tool', tool_name: 'me2.get', input: { thing: 'x' } }] },
    participants: [{ id: '1', role: 'customer' }, { id: 'alice', role: 'customer' }],
  });
  assert.equal(asPart.json.status, 'failed');
  assert.equal(asPart.json.error.error.code, 'needs_credential');
  // nor through an agent call
  const ag = keep(await B.post('/api/agents/call', { tool: 'me2.get', input: { thing: 'x' }, participants: [{ id: '1', role: 'customer' }] }));
  assert.equal(ag.status, 422, ag.text);
  assert.equal(ag.json.error.code, 'needs_credential');
  assert.equal(up.requests.length, 0, 'nothing was sent');
  // per-run credentials are only for caller connections
  const bad = await run(B, { workflow: { nodes: [{ id: 'a', type: 'tool', tool_name: 'st.get', input: { id: '1' } }] }, credentials: { st: { token: 'x' } } });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.field, 'credentials.st');
  const bad2 = await run(B, { workflow: { nodes: [{ id: 'a', type: 'tool', tool_name: 'me.get', input: { thing: '1' } }] }, credentials: { me: { tokn: 'x' } } });
  assert.equal(bad2.json.error.field, 'credentials.me.tokn');
  // key entry for a non-caller connection is refused
  const w = keep(await A.put('/api/me/accounts/st', { credentials: { token: 'x' } }));
  assert.equal(w.status, 400);
  assert.equal(w.json.error.code, 'wrong_fulfillment');
  // removing an account: the next run needs a credential again
  const d = keep(await A.del('/api/me/accounts/me2'));
  assert.equal(d.status, 200, d.text);
  const d2 = keep(await A.del('/api/me/accounts/me2'));
  assert.equal(d2.status, 404);
  const r2 = await run(A, { workflow: { nodes: [{ id: 'a', type: 'tool', tool_name: 'me2.get', input: { thing: 'x' } }] } });
  assert.equal(r2.json.error.error.code, 'needs_credential');
  assert.equal(up.requests.length, 0);
});

test('a participant credential is used only in runs that include that participant', async () => {
  const wf = { nodes: [{ id: 'c', type: 'tool', tool_name: 'cust.post', input: { path: 'x' } }] };
  up.requests.length = 0;
  const none = await run(A, { workflow: wf });
  assert.equal(none.json.status, 'failed');
  assert.equal(none.json.error.error.code, 'needs_credential');
  assert.match(none.json.error.error.message, /role customer/);
  const wrongRole = await run(A, { workflow: wf, participants: [{ id: 'p-1', role: 'vendor' }] });
  assert.equal(wrongRole.json.error.error.code, 'needs_credential');
  const stranger = await run(A, { workflow: wf, participants: [{ id: 'p-3', role: 'customer' }] });
  assert.equal(stranger.json.error.error.code, 'needs_credential');
  assert.match(stranger.json.error.error.message, /participant p-3 \(role customer\).*POST \/api\/participants\/p-3\/credentials/);
  assert.equal(up.requests.length, 0, 'nothing was sent');
  const ok = await run(B, { workflow: wf, participants: [{ id: 'p-2', role: 'customer' }] });
  assert.equal(ok.json.status, 'succeeded', ok.text);
  assert.equal(up.requests[0].headers['x-api-key'], canary.p2);
  // listing never shows values
  const l = keep(await A.get('/api/participants/p-1/credentials'));
  assert.equal(l.status, 200);
  assert.deepEqual(l.json.credentials.map((c) => [c.connection, c.role, c.fields_set]), [['cust', 'customer', ['key']]]);
  const badId = keep(await A.post('/api/participants/bad%20id/credentials', { connection: 'cust', credentials: { key: 'k' } }));
  assert.equal(badId.status, 400);
  const wrong = keep(await A.post('/api/participants/p-9/credentials', { connection: 'me', credentials: { token: 'k' } }));
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json.error.code, 'wrong_fulfillment');
  const bp = await run(A, { workflow: wf, participants: [{ id: 'p-1', role: 'Customer!' }] });
  assert.equal(bp.status, 400);
  assert.equal(bp.json.error.field, 'participants[0].role');
});

test('an onboarding link collects a participant credential once, then runs with them use it', async () => {
  const p7 = makeCanary('p7');
  const inv = keep(await A.post('/api/participants/p-7/onboarding', { connection: 'cust' }));
  assert.equal(inv.status, 201, inv.text);
  assert.match(inv.json.path, /^\/api\/onboarding\?token=[0-9a-f]{64}$/);
  const link = srv.url + inv.json.path;
  const anon = api(srv.url, null);
  const info = keep(await anon.get(inv.json.path));
  assert.equal(info.status, 200, info.text);
  assert.deepEqual([info.json.participant, info.json.connection, info.json.role, info.json.fields], ['p-7', 'cust', 'customer', ['key']]);
  // a mistake does not use the link up
  const wrong = keep(await anon.post(inv.json.path, { credentials: { tokn: p7 } }));
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json.error.field, 'credentials.tokn');
  const ok = keep(await anon.post(inv.json.path, { credentials: { key: p7 } }));
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.participant, 'p-7');
  const again = keep(await anon.post(inv.json.path, { credentials: { key: 'x' } }));
  assert.equal(again.status, 404, 'single use');
  assert.equal(keep(await anon.get(inv.json.path)).status, 404);
  assert.equal(keep(await anon.get('/api/onboarding?token=nothex')).status, 404);
  const badConn = keep(await A.post('/api/participants/p-7/onboarding', { connection: 'me' }));
  assert.equal(badConn.json.error.code, 'wrong_fulfillment');
  up.requests.length = 0;
  const r = await run(B, { workflow: { nodes: [{ id: 'c', type: 'tool', tool_name: 'cust.post', input: { path: 'x' } }] }, participants: [{ id: 'p-7', role: 'customer' }] });
  assert.equal(r.json.status, 'succeeded', r.text);
  assert.equal(up.requests[0].headers['x-api-key'], p7);
  assert.ok(!srv.output().includes(new URL(link).searchParams.get('token')), 'the link token is not logged');
  assert.deepEqual(scanForCanaries(srv.output(), [p7]), []);
});

test('another workspace sees nothing (TEN-001, TEN-003)', async () => {
  const mine = await run(A, { workflow, input: { item: '1', n: 1 }, participants: [{ id: 'p-1', role: 'customer' }] });
  assert.equal(mine.json.status, 'succeeded');
  const g = keep(await C.get(`/api/runs/${mine.json.id}`));
  assert.equal(g.status, 404);
  const missing = keep(await C.get('/api/runs/run_doesnotexist'));
  assert.equal(missing.status, 404);
  assert.deepEqual(Object.keys(g.json.error).sort(), Object.keys(missing.json.error).sort());
  up.requests.length = 0;
  const r = await run(C, { workflow, input: { item: '1', n: 1 }, participants: [{ id: 'p-1', role: 'customer' }] });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'unknown_tool');
  assert.equal(r.json.error.field, 'workflow.nodes[0].tool_name');
  assert.equal(up.requests.length, 0);
  // carol makes her own caller and participant connections with the same slugs: still nothing of w
  for (const body of [
    { name: 'me', base_url: up.url, fulfillment: 'caller', auth: { type: 'bearer' }, operations: ops.caller },
    { name: 'cust', base_url: up.url, fulfillment: 'participant', participant_role: 'customer', auth: { type: 'api_key_header', name: 'X-Api-Key' }, operations: ops.part },
  ]) {
    const c = keep(await C.post('/api/connections', body));
    assert.equal(c.status, 201, c.text);
  }
  const r2 = await run(C, {
    workflow: { nodes: [workflow.nodes[1], { ...workflow.nodes[2], depends_on: [], input: { path: 'x' } }].map((n) => ({ ...n, input: n.id === 'n2' ? { thing: 'y' } : n.input })) },
    participants: [{ id: 'p-1', role: 'customer' }],
  });
  assert.equal(r2.json.status, 'failed');
  assert.equal(r2.json.error.error.code, 'needs_credential');
  assert.equal(up.requests.length, 0);
  assert.deepEqual(keep(await C.get('/api/me/accounts')).json.accounts, []);
  assert.deepEqual(keep(await C.get('/api/participants/p-1/credentials')).json.credentials, []);
  const del = keep(await C.del('/api/participants/p-1/credentials/cust'));
  assert.equal(del.status, 404, 'w2 cannot delete w\'s participant credential');
});

test('bad workflows are refused before any request leaves, node and field named', async () => {
  const n = (id, extra = {}) => ({ id, type: 'tool', tool_name: 'st.get', input: { id: '1' }, ...extra });
  const cases = [
    [{ workflow: { nodes: [n('a'), n('b', { tool_name: 'st.nope' })] } }, 'unknown_tool', 'workflow.nodes[1].tool_name'],
    [{ workflow: { nodes: [n('a', { tool_name: 'ghost.get' })] } }, 'unknown_tool', 'workflow.nodes[0].tool_name'],
    [{ workflow: { nodes: [n('a', { depends_on: ['b'] }), n('b', { depends_on: ['a'] })] } }, 'cycle', 'workflow.nodes[0].depends_on'],
    [{ workflow: { nodes: [n('a', { depends_on: ['zz'] })] } }, 'unknown_dependency', 'workflow.nodes[0].depends_on[0]'],
    [{ workflow: { nodes: [n('a', { input: { id: '{{input.nothing}}' } })] }, input: {} }, 'template_unresolved', 'workflow.nodes[0].input.id'],
    [{ workflow: { nodes: [n('a', { input: { id: '{{steps.b.output.body}}' } }), n('b')] } }, 'template_unresolved', 'workflow.nodes[0].input.id'],
    [{ workflow: { nodes: [n('a', { input: { id: '{{steps.zz.output}}' } })] } }, 'template_unresolved', 'workflow.nodes[0].input.id'],
    [{ workflow: { nodes: [n('a'), n('a')] } }, 'duplicate_id', 'workflow.nodes[1].id'],
    [{ workflow: { nodes: [] } }, 'invalid_workflow', 'workflow.nodes'],
    [{ workflow: { nodes: [n('a')] }, input: 'x' }, 'invalid_type', 'input'],
    [{ workflow: { nodes: [n('a')] }, extra: 1 }, 'unknown_field', 'extra'],
    [{ workflow: { nodes: Array.from({ length: MAX_RUN_NODES + 1 }, (_, i) => n(`n${i}`)) } }, 'too_many', 'workflow.nodes'],
    [{ workflow: { nodes: [n('a', { input: { id: 'x'.repeat(16 * 1024) } })] } }, 'too_large', 'workflow.nodes[0].input'],
  ];
  up.requests.length = 0;
  for (const [body, code, field] of cases) {
    const r = await run(A, body);
    assert.ok(r.status === 400 || r.status === 413, `${code}: ${r.status} ${r.text}`);
    assert.equal(r.json.error.code, code, r.text);
    assert.equal(r.json.error.field, field, r.text);
  }
  assert.equal(up.requests.length, 0, 'no request left');

  // MAX_RUN_INPUT_BYTES at N and N+1 ({"s":"..."} of exactly N bytes of JSON)
  const fill = MAX_RUN_INPUT_BYTES - '{"s":""}'.length;
  const atN = await run(A, { workflow: { nodes: [n('a')] }, input: { s: 'y'.repeat(fill) }, wait: false });
  assert.equal(atN.status, 202, atN.text);
  // it runs in the background: let its one request land before counting the next run's
  assert.equal((await finished(A, atN.json.id)).json.status, 'succeeded');
  const overN = await run(A, { workflow: { nodes: [n('a')] }, input: { s: 'y'.repeat(fill + 1) } });
  assert.equal(overN.status, 413, overN.text);
  assert.equal(overN.json.error.field, 'input');
  // MAX_RUN_NODES at N: accepted
  const nodes = Array.from({ length: MAX_RUN_NODES }, (_, i) => n(`n${i}`));
  up.requests.length = 0;
  const atNodes = await run(A, { workflow: { nodes } });
  assert.equal(atNodes.json.status, 'succeeded', atNodes.text.slice(0, 500));
  assert.equal(up.requests.length, MAX_RUN_NODES);
});

test('a failing node fails the run with its error; later nodes do not run', async () => {
  up.requests.length = 0;
  up.route('/static/boom', { mode: 'status', status: 500, body: 'boom' });
  const r = await run(A, {
    workflow: { nodes: [
      { id: 'a', type: 'tool', tool_name: 'st.get', input: { id: 'boom' } },
      { id: 'b', type: 'tool', tool_name: 'st.get', input: { id: 'after' } },
    ] },
  });
  assert.equal(r.json.status, 'failed');
  assert.equal(r.json.error.node, 'a');
  assert.equal(r.json.steps.a.output.status, 500);
  assert.equal(r.json.steps.b, undefined);
  assert.equal(up.requests.length, 1);
  // a template that resolves to nothing at run time fails the node that has it
  const t = await run(A, {
    workflow: { nodes: [
      { id: 'a', type: 'tool', tool_name: 'st.get', input: { id: '1' } },
      { id: 'b', type: 'tool', tool_name: 'st.get', input: { id: '{{steps.a.output.body.nope}}' } },
    ] },
  });
  assert.equal(t.json.status, 'failed');
  assert.equal(t.json.error.node, 'b');
  assert.equal(t.json.error.error.code, 'template_unresolved');
  assert.equal(t.json.error.error.field, 'input.id');
});

test('agents: resolve lists built-ins first, then slug.operation, unknown names as errors', async () => {
  const r = keep(await A.post('/api/agents/resolve', { tools: ['st.get', 'web_search', 'nope.x', 'me.get', 'justaword'] }));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.tools.map((t) => t.name), ['web_search', 'st.get', 'me.get']);
  for (const t of r.json.tools) {
    assert.equal(typeof t.description, 'string');
    assert.equal(t.input_schema.type, 'object');
    assert.match(t.function.name, /^[A-Za-z0-9_-]+$/);
  }
  assert.equal(r.json.tools[2].fulfillment, 'caller');
  // no input_schema on the operation: one required property per path placeholder
  const stDef = r.json.tools[1];
  assert.deepEqual(stDef.input_schema.required, ['id']);
  assert.deepEqual(stDef.input_schema.properties.id.type, ['string', 'number', 'boolean']);
  assert.deepEqual(stDef.function.parameters, stDef.input_schema);
  assert.equal(stDef.function.name, 'st__get');
  assert.equal(stDef.description, `GET /static/{{id}} on st`);
  // a name asked for twice is defined once (function names must be unique)
  const twice = keep(await A.post('/api/agents/resolve', { tools: ['st.get', 'web_search', 'st.get', 'web_search'] }));
  assert.deepEqual(twice.json.tools.map((t) => t.name), ['web_search', 'st.get']);
  // function names fit the LLM APIs' 64 characters: N kept, N+1 shortened with a hash
  const longSlug = 'l'.repeat(64);
  const lc = keep(await A.post('/api/connections', { name: longSlug, base_url: up.url, auth: { type: 'bearer', token: 'x' },
    operations: [{ name: 'o'.repeat(64), method: 'GET', path: '/static/x' }, { name: 'o'.repeat(64 - 2 - 30), method: 'GET', path: '/static/x' }] }));
  assert.equal(lc.status, 201, lc.text);
  const ln = keep(await A.post('/api/agents/resolve', { tools: [`${longSlug}.${'o'.repeat(64)}`] }));
  assert.match(ln.json.tools[0].function.name, /^l{55}_[0-9a-f]{8}$/);
  const sc = keep(await A.post('/api/connections', { name: 's'.repeat(30), base_url: up.url, auth: { type: 'bearer', token: 'x' },
    operations: [{ name: 'o'.repeat(32), method: 'GET', path: '/static/x' }, { name: 'o'.repeat(33), method: 'GET', path: '/static/x' }] }));
  assert.equal(sc.status, 201, sc.text);
  const atN = keep(await A.post('/api/agents/resolve', { tools: [`${'s'.repeat(30)}.${'o'.repeat(32)}`, `${'s'.repeat(30)}.${'o'.repeat(33)}`] }));
  assert.equal(atN.json.tools[0].function.name, `${'s'.repeat(30)}__${'o'.repeat(32)}`, 'N = 64 kept');
  assert.match(atN.json.tools[1].function.name, /^s{30}__o{23}_[0-9a-f]{8}$/, 'N+1 shortened');
  for (const d of [...ln.json.tools, ...atN.json.tools]) assert.match(d.function.name, /^[A-Za-z0-9_-]{1,64}$/);
  for (const id of [lc.json.id, sc.json.id]) assert.equal(keep(await A.del(`/api/connections/${id}`)).status, 200);
  assert.deepEqual(r.json.errors.map((e) => [e.name, e.code]), [['nope.x', 'unknown_tool'], ['justaword', 'unknown_tool']]);
  const many = keep(await A.post('/api/agents/resolve', { tools: Array.from({ length: 129 }, () => 'web_search') }));
  assert.equal(many.status, 413);
  const atMax = keep(await A.post('/api/agents/resolve', { tools: Array.from({ length: 128 }, () => 'web_search') }));
  assert.equal(atMax.status, 200);
  // another workspace's tools do not resolve
  const other = keep(await C.post('/api/agents/resolve', { tools: ['st.get'] }));
  assert.deepEqual(other.json.tools, []);
  assert.equal(other.json.errors[0].name, 'st.get');
  // a call follows the same fulfillment: bob's account for bob
  up.requests.length = 0;
  const c = keep(await B.post('/api/agents/call', { tool: 'me.get', input: { thing: 'z' } }));
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.ok, true);
  assert.equal(up.requests[0].headers.authorization, `Bearer ${canary.bob}`);
  const p = keep(await B.post('/api/agents/call', { tool: 'cust.post', input: { path: 'q' }, participants: [{ id: 'p-2', role: 'customer' }] }));
  assert.equal(p.status, 200, p.text);
  assert.equal(up.requests[1].headers['x-api-key'], canary.p2);
  const needs = keep(await B.post('/api/agents/call', { tool: 'cust.post', input: { path: 'q' } }));
  assert.equal(needs.status, 422);
  assert.equal(needs.json.error.code, 'needs_credential');
});
