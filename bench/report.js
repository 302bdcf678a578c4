#!/usr/bin/env node
// Helper for bench/run (node only, no packages).
//   report.js quiet MAXSEC IDLEFRAC SAMPLEMS CPULIST  wait until those CPUs are idle enough;
//                                                     prints {"idle":[..],"waited_s":N}
//   report.js check RUNS.jsonl                        exit 1 if the last run had errors/non-2xx
//   report.js report RESDIR                           table, ratios and verdicts
'use strict';
const fs = require('fs');
const path = require('path');

function cpuTimes() {
  const out = {};
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].trim().split(/\s+/).map(Number);
    const idle = v[3] + (v[4] || 0);
    out[m[1]] = { idle, total: v.reduce((a, b) => a + b, 0) };
  }
  return out;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function quiet(maxS, frac, sampleMs, cpus) {
  const t0 = Date.now();
  let idle = [];
  for (;;) {
    const a = cpuTimes();
    await sleep(sampleMs);
    const b = cpuTimes();
    idle = cpus.map((c) => {
      const dt = b[c].total - a[c].total;
      return dt > 0 ? (b[c].idle - a[c].idle) / dt : 1;
    });
    if (idle.every((x) => x >= frac) || Date.now() - t0 >= maxS * 1000) break;
  }
  const waited = (Date.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ idle: idle.map((x) => +x.toFixed(3)), waited_s: +waited.toFixed(1),
    quiet: idle.every((x) => x >= frac) }) + '\n');
}

function errorsOf(w) {
  return w.err_connect + w.err_read + w.err_write + w.err_timeout;
}

function check(file) {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const r = JSON.parse(lines[lines.length - 1]);
  const w = r.wrk;
  if (w.non2xx > 0 || errorsOf(w) > 0 || w.requests === 0) {
    console.error(`bench: ${r.scenario} run ${r.run}: ${w.requests} requests, non-2xx ${w.non2xx}, ` +
      `socket errors connect ${w.err_connect} read ${w.err_read} write ${w.err_write} timeout ${w.err_timeout}`);
    process.exit(1);
  }
}

const median = (xs) => {
  const s = xs.filter((x) => x != null && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const fmtLat = (us) => {
  if (!Number.isFinite(us)) return '-';
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 100000) return `${(us / 1000).toFixed(2)} ms`;
  return `${(us / 1000).toFixed(0)} ms`;
};
const fmt1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '-');

function table(head, rows) {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => '| ' + r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join(' | ') + ' |';
  return [line(head), '|' + w.map((x, i) => (i === 0 ? '-'.repeat(x + 2) : '-'.repeat(x + 1) + ':')).join('|') + '|',
    ...rows.map(line)].join('\n');
}

