// The API server's own limits (issue 2, catalogue part F): each named, each a clear 4xx or a
// closed connection, never a crash; the server keeps serving afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';

import { cleanup, runCli, seedMember, startServer, tempDir } from './lib/server.mjs';
import { startUpstream } from './lib/upstream.mjs';

let srv;

before(async () => {
  srv = await startServer({
    args: ['--max-header-bytes', '4096', '--idle-timeout', '1', '--max-body', '1000', '--max-connections', '40', '--threads', '2'],
  });
});

after(async () => {
  await srv?.stop();
  cleanup();
});

/** Sends raw bytes, returns everything the server answered until it closed (or timeout). */
function raw(bytes, { timeout = 5000, keepOpenMs = 0 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(srv.port, '127.0.0.1');
    let out = '';
    const t0 = Date.now();
    const timer = setTimeout(() => { s.destroy(); resolve({ out, closed: false, ms: Date.now() - t0 }); }, timeout);
    s.on('data', (d) => { out += d.toString('latin1'); });
    s.on('close', () => { clearTimeout(timer); resolve({ out, closed: true, ms: Date.now() - t0 }); });
    s.on('error', () => {});
    s.write(bytes);
    if (keepOpenMs === 0) return;
  });
}

test('HTTP-005: headers over --max-header-bytes get 431/414, not a crash', async () => {
  const big = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`;
  const r = await raw(big);
  assert.match(r.out, /^HTTP\/1\.1 (431|413|414|400)/, r.out.slice(0, 80));
  const longUrl = `GET /${'a'.repeat(8000)} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const r2 = await raw(longUrl);
  assert.match(r2.out, /^HTTP\/1\.1 (414|431|400)/, r2.out.slice(0, 80));
  const ok = await fetch(`${srv.url}/healthz`);
  assert.equal(ok.status, 200, 'still serving');
});

test('MAX_URL_PATH: a 2048-byte path is routed, 2049 bytes is 414', async () => {
  const at = await fetch(`${srv.url}/${'a'.repeat(2047)}`);
  assert.equal(at.status, 404);
  assert.equal((await at.json()).error.code, 'no_such_endpoint');
  const over = await fetch(`${srv.url}/${'a'.repeat(2048)}`);
  assert.equal(over.status, 414);
  assert.equal((await over.json()).error.code, 'uri_too_long');
});

