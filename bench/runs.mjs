// Workflow runs: what a run costs on top of its calls. Against a loopback echo upstream:
//   - one action call (POST /api/actions/call), p50/p95 over N sequential calls
//   - a 3-node run (static, caller, participant nodes, a template chain), p50/p95 over N runs
//   - a 64-node run (MAX_RUN_NODES), wall time
//   - C concurrent 3-node runs, wall time and runs/s
// Usage: node bench/runs.mjs [N=200] [C=50]   (CONNHUB_BIN, default build/connhub)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpFromHeader } from './help.mjs';

helpFromHeader(import.meta.url);

const here = path.dirname(fileURLToPath(import.meta.url));
const { api, cleanup, runCli, startServer, tempDir } = await import(path.join(here, '../tests/e2e/lib/server.mjs'));
const { startUpstream } = await import(path.join(here, '../tests/e2e/lib/upstream.mjs'));

const N = Number(process.argv[2] || 200);
const C = Number(process.argv[3] || 50);
const dir = tempDir('connhub-bench-runs-');
const db = path.join(dir, 'c.db');
const cli = (args) => runCli([...args, '--db', `sqlite:${db}`]).stdout.trim();
cli(['user', 'add', 'alice']);
cli(['workspace', 'add', 'w']);
cli(['member', 'add', 'w', 'alice', '--role', 'admin']);
const token = cli(['token', 'create', '--user', 'alice', '--workspace', 'w']);
const up = await startUpstream({ host: '127.0.0.2' });
const srv = await startServer({ dbPath: db, allowPrivate: ['127.0.0.2/32'], args: ['--log-level', 'warn'] });
const A = api(srv.url, token);

const must = (r, s) => { if (r.status !== s) throw new Error(`${r.status} ${r.text}`); return r; };
must(await A.post('/api/connections', { name: 'st', base_url: up.url, auth: { type: 'bearer', token: 't' },
  operations: [{ name: 'get', method: 'GET', path: '/s/{{id}}' }] }), 201);
must(await A.post('/api/connections', { name: 'me', base_url: up.url, fulfillment: 'caller', auth: { type: 'bearer' },
  operations: [{ name: 'get', method: 'GET', path: '/c/{{thing}}' }] }), 201);
must(await A.post('/api/connections', { name: 'cust', base_url: up.url, fulfillment: 'participant', participant_role: 'customer',
  auth: { type: 'api_key_header', name: 'X-Key' }, operations: [{ name: 'post', method: 'POST', path: '/p/{{path}}' }] }), 201);
must(await A.put('/api/me/accounts/me', { credentials: { token: 'mine' } }), 200);
must(await A.post('/api/participants/p1/credentials', { connection: 'cust', credentials: { key: 'theirs' } }), 201);

const wf = { nodes: [
  { id: 'n1', type: 'tool', tool_name: 'st.get', input: { id: '{{input.item}}', q: 'v-{{input.item}}' } },
  { id: 'n2', type: 'tool', tool_name: 'me.get', input: { thing: '{{steps.n1.output.body.query.q}}' } },
  { id: 'n3', type: 'tool', tool_name: 'cust.post', depends_on: ['n2'], input: { path: '{{steps.n2.output.status}}' } },
] };
const runBody = (i) => ({ workflow: wf, input: { item: String(i) }, participants: [{ id: 'p1', role: 'customer' }] });

const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
async function timed(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const calls = [];
for (let i = 0; i < N; i++) {
  calls.push(await timed(async () => must(await A.post('/api/actions/call', { actionIdentifier: 'st.get', input: { id: String(i) } }), 200)));
}
const runs = [];
for (let i = 0; i < N; i++) {
  runs.push(await timed(async () => {
    const r = must(await A.post('/api/runs', runBody(i)), 200);
    if (r.json.status !== 'succeeded') throw new Error(r.text);
  }));
}
const big = { nodes: Array.from({ length: 64 }, (_, i) => ({ id: `n${i}`, type: 'tool', tool_name: 'st.get', input: { id: String(i) } })) };
const bigMs = await timed(async () => must(await A.post('/api/runs', { workflow: big }), 200));
const concMs = await timed(async () => {
  await Promise.all(Array.from({ length: C }, async (_, i) => {
    const r = must(await A.post('/api/runs', runBody(i)), 200);
    if (r.json.status !== 'succeeded') throw new Error(r.text);
  }));
});

const f = (x) => x.toFixed(2);
console.log(JSON.stringify({
  n: N,
  action_call_ms: { p50: f(pct(calls, 0.5)), p95: f(pct(calls, 0.95)) },
  run_3_nodes_ms: { p50: f(pct(runs, 0.5)), p95: f(pct(runs, 0.95)) },
  run_64_nodes_ms: f(bigMs),
  concurrent: { runs: C, wall_ms: f(concMs), runs_per_s: f((C * 1000) / concMs) },
}, null, 2));
await srv.stop();
await up.close();
cleanup();
