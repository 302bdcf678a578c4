// Running the connhub binary in end-to-end tests.
//
//   const dir = tempDir();
//   const srv = await startServer({dbPath: `${dir}/c.db`, allowPrivate: '127.0.0.2/32'});
//   const a = api(srv.url, token);
//   const r = await a.post('/api/connections', {...});   // {status, headers, json, text}
//   await srv.stop();                                     // exit code
//   cleanup();                                            // removes every tempDir()
//
// The binary is $CONNHUB_BIN (tools/run-tests sets it), else build/connhub.
//
// Backends. With CONNHUB_E2E_DB=postgres (tools/run-tests sets it for its PostgreSQL pass, with
// CONNHUB_TEST_PG naming a throwaway cluster from tools/with-pg), every database path a test uses
// stands for a fresh PostgreSQL database of its own: dbUrl(path) creates it on first use, and
// startServer() and runCli() turn `--db sqlite:PATH` into that database's URL, so the same test
// file runs on both backends. Tests of something only SQLite has (a file, --dev's key file next
// to it) say so with `{ skip: SQLITE_ONLY }`.
// Unless the caller gives INTEGRATION_ENCRYPTION_KEY (in env or in the
// environment) or passes --dev, startServer() generates one and returns it as
// `key`, so a test can restart the server on the same database.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const CONNHUB_BIN = process.env.CONNHUB_BIN || 'build/connhub';
export const ON_PG = process.env.CONNHUB_E2E_DB === 'postgres';
/** Is a PostgreSQL cluster at hand (CONNHUB_TEST_PG, from tools/with-pg)? */
export const HAVE_PG = Boolean(process.env.CONNHUB_TEST_PG);
/** For `test(name, { skip: SQLITE_ONLY }, fn)`: false on SQLite, the reason on PostgreSQL. */
export const SQLITE_ONLY = ON_PG && 'SQLite only (a database file)';
const PG_BASE = process.env.CONNHUB_TEST_PG || '';
const PG_BIN = process.env.CONNHUB_TEST_PG_BIN || '';
if (ON_PG && !PG_BASE) throw new Error('CONNHUB_E2E_DB=postgres needs CONNHUB_TEST_PG (run under tools/with-pg)');
const HEALTH_TIMEOUT_MS = 15000;

const tempDirs = [];

