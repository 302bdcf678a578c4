// Canary secrets and the leak scanner (catalogue Part 3 §C).
//
//   const c = makeCanary('api_key');              // CANARY_api_key_<32 hex>
//   scanForCanaries(stderrText, [c])               // [] when nothing leaked
//   scanFiles(['/tmp/x/connhub.db', logDir], [c])  // files (and folders) read as bytes
//
// canaryForms(v) lists every form searched for: raw; base64 and base64url with
// and without padding; the base64/base64url text of v at the three byte
// alignments (v, 'x'+v, 'xx'+v) with the characters that depend on the
// neighbouring bytes trimmed, so v is found inside any larger base64 blob;
// base64 of 'user:'+v and v+':' (basic auth); URL-encoded (component and
// form); JSON-escaped (plain and \u00XX); hex lower and upper. With
// {partials: true} also the first and last 12 characters (truncation hints).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function makeCanary(field) {
  if (!/^[A-Za-z0-9_]+$/.test(field)) throw new Error(`makeCanary: field must be [A-Za-z0-9_]: ${field}`);
  return `CANARY_${field}_${randomBytes(16).toString('hex')}`;
}

const b64 = (buf) => buf.toString('base64');
const b64url = (buf) => buf.toString('base64url');
const nopad = (s) => s.replace(/=+$/, '');

// The base64 characters of value that do not depend on bytes around it when
// value is preceded by k bytes (k = 0, 1, 2) inside a larger stream.
function alignedCore(value, k, enc) {
  const bytes = Buffer.concat([Buffer.alloc(k, 0x78), value]);
  const text = enc(bytes).replace(/=+$/, '');
  const start = Math.ceil((8 * k) / 6);
  const end = Math.floor((8 * bytes.length) / 6);
  return text.slice(start, end);
}

function jsonUnicodeEscape(s) {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (cp > 0xffff) {
      const hi = Math.floor((cp - 0x10000) / 0x400) + 0xd800;
      const lo = ((cp - 0x10000) % 0x400) + 0xdc00;
      out += `\\u${hi.toString(16).padStart(4, '0')}\\u${lo.toString(16).padStart(4, '0')}`;
    } else {
      out += `\\u${cp.toString(16).padStart(4, '0')}`;
    }
  }
  return out;
}

/** Every form of value to search for: [{form, needle}] (needles unique, non-empty). */
export function canaryForms(value, { partials = false } = {}) {
  const v = Buffer.from(value, 'utf8');
  const forms = [
    ['raw', value],
    ['base64', b64(v)],
    ['base64-nopad', nopad(b64(v))],
    ['base64url', b64url(v)],
    ['base64url-padded', b64(v).replace(/\+/g, '-').replace(/\//g, '_')],
    ['base64-basic-user', b64(Buffer.from(`user:${value}`))],
    ['base64-basic-colon', b64(Buffer.from(`${value}:`))],
    ['url-encoded', encodeURIComponent(value)],
    ['form-encoded', new URLSearchParams({ x: value }).toString().slice(2)],
    ['json-escaped', JSON.stringify(value).slice(1, -1)],
    ['json-unicode-escaped', jsonUnicodeEscape(value)],
    ['hex-lower', v.toString('hex')],
    ['hex-upper', v.toString('hex').toUpperCase()],
  ];
  for (const k of [0, 1, 2]) {
    forms.push([`base64-align${k}`, alignedCore(v, k, b64)]);
    forms.push([`base64url-align${k}`, alignedCore(v, k, b64url)]);
  }
  if (partials && value.length > 12) {
    forms.push(['first12', value.slice(0, 12)]);
    forms.push(['last12', value.slice(-12)]);
  }
  const seen = new Set();
  const out = [];
  for (const [form, needle] of forms) {
    if (!needle || needle.length < 8 || seen.has(needle)) continue;
    seen.add(needle);
    out.push({ form, needle });
  }
  return out;
}

const formCache = new Map();
function formsOf(canary, opts) {
  const key = `${opts.partials ? 1 : 0}:${canary}`;
  let f = formCache.get(key);
  if (!f) {
    f = canaryForms(canary, opts).map((x) => ({ ...x, bytes: Buffer.from(x.needle, 'utf8') }));
    formCache.set(key, f);
  }
  return f;
}

/**
 * Finds every form of every canary in haystack (a string or a Buffer).
 * Returns [{canary, form, offset}] (byte offsets), empty when clean.
 */
export function scanForCanaries(haystack, canaries, opts = {}) {
  const hay = Buffer.isBuffer(haystack) ? haystack : Buffer.from(String(haystack ?? ''), 'utf8');
  const hits = [];
  for (const canary of canaries) {
    for (const { form, bytes } of formsOf(canary, opts)) {
      let at = hay.indexOf(bytes);
      while (at >= 0) {
        hits.push({ canary, form, offset: at });
        at = hay.indexOf(bytes, at + 1);
      }
    }
  }
  return hits;
}

function listFiles(p, out) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return; // gone: nothing to scan
  }
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(p)) listFiles(path.join(p, name), out);
  } else if (st.isFile()) {
    out.push(p);
  }
}

/** Scans files (folders are walked) as bytes: [{file, canary, form, offset}]. */
export function scanFiles(paths, canaries, opts = {}) {
  const files = [];
  for (const p of [].concat(paths)) listFiles(p, files);
  const hits = [];
  for (const file of files) {
    let data;
    try {
      data = fs.readFileSync(file);
    } catch {
      continue;
    }
    for (const h of scanForCanaries(data, canaries, opts)) hits.push({ file, ...h });
  }
  return hits;
}

/** A readable summary of hits for assertion messages (never the full secret). */
export function describeHits(hits) {
  return hits
    .slice(0, 20)
    .map((h) => `${h.file ? h.file + ': ' : ''}${h.form} of ${h.canary.slice(0, 20)}... at ${h.offset}`)
    .join('\n');
}
