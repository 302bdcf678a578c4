// OpenAPI import: connhub (`connhub openapi-import`, C) against @apidevtools/swagger-parser
// (validate + dereference, Node) on the largest corpus specs, in one run, on this machine.
// Each side runs in its own process and reports its own import time and peak RSS; best of
// BENCH_OPENAPI_RUNS (default 3). Prints both and the ratios (targets for GitHub: >= 10x faster,
// >= 5x less memory).
//   node bench/openapi.mjs            (after `make`; uses build/connhub, tests/e2e/node_modules)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpFromHeader } from './help.mjs';

helpFromHeader(import.meta.url);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpus = process.env.CONNHUB_OPENAPI_CORPUS || path.join(root, 'tests', '.corpus', 'openapi');
const bin = process.env.CONNHUB_BIN || path.join(root, 'build', 'connhub');
const runs = Number(process.env.BENCH_OPENAPI_RUNS || 3);
const specs = [
  ['github-api.github.com.oas30.json', {}],
  ['stripe.apisguru.oas30.json', {}],
  ['kubernetes-1.13.swagger20.json', { base: 'https://k8s.example.com' }],
  ['msgraph-v1.0.apisguru.oas30.json', {}],
];

// The Node side: a child process per run, so its peak RSS is its own.
const nodeScript = `
const SwaggerParser = require(${JSON.stringify(path.join(root, 'tests/e2e/node_modules/@apidevtools/swagger-parser'))});
const fs = require('fs');
(async () => {
  const t0 = process.hrtime.bigint();
  const text = fs.readFileSync(process.argv[1], 'utf8');
  const api = JSON.parse(text);
  let ok = true, err = '';
  try { await SwaggerParser.validate(structuredClone(api)); } catch (e) { ok = false; err = String(e.message).slice(0, 120); }
  await SwaggerParser.dereference(api);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(JSON.stringify({ ms, peak_rss_kib: process.resourceUsage().maxRSS, valid: ok, err }));
})().catch((e) => { console.log(JSON.stringify({ error: String(e.message) })); });
`;

function best(fn) {
  let out = null;
  for (let i = 0; i < runs; i++) {
    const r = fn();
    if (!out || r.ms < out.ms) out = { ...r, peak_rss_kib: Math.max(r.peak_rss_kib, out?.peak_rss_kib ?? 0) };
  }
  return out;
}

const rows = [];
for (const [file, opt] of specs) {
  const p = path.join(corpus, file);
  if (!fs.existsSync(p)) { console.log(`skip ${file}: not found`); continue; }
  const c = best(() => {
    const args = ['openapi-import', p, ...(opt.base ? ['--base-url', opt.base] : [])];
    const j = JSON.parse(execFileSync(bin, args, { maxBuffer: 1 << 26 }).toString());
    return { ms: j.import_ms, peak_rss_kib: j.peak_rss_kib, ops: j.operations };
  });
  const n = best(() => {
    const j = JSON.parse(execFileSync(process.execPath, ['-e', nodeScript, p], { maxBuffer: 1 << 26 }).toString());
    if (j.error) throw new Error(`${file}: swagger-parser: ${j.error}`);
    return j;
  });
  rows.push({ file, sizeMB: (fs.statSync(p).size / 1e6).toFixed(1), ops: c.ops, c, n });
}

const pad = (s, w) => String(s).padStart(w);
console.log(`OpenAPI import, best of ${runs}: connhub (C, import incl. reading the file) vs swagger-parser 13 (validate + dereference)`);
console.log(`${'spec'.padEnd(36)} ${pad('MB', 5)} ${pad('ops', 6)} | ${pad('connhub ms', 10)} ${pad('MiB', 6)} | ${pad('node ms', 8)} ${pad('MiB', 6)} | ${pad('speed', 7)} ${pad('memory', 7)}`);
for (const r of rows) {
  const sp = r.n.ms / r.c.ms, mem = r.n.peak_rss_kib / r.c.peak_rss_kib;
  console.log(`${r.file.padEnd(36)} ${pad(r.sizeMB, 5)} ${pad(r.ops, 6)} | ${pad(r.c.ms, 10)} ${pad((r.c.peak_rss_kib / 1024).toFixed(0), 6)} | ${pad(r.n.ms.toFixed(0), 8)} ${pad((r.n.peak_rss_kib / 1024).toFixed(0), 6)} | ${pad(sp.toFixed(1) + 'x', 7)} ${pad(mem.toFixed(1) + 'x', 7)}`);
}
const gh = rows.find((r) => r.file.startsWith('github'));
if (gh) {
  const sp = gh.n.ms / gh.c.ms, mem = gh.n.peak_rss_kib / gh.c.peak_rss_kib;
  console.log(`${sp >= 10 ? 'PASS' : 'MISS'}  GitHub spec at least 10x faster: ${sp.toFixed(1)}x`);
  console.log(`${mem >= 5 ? 'PASS' : 'MISS'}  GitHub spec at least 5x less memory: ${mem.toFixed(1)}x`);
}
