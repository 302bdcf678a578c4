// MCP: connhub against the TypeScript SDK client (@modelcontextprotocol/sdk), in one run, on
// this machine, against the same servers.
//  1. N (1,000) sequential `tools/call echo` round trips, against
//     @modelcontextprotocol/server-everything (streamableHttp) and a lean server
//     (bench/mcp_lean_server.mjs: plain JSON answers, so the clients' own costs show):
//     - connhub's MCP client: `connhub mcp-probe URL --call echo --repeat N` (C, one session)
//     - the TypeScript SDK client (Client + StreamableHTTPClientTransport), in this process
//     - and, for the record, through the API: POST /api/actions/call (keep-alive) -> connhub ->
//       MCP server; that is two HTTP round trips per call (Node's fetch to connhub included)
//     Prints each, per call, and the ratios (target: connhub's client >= 3x faster per call).
//  2. tools/list on a 500-tool server paginated 50 at a time, end to end through connhub
//     (POST /api/mcp/discover: initialize, initialized, 10 pages, close; and refresh-tools,
//     which also stores the 500 operations). Target: under 50 ms.
//   node bench/mcp.mjs     (after `make`; build/connhub, tests/e2e/node_modules)
//   BENCH_MCP_CALLS=1000 BENCH_MCP_WARMUP=100 BENCH_MCP_ROUNDS=3 BENCH_MCP_LIST_RUNS=20 CONNHUB_BIN=...
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { startEverything } from '../tests/e2e/lib/mcp_peer.mjs';
import { api, cleanup, runCli, startServer, tempDir } from '../tests/e2e/lib/server.mjs';
import { helpFromHeader } from './help.mjs';

helpFromHeader(import.meta.url);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = process.env.CONNHUB_BIN || path.join(root, 'build', 'connhub');
const CALLS = Number(process.env.BENCH_MCP_CALLS || 1000);
const WARMUP = Number(process.env.BENCH_MCP_WARMUP || 100);
const LIST_RUNS = Number(process.env.BENCH_MCP_LIST_RUNS || 20);
// Each client is measured ROUNDS times, the two taking turns (and swapping who goes first each
// round), so that neither always meets a colder server (a Node server's JIT keeps warming for
// thousands of calls); the round with the median mean is reported for each.
const ROUNDS = Number(process.env.BENCH_MCP_ROUNDS || 3);
const HOST = '127.0.0.2';
const sdk = (p) => pathToFileURL(path.join(root, 'tests/e2e/node_modules/@modelcontextprotocol/sdk/dist/esm', p)).href;
const { Client } = await import(sdk('client/index.js'));
const { StreamableHTTPClientTransport } = await import(sdk('client/streamableHttp.js'));

function startLean() {
  const proc = spawn(process.execPath, [path.join(root, 'bench', 'mcp_lean_server.mjs'), HOST, '0'],
    { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ mcpUrl: `http://${HOST}:${m[1]}/mcp`, stop: () => { proc.kill('SIGTERM'); } });
    });
    proc.once('exit', () => reject(new Error('lean server exited')));
  });
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const total = ms.reduce((a, b) => a + b, 0);
  return { n: ms.length, total_ms: total, mean_ms: total / ms.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: s.at(-1) };
}
async function loop(n, fn) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = now();
    await fn(i);
    ms.push(now() - t);
  }
  return ms;
}

async function viaConnhub(A, slug) {
  const one = async (i) => {
    const r = await A.post('/api/actions/call', { actionIdentifier: `${slug}.echo`, input: { message: `hello ${i}` } });
    if (r.status !== 200 || r.json.ok !== true || !JSON.stringify(r.json.content).includes(`hello ${i}`)) {
      throw new Error(`connhub call ${i}: ${r.status} ${r.text.slice(0, 200)}`);
    }
  };
  await loop(WARMUP, one);
  return stats(await loop(CALLS, one));
}

