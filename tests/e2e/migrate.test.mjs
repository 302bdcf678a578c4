// connhub migrate (issue 9): a SQLite database with users, tokens, connections of several auth
// types, operations, an imported spec's rows and an OAuth provider is copied into a fresh
// PostgreSQL database; a server on the copy answers the same API token, lists the same
// connections and calls the upstream with the same credentials (sealed values were copied as they
// are and still open); new rows get new ids (sequences moved past the copied ones); rekey opens
// every secret. A non-empty target is refused unless --truncate-target. The password of the
// target URL appears in no output. Runs once, in the SQLite pass, when a cluster is at hand
// (tools/with-pg; make test provides one).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { api, cleanup, HAVE_PG, ON_PG, pgDatabase, runCli, startServer, tempDir } from './lib/server.mjs';
import { startUpstream } from './lib/upstream.mjs';
import { makeCanary, scanForCanaries, describeHits } from './lib/canary.mjs';

const skip = ON_PG ? 'runs once, in the SQLite pass' : !HAVE_PG && 'needs CONNHUB_TEST_PG (run under tools/with-pg)';
let up;

after(async () => {
  await up?.close();
  cleanup();
});

test('migrate answers --help and refuses bad arguments', { skip }, () => {
  const h = runCli(['migrate', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /--from sqlite:PATH --to postgres:/);
  assert.equal(runCli(['migrate']).code, 2);
  assert.equal(runCli(['migrate', '--from', 'sqlite:/tmp/x.db']).code, 2);
  const notPg = runCli(['migrate', '--from', `sqlite:${path.join(tempDir(), 'a.db')}`, '--to', 'sqlite:/tmp/b.db']);
  assert.equal(notPg.code, 1);
  assert.match(notPg.stderr, /--to: the target must be a PostgreSQL URL/);
});

test('migrate copies every row and secret; a server on the copy works the same', { skip }, async () => {
  const dir = tempDir();
  const db = path.join(dir, 'c.db');
  const lite = `sqlite:${db}`;
  const cli = (args, dbArg = lite, env = {}) => runCli([...args, '--db', dbArg], { env });
  for (const a of [['user', 'add', 'alice', '--platform-admin'], ['user', 'add', 'bob'], ['workspace', 'add', 'w'],
    ['workspace', 'add', 'x'], ['member', 'add', 'w', 'alice', '--role', 'admin'], ['member', 'add', 'x', 'bob', '--role', 'member']]) {
    const r = cli(a);
    assert.equal(r.code, 0, r.stderr);
  }
  const tok = cli(['token', 'create', '--user', 'alice', '--workspace', 'w']).stdout.trim();
  up = await startUpstream({ host: '127.0.0.2' });
  const secrets = { bearer: makeCanary('mbearer'), key: makeCanary('mkey'), pass: makeCanary('mpass'), client: makeCanary('mclient') };

  let srv = await startServer({ dbPath: db, allowPrivate: '127.0.0.2/32' });
  const env = { INTEGRATION_ENCRYPTION_KEY: srv.key };
  let A = api(srv.url, tok);
  const ops = [{ name: 'get', method: 'GET', path: '/items/{{id}}' }, { name: 'post', method: 'POST', path: '/items' }];
  const made = [];
  for (const [name, auth] of [['Bearer', { type: 'bearer', token: secrets.bearer }],
    ['Key', { type: 'api_key_header', name: 'X-Key', key: secrets.key }],
    ['Basic', { type: 'basic', username: 'u', password: secrets.pass }]]) {
    const r = await A.post('/api/connections', { name, base_url: up.url, auth, operations: ops });
    assert.equal(r.status, 201, r.text);
    made.push(r.json);
  }
  const prov = await A.put('/api/admin/oauth-providers/peer', { name: 'Peer', authorize_url: 'https://idp.example.com/auth',
    token_url: 'https://idp.example.com/token', client_id: 'cid', client_secret: secrets.client, tiers: { user: { scopes: ['a'] } } });
  assert.equal(prov.status, 200, prov.text);
  assert.equal(await srv.stop(), 0);

  const target = pgDatabase();
  const password = new URL(target).password;
  assert.ok(password.length >= 16);
  const m = runCli(['migrate', '--from', lite, '--to', target], { env });
  assert.equal(m.code, 0, m.stderr + m.stdout);
  assert.match(m.stdout, /copying connections: 3 rows/);
  assert.match(m.stdout, /verification \(rows: source, target\)/);
  for (const t of ['users', 'workspaces', 'memberships', 'api_tokens', 'connections', 'secrets', 'connection_operations', 'oauth_providers']) {
    assert.match(m.stdout, new RegExp(`\\n  ${t} +\\d+ +\\d+  ok`), t);
  }
  assert.doesNotMatch(m.stdout, /MISMATCH/);
  assert.match(m.stdout, /every table verified/);
  for (const out of [m.stdout, m.stderr]) assert.ok(!out.includes(password), 'the target password is never printed');
  assert.match(m.stdout, /postgres:\/\/connhub:\*\*\*@/);

  // The copy serves the same token, the same connections, the same credentials.
  srv = await startServer({ db: target, env, allowPrivate: '127.0.0.2/32' });
  assert.ok(!srv.output().includes(password));
  A = api(srv.url, tok);
  const h = await (await fetch(`${srv.url}/healthz`)).json();
  assert.equal(h.db, 'postgres');
  const list = await A.get('/api/connections');
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.connections.map((c) => c.id).sort(), made.map((c) => c.id).sort());
  up.requests.length = 0;
  for (const c of made) {
    const r = await A.post('/api/actions/call', { actionIdentifier: `${c.slug}.get`, input: { id: '7' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 200, r.text);
  }
  const seen = up.requests.map((q) => JSON.stringify(q.headers));
  assert.ok(seen[0].includes(secrets.bearer));
  assert.ok(seen[1].includes(secrets.key));
  assert.ok(seen[2].includes(Buffer.from(`u:${secrets.pass}`).toString('base64')));
  const p = await A.get('/api/admin/oauth-providers');
  assert.equal(p.status, 200, p.text);
  const peer = p.json.providers.find((x) => x.id === 'peer' || x.definition?.id === 'peer');
  assert.ok(peer, p.text);
  assert.equal(peer.client_secret_set, true, p.text);
  // New rows after the copy: the id sequences continue past the copied ids.
  const again = await A.post('/api/connections', { name: 'After', base_url: up.url, auth: { type: 'bearer', token: 't' }, operations: ops });
  assert.equal(again.status, 201, again.text);
  assert.equal(cli(['user', 'add', 'carol'], target).code, 0);
  assert.equal(cli(['token', 'create', '--user', 'alice', '--workspace', 'w'], target).code, 0);
  await srv.stop();
  // Every secret opens with the same key.
  const rk = cli(['rekey'], target, env);
  assert.equal(rk.code, 0, rk.stderr);
  assert.match(rk.stdout, /re-sealed 0, .*failed 0/);

  // A non-empty target is refused, and changed in nothing; --truncate-target empties it first.
  const refused = runCli(['migrate', '--from', lite, '--to', target], { env });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /already has data .*--truncate-target/);
  const forced = runCli(['migrate', '--from', lite, '--to', target, '--truncate-target'], { env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /\n  connections +3 +3  ok/);

  const hits = scanForCanaries([m.stdout, m.stderr, refused.stdout, refused.stderr, forced.stdout, srv.output()].join('\n'),
    Object.values(secrets));
  assert.equal(hits.length, 0, describeHits(hits));
});
