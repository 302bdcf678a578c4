// Self-test of the e2e fixtures (tests/e2e/lib): mock upstream modes, the
// canary listener and the leak scanner. Does not need the connhub binary.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';

import { startUpstream, startCanaryListener } from './lib/upstream.mjs';
import { makeCanary, canaryForms, scanForCanaries, scanFiles } from './lib/canary.mjs';
import { tempDir, cleanup, freePort, api } from './lib/server.mjs';
import fs from 'node:fs';
import path from 'node:path';

after(() => cleanup());

// A raw GET that does not follow redirects or decode gzip: {status, headers, body (Buffer)}.
function rawGet(url, { timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeout, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

test('upstream echo records and reflects the request', async () => {
  const up = await startUpstream();
  try {
    assert.match(up.url, /^http:\/\/127\.0\.0\.2:\d+$/);
    const r = await fetch(`${up.url}/users/..%2Fadmin/x?q=a%20b&q=c&k=1`, {
      method: 'POST',
      headers: { 'x-test': 'yes', 'content-type': 'text/plain' },
      body: 'hello',
    });
    assert.equal(r.status, 200);
    const j = await r.json();
    assert.equal(j.method, 'POST');
    assert.equal(j.path, '/users/..%2Fadmin/x');
    assert.deepEqual(j.query, { q: ['a b', 'c'], k: '1' });
    assert.equal(j.headers['x-test'], 'yes');
    assert.equal(j.body, 'hello');
    assert.equal(up.requests.length, 1);
    const rec = up.requests[0];
    assert.equal(rec.url, '/users/..%2Fadmin/x?q=a%20b&q=c&k=1');
    assert.deepEqual(rec.segments, ['users', '..%2Fadmin', 'x']); // one segment: SSRF-168 shape
    assert.equal(rec.rawQuery, 'q=a%20b&q=c&k=1');
    assert.equal(rec.remoteAddress, '127.0.0.1');
    up.reset();
    assert.equal(up.requests.length, 0);
  } finally {
    await up.close();
  }
});

test('upstream status, json and per-path redirect', async () => {
  const up = await startUpstream();
  try {
    up.setMode('status', { status: 503, body: 'down', headers: { 'retry-after': '1' } });
    let r = await rawGet(`${up.url}/any`);
    assert.equal(r.status, 503);
    assert.equal(r.body.toString(), 'down');
    assert.equal(r.headers['retry-after'], '1');

    up.setMode({ mode: 'json', body: { ok: true } });
    r = await rawGet(`${up.url}/any`);
    assert.deepEqual(JSON.parse(r.body), { ok: true });

    up.route('/r', { mode: 'redirect', status: 302, location: 'http://127.0.0.1:9/x' });
    r = await rawGet(`${up.url}/r?a=1`);
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'http://127.0.0.1:9/x');
    r = await rawGet(`${up.url}/other`); // the mode still applies elsewhere
    assert.equal(r.status, 200);
    up.route('/r', null);
    r = await rawGet(`${up.url}/r`);
    assert.equal(r.status, 200);
    await up.waitForRequests(5);
  } finally {
    await up.close();
  }
});

test('upstream slow delays the headers, trickle sends bytes slowly', async () => {
  const up = await startUpstream();
  try {
    up.setMode('slow', { delay: 300 });
    let t0 = Date.now();
    const r = await rawGet(`${up.url}/s`);
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 >= 280, 'headers came too early');

    up.setMode('trickle', { interval: 50, bytes: 4 });
    t0 = Date.now();
    const t = await rawGet(`${up.url}/t`);
    assert.equal(t.body.toString(), 'xxxx');
    assert.ok(Date.now() - t0 >= 180);
  } finally {
    await up.close();
  }
});

test('upstream huge, endless and close with a client still reading', async () => {
  const up = await startUpstream();
  try {
    up.setMode('huge', { bytes: 300000 });
    const r = await rawGet(`${up.url}/h`);
    assert.equal(r.body.length, 300000);
    assert.equal(r.headers['content-length'], '300000');

    up.setMode('endless');
    const got = await new Promise((resolve, reject) => {
      let n = 0;
      const req = http.get(`${up.url}/e`, (res) => {
        assert.equal(res.headers['transfer-encoding'], 'chunked');
        res.on('data', (c) => {
          n += c.length;
          if (n > 2 * 1024 * 1024) {
            req.destroy();
            resolve(n);
          }
        });
      });
      req.on('error', (e) => (n > 2 * 1024 * 1024 ? resolve(n) : reject(e)));
    });
    assert.ok(got > 2 * 1024 * 1024);
  } finally {
    await up.close(); // must not hang on the abandoned endless response
  }
});

test('upstream gzipBomb sends a small gzip body that inflates to N bytes', async () => {
  const up = await startUpstream();
  try {
    up.setMode('gzipBomb', { bytes: 64 * 1024 * 1024 });
    const r = await rawGet(`${up.url}/g`);
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(Number(r.headers['content-length']), r.body.length);
    assert.ok(r.body.length < 200 * 1024, `compressed size ${r.body.length}`);
    assert.equal(zlib.gunzipSync(r.body).length, 64 * 1024 * 1024);
  } finally {
    await up.close();
  }
});

