// Crash safety (catalogue parts B and G): `connhub rekey` killed with SIGKILL at random points,
// cycle after cycle, while a server keeps updating secrets (CRY-021, DUR-011); the server itself
// killed with SIGKILL mid-load, cycle after cycle, against the harness's log of acknowledged
// operations (DUR-002); an online backup taken during writes (DUR-009); PostgreSQL stopped
// with -m immediate under load and started again (DUR-006, PostgreSQL only). Runs on SQLite and, with
// CONNHUB_E2E_DB=postgres, on PostgreSQL.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { makeCanary, scanForCanaries, describeHits } from './lib/canary.mjs';
import { api, cleanup, CONNHUB_BIN, ON_PG, pgAdmin, pgDatabase, pgDump, runCli, startServer, tempDir } from './lib/server.mjs';
import { startUpstream } from './lib/upstream.mjs';

let up;
after(async () => {
  await up?.close();
  cleanup();
});

const KEY1 = randomBytes(32).toString('base64');
const KEY2 = randomBytes(32).toString('base64');

/** A workspace w with admin alice; her API token. */
function seed(db) {
  for (const a of [['user', 'add', 'alice'], ['workspace', 'add', 'w'], ['member', 'add', 'w', 'alice', '--role', 'admin']]) {
    const r = runCli([...a, '--db', `sqlite:${db}`]);
    assert.equal(r.code, 0, r.stderr);
  }
  const r = runCli(['token', 'create', '--user', 'alice', '--workspace', 'w', '--db', `sqlite:${db}`]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** Starts `connhub rekey` on dbUrl with primary key `primary` (the other one previous); kills it
 * with SIGKILL after killAfterMs unless it ended first. Resolves {code, signal, out}. */
function rekey(dbUrl, primary, previous, killAfterMs) {
  return new Promise((resolve) => {
    const p = spawn(CONNHUB_BIN, ['rekey', '--db', dbUrl], {
      env: { ...process.env, INTEGRATION_ENCRYPTION_KEY: primary, INTEGRATION_ENCRYPTION_KEY_PREVIOUS: previous },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const t = killAfterMs == null ? null : setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    p.on('close', (code, signal) => {
      if (t) clearTimeout(t);
      resolve({ code, signal, out });
    });
  });
}

/** How many secrets each key id seals, as a list of counts (read beside the server). */
function keyCounts(srv) {
  const sql = 'SELECT count(*) FROM secrets GROUP BY key_id ORDER BY 1';
  const text = ON_PG ? pgAdmin(sql, srv.dbUrl)
    : spawnSync('sqlite3', [srv.dbUrl.slice('sqlite:'.length), sql], { encoding: 'utf8' }).stdout.trim();
  return text.split('\n').filter(Boolean).map(Number);
}

test('CRY-021, DUR-011: rekey killed with SIGKILL at random points for 50 cycles resumes; no secret undecryptable, no update lost', async () => {
  const N = 60;
  const dir = tempDir();
  const db = path.join(dir, 'c.db');
  const tok = seed(db);
  up = await startUpstream({ host: '127.0.0.2' });
  // the server holds both keys all along and writes under KEY1; each rekey cycle re-seals every
  // secret under the other key, so there is always work for a kill to interrupt
  let srv = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32', env: { INTEGRATION_ENCRYPTION_KEY: KEY1, INTEGRATION_ENCRYPTION_KEY_PREVIOUS: KEY2 } });
  let A = api(srv.url, tok);
  const conns = [];
  const expected = []; // the last acknowledged token of each connection
  const canaries = [];
  for (let i = 0; i < N; i++) {
    const t = makeCanary(`rk${i}`);
    const r = await A.post('/api/connections', { name: `R${i}`, base_url: up.url, auth: { type: 'bearer', token: t },
      operations: [{ name: 'get', method: 'GET', path: `/r/${i}` }] });
    assert.equal(r.status, 201, r.text);
    conns.push(r.json);
    expected.push(t);
    canaries.push(t);
  }
  // one uninterrupted run sets the scale of the random kill points
  const t0 = Date.now();
  const full = await rekey(srv.dbUrl, KEY2, KEY1, null);
  assert.equal(full.code, 0, full.out);
  assert.match(full.out, new RegExp(`scanned ${N}, re-sealed ${N}, already current 0, changed meanwhile 0, failed 0`));
  const span = Math.max(20, Date.now() - t0);
  const outputs = [full.out];

  let killed = 0;
  let cycles = 0;
  let midway = 0; // kills that left both keys in use (beyond the one concurrent update)
  for (; killed < 50 && cycles < 200; cycles++) {
    const [primary, previous] = cycles % 2 === 0 ? [KEY1, KEY2] : [KEY2, KEY1];
    const run = rekey(srv.dbUrl, primary, previous, randomInt(0, span));
    // an update acknowledged while the rekey runs (or is being killed) must survive it
    const i = randomInt(0, N);
    const t = makeCanary(`rk${i}c${cycles}`);
    const r = await A.patch(`/api/connections/${conns[i].id}`, { auth: { type: 'bearer', token: t } });
    assert.equal(r.status, 200, r.text);
    expected[i] = t;
    canaries.push(t);
    const res = await run;
    outputs.push(res.out);
    if (res.signal === 'SIGKILL') {
      killed++;
      const kc = keyCounts(srv);
      if (kc.length === 2 && kc[0] >= 2) midway++;
    } else assert.equal(res.code, 0, res.out);
  }
  assert.equal(killed, 50, `only ${killed} of ${cycles} rekey runs were killed before they ended`);
  // (typically ~40 of the 50 land mid-rewrap; the rest before the first or after the last row)
  assert.ok(midway >= 1, 'no kill landed in the middle of a rewrap');

  // the job resumes: one more run finishes the rewrap under KEY2, every secret opens
  const last = await rekey(srv.dbUrl, KEY2, KEY1, null);
  assert.equal(last.code, 0, last.out);
  assert.match(last.out, new RegExp(`scanned ${N}, re-sealed \\d+, already current \\d+, changed meanwhile \\d+, failed 0`));
  outputs.push(last.out);
  await srv.stop();
  outputs.push(srv.output());

  // KEY2 alone: the start-up check finds no secret left under KEY1, and each call sends the
  // last acknowledged value
  srv = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32', env: { INTEGRATION_ENCRYPTION_KEY: KEY2, INTEGRATION_ENCRYPTION_KEY_PREVIOUS: '' } });
  A = api(srv.url, tok);
  for (let i = 0; i < N; i++) {
    const r = await A.post('/api/actions/call', { actionIdentifier: `${conns[i].slug}.get`, input: {} });
    assert.equal(r.json.ok, true, r.text);
    assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${expected[i]}`, `connection ${i}: a lost update`);
  }
  await srv.stop();
  outputs.push(srv.output());
  // CRY-023 as well: no canary in any rekey or server output
  const hits = scanForCanaries(outputs.join('\n'), canaries);
  assert.equal(hits.length, 0, describeHits(hits));
});

test('DUR-002: the server killed with SIGKILL mid-load, 10 cycles: every acknowledged create, update and delete is there after each restart; the database is intact and every secret opens', async () => {
  const CYCLES = 10;
  const WORKERS = 4;
  const dir = tempDir();
  const db = path.join(dir, 'k.db');
  const tok = seed(db);
  const env = { INTEGRATION_ENCRYPTION_KEY: KEY1, INTEGRATION_ENCRYPTION_KEY_PREVIOUS: '' };
  // the harness's ack log: id -> {acked: name of the last 2xx, pending: a name sent but not
  // answered when the server died, gone: deleted with a 2xx, goingAway: delete unanswered}
  const log = new Map();
  let seq = 0;
  let srv;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    srv = await startServer({ dbPath: db, env });
    const A = api(srv.url, tok);
    // after a restart: every acknowledged operation is visible
    for (const [id, s] of log) {
      const r = await A.get(`/api/connections/${id}`);
      if (s.gone) assert.equal(r.status, 404, `cycle ${cycle}: acknowledged delete of ${id} undone`);
      else if (s.goingAway && r.status === 404) s.gone = true;
      else {
        assert.equal(r.status, 200, `cycle ${cycle}: acknowledged ${id} lost: ${r.text}`);
        assert.ok([s.acked, s.pending].includes(r.json.name), `cycle ${cycle}: ${id} is "${r.json.name}", acknowledged "${s.acked}"`);
        s.acked = r.json.name; // what is stored now is the base of the next cycle
      }
      s.pending = undefined;
      s.goingAway = false;
    }
    let dead = false;
    const busy = new Set();
    const worker = async () => {
      while (!dead) {
        const live = [...log.entries()].filter(([id, s]) => !s.gone && !s.goingAway && !busy.has(id));
        const roll = randomInt(0, 10);
        try {
          if (live.length < 3 || roll < 5) {
            const name = `D${++seq}`;
            const r = await A.post('/api/connections', { name, base_url: 'https://d.example.com', auth: { type: 'bearer', token: makeCanary(`d${seq}`) } });
            assert.equal(r.status, 201, r.text);
            log.set(r.json.id, { acked: name });
          } else {
            const [id, s] = live[randomInt(0, live.length)];
            busy.add(id);
            if (roll < 9) {
              const name = `U${++seq}`;
              s.pending = name;
              const r = await A.patch(`/api/connections/${id}`, { name, auth: { type: 'bearer', token: makeCanary(`u${seq}`) } });
              assert.equal(r.status, 200, r.text);
              s.acked = name;
              s.pending = undefined;
            } else {
              s.goingAway = true;
              const r = await A.del(`/api/connections/${id}`);
              assert.equal(r.status, 200, r.text);
              s.gone = true;
            }
            busy.delete(id);
          }
        } catch (e) {
          if (!dead) throw e; // a request cut by the kill is simply not acknowledged
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, worker);
    await new Promise((r) => setTimeout(r, randomInt(50, 400)));
    dead = true;
    await srv.kill9();
    await Promise.all(workers);
    if (!ON_PG) {
      const ic = spawnSync('sqlite3', [db, 'PRAGMA integrity_check'], { encoding: 'utf8' });
      assert.equal(ic.stdout.trim(), 'ok', `cycle ${cycle}: ${ic.stdout}${ic.stderr}`);
    }
  }
  assert.ok([...log.values()].some((s) => s.gone), 'some deletes were acknowledged');
  assert.ok(log.size > CYCLES * 3, `only ${log.size} connections were made`);
  // every stored secret still opens (rekey opens each one under the same key)
  const rk = runCli(['rekey', '--db', srv.dbUrl], { env });
  assert.equal(rk.code, 0, rk.stdout + rk.stderr);
  assert.match(rk.stdout, /, failed 0/);
});

/** An online copy of the database while the server writes: VACUUM INTO (SQLite) or pg_dump
 * restored into a fresh database (PostgreSQL). Returns {dbPath} or {db} for startServer. */
function onlineBackup(srv, dir) {
  if (!ON_PG) {
    const copy = path.join(dir, 'backup.db');
    const r = spawnSync('sqlite3', [srv.dbUrl.slice('sqlite:'.length), `VACUUM INTO '${copy}'`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const ic = spawnSync('sqlite3', [copy, 'PRAGMA integrity_check'], { encoding: 'utf8' });
    assert.equal(ic.stdout.trim(), 'ok', ic.stdout + ic.stderr);
    return { dbPath: copy, text: fs.readFileSync(copy) };
  }
  const dump = pgDump(srv.dbUrl);
  const url = pgDatabase();
  const psql = process.env.CONNHUB_TEST_PG_BIN ? path.join(process.env.CONNHUB_TEST_PG_BIN, 'psql') : 'psql';
  const r = spawnSync(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url], { input: dump, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  return { db: url, text: Buffer.from(dump) };
}

test('DUR-009: an online backup taken during writes restores consistent and opens with the key, and is useless without it', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'b.db');
  const tok = seed(db);
  up ??= await startUpstream({ host: '127.0.0.2' });
  const env = { INTEGRATION_ENCRYPTION_KEY: KEY1, INTEGRATION_ENCRYPTION_KEY_PREVIOUS: '' };
  let srv = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32', env });
  let A = api(srv.url, tok);
  const before = [];
  const canaries = [];
  for (let i = 0; i < 5; i++) {
    const t = makeCanary(`bk${i}`);
    canaries.push(t);
    const r = await A.post('/api/connections', { name: `B${i}`, base_url: up.url, auth: { type: 'bearer', token: t },
      operations: [{ name: 'get', method: 'GET', path: `/b/${i}` }] });
    assert.equal(r.status, 201, r.text);
    before.push({ ...r.json, token: t });
  }
  // writes keep coming while the copy is taken
  let stop = false;
  let written = 0;
  const writer = (async () => {
    while (!stop) {
      const t = makeCanary(`bw${written}`);
      canaries.push(t);
      const r = await A.post('/api/connections', { name: `W${written}`, base_url: up.url, auth: { type: 'bearer', token: t } });
      assert.equal(r.status, 201, r.text);
      written++;
    }
  })();
  while (written < 3) await new Promise((r) => setTimeout(r, 10));
  const copy = onlineBackup(srv, dir);
  stop = true;
  await writer;
  await srv.stop();

  // useless without the key: no canary in it, and a server with another key refuses it
  const hits = scanForCanaries(copy.text.toString('latin1'), canaries);
  assert.equal(hits.length, 0, describeHits(hits));
  const other = runCli(['serve', '--listen', '127.0.0.1:1', '--db', copy.db ?? `sqlite:${copy.dbPath}`], { env: { INTEGRATION_ENCRYPTION_KEY: KEY2 } });
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /stored secrets are sealed with key id/);

  // restored with the key: consistent (every row of the copy opens) and complete up to the copy
  srv = await startServer({ ...(copy.db ? { db: copy.db } : { dbPath: copy.dbPath }), allowPrivate: '127.0.0.2/32', env });
  A = api(srv.url, tok);
  const list = await A.get('/api/connections?limit=100');
  assert.equal(list.status, 200, list.text);
  const names = list.json.connections.map((c) => c.name);
  for (const b of before) assert.ok(names.includes(b.name), `${b.name} written before the copy is in it`);
  assert.ok(names.length >= before.length + 3, 'the writes acknowledged before the copy are in it');
  for (const b of before) {
    const r = await A.post('/api/actions/call', { actionIdentifier: `${b.slug}.get`, input: {} });
    assert.equal(r.json.ok, true, r.text);
    assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${b.token}`);
  }
  await srv.stop();
  const rk = runCli(['rekey', '--db', srv.dbUrl], { env });
  assert.equal(rk.code, 0, rk.stdout + rk.stderr);
  assert.match(rk.stdout, new RegExp(`scanned ${names.length}, .* failed 0`));
});

test('DUR-006: PostgreSQL stopped with -m immediate under load: acknowledged creates survive, requests in the outage fail cleanly (503), the server reconnects on its own', { skip: (!ON_PG || !process.env.CONNHUB_TEST_PG_RESTART) && 'PostgreSQL only (tools/with-pg restarts its cluster)' }, async () => {
  const restart = (what) => {
    const r = spawnSync(process.env.CONNHUB_TEST_PG_RESTART, [what], { encoding: 'utf8', timeout: 90000 });
    assert.equal(r.status, 0, `pg ${what}: ${r.stderr}`);
  };
  const dir = tempDir();
  const db = path.join(dir, 'pg6.db');
  const tok = seed(db);
  const srv = await startServer({ dbPath: db, env: { INTEGRATION_ENCRYPTION_KEY: KEY1 }, args: ['--threads', '2'] });
  const A = api(srv.url, tok);
  const acked = [];
  const failures = [];
  let seq = 0;
  let phase = 'before';
  const byPhase = { before: 0, down: 0, after: 0 };
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const name = `Pg ${seq++}`;
      const t0 = Date.now();
      let r;
      try {
        r = await A.post('/api/connections', { name, base_url: 'https://pg.example.com', auth: { type: 'bearer', token: `tok-${name}` } });
      } catch (e) {
        failures.push({ phase, status: 0, text: String(e) });
        continue;
      }
      assert.ok(Date.now() - t0 < 30000, `a create took ${Date.now() - t0} ms`);
      if (r.status === 201) {
        acked.push(r.json.id);
        byPhase[phase]++;
      } else {
        // in the outage: a clear 503 (or the 500 of a write that may have been applied), never a hang
        assert.ok([503, 500].includes(r.status), `${phase}: ${r.status} ${r.text}`);
        assert.ok(r.json?.error?.code, `an error body names its code: ${r.text}`);
        failures.push({ phase, status: r.status, code: r.json.error.code });
      }
      if (phase === 'down') await new Promise((res) => setTimeout(res, 20));
    }
  };
  try {
    const workers = Array.from({ length: 4 }, worker);
    await new Promise((res) => setTimeout(res, 800));
    phase = 'down';
    restart('stop-immediate');
    await new Promise((res) => setTimeout(res, 1000));
    restart('start');
    phase = 'after';
    // the server reconnects by itself: creates succeed again within seconds
    const deadline = Date.now() + 20000;
    while (byPhase.after < 20 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    stop = true;
    await Promise.all(workers);
  } finally {
    stop = true;
    if (spawnSync('sh', ['-c', `"${process.env.CONNHUB_TEST_PG_BIN}/pg_isready" -d "${process.env.CONNHUB_TEST_PG}"`]).status !== 0) restart('start');
  }
  assert.ok(byPhase.before > 0, 'creates before the outage');
  assert.ok(failures.some((f) => f.phase === 'down'), `the outage was seen: ${JSON.stringify(byPhase)}`);
  assert.ok(byPhase.after >= 20, `creates after the restart: ${JSON.stringify(byPhase)}; failures ${JSON.stringify(failures.slice(-3))}`);
  // every acknowledged create is there, with its secret
  for (const id of acked) {
    const r = await A.get(`/api/connections/${id}`);
    assert.equal(r.status, 200, `acknowledged ${id} lost: ${r.text}`);
    assert.deepEqual(r.json.auth.secrets_set, ['token']);
  }
  assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
  await srv.stop();
});
