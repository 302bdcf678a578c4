// oidc-peer.mjs: a real OAuth2/OIDC authorization server (oidc-provider 9.13.3) for connhub's
// end-to-end tests. Adapted from shared/test-peers.md Appendix A. Loopback only.
//
// Settings come from the environment, or from argv as --name=value (argv wins), e.g.
//   node oidc-peer.mjs --port=0 --at-ttl=3 --auto-consent=1
//
//   PORT           18081; 0 picks a free port (the ready line tells which)
//   CLIENT_ID      conn-test      confidential client, client_secret_basic
//   CLIENT_SECRET  s3cret         (a second client "<CLIENT_ID>-post" uses client_secret_post)
//   REDIRECT_URI   http://127.0.0.1:9999/callback   (comma-separated list allowed)
//   AT_TTL         3600  access-token lifetime, seconds (3 gives fast auto-refresh tests)
//   RT_TTL         1209600
//   ROTATE         always|default|never   refresh-token rotation (always: every refresh
//                  returns a new one; reusing a rotated-out one revokes the whole grant)
//   API_SCOPES     "repo read:user write:org"   scopes of the test API (resource server)
//   AUTO_CONSENT   1 = skip the consent page (the login form is still shown)
//   PKCE_REQUIRED  1 (default) = every authorization request must carry an S256 challenge
//   RT_POLICY      default = library default refresh-token issuance (offline_access + consent)
//   AT_FORMAT      opaque|jwt
//
// Extra routes (not OAuth; for the tests):
//   GET  /_counters        JSON counters (see `counters` below)
//   POST /_counters/reset  zero them
//   POST /_fault?status=503&error=temporarily_unavailable&count=1&delay_ms=0
//        the next `count` POST /token requests get that answer (status 200 with no error =
//        only the delay). delay_ms alone slows real answers (for single-flight tests).
//        echo=1: the fault's error_description repeats the request's refresh_token (a
//        provider that echoes the credential it refused, LEAK-010)
//   GET  /_issued          every secret the peer saw or issued on /token: codes and
//        code_verifiers presented, access/refresh/id tokens answered (for leak scans)
//   POST /_fault_whoami?count=1
//        the next `count` GET /api/whoami requests get 401 whatever token they carry (an
//        upstream that stopped accepting a token before its expiry)
//   POST /_client_secret?value=S&keep_old=1
//        client-secret rotation at the provider: from now on /token and /token/revocation
//        accept HTTP Basic client credentials with secret S (and, with keep_old=1, the
//        configured CLIENT_SECRET too); others get 401 invalid_client. Counted per secret as
//        "configured" / "rotated" in counters.client_secrets.
//   GET  /api/whoami       protected resource: 200 with a live Bearer access token, else 401
//
// Prints one JSON line on stdout when ready: {"ready":true,"issuer":"http://127.0.0.1:PORT",...}
// Stops on SIGINT/SIGTERM.
import http from 'node:http';
import { Provider } from 'oidc-provider';

const argv = Object.fromEntries(process.argv.slice(2)
  .map((a) => /^--([a-z0-9-]+)=(.*)$/i.exec(a))
  .filter(Boolean)
  .map(([, k, v]) => [k.toUpperCase().replace(/-/g, '_'), v]));
const opt = (name, dflt) => argv[name] ?? process.env[name] ?? dflt;

const PORT = Number(opt('PORT', 18081));
const CLIENT_ID = opt('CLIENT_ID', 'conn-test');
const CLIENT_SECRET = opt('CLIENT_SECRET', 's3cret');
const REDIRECT_URIS = opt('REDIRECT_URI', 'http://127.0.0.1:9999/callback').split(',');
const AT_TTL = Number(opt('AT_TTL', 3600));
const RT_TTL = Number(opt('RT_TTL', 14 * 24 * 3600));
const ROTATE = opt('ROTATE', 'always');
const AT_FORMAT = opt('AT_FORMAT', 'opaque');
const API = 'urn:connections:test-api';
const API_SCOPES = opt('API_SCOPES', 'repo read:user write:org');
const AUTO_CONSENT = opt('AUTO_CONSENT', '0') === '1';
const PKCE_REQUIRED = opt('PKCE_REQUIRED', '1') === '1';
const RT_POLICY = opt('RT_POLICY', 'always');