test('HTTP-007: body over --max-body is 413 (declared length and chunked)', async () => {
  // With Expect: 100-continue the refusal comes before any body byte is sent.
  const early = await raw('POST /api/actions/call HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    'Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n');
  assert.match(early.out, /^HTTP\/1\.1 413/, early.out.slice(0, 80));
  assert.match(early.out, /body_too_large/);
  // Without it the declared length is refused at once and the rest of the body is discarded
  // (never buffered); a client that stops sending is closed at the idle timeout.
  const declared = await raw('POST /api/actions/call HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    'Content-Length: 5000\r\n\r\n' + 'x'.repeat(5000));
  assert.match(declared.out, /^HTTP\/1\.1 413/);
  let chunked = 'POST /api/actions/call HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
  for (let i = 0; i < 3; i++) chunked += `400\r\n${'y'.repeat(1024)}\r\n`;
  chunked += '0\r\n\r\n';
  const ch = await raw(chunked);
  assert.match(ch.out, /^HTTP\/1\.1 413/, ch.out.slice(0, 80));
});

test('HTTP-001/002: a slow client is closed at the idle timeout', async () => {
  // headers that never finish
  const r = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n', { timeout: 6000 });
  assert.equal(r.closed, true, 'closed by the server');
  assert.ok(r.ms < 5000, `closed after ${r.ms} ms`);
  // a body that never arrives
  const b = await raw('POST /api/connections HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{', { timeout: 6000 });
  assert.equal(b.closed, true);
  assert.ok(b.ms < 5000);
});

test('HTTP-006: conflicting framing is refused', async () => {
  const r = await raw('POST /api/connections HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello');
  assert.match(r.out, /^HTTP\/1\.1 4\d\d/, r.out.slice(0, 80));
  const ok = await fetch(`${srv.url}/healthz`);
  assert.equal(ok.status, 200);
});

test('HTTP-004: at --max-connections new connections wait in the backlog and are served once slots free', async () => {
  // One worker, so the cap is exact (with N workers each takes max/N, and the kernel spreads
  // connections over their sockets by hash).
  const one = await startServer({ args: ['--max-connections', '40', '--threads', '1', '--idle-timeout', '1', '--max-body', '1000'] });
  // Hold 40 idle-but-active connections, then 10 more send a request:
  // none of those is answered while the cap is reached; after the first 40 close, all 10 are.
  const open = (payload) => new Promise((resolve) => {
    const s = net.connect(one.port, '127.0.0.1', () => { if (payload) s.write(payload); resolve(s); });
    s.answer = '';
    s.on('data', (d) => { s.answer += d.toString('latin1'); });
    s.on('error', () => resolve(s));
  });
  const holders = [];
  // a request whose body never completes keeps a connection busy (idle timeout is 1 s: keep feeding it)
  for (let i = 0; i < 40; i++) holders.push(await open('POST /api/connections HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n{'));
  const feed = setInterval(() => { for (const h of holders) h.write(' '); }, 200);
  await new Promise((r) => setTimeout(r, 300));
  const waiting = [];
  for (let i = 0; i < 10; i++) waiting.push(await open('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
  await new Promise((r) => setTimeout(r, 600));
  const early = waiting.filter((s) => s.answer.startsWith('HTTP/1.1 200')).length;
  clearInterval(feed);
  for (const h of holders) h.destroy();
  // then every waiting one is answered: wait for that (bounded), not for a fixed 1.5 s
  const served = () => waiting.filter((s) => s.answer.startsWith('HTTP/1.1 200')).length;
  for (const t0 = Date.now(); served() < waiting.length && Date.now() - t0 < 15000;) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const late = served();
  for (const s of waiting) s.destroy();
  assert.equal(early, 0, 'no connection beyond the cap was served while it was reached');
  assert.equal(late, 10, 'every waiting connection was served once slots freed');
  // and it goes on serving. Just after 50 sockets closed at once it may still count some of
  // them against the cap, and libmicrohttpd closes a connection it accepts over the cap: a
  // fresh one is tried again (bounded) until the server has seen them go
  let health = null;
  for (const t0 = Date.now(); health === null && Date.now() - t0 < 10000;) {
    try {
      health = (await fetch(`${one.url}/healthz`)).status;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.equal(health, 200);
  assert.equal(await one.stop(), 0);
});

test('HTTP-003: a client that never reads a large answer is closed at the idle (write) timeout', async () => {
  const db = path.join(tempDir(), 'c.db');
  const token = seedMember(db);
  const up = await startUpstream({ host: '127.0.0.2' });
  // 7.8 MB upstream body: a ~10.4 MB answer (base64), well past what the socket buffers hold
  up.route('/big', { mode: 'huge', bytes: 7800000 });
  const one = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32', args: ['--idle-timeout', '1'] });
  try {
    const c = await fetch(`${one.url}/api/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Big', base_url: up.url, operations: [{ name: 'get', method: 'GET', path: '/big' }] }),
    });
    assert.equal(c.status, 201);
    const body = JSON.stringify({ actionIdentifier: `${(await c.json()).slug}.get`, input: {} });
    const s = net.connect(one.port, '127.0.0.1');
    let got = 0;
    let head = '';
    let closed = false;
    s.on('data', (d) => {
      if (head.length < 1024) head += d.toString('latin1', 0, Math.min(d.length, 1024));
      got += d.length;
    });
    s.on('close', () => { closed = true; });
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write(`POST /api/actions/call HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    s.pause(); // read nothing: the server's writes stall once the socket buffers are full
    await new Promise((r) => setTimeout(r, 3000)); // more than the 1 s idle timeout
    s.resume(); // now take what was buffered before the server gave up
    for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 100));
    s.destroy();
    assert.match(head, /^HTTP\/1\.1 200/, head.slice(0, 80));
    const length = Number(/content-length: (\d+)/i.exec(head)[1]);
    assert.ok(length > 10000000, `answer of ${length} bytes`);
    assert.equal(closed, true, 'closed by the server');
    assert.ok(got < length, `the answer was cut off (${got} of ${length} bytes)`);
    assert.equal((await fetch(`${one.url}/healthz`)).status, 200, 'still serving');
  } finally {
    await one.stop();
    await up.close();
  }
});

test('serve refuses the connection and call limits out of range (0 and N+1), naming the flag', () => {
  const dir = tempDir();
  for (const flag of ['--max-connections', '--max-calls', '--max-calls-per-workspace']) {
    for (const v of ['0', '1000001']) {
      const r = runCli(['serve', '--listen', '127.0.0.1:0', '--db', `sqlite:${dir}/never.db`, flag, v],
        { env: { INTEGRATION_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') } });
      assert.equal(r.code, 2, `${flag} ${v}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${flag} must be .*from 1 to 1000000`));
    }
  }
});

test('HTTP-010 (TEN-017, for executions): executions in flight are capped per workspace and in total: 429 with Retry-After, slots come back', async () => {
  const db = path.join(tempDir(), 'c.db');
  const tok = { w1: seedMember(db, 'u1', 'w1'), w2: seedMember(db, 'u2', 'w2') };
  const up = await startUpstream({ host: '127.0.0.2' });
  up.route('/slow', { mode: 'slow', delay: 3000 }); // long enough for the refusals below on a busy ASan run
  const one = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32',
    args: ['--max-calls', '3', '--max-calls-per-workspace', '2'] });
  const post = async (w, p, body) => {
    const r = await fetch(`${one.url}${p}`, { method: 'POST', body: JSON.stringify(body),
      headers: { authorization: `Bearer ${tok[w]}`, 'content-type': 'application/json' } });
    return { status: r.status, retry: r.headers.get('retry-after'), json: await r.json() };
  };
  const slug = {};
  try {
    for (const w of ['w1', 'w2']) {
      const c = await post(w, '/api/connections', { name: 'Slow', base_url: up.url,
        operations: [{ name: 's', method: 'GET', path: '/slow' }, { name: 'e', method: 'GET', path: '/echo' }] });
      assert.equal(c.status, 201);
      slug[w] = c.json.slug;
    }
    const call = (w, op = 's') => post(w, '/api/actions/call', { actionIdentifier: `${slug[w]}.${op}`, input: {} });
    // two of w1 and one of w2 in flight (the upstream holds each for 3 s) ...
    const inflight = [call('w1'), call('w1'), call('w2')];
    for (let i = 0; i < 100 && up.requests.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(up.requests.length, 3, 'three calls reached the upstream');
    // ... so a third of w1 is over its workspace's limit, a second of w2 over the total
    const overWs = await call('w1', 'e');
    const overAll = await call('w2', 'e');
    for (const [what, r] of [['per workspace', overWs], ['total', overAll]]) {
      assert.equal(r.status, 429, `${what}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, 'too_many_calls', what);
      assert.equal(r.retry, '1', what);
    }
    assert.equal(up.requests.length, 3, 'refused calls never left');
    for (const r of await Promise.all(inflight)) assert.equal(r.status, 200, JSON.stringify(r.json));
    // every slot came back, also from calls that failed before sending anything
    for (let i = 0; i < 4; i++) assert.equal((await call('w1', 'nope')).status, 404);
    const again = await Promise.all([call('w1', 'e'), call('w1', 'e')]);
    for (const r of again) assert.equal(r.status, 200, JSON.stringify(r.json));
  } finally {
    await one.stop();
    await up.close();
  }
});
