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
 * `served` counts the requests it passed on. */
export async function startBearerFront(target, token, { host = '127.0.0.2' } = {}) {
  const t = new URL(target);
  let refused = 0, served = 0;
  const server = http.createServer((req, res) => {
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
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