const counters = {
  authorizations: 0,        // GET /auth hits
  token_requests: 0,        // every POST /token
  code_exchanges: 0,        // grant_type=authorization_code, any outcome
  code_exchanges_ok: 0,
  refresh_requests: 0,      // grant_type=refresh_token, any outcome
  refresh_ok: 0,
  refresh_invalid_grant: 0,
  refresh_reuse_detected: 0, // a rotated-out refresh token presented again
  token_errors: {},         // error code -> count
  client_auth: { basic: 0, body: 0, none: 0 }, // how /token requests authenticated
  pkce_verifier_sent: 0,
  revocations: 0,
  grants_revoked: 0,
  introspections: 0,
  whoami_ok: 0,
  whoami_401: 0,
  faults_served: 0,
  client_secrets: { configured: 0, rotated: 0, refused: 0 },
};
const zero = JSON.parse(JSON.stringify(counters));
const rotatedOut = new Set();   // refresh tokens that a successful refresh replaced
let fault = null;               // {status, error, count, delay_ms, echo}
const issued = [];              // /_issued: secrets seen or issued on /token
let whoamiFaults = 0;           // whoami requests still to refuse
let rotated = null;             // {secret, keepOld}: /_client_secret

// Client-secret rotation: checks the Basic credentials against the accepted secrets and
// hands oidc-provider the configured one (its client registry is static).
function rotateBasic(ctx) {
  const m = /^Basic\s+(\S+)$/i.exec(ctx.get('authorization') || '');
  if (!rotated || !m) return true;
  const dec = Buffer.from(m[1], 'base64').toString();
  const i = dec.indexOf(':');
  const id = decodeURIComponent(dec.slice(0, i).replace(/\+/g, ' '));
  const secret = decodeURIComponent(dec.slice(i + 1).replace(/\+/g, ' '));
  let label = null;
  if (secret === rotated.secret) label = 'rotated';
  else if (secret === CLIENT_SECRET && rotated.keepOld) label = 'configured';
  if (!label) {
    counters.client_secrets.refused += 1;
    return false;
  }
  counters.client_secrets[label] += 1;
  const enc = (v) => encodeURIComponent(v);
  ctx.req.headers.authorization = `Basic ${Buffer.from(`${enc(id)}:${enc(CLIENT_SECRET)}`).toString('base64')}`;
  return true;
}

function config() {
  const clients = [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: REDIRECT_URIS,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: `${CLIENT_ID}-post`,
      client_secret: CLIENT_SECRET,
      redirect_uris: REDIRECT_URIS,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ];
  const c = {
    clients,
    cookies: { keys: ['oidc-peer-cookie-key-not-secret'] },
    pkce: { required: () => PKCE_REQUIRED },
    scopes: ['openid', 'offline_access'],
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => API,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== API) throw new Error('unknown resource');
          return {
            scope: API_SCOPES, accessTokenTTL: AT_TTL, accessTokenFormat: AT_FORMAT,
            ...(AT_FORMAT === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
          };
        },
      },
    },
    ttl: { AccessToken: () => AT_TTL, RefreshToken: () => RT_TTL },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  };
  if (RT_POLICY !== 'default') {
    c.issueRefreshToken = async (_ctx, client) => client.grantTypeAllowed('refresh_token');
  }
  if (ROTATE === 'always') c.rotateRefreshToken = () => true;
  else if (ROTATE === 'never') c.rotateRefreshToken = () => false;
  if (AUTO_CONSENT) {
    c.loadExistingGrant = async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid offline_access');
      grant.addResourceScope(API, API_SCOPES);
      await grant.save();
      return grant;
    };
  }
  return c;
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

function json(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = body;
}