/** A fresh folder under os.tmpdir(); removed by cleanup(). */
export function tempDir(prefix = 'connhub-e2e-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

const liveServers = new Set();

/** Kills every server startServer() started that is still running (a failed assertion must not
 * leave one behind: its open pipes would keep the test runner waiting forever), then removes
 * every folder made by tempDir(). */
export function cleanup() {
  for (const p of liveServers) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  liveServers.clear();
  for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  for (const name of pgDatabases.splice(0)) pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  pgUrls.clear();
}

// ---- PostgreSQL databases standing for database paths ----

const pgUrls = new Map(); // path -> URL
const pgDatabases = [];
let pgSeq = 0;

/** Runs one SQL statement on the cluster's maintenance database (psql). */
export function pgAdmin(sql, url = PG_BASE) {
  const psql = PG_BIN ? path.join(PG_BIN, 'psql') : 'psql';
  const r = spawnSync(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', '-d', url, '-c', sql], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`psql: ${sql}: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

/** The whole database at url as SQL text (pg_dump), e.g. to scan it for canaries. */
export function pgDump(url) {
  const bin = PG_BIN ? path.join(PG_BIN, 'pg_dump') : 'pg_dump';
  const r = spawnSync(bin, ['--no-owner', '-d', url], { encoding: 'utf8', timeout: 60000, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`pg_dump: ${r.stderr || r.error}`);
  return r.stdout;
}

/** Runs one SQL statement on a running server's database (sqlite3 CLI, or psql on PostgreSQL);
 * its output as text. For planting what the API cannot (an expired flow record, a dead lease). */
export function serverSql(srv, stmt) {
  if (!srv.dbUrl.startsWith('sqlite:')) return pgAdmin(stmt, srv.dbUrl);
  const r = spawnSync('sqlite3', [srv.dbUrl.slice(7), stmt], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3: ${stmt}: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

/** A new empty PostgreSQL database; its URL (with the cluster's password). */
export function pgDatabase() {
  const name = `e2e_${process.pid}_${++pgSeq}`;
  pgAdmin(`CREATE DATABASE ${name}`);
  pgDatabases.push(name);
  const u = new URL(PG_BASE);
  u.pathname = `/${name}`;
  return u.href;
}

/** The --db URL for a database path: sqlite:PATH, or (ON_PG) a database of its own. */
export function dbUrl(dbPath) {
  if (!ON_PG) return `sqlite:${dbPath}`;
  if (!pgUrls.has(dbPath)) pgUrls.set(dbPath, pgDatabase());
  return pgUrls.get(dbPath);
}

/** argv with `--db sqlite:PATH` (or `--db=sqlite:PATH`) turned into dbUrl(PATH). */
function mapDbArgs(args) {
  if (!ON_PG) return args;
  return args.map((a, i) => {
    if (a.startsWith('--db=sqlite:')) return `--db=${dbUrl(a.slice(12))}`;
    if (args[i - 1] === '--db' && a.startsWith('sqlite:')) return dbUrl(a.slice(7));
    return a;
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Runs `connhub <args>` to completion: {code, signal, stdout, stderr}. */
export function runCli(args, { env = {}, input, timeout = 30000, bin = CONNHUB_BIN } = {}) {
  const r = spawnSync(bin, mapDbArgs(args), {
    env: { ...process.env, ...env },
    input,
    encoding: 'utf8',
    timeout,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error && r.error.code === 'ENOENT') throw new Error(`runCli: no binary at ${bin} (set CONNHUB_BIN)`);
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function lineCollector(stream, lines, onLine) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    rest += chunk;
    let nl;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      lines.push(line);
      onLine?.(line);
    }
  });
  stream.on('end', () => {
    if (rest) lines.push(rest);
    rest = '';
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Adds user `user` as admin of a new workspace `workspace` in the SQLite file
 * dbPath (CLI) and returns a bearer token for them.
 */
export function seedMember(dbPath, user = 'u', workspace = 'w') {
  const db = `sqlite:${dbPath}`;
  for (const args of [['user', 'add', user], ['workspace', 'add', workspace], ['member', 'add', workspace, user, '--role', 'admin']]) {
    const r = runCli([...args, '--db', db]);
    if (r.code !== 0) throw new Error(`seedMember: connhub ${args.join(' ')}: ${r.stderr}`);
  }
  return runCli(['token', 'create', '--user', user, '--workspace', workspace, '--db', db]).stdout.trim();
}

/**
 * Starts `connhub serve --listen 127.0.0.1:<port> --db <dbUrl(dbPath)> [args]`
 * and waits until GET /healthz answers 200. allowPrivate (a CIDR string, a
 * list of them, or true for 127.0.0.2/32) becomes --allow-private.
 * `db` (a URL) names the database directly instead (e.g. one from pgDatabase()).
 * Returns {url, port, proc, key, dbUrl, logs, stdout, stderr, stop(signal), kill9(), exited}.
 */
export async function startServer({
  dbPath,
  db,
  env = {},
  args = [],
  allowPrivate,
  port,
  bin = CONNHUB_BIN,
  timeout = HEALTH_TIMEOUT_MS,
} = {}) {
  if (!dbPath && !db) dbPath = path.join(tempDir(), 'connhub.db');
  if (!fs.existsSync(bin)) throw new Error(`startServer: no binary at ${bin} (set CONNHUB_BIN)`);
  port = port || (await freePort());
  const argv = ['serve', '--listen', `127.0.0.1:${port}`, '--db', db || dbUrl(dbPath)];
  if (allowPrivate) {
    const list = allowPrivate === true ? ['127.0.0.2/32'] : [].concat(allowPrivate);
    argv.push('--allow-private', list.join(','));
  }
  argv.push(...mapDbArgs(args));
  const fullEnv = { ...process.env, ...env };
  let key = fullEnv.INTEGRATION_ENCRYPTION_KEY;
  if (!key && !argv.includes('--dev')) {
    key = randomBytes(32).toString('base64');
    fullEnv.INTEGRATION_ENCRYPTION_KEY = key;
  }

  const proc = spawn(bin, argv, { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  liveServers.add(proc);
  proc.on('exit', () => liveServers.delete(proc));
  const stdout = [];
  const stderr = [];
  const logs = []; // parsed JSON log lines from stderr
  lineCollector(proc.stdout, stdout);
  lineCollector(proc.stderr, stderr, (line) => {
    try {
      logs.push(JSON.parse(line));
    } catch {
      /* not a JSON line: kept in stderr only */
    }
  });
  let exitCode = null;
  let exitSignal = null;
  proc.on('exit', (code, signal) => {
    exitCode = code;
    exitSignal = signal;
  });
  // 'close', not 'exit': by then stdout and stderr are read to the end, so output() and logs
  // after stop() hold the last lines too (the shutdown's, a sanitizer report)
  const exited = new Promise((resolve) => {
    proc.on('close', (code, signal) => resolve(code ?? (signal ? `signal ${signal}` : null)));
  });
  proc.on('error', () => {});

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeout;
  let lastErr = '';
  for (;;) {
    if (exitCode !== null || exitSignal !== null) {
      throw new Error(
        `connhub exited before /healthz answered (code ${exitCode}, signal ${exitSignal})\n` +
          `argv: ${argv.join(' ')}\nstderr:\n${stderr.join('\n')}`,
      );
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      await exited;
      throw new Error(
        `connhub: /healthz did not answer 200 within ${timeout} ms (${lastErr})\nstderr:\n${stderr.join('\n')}`,
      );
    }
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.status === 200) break;
      lastErr = `status ${r.status}`;
    } catch (e) {
      lastErr = e.cause?.code || e.message;
    }
    await sleep(50);
  }

  return {
    url,
    port,
    proc,
    key,
    dbPath,
    dbUrl: argv[argv.indexOf('--db') + 1],
    logs,
    stdout,
    stderr,
    exited,
    /** All of stdout and stderr as one string (for leak scans). */
    output() {
      return stdout.join('\n') + '\n' + stderr.join('\n');
    },
    /** Sends signal and waits for the exit and the end of its output; returns the exit code (or
     * "signal X"). */
    async stop(signal = 'SIGTERM') {
      if (exitCode === null && exitSignal === null) proc.kill(signal);
      return exited;
    },
    async kill9() {
      if (exitCode === null && exitSignal === null) proc.kill('SIGKILL');
      return exited;
    },
  };
}

/**
 * A small fetch wrapper: await a.get(path), a.post(path, body), a.patch, a.put, a.del.
 * Each returns {status, headers (a plain object), json (or null), text}.
 */
export function api(baseUrl, token, { headers: extraHeaders = {} } = {}) {
  async function call(method, p, body, opts = {}) {
    const headers = { ...extraHeaders, ...(opts.headers || {}) };
    if (token) headers.authorization = `Bearer ${token}`;
    let payload;
    if (body !== undefined) {
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        payload = body;
      } else {
        payload = JSON.stringify(body);
        headers['content-type'] ??= 'application/json';
      }
    }
    const r = await fetch(baseUrl + p, { method, headers, body: payload, redirect: 'manual' });
    const text = await r.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: r.status, headers: Object.fromEntries(r.headers), json, text };
  }
  return {
    get: (p, opts) => call('GET', p, undefined, opts),
    post: (p, body, opts) => call('POST', p, body, opts),
    put: (p, body, opts) => call('PUT', p, body, opts),
    patch: (p, body, opts) => call('PATCH', p, body, opts),
    del: (p, opts) => call('DELETE', p, undefined, opts),
    request: call,
  };
}