test('upstream sse sends events', async () => {
  const up = await startUpstream();
  try {
    up.setMode('sse', { events: [{ event: 'message', id: '1', data: { a: 1 } }, { data: 'x\ny' }] });
    const r = await rawGet(`${up.url}/sse`);
    assert.equal(r.headers['content-type'], 'text/event-stream');
    assert.equal(r.body.toString(), 'event: message\nid: 1\ndata: {"a":1}\n\ndata: x\ndata: y\n\n');
  } finally {
    await up.close();
  }
});

test('canary listener counts connections', async () => {
  const c = await startCanaryListener('127.0.0.1');
  try {
    assert.equal(c.hits, 0);
    await new Promise((resolve) => {
      const s = net.connect(c.port, '127.0.0.1');
      s.on('close', resolve);
      s.on('error', resolve);
    });
    assert.equal(c.hits, 1);
  } finally {
    await c.close();
  }
});

test('a free port is free; api() wraps fetch', async () => {
  const port = await freePort();
  assert.ok(port > 0);
  const up = await startUpstream({ host: '127.0.0.2' });
  try {
    const a = api(up.url, 'tok123');
    const r = await a.post('/p', { x: 1 });
    assert.equal(r.status, 200);
    assert.equal(r.json.headers.authorization, 'Bearer tok123');
    assert.equal(r.json.headers['content-type'], 'application/json');
    assert.equal(r.json.body, '{"x":1}');
    assert.equal((await a.del('/d')).json.method, 'DELETE');
    assert.equal((await a.patch('/d', 'raw')).json.body, 'raw');
  } finally {
    await up.close();
  }
});

test('canary forms: shape and coverage', () => {
  const c = makeCanary('api_key');
  assert.match(c, /^CANARY_api_key_[0-9a-f]{32}$/);
  assert.notEqual(c, makeCanary('api_key'));
  const forms = canaryForms(c).map((f) => f.form);
  for (const f of ['raw', 'base64', 'base64-nopad', 'base64-basic-user', 'base64-basic-colon',
                   'json-unicode-escaped', 'hex-lower', 'hex-upper',
                   'base64-align0', 'base64-align1', 'base64-align2']) {
    assert.ok(forms.includes(f), `missing form ${f}`);
  }
  const weird = 'a+b/c?d=e&f"g\\h\u00e9\u{1f600}~~~~~~~~~';
  const wf = canaryForms(weird).map((f) => f.form);
  for (const f of ['url-encoded', 'json-escaped', 'base64url', 'base64url-align1']) {
    assert.ok(wf.includes(f), `missing form ${f} for a value with special characters`);
  }
});

test('canary found inside base64 blobs at every alignment and in JSON escapes', () => {
  const c = makeCanary('token');
  for (const prefix of ['', 'a', 'ab', 'abc', 'Authorization: Bearer ']) {
    for (const suffix of ['', 'z', 'zz', ';rest']) {
      const blob = Buffer.from(prefix + c + suffix).toString('base64');
      const hits = scanForCanaries(`{"data":"${blob}"}`, [c]);
      assert.ok(hits.length > 0, `not found with prefix '${prefix}' suffix '${suffix}'`);
      const url = Buffer.from(prefix + c + suffix).toString('base64url');
      assert.ok(scanForCanaries(url, [c]).length > 0);
    }
  }
  const weird = 'p"a\\s\ns/w\u00e9rd-0123456789';
  const json = JSON.stringify({ error: `echo: ${weird}` });
  const hits = scanForCanaries(Buffer.from(json), [weird]);
  assert.ok(hits.some((h) => h.form === 'json-escaped'));
  assert.ok(scanForCanaries(encodeURIComponent(weird), [weird]).some((h) => h.form === 'url-encoded'));
  assert.ok(scanForCanaries(`Basic ${Buffer.from(`user:${c}`).toString('base64')}`, [c]).length > 0);
  assert.ok(scanForCanaries(Buffer.from(c).toString('hex').toUpperCase(), [c]).some((h) => h.form === 'hex-upper'));
  assert.deepEqual(scanForCanaries('nothing to see here', [c]), []);
  const raw = scanForCanaries(`xx${c}yy${c}`, [c]).filter((h) => h.form === 'raw');
  assert.deepEqual(raw.map((h) => h.offset), [2, 4 + c.length]);
});

test('scanFiles reads files and folders as bytes', () => {
  const c = makeCanary('secret');
  const d = tempDir();
  fs.writeFileSync(path.join(d, 'clean.log'), 'ok\n');
  fs.mkdirSync(path.join(d, 'sub'));
  fs.writeFileSync(path.join(d, 'sub', 'leak.bin'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(c)]));
  const hits = scanFiles([d, path.join(d, 'missing')], [c]);
  assert.equal(hits.filter((h) => h.form === 'raw').length, 1);
  assert.equal(hits[0].file, path.join(d, 'sub', 'leak.bin'));
  assert.equal(hits.find((h) => h.form === 'raw').offset, 3);
});
