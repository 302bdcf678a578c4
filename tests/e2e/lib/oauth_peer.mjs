// The oidc-provider peer (tests/e2e/peers/oidc-peer.mjs) for OAuth end-to-end tests: start it,
// read its counters, inject faults, and walk its login/consent pages from an authorize URL to
// connhub's callback.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Starts the peer with --name=value settings; resolves {child, ready} (ready: its JSON line). */
export async function startPeer(settings) {
  const args = Object.entries(settings).map(([k, v]) => `--${k}=${v}`);
  const child = spawn(process.execPath, [path.join(here, '..', 'peers', 'oidc-peer.mjs'), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const ready = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.on('exit', (c) => reject(new Error(`oidc peer exited ${c}: ${err}`)));
  });
  return { child, ready };
}

/** Stops a peer started by startPeer (by its own process object). */
export async function stopPeer(child) {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** Walks the provider's pages from an authorize URL to connhub's callback, signing in as `login`
 * (default alice); returns the callback URL (not fetched). Cookies are kept per walk. */
export async function authorize(authorizeUrl, issuer, connhubUrl, login = 'alice') {
  const jar = new Map();
  const hop = async (url, init = {}) => {
    const headers = { ...(init.headers || {}) };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const i = kv.indexOf('=');
      jar.set(kv.slice(0, i), kv.slice(i + 1));
    }
    return res;
  };
  let res = await hop(authorizeUrl);
  let loc = res.headers.get('location');
  for (let i = 0; i < 10 && loc; i++) {
    const url = new URL(loc, issuer);
    if (url.href.startsWith(connhubUrl)) return url;
    if (url.pathname.startsWith('/interaction/')) {
      const page = await (await hop(url)).text();
      const prompt = /name="prompt" value="(login|consent)"/.exec(page)?.[1];
      const form = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'x' } : { prompt });
      res = await hop(url, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    } else {
      res = await hop(url);
    }
    loc = res.headers.get('location');
  }
  throw new Error('never reached the callback');
}

/** startPeer with the settings the tests use most, as one object: {ready, counters(), stop()}. */
export async function startPeerHandle({ redirectUri, clientSecret, atTtl = 60 }) {
  const { child, ready } = await startPeer({ port: 0, 'at-ttl': atTtl, 'auto-consent': 1, 'redirect-uri': redirectUri,
    'client-secret': clientSecret });
  return { ready, counters: () => counters(ready.issuer), stop: () => stopPeer(child) };
}

/** The peer's counters; resetCounters() zeroes them. */
export const counters = async (issuer) => (await fetch(`${issuer}/_counters`)).json();
export const resetCounters = (issuer) => fetch(`${issuer}/_counters/reset`, { method: 'POST' });
/** POSTs one of the peer's test routes (/_fault, /_fault_whoami, /_client_secret) with query q. */
export const peerPost = (issuer, route, q = {}) =>
  fetch(`${issuer}${route}?${new URLSearchParams(q)}`, { method: 'POST' });
