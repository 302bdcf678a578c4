// The release binary: the one `make run` serves and bench/ measures, linked with mimalloc. The other
// end-to-end files run the ASan build (system malloc), so this file is what shows that the release
// link works: its allocator, and a burst of concurrent action calls through it.
// make test sets CONNHUB_RELEASE_BIN (tools/run-tests --release-bin).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { CONNHUB_BIN, api, cleanup, runCli, seedMember, startServer, tempDir } from './lib/server.mjs';
import { startUpstream } from './lib/upstream.mjs';

const BIN = process.env.CONNHUB_RELEASE_BIN;
const skip = BIN ? false : 'CONNHUB_RELEASE_BIN is not set (make test sets it)';
const CALLS = 2000;
const IN_FLIGHT = 64;
const TOKEN = 'release-bearer-0123456789abcdef';

let srv, up, A;

before(async () => {
  if (!BIN) return;
  const db = path.join(tempDir(), 'c.db');
  const token = seedMember(db, 'rel', 'relws');
  up = await startUpstream({ host: '127.0.0.2' });
  srv = await startServer({ dbPath: db, bin: BIN, allowPrivate: ['127.0.0.2/32'] });
  A = api(srv.url, token);
});

after(async () => {
  if (srv) await srv.stop();
  if (up) await up.close();
  cleanup();
});

test('release binary: `version` names mimalloc as the allocator in use', { skip }, () => {
  const r = runCli(['version'], { bin: BIN });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^connhub \S+\nallocator: mimalloc \d+\.\d+\.\d+\n$/);
});

const asanSkip = /\/asan\/connhub$/.test(CONNHUB_BIN) ? false : 'CONNHUB_BIN is not the ASan build';
test('the ASan build names the system malloc (the name is looked up, not assumed)', { skip: asanSkip }, () => {
  const r = runCli(['version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\nallocator: system malloc\n$/);
});

test('release binary: server.starting logs the allocator', { skip }, () => {
  const start = srv.logs.find((l) => l.event === 'server.starting');
  assert.ok(start, srv.output());
  assert.match(start.allocator, /^mimalloc \d+\.\d+\.\d+$/);
});

test(`release binary: ${CALLS} action calls, ${IN_FLIGHT} in flight, each answered with its own input and the bearer injected`, { skip }, async () => {
  const c = await A.post('/api/connections', {
    name: 'Release echo', base_url: up.url, auth: { type: 'bearer', token: TOKEN },
    operations: [{ name: 'get', method: 'GET', path: '/items/{{id}}' },
      { name: 'put', method: 'POST', path: '/items/{{id}}' }],
  });
  assert.equal(c.status, 201, c.text);
  const before = up.requests.length;
  let next = 0;
  const bad = [];
  async function worker() {
    while (next < CALLS) {
      const i = next++;
      const post = i % 2 === 1;
      // bodies of different sizes, so the allocator sees more than one size class
      const input = post ? { id: `p${i}`, note: 'x'.repeat(i % 700) } : { id: `g${i}` };
      const r = await A.post('/api/actions/call', { actionIdentifier: `${c.json.slug}.${post ? 'put' : 'get'}`, input });
      const b = r.json?.body;
      if (r.status !== 200 || r.json.ok !== true || b?.path !== `/items/${input.id}` ||
          (post && JSON.parse(b.body).note !== input.note)) {
        bad.push(`${i}: ${r.status} ${r.text.slice(0, 300)}`);
      }
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${CALLS} calls went wrong`);
  const seen = up.requests.slice(before);
  assert.equal(seen.length, CALLS);
  // the answer redacts the echoed credential, so the upstream's own record shows the injection
  assert.deepEqual(seen.filter((q) => q.headers.authorization !== `Bearer ${TOKEN}`).map((q) => q.url), []);
  const h = await fetch(`${srv.url}/healthz`);
  assert.equal(h.status, 200);
  assert.equal(await srv.stop(), 0, srv.output());
});
