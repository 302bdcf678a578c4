// The web UI in a real browser (Debian's Chromium driven by playwright-core), against the real
// binary, a local upstream and the server-everything MCP peer. Each test saves screenshots into
// its temp dir (CONNHUB_SCREENSHOTS=docs/screenshots also writes them there, to refresh the
// README's pictures) and checks the page HTML and every network response for the canaries.
import crypto from 'node:crypto';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, runCli, tempDir, cleanup, freePort, api } from './lib/server.mjs';
import { startPeer, stopPeer } from './lib/oauth_peer.mjs';
import { startUpstream } from './lib/upstream.mjs';
import { startEverything, startBearerFront } from './lib/mcp_peer.mjs';
import { makeCanary, scanForCanaries, describeHits } from './lib/canary.mjs';
import { launchBrowser, watchedPage, signIn } from './lib/browser.mjs';

const ADA_PW = 'ada-long-password-1';
const BOB_PW = 'bob-long-password-2';
const canary = {
  bearer: makeCanary('ui_http_bearer'),
  apiKey: makeCanary('ui_openapi_key'),
  mcp: makeCanary('ui_mcp_bearer'),
  openai: makeCanary('ui_ws_openai'),
  brave: makeCanary('ui_platform_brave'),
  clientSecret: makeCanary('ui_oauth_client_secret'),
  peerSecret: makeCanary('ui_peer_client_secret'),
  personal: makeCanary('ui_personal_token'),
};
// A Google service-account key file: its private key is a secret like the canaries (one line of
// the PEM body stands for it in the scans).
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
const keyFile = {
  type: 'service_account', project_id: 'p', private_key_id: 'kid-ui-0123456789', private_key: pem,
  client_email: 'robot@p.iam.gserviceaccount.com', client_id: '1234567890', token_uri: 'https://oauth2.googleapis.com/token',
};
canary.saKey = pem.split('\n')[2];
const all = Object.values(canary);

let dir, db, srv, up, mcp, front, browser, ada, peer, peerProc, adaToken;

function cli(args, input) {
  const r = runCli([...args, '--db', `sqlite:${db}`], { input });
  assert.equal(r.code, 0, `connhub ${args.join(' ')}: ${r.stderr}`);
  return r;
}

before(async () => {
  dir = tempDir('connhub-ui-');
  db = `${dir}/c.db`;
  cli(['user', 'add', 'ada', '--platform-admin']);
  cli(['user', 'add', 'bob']);
  cli(['workspace', 'add', 'acme']);
  cli(['member', 'add', 'acme', 'ada', '--role', 'admin']);
  cli(['member', 'add', 'acme', 'bob', '--role', 'member']);
  cli(['user', 'passwd', 'ada'], `${ADA_PW}\n`);
  cli(['user', 'passwd', 'bob'], `${BOB_PW}\n`);
  up = await startUpstream();
  mcp = await startEverything('streamableHttp');
  front = await startBearerFront(mcp.url, canary.mcp);
  adaToken = cli(['token', 'create', '--user', 'ada', '--workspace', 'acme']).stdout.trim();
  // an OAuth2 authorization server (oidc-provider) on 127.0.0.1; connhub's APP_URL is its own
  // address, so the redirect URI is known before it starts
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const p = await startPeer({ port: 0, 'auto-consent': 1, 'redirect-uri': `${appUrl}/api/auth/connect/peer/callback`, 'client-secret': canary.peerSecret });
  peerProc = p.child;
  peer = p.ready;
  srv = await startServer({ dbPath: db, port, allowPrivate: ['127.0.0.2/32', '127.0.0.1/32'], args: ['--threads', '2', '--app-url', appUrl] });
  browser = await launchBrowser();
});

