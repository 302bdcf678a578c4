// Starts @modelcontextprotocol/server-everything (from tests/e2e/node_modules, installed by
// `npm ci`) on a loopback address. The server has no host option, so a preload makes its
// listen() bind `host` only. Optionally a bearer-checking front (a few lines of node:http)
// stands before it, proxying to the peer: a real MCP server that needs a token.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const PEER_JS = path.join(here, '..', 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');

function freePort(host) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ port: 0, host }, () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** mode: 'streamableHttp' or 'sse'; port: a fixed one (e.g. to restart a peer where it was).
 * Returns {url (base), port, mcpUrl, sseUrl, stop()}. */
export async function startEverything(mode, { host = '127.0.0.2', port: fixedPort } = {}) {
  if (!fs.existsSync(PEER_JS)) throw new Error(`MCP peer missing: ${PEER_JS} (run tools/install-deps)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connhub-mcp-'));
  const preload = path.join(dir, 'loopback-only.cjs');
  fs.writeFileSync(preload, `const net = require('net');
const orig = net.Server.prototype.listen;
net.Server.prototype.listen = function (...a) {
  if (typeof a[0] === 'number' || (typeof a[0] === 'string' && /^\\d+$/.test(a[0]))) {
    const cb = a.find((x) => typeof x === 'function');
    return orig.call(this, { port: Number(a[0]), host: ${JSON.stringify(host)} }, cb);
  }
  return orig.apply(this, a);
};
`);
  const port = fixedPort || (await freePort(host));
  const proc = spawn(process.execPath, ['-r', preload, PEER_JS, mode], {
    env: { PATH: process.env.PATH, HOME: dir, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const url = `http://${host}:${port}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`MCP peer exited: ${out}`);
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`MCP peer did not start: ${out}`); }
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, host, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, port, mcpUrl: `${url}/mcp`, sseUrl: `${url}/sse`,
    async stop() {
      if (proc.exitCode === null) { proc.kill('SIGTERM'); await new Promise((r) => proc.once('exit', r)); }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A front on host:0 that answers 401 unless `Authorization: Bearer <token>`, else proxies to target.
 * `served` counts the requests it passed on. Setting `fail = {status, count}` makes the next
 * `count` requests fail with that status (401 or 500) whatever they carry, the answer echoing
 * the Authorization header it got (a server that repeats the credential it refuses, LEAK-011). */
export async function startBearerFront(target, token, { host = '127.0.0.2' } = {}) {
  const t = new URL(target);
  let refused = 0, served = 0, fail = null;
  const server = http.createServer((req, res) => {
    if (fail && fail.count > 0) {
      fail.count -= 1;
      const auth = req.headers.authorization || '';
      const headers = { 'content-type': 'application/json' };
      if (fail.status === 401) headers['www-authenticate'] = `Bearer error="invalid_token", error_description="${auth} was revoked"`;
      res.writeHead(fail.status, headers);
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: `refused ${auth}` } }));
      req.resume();
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      refused++;
      res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'application/json' });
      res.end('{"error":"invalid_token"}');
      return;
    }
    served++;
    const up = http.request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      // Pass bytes on as they come, but end the response a little later: the client must not
      // mistake "data, then (separately) the end of the transfer" for a missing answer.
      ur.on('data', (d) => res.write(d));
      ur.on('end', () => setTimeout(() => res.end(), 20));
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen({ port: 0, host }, resolve));
  return {
    url: `http://${host}:${server.address().port}`,
    get refused() { return refused; },
    get served() { return served; },
    set fail(f) { fail = f; },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

/** Writes, in dir, a preload (`node -r FILE`) that makes every listen() on all interfaces
 * (no host, '::' or '0.0.0.0') bind 127.0.0.1 instead, synchronously, so code that reads
 * server.address() right after listen(0) keeps working: for peers that start their own
 * servers without a host option (the conformance suite's scenario servers). */
export function writeLoopbackPreload(dir) {
  const file = path.join(dir, 'listen-loopback.cjs');
  fs.writeFileSync(file, `const net = require('net');
const orig = net.Server.prototype._listen2;
net.Server.prototype._listen2 = function (address, port, addressType, ...rest) {
  if (address == null || address === '::' || address === '0.0.0.0') return orig.call(this, '127.0.0.1', port, 4, ...rest);
  return orig.call(this, address, port, addressType, ...rest);
};
`);
  return file;
}

/** Runs cmd args to completion without blocking the event loop (in-process peers keep
 * answering): {code, signal, stdout, stderr}. Killed (SIGKILL) after timeout ms. */
export function runAsync(cmd, args, { env = {}, timeout = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), timeout);
    p.on('error', (e) => { clearTimeout(t); reject(e); });
    p.on('close', (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}

/** Starts lib/mcp_sdk_server.mjs (a TypeScript-SDK server: run-time tool changes, progress, a
 * stream closed before the answer) on host. Returns {url, mcpUrl, stats(), stop()}. */
export async function startSdkPeer({ host = '127.0.0.2' } = {}) {
  const proc = spawn(process.execPath, [path.join(here, 'mcp_sdk_server.mjs'), host, '0'], {
    env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`SDK peer did not start: ${out}`)); }, 15000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    proc.stderr.on('data', (d) => { out += d; });
    proc.once('exit', () => { clearTimeout(t); reject(new Error(`SDK peer exited: ${out}`)); });
  });
  const url = `http://${host}:${port}`;
  return {
    url, mcpUrl: `${url}/mcp`,
    async stats() { return (await fetch(`${url}/stats`)).json(); },
    async stop() {
      if (proc.exitCode === null) { proc.kill('SIGTERM'); await new Promise((r) => proc.once('exit', r)); }
    },
  };
}