function viaProbe(url) {
  const out = execFileSync(bin, ['mcp-probe', url, '--transport', 'streamable_http', '--allow-private', `${HOST}/32`,
    '--call', 'echo', '--args', '{"message":"hello"}', '--repeat', String(CALLS), '--warmup', String(WARMUP)],
  { encoding: 'utf8', env: { PATH: process.env.PATH, CONNHUB_LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const r = JSON.parse(out.trim().split('\n').at(-1));
  if (r.step !== 'repeat' || r.ok !== WARMUP + CALLS || r.calls !== CALLS) throw new Error(`mcp-probe: ${out.slice(-300)}`);
  return { n: r.calls, total_ms: r.total_ms, mean_ms: r.mean_ms, p50_ms: r.p50_ms, p99_ms: r.p99_ms, max_ms: r.max_ms, cpu_ms_per_call: r.cpu_ms_per_call };
}

// A new SDK session per round, as the probe makes one per run (set-up is timed on neither
// side; the SDK client keeps one abort listener per call it made, so one session for every
// round would slow it down). While the probe runs, the pooled socket idles and the Node server
// may close it (its keep-alive timeout) just as the next round's initialize goes out: that
// connect is retried once; calls never are.
async function viaSdk(url) {
  const connect = async () => {
    const client = new Client({ name: 'bench-sdk', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    return client;
  };
  let client;
  try { client = await connect(); } catch (e) { if (e?.cause?.code !== 'UND_ERR_SOCKET') throw e; client = await connect(); }
  const one = async (i) => {
    const r = await client.callTool({ name: 'echo', arguments: { message: `hello ${i}` } });
    if (!JSON.stringify(r.content).includes(`hello ${i}`)) throw new Error(`sdk call ${i}: ${JSON.stringify(r).slice(0, 200)}`);
  };
  await loop(WARMUP, one);
  const s = stats(await loop(CALLS, one));
  await client.close();
  return s;
}

const f = (x) => x.toFixed(2);
const results = { calls: CALLS, warmup: WARMUP, echo: {}, list: {} };
let srv, everything, lean;
try {
  const dir = tempDir('connhub-bench-mcp-');
  const db = path.join(dir, 'c.db');
  for (const args of [['user', 'add', 'u'], ['workspace', 'add', 'w'], ['member', 'add', 'w', 'u', '--role', 'admin']]) {
    const r = runCli([...args, '--db', `sqlite:${db}`], { bin });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const tok = runCli(['token', 'create', '--user', 'u', '--workspace', 'w', '--db', `sqlite:${db}`], { bin }).stdout.trim();
  everything = await startEverything('streamableHttp', { host: HOST });
  lean = await startLean();
  srv = await startServer({ dbPath: db, allowPrivate: `${HOST}/32`, bin, args: ['--threads', '1'], env: { CONNHUB_LOG_LEVEL: 'warn' } });
  const A = api(srv.url, tok);

  for (const [name, url] of [['server-everything', everything.mcpUrl], ['lean', lean.mcpUrl]]) {
    const slug = name === 'lean' ? 'lean' : 'everything';
    const c = await A.post('/api/connections', { name, slug, service_type: 'mcp', base_url: url, transport: 'streamable_http' });
    if (c.status !== 201) throw new Error(`create ${name}: ${c.status} ${c.text.slice(0, 300)}`);
    const prs = [], tss = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) { prs.push(viaProbe(url)); tss.push(await viaSdk(url)); }
      else { tss.push(await viaSdk(url)); prs.push(viaProbe(url)); }
    }
    const median = (xs) => [...xs].sort((a, b) => a.mean_ms - b.mean_ms)[Math.floor(xs.length / 2)];
    const pr = median(prs), ts = median(tss);
    console.log(`  rounds (mean ms/call): connhub ${prs.map((x) => f(x.mean_ms)).join(' ')} | SDK ${tss.map((x) => f(x.mean_ms)).join(' ')}`);
    const ch = await viaConnhub(A, slug);
    // What the server itself costs per call, at least: connhub's wall time per call less the
    // probe's own CPU. No client, however cheap, can be faster than the SDK by more than
    // SDK time / that floor against this server.
    const floor = Math.max(pr.mean_ms - pr.cpu_ms_per_call, 1e-3);
    results.echo[name] = { connhub_client: pr, sdk: ts, connhub_api: ch, ratio: ts.mean_ms / pr.mean_ms, ratio_api: ts.mean_ms / ch.mean_ms,
      server_floor_ms: floor, bound: ts.mean_ms / floor };
    const line = (s) => `${f(s.mean_ms)} ms/call (p50 ${f(s.p50_ms)}, p99 ${f(s.p99_ms)}, total ${f(s.total_ms)} ms)`;
    console.log(`echo vs ${name}, ${CALLS} calls (median of ${ROUNDS} rounds):\n  connhub MCP client (C)   ${line(pr)}` +
      `\n  TS SDK client            ${line(ts)}` +
      `\n  through connhub's API    ${line(ch)}` +
      `\n  ratio SDK/connhub client ${f(results.echo[name].ratio)}x; SDK/connhub API ${f(results.echo[name].ratio_api)}x` +
      `\n  connhub client CPU ${f(pr.cpu_ms_per_call * 1000)} µs/call; the server's own floor >= ${f(floor)} ms/call, so no client can be more than ${f(results.echo[name].bound)}x faster than the SDK against it`);
  }

  // tools/list, 500 tools in pages of 50, end to end
  const disc = await loop(LIST_RUNS, async () => {
    const r = await A.post('/api/mcp/discover', { url: lean.mcpUrl, transport: 'streamable_http' });
    if (r.status !== 200 || r.json.tools.length !== 500) throw new Error(`discover: ${r.status} ${r.text.slice(0, 200)}`);
  });
  const conn = (await A.get('/api/connections?service_type=mcp')).json;
  const leanId = (conn.connections || conn.items || conn).find?.((c) => c.slug === 'lean')?.id;
  const refresh = await loop(LIST_RUNS, async () => {
    const r = await A.post(`/api/connections/${leanId}/refresh-tools`, {});
    if (r.status !== 200 || r.json.operations_count !== 500) throw new Error(`refresh: ${r.status} ${r.text.slice(0, 200)}`);
  });
  const sdkList = await (async () => {
    const client = new Client({ name: 'bench-sdk', version: '1.0.0' });
    const ms = await loop(LIST_RUNS, async () => {
      const c = new Client({ name: 'bench-sdk', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(new URL(lean.mcpUrl)));
      let n = 0, cursor;
      do { const r = await c.listTools(cursor ? { cursor } : {}); n += r.tools.length; cursor = r.nextCursor; } while (cursor);
      if (n !== 500) throw new Error(`sdk list: ${n}`);
      await c.close();
    });
    void client;
    return stats(ms);
  })();
  results.list = { discover: stats(disc), refresh_tools: stats(refresh), sdk_connect_and_list: sdkList };
  console.log(`tools/list 500 tools (10 pages) x${LIST_RUNS}: connhub POST /api/mcp/discover p50 ${f(results.list.discover.p50_ms)} ms, max ${f(results.list.discover.max_ms)} ms` +
    ` | refresh-tools (list + store 500 operations) p50 ${f(results.list.refresh_tools.p50_ms)} ms, max ${f(results.list.refresh_tools.max_ms)} ms` +
    ` | TS SDK connect + list p50 ${f(sdkList.p50_ms)} ms`);
} finally {
  await srv?.stop();
  await everything?.stop();
  lean?.stop();
  cleanup();
}

const verdict = (ok, what) => console.log(`${ok ? 'PASS' : 'MISS'} ${what}`);
for (const [name, r] of Object.entries(results.echo)) {
  verdict(r.ratio >= 3, `echo vs ${name}: connhub's MCP client ${f(r.ratio)}x faster per call than the TS SDK client (target >= 3x)` +
    (r.bound < 3 ? `; out of any client's reach against this server (bound ${f(r.bound)}x: the server's own time dominates)` : ''));
}
verdict(results.list.discover.p50_ms < 50, `tools/list 500 tools end to end: p50 ${f(results.list.discover.p50_ms)} ms (target < 50 ms)`);
console.log(JSON.stringify(results));