function install(provider) {
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  provider.on('grant.revoked', () => { counters.grants_revoked += 1; });

  provider.use(async (ctx, next) => {
    // ---- test-only routes ----
    if (ctx.path === '/_counters' && ctx.method === 'GET') return json(ctx, 200, counters);
    if (ctx.path === '/_counters/reset' && ctx.method === 'POST') {
      Object.assign(counters, JSON.parse(JSON.stringify(zero)));
      rotatedOut.clear();
      return json(ctx, 200, counters);
    }
    if (ctx.path === '/_fault' && ctx.method === 'POST') {
      const q = ctx.query;
      fault = {
        status: Number(q.status || 200), error: q.error || '', count: Number(q.count || 1),
        delay_ms: Number(q.delay_ms || 0), echo: q.echo === '1',
      };
      return json(ctx, 200, fault);
    }
    if (ctx.path === '/_issued' && ctx.method === 'GET') return json(ctx, 200, issued);
    if (ctx.path === '/_fault_whoami' && ctx.method === 'POST') {
      whoamiFaults = Number(ctx.query.count || 1);
      return json(ctx, 200, { count: whoamiFaults });
    }
    if (ctx.path === '/_client_secret' && ctx.method === 'POST') {
      rotated = { secret: ctx.query.value, keepOld: ctx.query.keep_old === '1' };
      return json(ctx, 200, { keep_old: rotated.keepOld });
    }
    if ((ctx.path === '/token' || ctx.path === '/token/revocation') && ctx.method === 'POST' &&
        !rotateBasic(ctx)) {
      return json(ctx, 401, { error: 'invalid_client', error_description: 'client authentication failed' });
    }
    if (ctx.path === '/api/whoami' && whoamiFaults > 0) {
      whoamiFaults -= 1;
      counters.whoami_401 += 1;
      ctx.set('WWW-Authenticate', 'Bearer realm="test-api", error="invalid_token"');
      return json(ctx, 401, { error: 'invalid_token' });
    }
    if (ctx.path === '/api/whoami') {
      const m = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization') || '');
      const at = m ? await provider.AccessToken.find(m[1]) : undefined;
      if (!at || at.isExpired) {
        counters.whoami_401 += 1;
        ctx.set('WWW-Authenticate', `Bearer realm="test-api"${m ? ', error="invalid_token"' : ''}`);
        return json(ctx, 401, { error: m ? 'invalid_token' : 'missing_token' });
      }
      counters.whoami_ok += 1;
      return json(ctx, 200, { sub: at.accountId, client_id: at.clientId, scope: at.scope, exp: at.exp });
    }
    if (ctx.path === '/auth' && ctx.method === 'GET') counters.authorizations += 1;
    if (ctx.path === '/token/revocation') counters.revocations += 1;
    if (ctx.path === '/token/introspection') counters.introspections += 1;
    if (ctx.path !== '/token' || ctx.method !== 'POST') return next();

    // ---- POST /token: count, maybe inject a fault ----
    counters.token_requests += 1;
    const authz = ctx.get('authorization') || '';
    if (/^Basic /i.test(authz)) counters.client_auth.basic += 1;
    if (fault && fault.count > 0) {
      fault.count -= 1;
      if (fault.delay_ms) await sleep(fault.delay_ms);
      if (fault.status !== 200 || fault.error) {
        counters.faults_served += 1;
        let desc = 'injected by /_fault';
        if (fault.echo) { // the answer goes out before oidc-provider reads the body: read it here
          let raw = '';
          for await (const d of ctx.req) raw += d;
          desc = `refresh token ${new URLSearchParams(raw).get('refresh_token')} is not valid`;
        }
        return json(ctx, fault.status, fault.error ? { error: fault.error, error_description: desc } : {});
      }
    }
    let thrown;
    try {
      await next();
    } catch (e) {
      thrown = e; // oidc-provider's error handler may sit outside this middleware
    }
    const p = ctx.oidc?.params ?? {};
    if (!/^Basic /i.test(authz)) counters.client_auth[p.client_secret ? 'body' : 'none'] += 1;
    if (p.code_verifier) counters.pkce_verifier_sent += 1;
    const status = thrown ? (thrown.status || thrown.statusCode || 500) : ctx.status;
    for (const v of [p.code, p.code_verifier, p.refresh_token]) if (v) issued.push(v);
    if (status === 200 && ctx.body && typeof ctx.body === 'object') {
      for (const k of ['access_token', 'refresh_token', 'id_token']) if (ctx.body[k]) issued.push(ctx.body[k]);
    }
    const err = thrown ? thrown.error || 'server_error'
      : (ctx.status >= 400 && ctx.body && typeof ctx.body === 'object' ? ctx.body.error : undefined);
    if (err) counters.token_errors[err] = (counters.token_errors[err] || 0) + 1;
    if (p.grant_type === 'authorization_code') {
      counters.code_exchanges += 1;
      if (status === 200) counters.code_exchanges_ok += 1;
    } else if (p.grant_type === 'refresh_token') {
      counters.refresh_requests += 1;
      if (p.refresh_token && rotatedOut.has(p.refresh_token)) counters.refresh_reuse_detected += 1;
      if (status === 200) {
        counters.refresh_ok += 1;
        const fresh = ctx.body && ctx.body.refresh_token;
        if (fresh && fresh !== p.refresh_token) rotatedOut.add(p.refresh_token);
      } else if (err === 'invalid_grant') {
        counters.refresh_invalid_grant += 1;
      }
    }
    if (thrown) throw thrown;
    return undefined;
  });
}

const server = http.createServer();
server.listen(PORT, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, config());
  install(provider);
  server.on('request', provider.callback());
  console.log(JSON.stringify({
    ready: true, issuer, port, client_id: CLIENT_ID, client_id_post: `${CLIENT_ID}-post`,
    redirect_uris: REDIRECT_URIS, at_ttl: AT_TTL, rotate: ROTATE, auto_consent: AUTO_CONSENT,
    pkce_required: PKCE_REQUIRED,
    endpoints: {
      authorization: `${issuer}/auth`, token: `${issuer}/token`,
      revocation: `${issuer}/token/revocation`, introspection: `${issuer}/token/introspection`,
      userinfo: `${issuer}/me`, resource: `${issuer}/api/whoami`, counters: `${issuer}/_counters`,
    },
  }));
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => server.close(() => process.exit(0)));
