// The API client: same-origin fetch with the session cookie, and the session's CSRF token on
// every request that changes something.
let csrf = null;

export function setCsrf(token) {
  csrf = token;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.error = body?.error || { message: this.message };
  }
}

export async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (csrf) headers['x-csrf-token'] = csrf;
  }
  let payload;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const r = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (r.status === 401 && path !== '/api/session' && onSignedOut) onSignedOut();
  if (!r.ok) throw new ApiError(r.status, json);
  return json;
}

let onSignedOut = null;
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

export const get = (p) => call('GET', p);
export const post = (p, b = {}) => call('POST', p, b);
export const put = (p, b = {}) => call('PUT', p, b);
export const patch = (p, b = {}) => call('PATCH', p, b);
export const del = (p) => call('DELETE', p);
