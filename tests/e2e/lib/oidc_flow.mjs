// The oidc-provider peer (peers/oidc-peer.mjs) and a browser-less walk through its pages.
//
//   const peer = await startOidcPeer({ redirectUri, clientSecret, atTtl: 60 });
//   // peer.ready: {issuer, client_id, ...}; peer.stop()
//   const cb = await walkAuthorize(authorizeUrl, { issuer: peer.ready.issuer, appUrl, login: 'alice' });
//   await fetch(cb)   // connhub's callback
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function startOidcPeer({ redirectUri, clientSecret, atTtl = 60 }) {
  const child = spawn(process.execPath, [path.join(here, '..', 'peers', 'oidc-peer.mjs'), '--port=0',
    `--at-ttl=${atTtl}`, '--auto-consent=1', `--redirect-uri=${redirectUri}`, `--client-secret=${clientSecret}`],
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
  return {
    ready,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
    async counters() {
      return (await fetch(`${ready.issuer}/_counters`)).json();
    },
  };
}

/** Follows the provider's pages (login as `login`, consent) from authorizeUrl until the redirect
 * to appUrl; returns that callback URL. Cookies are kept per walk. */
export async function walkAuthorize(authorizeUrl, { issuer, appUrl, login }) {
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
    if (url.href.startsWith(appUrl)) return url;
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
