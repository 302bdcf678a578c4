// connhub's MCP client from the command line (`connhub mcp-probe URL`, issue 5): the official
// @modelcontextprotocol/conformance suite in client mode (it starts each scenario's server and
// runs the probe with the server URL last), and the probe against real servers
// (server-everything in both transports, a bearer-protected front).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { makeCanary, scanForCanaries, describeHits } from './lib/canary.mjs';
import { runAsync, startBearerFront, startEverything, writeLoopbackPreload } from './lib/mcp_peer.mjs';
import { CONNHUB_BIN, cleanup, tempDir } from './lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONFORMANCE_JS = path.join(here, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const BASELINE = path.join(here, 'conformance', 'mcp-client-baseline.yml');
const BIN = path.resolve(CONNHUB_BIN);

// The client scenarios of conformance 0.1.13 that connhub passes. Every other scenario is in
// the baseline file with the reason it fails; the runner exits 1 if one of those passes.
const PASSING = [
  'initialize', // initialize with clientInfo, notifications/initialized
  'tools_call', // tools/list, then tools/call add_numbers with the schema's arguments
  'sse-retry', // tools/call stream closed after the priming event: GET with Last-Event-ID after retry: 500 ms
  'auth/resource-mismatch', // no token is ever fetched for a resource that is not the server's
];

let http, sse, guarded, front;
const token = makeCanary('probetoken');

before(async () => {
  http = await startEverything('streamableHttp');
  sse = await startEverything('sse');
  guarded = await startEverything('streamableHttp');
  front = await startBearerFront(guarded.url, token);
});

after(async () => {
  await front?.close();
  await http?.stop();
  await sse?.stop();
  await guarded?.stop();
  cleanup();
});

const lines = (out) => out.split('\n').filter((l) => l.startsWith('{"step"')).map((l) => JSON.parse(l));

test('conformance client suite: the listed scenarios pass, every failure is in the baseline', async () => {
  const dir = tempDir('connhub-conformance-');
  const preload = writeLoopbackPreload(dir);
  // --timeout 5000: the elicitation scenario's tool never answers a client without elicitation
  const cmd = `${BIN} mcp-probe --allow-private 127.0.0.1/32 --call-each --timeout 5000`;
  const r = await runAsync(process.execPath, ['-r', preload, CONFORMANCE_JS, 'client', '--command', cmd,
    '--suite', 'all', '--expected-failures', BASELINE, '-o', path.join(dir, 'results')], { timeout: 180000 });
  const out = r.stdout + r.stderr;
  const summary = out.slice(out.lastIndexOf('SUITE SUMMARY'));
  const passed = [...summary.matchAll(/^✓ (\S+): (\d+) passed, 0 failed/gm)].map((m) => m[1]);
  assert.deepEqual(passed.sort(), [...PASSING].sort(), summary);
  assert.match(summary, /Baseline check passed/, summary);
  assert.equal(r.code, 0, summary);
});

for (const [transport, urlOf] of [['streamable_http', () => http.mcpUrl], ['sse', () => sse.sseUrl]]) {
  test(`mcp-probe against server-everything over ${transport}: discover, echo, get-sum, image`, async () => {
    const r = await runAsync(BIN, ['mcp-probe', urlOf(), '--transport', transport, '--allow-private', '127.0.0.2/32',
      '--call', 'echo', '--args', '{"message":"hi probe"}', '--call', 'get-sum', '--args', '{"a":40,"b":2}',
      '--call', 'get-tiny-image']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [d, echo, sum, img] = lines(r.stdout);
    assert.equal(d.ok, true);
    assert.equal(d.transport, transport);
    assert.ok(d.tool_names.includes('echo') && d.tool_names.includes('get-sum'), d.tool_names.join());
    assert.match(JSON.stringify(echo.content), /hi probe/);
    assert.match(JSON.stringify(sum.content), /42/);
    assert.equal(sum.isError, false);
    assert.ok(img.content.some((c) => c.type === 'image' && c.data && c.mimeType), JSON.stringify(img).slice(0, 300));
  });
}

test('mcp-probe --repeat: N timed calls after the warm-up, one line of timings', async () => {
  const r = await runAsync(BIN, ['mcp-probe', http.mcpUrl, '--allow-private', '127.0.0.2/32', '--call', 'echo',
    '--args', '{"message":"again"}', '--repeat', '20', '--warmup', '3']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const rep = lines(r.stdout).at(-1);
  assert.equal(rep.step, 'repeat');
  assert.equal(rep.calls, 20);
  assert.equal(rep.ok, 23);
  assert.ok(rep.p50_ms > 0 && rep.p50_ms <= rep.p99_ms && rep.p99_ms <= rep.max_ms, JSON.stringify(rep));
  // the probe's own CPU per call (all 23 calls): some, and no more than the wall time they took
  assert.ok(rep.cpu_ms_per_call > 0 && rep.cpu_ms_per_call * rep.ok <= rep.total_ms * 1.5, JSON.stringify(rep));
  const bad = await runAsync(BIN, ['mcp-probe', http.mcpUrl, '--allow-private', '127.0.0.2/32', '--call', 'no-such-tool', '--repeat', '5']);
  assert.equal(bad.code, 1);
  assert.ok(lines(bad.stdout).at(-1).error, bad.stdout);
});

test('mcp-probe: an unknown tool is an answer (isError) or a JSON-RPC error, a bad option is usage', async () => {
  const r = await runAsync(BIN, ['mcp-probe', http.mcpUrl, '--allow-private', '127.0.0.2/32', '--call', 'no-such-tool']);
  const [, call] = lines(r.stdout);
  assert.ok(call.ok === false || call.isError === true, r.stdout);
  const u = await runAsync(BIN, ['mcp-probe', http.mcpUrl, '--transport', 'carrier-pigeon']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /bad option or value: --transport/);
  // without --allow-private, the loopback server is refused by the SSRF guard: nothing connects
  const s = await runAsync(BIN, ['mcp-probe', http.mcpUrl]);
  assert.equal(s.code, 1);
  assert.equal(lines(s.stdout)[0].ok, false);
});

test('mcp-probe: bearer from the environment; a wrong token is a clear auth error and no token is printed', async () => {
  const url = `${front.url}/mcp`;
  const ok = await runAsync(BIN, ['mcp-probe', url, '--allow-private', '127.0.0.2/32', '--call', 'echo', '--args', '{"message":"t"}'],
    { env: { MCP_PROBE_BEARER: token } });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const refusedBefore = front.refused;
  const bad = await runAsync(BIN, ['mcp-probe', url, '--allow-private', '127.0.0.2/32'], { env: { MCP_PROBE_BEARER: 'wrong-token' } });
  assert.equal(bad.code, 1);
  const [d] = lines(bad.stdout);
  assert.equal(d.ok, false);
  assert.equal(d.error.code, 'mcp_unauthorized');
  assert.match(d.error.message, /401/);
  assert.ok(front.refused > refusedBefore);
  const hits = scanForCanaries([ok.stdout, ok.stderr, bad.stdout, bad.stderr].join('\n'), [token]);
  assert.equal(hits.length, 0, describeHits(hits));
});