function report(dir) {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const runsFile = path.join(dir, 'runs.jsonl');
  const runs = fs.existsSync(runsFile)
    ? fs.readFileSync(runsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const byScen = new Map();
  for (const r of runs) {
    if (!byScen.has(r.scenario)) byScen.set(r.scenario, []);
    byScen.get(r.scenario).push(r);
  }
  const S = {};
  for (const [name, rs] of byScen) {
    const rps = rs.map((r) => r.wrk.requests / (r.wrk.duration_us / 1e6));
    S[name] = {
      name, conns: rs[0].conns, runs: rs.length,
      rps: median(rps), rpsAll: rps,
      p50: median(rs.map((r) => r.wrk.p50_us)),
      p99: median(rs.map((r) => r.wrk.p99_us)),
      cpu: median(rs.map((r) => (r.cpu_ticks / r.clk_tck) * 1e6 / r.wrk.requests)),
      thBefore: Math.min(...rs.map((r) => r.threads_before)),
      thMax: Math.max(...rs.map((r) => r.threads_max)),
      thAfter: Math.max(...rs.map((r) => r.threads_after)),
      requests: rs.reduce((a, r) => a + r.wrk.requests, 0),
      bad: rs.reduce((a, r) => a + r.wrk.non2xx + errorsOf(r.wrk), 0),
      notQuiet: rs.filter((r) => r.quiet && r.quiet.quiet === false).length,
    };
  }
  const out = [];
  const p = (s = '') => out.push(s);
  p(`connhub bench: ${meta.date}, ${meta.cpus} CPUs, server on CPU ${meta.cpu_server}, wrk + upstream on CPU ${meta.cpu_load}; ` +
    `nginx ${meta.nginx}, wrk ${meta.wrk}; ${meta.runs} x ${meta.duration_s} s per row after ${meta.warmup_s} s warm-up` +
    `${meta.quick ? ' (QUICK: indicative only)' : ''}; medians.`);
  p();
  const order = ['a_direct_c1', 'a_direct_c64', 'b_nginx_c1', 'b_nginx_c64', 'c_connhub_c1', 'c_connhub_c64',
    'd_connhub_pg_c1', 'd_connhub_pg_c64', 'a_direct_slow_c256', 'b_nginx_slow_c256', 'c_connhub_slow_c256'];
  const rows = order.filter((n) => S[n]).map((n) => {
    const s = S[n];
    return [n, s.conns, fmtInt(s.rps), s.runs > 1 ? s.rpsAll.map((x) => (x / 1000).toFixed(1) + 'k').join(' ') : '',
      fmtLat(s.p50), fmtLat(s.p99), fmt1(s.cpu), `${s.thBefore}/${s.thMax}/${s.thAfter}`, s.bad,
      s.notQuiet ? `${s.notQuiet} busy` : ''];
  });
  p(table(['scenario', 'conns', 'req/s', 'runs', 'p50', 'p99', 'CPU µs/req', 'threads b/max/a', 'errors', 'note'], rows));
  p();
  p('CPU µs/req: the server process\'s utime+stime (all threads) / requests. In a_* the server is the upstream nginx itself.');
  p('threads b/max/a: server threads before the run / most seen while it ran / after it.');

  const ratios = [];
  const ratio = (a, b) => (S[a] && S[b] ? S[a].rps / S[b].rps : NaN);
  for (const c of ['c1', 'c64']) {
    const cn = `c_connhub_${c}`, bn = `b_nginx_${c}`;
    if (S[cn] && S[bn])
      ratios.push([`connhub / nginx, -${c}`, pct(S[cn].rps / S[bn].rps), (S[cn].p99 / S[bn].p99).toFixed(2) + '×',
        (S[cn].p50 / S[bn].p50).toFixed(2) + '×', (S[cn].cpu / S[bn].cpu).toFixed(2) + '×',
        fmt1(S[cn].cpu - S[bn].cpu)]);
  }
  const slowMax = meta.slow_conns / meta.slow_delay_s;
  if (S.c_connhub_slow_c256 && S.b_nginx_slow_c256) {
    const cn = S.c_connhub_slow_c256, bn = S.b_nginx_slow_c256;
    ratios.push(['connhub / nginx, slow -c256', pct(cn.rps / bn.rps), (cn.p99 / bn.p99).toFixed(2) + '×',
      (cn.p50 / bn.p50).toFixed(2) + '×', (cn.cpu / bn.cpu).toFixed(2) + '×', fmt1(cn.cpu - bn.cpu)]);
  }
  for (const c of ['c1', 'c64']) {
    const pg = S[`d_connhub_pg_${c}`], lite = S[`c_connhub_${c}`];
    if (pg && lite)
      ratios.push([`connhub PostgreSQL / SQLite, -${c}`, pct(pg.rps / lite.rps), (pg.p99 / lite.p99).toFixed(2) + '×',
        (pg.p50 / lite.p50).toFixed(2) + '×', (pg.cpu / lite.cpu).toFixed(2) + '×', fmt1(pg.cpu - lite.cpu)]);
  }
  if (ratios.length) {
    p();
    p(table(['ratio', 'throughput', 'p99', 'p50', 'CPU/req', '+CPU µs/req'], ratios));
  }
  const backends = ['c1', 'c64'].filter((c) => S[`c_connhub_${c}`] && S[`d_connhub_pg_${c}`]);
  if (backends.length) {
    p();
    p('Action calls by database (connhub --threads 1; PostgreSQL server processes on the same core, CPU µs/req counts connhub only):');
    for (const c of backends) {
      const lite = S[`c_connhub_${c}`], pg = S[`d_connhub_pg_${c}`];
      p(`  -${c}: SQLite ${fmtInt(lite.rps)} req/s, PostgreSQL ${fmtInt(pg.rps)} req/s, PostgreSQL/SQLite ${pct(pg.rps / lite.rps)}`);
    }
  }
  const slowRows = ['a_direct_slow_c256', 'b_nginx_slow_c256', 'c_connhub_slow_c256'].filter((n) => S[n])
    .map((n) => [n, fmtInt(S[n].rps), pct(S[n].rps / slowMax), fmtLat(S[n].p99)]);
  if (slowRows.length) {
    p();
    p(`Slow upstream (${meta.slow_delay_s * 1000} ms, ${meta.slow_conns} clients): possible = clients / delay = ${fmtInt(slowMax)} req/s`);
    p(table(['scenario', 'req/s', 'of possible', 'p99'], slowRows));
  }

  const bigs = {};
  for (const name of ['big_nginx_cold', 'big_connhub_cold', 'big_nginx', 'big_connhub']) {
    const f = path.join(dir, `${name}.json`);
    if (!fs.existsSync(f)) continue;
    const b = JSON.parse(fs.readFileSync(f, 'utf8'));
    const w = b.wrk;
    b.rps = w.requests / (w.duration_us / 1e6);
    b.inflight = b.rps * (w.mean_us / 1e6); // Little's law
    b.bad = w.non2xx + errorsOf(w) + b.upstream_non2xx;
    // Each client can complete at most this many whole calls in the run (the last one is cut off).
    b.cycles = Math.max(1, Math.floor(w.duration_us / 1e6 / b.delay_s - 0.5));
    b.held = w.requests / (b.conns * b.cycles);
    bigs[name] = b;
  }
  const big = bigs.big_connhub || null;
  const bigCold = bigs.big_connhub_cold || null;
  const bigList = Object.values(bigs);
  if (bigList.length) {
    const b0 = bigList[0];
    p();
    p(`Memory: ${b0.conns} concurrent clients, upstream answers after ${b0.delay_s} s, ${(b0.wrk.duration_us / 1e6).toFixed(1)} s; ` +
      `possible = ${fmtInt(b0.conns * b0.cycles)} calls (${b0.cycles} per client); in flight = req/s × mean latency; ` +
      `*_cold: the first run on the server (every connection new, every buffer allocated for the first time), then ` +
      `the same again with new clients`);
    p(table(['scenario', 'completed', 'of possible', 'req/s', 'in flight', 'p50', 'p99', 'errors', 'RSS before', 'peak RSS (VmHWM)', 'threads b/max/a', 'CPU µs/req'],
      bigList.map((b) => {
        const w = b.wrk;
        return [b.scenario, fmtInt(w.requests), pct(b.held), fmtInt(b.rps), fmtInt(b.inflight), fmtLat(w.p50_us), fmtLat(w.p99_us),
          `${b.bad}` + (b.bad ? ` (connect ${w.err_connect}, read ${w.err_read}, write ${w.err_write}, timeout ${w.err_timeout}, non-2xx ${w.non2xx}, upstream non-2xx ${b.upstream_non2xx})` : ''),
          `${(b.rss_kb_before / 1024).toFixed(1)} MB`, `${(b.hwm_kb / 1024).toFixed(1)} MB`,
          `${b.threads_before}/${b.threads_max}/${b.threads_after}`,
          w.requests ? fmt1((b.cpu_ticks / b.clk_tck) * 1e6 / w.requests) : '-'];
      })));
  }

  // Verdicts
  const V = [];
  const verdict = (ok, name, detail) => V.push(`${ok === null ? 'n/a ' : ok ? 'PASS' : 'MISS'}  ${name}: ${detail}`);
  const c64 = S.c_connhub_c64, b64 = S.b_nginx_c64, cs = S.c_connhub_slow_c256;
  if (c64 && b64) {
    const r = c64.rps / b64.rps;
    verdict(r >= 0.4, 'throughput at 64 clients >= 40 % of nginx', `${pct(r)} (${fmtInt(c64.rps)} vs ${fmtInt(b64.rps)} req/s; ` +
      `from CPU µs/req, the noise-resistant estimate for a dedicated core: ${pct(b64.cpu / c64.cpu)})`);
    const q = c64.p99 / b64.p99;
    verdict(q <= 2, 'p99 at 64 clients <= 2x nginx', `${q.toFixed(2)}× (${fmtLat(c64.p99)} vs ${fmtLat(b64.p99)})`);
  } else verdict(null, 'connhub vs nginx at 64 clients', 'not measured');
  if (cs) {
    const r = cs.rps / slowMax;
    verdict(r >= 0.95, `slow upstream: >= 95 % of ${fmtInt(slowMax)} req/s`, `${pct(r)} (${fmtInt(cs.rps)} req/s)`);
    const lim = (meta.slow_delay_s * 1000 + 10) * 1000;
    verdict(cs.p99 < lim, `slow upstream: p99 < delay + 10 ms (${fmtLat(lim)})`, fmtLat(cs.p99));
  } else verdict(null, 'slow upstream', 'not measured');
  const c1 = S.c_connhub_c1;
  if (c1 && (cs || big)) {
    const base = Math.max(c1.thMax, c1.thBefore);
    const hi = Math.max(cs ? cs.thMax : 0, big ? big.threads_max : 0);
    verdict(hi <= base, 'thread count does not grow with concurrency',
      `${base} threads at 1 client, at most ${hi} at ${[cs && meta.slow_conns, big && big.conns].filter(Boolean).join('/')} clients`);
  } else verdict(null, 'thread count flat', 'not measured');
  if (big) {
    // VmHWM is the process's peak over both runs
    const mb = big.hwm_kb / 1024;
    const bad = big.bad + (bigCold ? bigCold.bad : 0);
    const held = big.held >= 0.95;
    verdict(mb < 256 && bad === 0 && held, `${big.conns} concurrent 1 s calls held with < 256 MB`,
      `peak RSS ${mb.toFixed(1)} MB, ${fmtInt(big.wrk.requests)} calls completed ` +
      `(${pct(big.held)} of ${fmtInt(big.conns * big.cycles)} possible), ${bad} failed in both runs, p50 ${fmtLat(big.wrk.p50_us)}`);
  } else verdict(null, 'memory at 5,000 concurrent calls', 'not measured');
  if (bigCold) {
    verdict(bigCold.held >= 0.95, `${bigCold.conns} concurrent 1 s calls on a fresh server (first run)`,
      `${fmtInt(bigCold.wrk.requests)} calls completed (${pct(bigCold.held)} of ${fmtInt(bigCold.conns * bigCold.cycles)} possible), ` +
      `p50 ${fmtLat(bigCold.wrk.p50_us)}, p99 ${fmtLat(bigCold.wrk.p99_us)}`);
  }
  p();
  p('Verdicts');
  for (const v of V) p('  ' + v);
  const summary = { meta, scenarios: S, big: bigs, verdicts: V };
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  process.stdout.write(out.join('\n') + '\n');
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'quiet') quiet(+args[0], +args[1], +args[2], args[3].split(','));
else if (cmd === 'check') check(args[0]);
else if (cmd === 'report') report(args[0]);
else {
  console.error('usage: report.js quiet|check|report ...');
  process.exit(2);
}
