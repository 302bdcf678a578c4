// Action calls to an https upstream (issue 3): a certificate connhub does not trust fails the
// call at the TLS stage before any byte of the request (and so the credential) is sent;
// `serve --out-ca-file` adds a CA; new connections resume the TLS session of earlier ones, also
// from easy handles that never saw that server (one session cache per worker, CURLSH).
// A test CA and a leaf certificate for 127.0.0.2 are made with the openssl CLI for each run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

import { api, cleanup, runCli, seedMember, startServer, tempDir } from './lib/server.mjs';
import { startUpstream } from './lib/upstream.mjs';

const TOKEN = 'tls-test-bearer-7f3a';
let dir, db, token, up, seen;
let nconn = 0; // connection names stay unique even if a test stops before deleting its own

function openssl(args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

// A leaf certificate NAME.pem/.key for the IP address ip, signed by the test CA.
function makeLeaf(name, ip) {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${ip}`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
}

function makeCerts() {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=connhub test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  makeLeaf('leaf', '127.0.0.2');
  makeLeaf('other', '127.0.0.9'); // trusted, but for another address
}

// An https upstream on 127.0.0.2 that records each request (its Authorization header, and
// whether its connection resumed a TLS session) and closes every connection after answering,
// so that each call needs a new connection (and a handshake).
function startTlsUpstream(name = 'leaf') {
  const server = https.createServer({
    key: fs.readFileSync(path.join(dir, `${name}.key`)),
    cert: fs.readFileSync(path.join(dir, `${name}.pem`)),
  }, (req, res) => {
    seen.push({ auth: req.headers.authorization, reused: req.socket.isSessionReused() });
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ ok: 'tls', n: seen.length }));
  });
  let handshakes = 0;
  server.on('secureConnection', () => { handshakes++; });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.2', () => resolve({
      url: `https://127.0.0.2:${server.address().port}`,
      handshakes: () => handshakes,
      close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
    }));
  });
}

async function withServer(args, fn, upstream = up) {
  const srv = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32', args });
  try {
    const A = api(srv.url, token);
    const r = await A.post('/api/connections', {
      name: `tls ${++nconn}`, base_url: upstream.url, auth: { type: 'bearer', token: TOKEN },
      operations: [{ name: 'get', method: 'GET', path: '/item' }],
    });
    assert.equal(r.status, 201, r.text);
    await fn(A, r.json);
    await A.del(`/api/connections/${r.json.id}`);
  } finally {
    await srv.stop();
  }
}

const call = (A, c) => A.post('/api/actions/call', { actionIdentifier: `${c.slug}.get`, connectionId: c.id, input: {} });

before(async () => {
  dir = tempDir();
  db = path.join(dir, 'c.db');
  token = seedMember(db, 'alice', 'w');
  makeCerts();
  seen = [];
  up = await startTlsUpstream();
});

after(async () => {
  await up?.close();
  cleanup();
});

test('an upstream certificate that is not trusted fails the call at the TLS stage, before the credential is sent', async () => {
  seen.length = 0;
  await withServer([], async (A, c) => {
    const r = await call(A, c);
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.ok, false);
    assert.equal(r.json.error.stage, 'tls', r.text);
    assert.match(r.json.error.message, /TLS with https:\/\/127\.0\.0\.2:\d+ failed/);
    assert.ok(!r.text.includes(TOKEN));
  });
  assert.equal(seen.length, 0, 'no request reached the upstream');
});

test('--out-ca-file: the private CA is trusted, and the bearer arrives over TLS', async () => {
  seen.length = 0;
  await withServer(['--out-ca-file', path.join(dir, 'ca.pem')], async (A, c) => {
    const r = await call(A, c);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.ok, true, r.text);
    assert.equal(r.json.body.ok, 'tls');
  });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].auth, `Bearer ${TOKEN}`);
});

test('a certificate from the trusted CA for another address fails at the TLS stage (the name is checked)', async () => {
  seen.length = 0;
  const other = await startTlsUpstream('other');
  try {
    await withServer(['--out-ca-file', path.join(dir, 'ca.pem')], async (A, c) => {
      const r = await call(A, c);
      assert.equal(r.status, 502, r.text);
      assert.equal(r.json.error.stage, 'tls', r.text);
      assert.match(r.json.error.message, /TLS with https:\/\/127\.0\.0\.2:\d+ failed/);
    }, other);
  } finally {
    await other.close();
  }
  assert.equal(seen.length, 0, 'no request reached the upstream');
});

test('a new connection resumes the TLS session, also from an easy handle that never met the server', async () => {
  seen.length = 0;
  const h0 = up.handshakes();
  const slow = await startUpstream({ host: '127.0.0.2' });
  slow.route('/slow', { mode: 'slow', delay: 1500 });
  try {
    // One worker, so that every call below meets the same easy handles.
    await withServer(['--out-ca-file', path.join(dir, 'ca.pem'), '--threads', '1'], async (A, c) => {
      const s = (await A.post('/api/connections', {
        name: 'slow plain', base_url: slow.url, auth: { type: 'none' },
        operations: [{ name: 'get', method: 'GET', path: '/slow' }],
      })).json;
      // 1. A full handshake on the worker's only easy handle; the handle goes back to the pool.
      assert.equal((await call(A, c)).json.ok, true);
      // 2. A slow call takes that handle (the pool is last in, first out) ...
      const pending = call(A, s);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(slow.requests.length, 1, 'the slow call is in flight');
      // 3. ... so this call gets a new handle, which resumes the session of step 1 (the
      // worker's handles share one session cache), on a new connection (the upstream closed).
      assert.equal((await call(A, c)).json.ok, true);
      assert.equal((await pending).json.ok, true);
    });
  } finally {
    await slow.close();
  }
  assert.equal(up.handshakes() - h0, 2, 'two connections, two handshakes');
  assert.deepEqual(seen.map((x) => x.reused), [false, true], 'the second connection resumed the session');
  assert.ok(seen.every((x) => x.auth === `Bearer ${TOKEN}`));
});

test('--out-ca-file that holds no certificate: serve refuses to start and says why', () => {
  const bad = path.join(dir, 'not-a-ca.pem');
  fs.writeFileSync(bad, 'hello\n');
  const r = runCli(['serve', '--listen', '127.0.0.1:1', '--db', `sqlite:${db}`, '--out-ca-file', bad]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /out-ca-file: .*not-a-ca\.pem holds no PEM certificate/);
  const r2 = runCli(['serve', '--listen', '127.0.0.1:1', '--db', `sqlite:${db}`, '--out-ca-file', path.join(dir, 'missing.pem')]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /out-ca-file: cannot read .*missing\.pem/);
});
