// The oidc-provider peer (tests/e2e/peers/oidc-peer.mjs) for end-to-end tests, and a driver that
// walks its login and consent pages like a browser.
//
//   const { child, ready } = await startOidcPeer({ redirectUri, clientSecret });  // ready.issuer ...
//   const cb = await authorizeFlow(authorizeUrl, { issuer: ready.issuer, stopAt: appUrl });
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Starts the peer on a free loopback port with `atTtl`-second access tokens; resolves to
 * {child, ready} once its ready line is out ({issuer, client_id, ...}). */
export async function startOidcPeer({ redirectUri, clientSecret, atTtl = 3 }) {
  const child = spawn(process.execPath, [path.join(here, '..', 'peers', 'oidc-peer.mjs'), '--port=0', `--at-ttl=${atTtl}`,
    '--auto-consent=1', `--redirect-uri=${redirectUri}`, `--client-secret=${clientSecret}`], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Walks the provider's pages from an authorize URL (logging in as alice, consenting) until a
 * redirect leaves for `stopAt`; returns that callback URL. */
export async function authorizeFlow(authorizeUrl, { issuer, stopAt }) {
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
    if (url.href.startsWith(stopAt)) return url;
    if (url.pathname.startsWith('/interaction/')) {
      const page = await (await hop(url)).text();
      const prompt = /name="prompt" value="(login|consent)"/.exec(page)?.[1];
      const form = new URLSearchParams(prompt === 'login' ? { prompt, login: 'alice', password: 'x' } : { prompt });
      res = await hop(url, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    } else {
      res = await hop(url);
    }
    loc = res.headers.get('location');
  }
  throw new Error('never reached the callback');
}