after(async () => {
  await ada?.close().catch(() => {});
  await browser?.close();
  const code = await srv?.stop();
  await front?.close();
  await mcp?.stop();
  await up?.close();
  await stopPeer(peerProc);
  const hits = srv ? scanForCanaries(srv.output(), all) : [];
  cleanup();
  assert.deepEqual(hits, [], `canary in the server's output:\n${describeHits(hits)}`);
  assert.equal(code, 0);
});

test('sign in: the session cookie is HttpOnly and SameSite=Strict; the hub starts empty', async () => {
  ada = await watchedPage(browser, { baseURL: srv.url, canaries: all });
  const { page } = ada;
  await page.goto('/');
  await page.getByRole('heading', { name: 'Sign in to connhub' }).waitFor();
  await ada.shot(dir, 'signin');
  await page.getByLabel('User name').fill('ada');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
  await signIn(page, 'ada', ADA_PW);
  const [cookie] = await ada.context.cookies();
  assert.equal(cookie.name, 'connhub_session');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '', 'the cookie is not readable by scripts');
  await page.getByText('No connections yet').waitFor();
  await ada.shot(dir, 'hub-empty');
  await ada.assertNoLeaks();
});

test('create an HTTP connection with a bearer token and test it against a local upstream', async () => {
  const { page } = ada;
  await page.getByRole('link', { name: 'New connection' }).first().click();
  await page.getByRole('heading', { name: 'New connection' }).waitFor();
  await page.getByRole('radio', { name: 'HTTP API' }).check();
  await page.getByLabel('Name', { exact: true }).fill('Items API');
  await page.getByText('items_api is available').waitFor();
  await page.getByLabel('Base URL').fill(up.url);
  await page.getByLabel('Authentication').selectOption('bearer');
  await page.getByLabel('Token').fill(canary.bearer);
  await page.getByLabel('Operation name').fill('get_item');
  await page.getByLabel('Path').fill('/items/{{id}}');
  await ada.shot(dir, 'wizard-http');
  await page.getByRole('button', { name: 'Create connection' }).click();
  await page.getByRole('heading', { name: 'Items API', level: 1 }).waitFor();
  up.requests.length = 0;
  await page.getByRole('button', { name: 'Test connection' }).click();
  const report = page.getByTestId('test-report');
  await report.getByText('Test passed').waitFor();
  assert.equal(up.requests.length, 1);
  assert.equal(up.requests[0].headers.authorization, `Bearer ${canary.bearer}`, 'the upstream got the token');
  // the secret field shows "set" and stays empty
  assert.equal(await page.getByLabel('Token').inputValue(), '');
  assert.match(await page.getByLabel('Token').getAttribute('placeholder'), /^set/);
  await ada.shot(dir, 'connection-test');
  // edit with the token left blank: the token is kept (the next test still sends it)
  await page.getByLabel('Description').fill('Items of the local upstream');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByTestId('description').getByText('Items of the local upstream').waitFor();
  up.requests.length = 0;
  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.getByTestId('test-report').getByText('Test passed').waitFor();
  assert.equal(up.requests[0].headers.authorization, `Bearer ${canary.bearer}`, 'a blank token field kept the token');
  // the operations editor on the connection page: add one, save, it is a tool
  await page.getByRole('button', { name: 'Add operation' }).click();
  await page.getByLabel('Operation name').nth(1).fill('list_items');
  await page.getByLabel('Path').nth(1).fill('/items');
  await page.getByLabel('Other parameters').nth(1).fill('limit');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('heading', { name: 'Tools (2)' }).waitFor();
  const li = page.locator('li[data-tool="list_items"]');
  await li.locator('summary').click();
  await li.getByLabel(/limit/).fill('5');
  up.requests.length = 0;
  await li.getByRole('button', { name: 'Call' }).click();
  await li.locator('pre.response').waitFor();
  assert.equal(up.requests[0].url, '/items?limit=5');
  // a slug that is taken is said to be taken
  await page.goto('/#/connections/new');
  await page.getByRole('radio', { name: 'HTTP API' }).check();
  await page.getByLabel('Name', { exact: true }).fill('Items API');
  await page.getByText('items_api is taken').waitFor();
  await page.goto('/#/connections');
  await page.getByRole('link', { name: 'Items API' }).waitFor();
  await ada.assertNoLeaks();
});

const SPEC = (url) => `openapi: 3.0.3
info: {title: Pet shop, version: 1.2.0}
servers: [{url: '${url}'}]
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
security: [{key: []}]
paths:
  /pets/{petId}:
    get:
      operationId: getPet
      summary: One pet
      parameters:
        - {name: petId, in: path, required: true, schema: {type: string}}
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
    post:
      operationId: createPet
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string}}}
`;

test('import an OpenAPI spec (drop one, rename one) and call a tool from the "try it" form', async () => {
  const { page } = ada;
  await page.goto('/#/connections/new');
  await page.getByRole('radio', { name: 'OpenAPI' }).check();
  await page.getByLabel('Name', { exact: true }).fill('Pet shop');
  await page.getByLabel('Spec (JSON or YAML)').fill(SPEC(up.url));
  await page.getByRole('button', { name: 'Review operations' }).click();
  await page.getByText('3 operations').waitFor();
  await page.getByLabel('Keep create_pet').uncheck();
  await page.getByLabel('Tool name for get_pet').fill('pet');
  await page.getByLabel('Key', { exact: true }).fill(canary.apiKey);
  await ada.shot(dir, 'wizard-openapi-review');
  await page.getByRole('button', { name: 'Create connection' }).click();
  await page.getByRole('heading', { name: 'Pet shop', level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Tools (2)' }).waitFor();
  const tool = page.locator('li[data-tool="pet"]');
  await tool.locator('summary').click();
  up.requests.length = 0;
  await tool.getByLabel(/petId/).fill('42');
  await tool.getByRole('button', { name: 'Call' }).click();
  await tool.locator('pre.response').waitFor();
  const out = await tool.locator('pre.response').textContent();
  assert.match(out, /"path": "\/pets\/42"/);
  assert.equal(up.requests[0].headers['x-api-key'], canary.apiKey);
  await ada.shot(dir, 'connection-try-it');
  await ada.assertNoLeaks();
});

test('add an MCP server behind a bearer token, preview and see its tools, call one', async () => {
  const { page } = ada;
  await page.goto('/#/connections/new');
  await page.getByRole('radio', { name: 'MCP server' }).check();
  await page.getByLabel('Name', { exact: true }).fill('Everything');
  await page.getByLabel('Server URL').fill(`${front.url}/mcp`);
  await page.getByLabel('Bearer token (optional)').fill(canary.mcp);
  await page.getByRole('button', { name: 'Preview tools' }).click();
  const preview = page.getByTestId('mcp-preview');
  await preview.getByText('echo', { exact: true }).waitFor();
  await ada.shot(dir, 'wizard-mcp-preview');
  await page.getByRole('button', { name: 'Create connection' }).click();
  await page.getByRole('heading', { name: 'Everything', level: 1 }).waitFor();
  const echo = page.locator('li[data-tool="echo"]');
  await echo.waitFor();
  await echo.locator('summary').click();
  await echo.getByLabel(/message/).fill('hello from the browser');
  await echo.getByRole('button', { name: 'Call' }).click();
  await echo.locator('pre.response').getByText(/hello from the browser/).waitFor();
  await ada.shot(dir, 'connection-mcp');
  await page.goto('/#/connections');
  await page.getByRole('link', { name: 'Everything' }).waitFor();
  assert.equal(await page.locator('table[data-testid="connections"] tbody tr').count(), 3);
  await page.getByLabel('Service type').selectOption('mcp');
  assert.equal(await page.locator('table[data-testid="connections"] tbody tr').count(), 1);
  await page.getByLabel('Service type').selectOption('');
  await ada.shot(dir, 'hub');
  await page.getByLabel('Search').fill('pet');
  assert.equal(await page.locator('table[data-testid="connections"] tbody tr').count(), 1);
  await ada.assertNoLeaks();
});

test('set a workspace service key and see which level is in use (workspace over platform)', async () => {
  const { page } = ada;
  await page.getByRole('link', { name: 'AI & Services' }).click();
  await page.getByRole('heading', { name: 'AI & Services' }).waitFor();
  const openai = page.locator('li[data-service="openai"]');
  await openai.getByTestId('effective-openai').getByText('No key').waitFor();
  await openai.getByLabel('OpenAI API key').fill(canary.openai);
  await openai.getByRole('button', { name: 'Save key' }).click();
  await page.locator('li[data-service="openai"]').getByTestId('effective-openai').getByText('Workspace key').waitFor();
  // a platform key (platform admins) shows as the platform level where the workspace has none
  await page.getByRole('link', { name: 'Service credentials' }).click();
  await page.getByRole('heading', { name: 'Service credentials' }).waitFor();
  const brave = page.locator('li[data-service="brave"]');
  await brave.getByLabel('Brave Search API key').fill(canary.brave);
  await brave.getByRole('button', { name: 'Save key' }).click();
  await page.locator('li[data-service="brave"]').getByTestId('effective-brave').getByText('Platform key').waitFor();
  await ada.shot(dir, 'admin-service-credentials');
  await page.getByRole('link', { name: 'AI & Services' }).click();
  await page.locator('li[data-service="brave"]').getByTestId('effective-brave').getByText('Platform key').waitFor();
  await page.locator('li[data-service="openai"]').getByTestId('effective-openai').getByText('Workspace key').waitFor();
  await ada.shot(dir, 'workspace-ai-services');
  await page.getByRole('link', { name: 'OAuth providers' }).click();
  const gmail = page.locator('li[data-provider="gmail"]');
  assert.equal(await gmail.getByLabel('Redirect URI', { exact: true }).inputValue(), `${srv.url}/api/auth/connect/gmail/callback`);
  // register a provider: its redirect URI and "secret set" show, the secret never does; delete it
  await page.getByLabel('Provider id').fill('acme_idp');
  await page.getByLabel('Client id').fill('client-123');
  await page.getByLabel('Client secret').fill(canary.clientSecret);
  await page.getByRole('button', { name: 'Save provider' }).click();
  const acme = page.locator('li[data-provider="acme_idp"]');
  await acme.getByText('Client secret set').waitFor();
  assert.equal(await acme.getByLabel('Redirect URI', { exact: true }).inputValue(), `${srv.url}/api/auth/connect/acme_idp/callback`);
  await ada.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
  await acme.getByRole('button', { name: 'Copy the redirect uri' }).click();
  await page.getByRole('status').getByText('Copied').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${srv.url}/api/auth/connect/acme_idp/callback`);
  await ada.shot(dir, 'admin-oauth-providers');
  page.once('dialog', (d) => d.accept());
  await acme.getByRole('button', { name: 'Delete acme_idp' }).click();
  await page.locator('li[data-provider="gmail"]').waitFor();
  await page.locator('li[data-provider="acme_idp"]').waitFor({ state: 'detached' });
  await ada.assertNoLeaks();
});

test('My accounts: a personal token for a caller connection is used for the user\'s own calls, then disconnected', async () => {
  const A = api(srv.url, adaToken);
  const c = await A.post('/api/connections', { name: 'Personal API', base_url: up.url, fulfillment: 'caller', auth: { type: 'bearer' },
    operations: [{ name: 'me', method: 'GET', path: '/me' }] });
  assert.equal(c.status, 201, c.text);
  const call = () => A.post('/api/actions/call', { actionIdentifier: `${c.json.slug}.me`, input: {} });
  let r = await call();
  assert.equal(r.json?.error?.code, 'needs_credential', r.text);
  const { page } = ada;
  await page.getByRole('link', { name: 'My accounts' }).click();
  await page.getByRole('heading', { name: 'My accounts' }).waitFor();
  const offer = page.locator('li.card', { hasText: 'Personal API' });
  await offer.getByLabel('Your key or token').fill(canary.personal);
  await offer.getByRole('button', { name: 'Save' }).click();
  const card = page.locator('li.card', { hasText: 'API key or token' });
  await card.getByRole('button', { name: 'Disconnect' }).waitFor();
  assert.match(await card.textContent(), /Personal API/);
  assert.equal(await page.locator('.alert.error').count(), 0);
  await ada.shot(dir, 'my-accounts');
  up.requests.length = 0;
  r = await call();
  assert.equal(r.status, 200, r.text);
  assert.equal(up.requests.at(-1).headers.authorization, `Bearer ${canary.personal}`, 'the call used the personal token');
  await card.getByRole('button', { name: 'Disconnect' }).click();
  await page.locator('li.card', { hasText: 'Personal API' }).getByLabel('Your key or token').waitFor();
  r = await call();
  assert.equal(r.json?.error?.code, 'needs_credential', r.text);
  await ada.assertNoLeaks();
});

test('add a Gmail connection with a Google service account; its health shows in the hub and on its page', async () => {
  const { page } = ada;
  await page.goto('/#/connections/new');
  await page.getByRole('group', { name: '1. What do you want to connect?' }).waitFor();
  await ada.shot(dir, 'wizard-start');
  await page.getByRole('radio', { name: 'Telegram' }).check();
  await page.getByLabel('Bot token').waitFor();
  await ada.shot(dir, 'wizard-telegram');
  await page.getByRole('radio', { name: 'Gmail' }).check();
  await ada.shot(dir, 'wizard-gmail');
  await page.getByLabel('Name', { exact: true }).fill('Support mail');
  await page.getByLabel('Sign in with').selectOption('google_service_account');
  await page.getByLabel('Act for (user e-mail)').fill('support@example.com');
  await page.getByLabel('Tiers').fill('send, read');
  await page.getByLabel('Service account key (JSON)').fill(JSON.stringify(keyFile));
  await page.getByRole('button', { name: 'Create connection' }).click();
  await page.getByRole('heading', { name: 'Support mail', level: 1 }).waitFor();
  const health = page.getByTestId('oauth-health');
  await health.locator('[data-health="not_connected"]').waitFor();
  await page.getByRole('heading', { name: 'Tools (3)' }).waitFor();
  assert.match(await page.getByLabel('Service account key (JSON)').getAttribute('placeholder'), /^set/);
  assert.equal(await page.getByLabel('Service account key (JSON)').inputValue(), '');
  await ada.shot(dir, 'connection-gmail');
  await page.goto('/#/connections');
  const row = page.locator('table[data-testid="connections"] tbody tr', { hasText: 'Support mail' });
  await row.getByText('Google service account').waitFor();
  await row.locator('[data-health="not_connected"]').waitFor();
  assert.equal(await row.locator('td[data-label="Tools"]').textContent(), '3');
  await ada.assertNoLeaks();
});

test('an OAuth2 connection: Connect through the provider\'s sign-in page, then healthy with Reconnect, and a tool call', async () => {
  const A = api(srv.url, adaToken);
  const reg = await A.put('/api/admin/oauth-providers/peer', {
    name: 'Test peer', authorize_url: `${peer.issuer}/auth`, token_url: `${peer.issuer}/token`, issuer: peer.issuer, require_iss: true,
    client_auth: 'basic', default_scopes: ['openid', 'offline_access'], tiers: { user: { scopes: ['read:user'] } },
    client_id: peer.client_id, client_secret: canary.peerSecret });
  assert.equal(reg.status, 200, reg.text);
  const c = await A.post('/api/connections', { name: 'Peer API', base_url: peer.issuer, auth: { type: 'oauth2', provider: 'peer', tiers: ['user'] },
    operations: [{ name: 'whoami', method: 'GET', path: '/api/whoami' }] });
  assert.equal(c.status, 201, c.text);
  const { page } = ada;
  await page.goto(`/#/connections/${c.json.id}`);
  await page.getByTestId('oauth-health').locator('[data-health="not_connected"]').waitFor();
  await page.getByRole('link', { name: 'Connect', exact: true }).click();
  // the provider's own sign-in form
  await page.locator('input[name="login"]').fill('alice');
  await page.locator('input[name="password"]').fill('x');
  await page.locator('button[type="submit"], input[type="submit"]').first().click();
  await page.getByText(/Connected/).first().waitFor();
  await page.goto(`/#/connections/${c.json.id}`);
  await page.getByTestId('oauth-health').locator('[data-health="healthy"]').waitFor();
  await page.getByRole('link', { name: 'Reconnect' }).waitFor();
  const tool = page.locator('li[data-tool="whoami"]');
  await tool.locator('summary').click();
  await tool.getByRole('button', { name: 'Call' }).click();
  await tool.getByText('ok · 200').waitFor();
  await ada.shot(dir, 'connection-oauth');
  await page.goto('/#/connections');
  await page.locator('table[data-testid="connections"] tbody tr', { hasText: 'Peer API' }).locator('[data-health="healthy"]').waitFor();
  await ada.assertNoLeaks();
});

test('delete warns with the tools that stop working, then removes the connection', async () => {
  const { page } = ada;
  await page.goto('/#/connections');
  await page.getByRole('link', { name: 'Items API' }).click();
  await page.getByRole('heading', { name: 'Items API', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Delete connection…' }).click();
  const warn = page.getByRole('alertdialog');
  await warn.getByText('items_api.get_item').waitFor();
  await warn.getByText('items_api.list_items').waitFor();
  await ada.shot(dir, 'connection-delete');
  // Cancel keeps it; the keyboard reaches the buttons
  await warn.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await page.getByRole('alertdialog').count(), 0);
  await page.getByRole('button', { name: 'Delete connection…' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Delete Items API permanently' }).click();
  await page.getByRole('heading', { name: 'Connections', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Pet shop' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Items API' }).count(), 0);
  await ada.assertNoLeaks();
});

test('a member cannot open the platform admin pages, nor call their API', async () => {
  const bob = await watchedPage(browser, { baseURL: srv.url, canaries: all });
  try {
    const { page } = bob;
    await signIn(page, 'bob', BOB_PW, 'acme');
    assert.equal(await page.getByRole('link', { name: 'Service credentials' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'AI & Services' }).count(), 0);
    for (const h of ['#/admin/services', '#/admin/oauth', '#/settings/workspace']) {
      await page.goto(`/${h}`);
      await page.getByTestId('forbidden').waitFor();
    }
    await bob.shot(dir, 'member-forbidden');
    // the page reads each body: Chromium gives the test a response body only once it is read
    const status = await page.evaluate(async () => {
      const r = await fetch('/api/admin/service-credentials');
      await r.text();
      return r.status;
    });
    assert.equal(status, 403);
    const put = await page.evaluate(async () => {
      const r = await fetch('/api/admin/service-credentials/brave', {
        method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"key":"x"}' });
      await r.text();
      return r.status;
    });
    assert.equal(put, 403, 'no CSRF token: refused before anything else');
    // bob sees the workspace's connections, on a phone-sized screen too
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/#/connections');
    await page.getByRole('link', { name: 'Pet shop' }).waitFor();
    await bob.shot(dir, 'hub-phone');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'My accounts' }).waitFor();
    await bob.assertNoLeaks();
  } finally {
    await bob.close();
  }
});

test('sign out ends the session', async () => {
  const { page } = ada;
  await page.goto('/#/connections');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to connhub' }).waitFor();
  const r = await page.evaluate(async () => {
    const res = await fetch('/api/connections');
    await res.text();
    return res.status;
  });
  assert.equal(r, 401);
  await ada.assertNoLeaks();
});
