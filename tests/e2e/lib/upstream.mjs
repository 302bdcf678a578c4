// Mock upstreams for connhub end-to-end tests (node built-ins only).
//
//   const up = await startUpstream();            // http://127.0.0.2:<port>, mode "echo"
//   up.setMode('status', {status: 500, body: 'boom'});
//   up.route('/r', {mode: 'redirect', status: 302, location: 'http://127.0.0.1:9/x'});
//   ... up.requests[0].path ... await up.close();
//
// Every request is recorded in `requests` (method, raw url, raw path, its
// segments, decoded query, headers, raw headers, body as text). Modes:
//   echo                          200 JSON {method, url, path, query, headers, body}
//   status   {status, body, contentType}
//   redirect {status=302, location}            (per path with route())
//   slow     {delay=1000, then='echo'}         wait before the headers, then answer as `then`
//   trickle  {interval=1000, bytes=1e6, byte='x'}  headers now, then 1 byte every interval
//   huge     {bytes=16 MiB, chunked=false}     N bytes of 'a' (Content-Length unless chunked)
//   endless  {chunk=64 KiB}                    chunked body until the client goes away
//   gzipBomb {bytes=64 MiB}                    Content-Encoding: gzip of N zero bytes
//                                              (compressed once per size when the mode or
//                                              route is set, then cached)
//   json     {status=200, body}                fixed JSON body
//   sse      {events=[{event,data,id}], interval=0, keepOpen=false}  text/event-stream
//   hang                                       never answers (headers never come)
// Every mode also takes {headers: {...}} added to the response.
// startCanaryListener(host, port) counts TCP connections (`hits`) and closes them.
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';

const MAX_RECORDED_BODY = 16 * 1024 * 1024;
const gzipCache = new Map(); // uncompressed size -> Buffer

/** Returns gzip(N zero bytes), compressed once per N and cached (64 MiB -> ~64 KiB). */
export function gzipOfZeros(bytes) {
  let gz = gzipCache.get(bytes);
  if (!gz) {
    gz = zlib.gzipSync(Buffer.alloc(bytes), { level: 9 });
    gzipCache.set(bytes, gz);
  }
  return gz;
}

function hostForUrl(host) {
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

function normaliseSpec(mode, opts) {
  const spec = typeof mode === 'object' && mode !== null ? { ...mode } : { ...(opts || {}), mode };
  // compress now, not on the first request: gzipSync of 64 MiB blocks this process for a second
  // or more, long enough for the client under test to give up on an idle upstream
  if (spec.mode === 'gzipBomb') gzipOfZeros(spec.bytes ?? 64 * 1024 * 1024);
  return spec;
}

function parseQuery(raw) {
  const out = {};
  if (raw === null) return out;
  for (const [k, v] of new URLSearchParams(raw)) {
    if (k in out) out[k] = Array.isArray(out[k]) ? [...out[k], v] : [out[k], v];
    else out[k] = v;
  }
  return out;
}

export async function startUpstream({ host = '127.0.0.2', port = 0 } = {}) {
  const requests = [];
  const routes = new Map();
  const sockets = new Set();
  const timers = new Set();
  let current = { mode: 'echo' };
  const waiters = [];

  const later = (fn, ms) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      if (size < MAX_RECORDED_BODY) chunks.push(c);
      size += c.length;
    });
    req.on('end', () => {
      const url = req.url;
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const rawQuery = q < 0 ? null : url.slice(q + 1);
      const rec = {
        method: req.method,
        url,
        path,
        segments: path.split('/').slice(1),
        rawQuery,
        query: parseQuery(rawQuery),
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
        bodyBytes: size,
        remoteAddress: req.socket.remoteAddress,
        time: Date.now(),
      };
      requests.push(rec);
      for (const w of waiters.splice(0)) w();
      const spec = routes.get(path) || current;
      try {
        answer(spec, rec, req, res);
      } catch (e) {
        res.destroy(e);
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function echoBody(rec) {
    return JSON.stringify({
      method: rec.method,
      url: rec.url,
      path: rec.path,
      query: rec.query,
      headers: rec.headers,
      body: rec.body,
    });
  }

  function answer(spec, rec, req, res) {
    const extra = spec.headers || {};
    const gone = () => res.destroyed || res.writableEnded || req.socket.destroyed;
    switch (spec.mode || 'echo') {
      case 'echo': {
        const b = echoBody(rec);
        res.writeHead(spec.status || 200, { 'content-type': 'application/json', ...extra });
        res.end(b);
        break;
      }
      case 'status':
        res.writeHead(spec.status ?? 500, { 'content-type': spec.contentType || 'text/plain', ...extra });
        res.end(spec.body ?? '');
        break;
      case 'json':
        res.writeHead(spec.status ?? 200, { 'content-type': 'application/json', ...extra });
        res.end(typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body ?? {}));
        break;
      case 'redirect':
        res.writeHead(spec.status ?? 302, { location: spec.location, ...extra });
        res.end();
        break;
      case 'slow':
        later(() => {
          if (!gone()) answer({ ...spec, mode: spec.then || 'echo' }, rec, req, res);
        }, spec.delay ?? 1000);
        break;
      case 'hang':
        break;
      case 'trickle': {
        let left = spec.bytes ?? 1e6;
        const byte = spec.byte ?? 'x';
        res.writeHead(200, { 'content-type': 'text/plain', ...extra });
        res.flushHeaders();
        const tick = () => {
          if (gone()) return;
          if (left-- <= 0) return res.end();
          res.write(byte);
          later(tick, spec.interval ?? 1000);
        };
        later(tick, spec.interval ?? 1000);
        break;
      }
      case 'huge': {
        const total = spec.bytes ?? 16 * 1024 * 1024;
        const headers = { 'content-type': 'application/octet-stream', ...extra };
        if (!spec.chunked) headers['content-length'] = String(total);
        res.writeHead(200, headers);
        const block = Buffer.alloc(64 * 1024, 'a');
        let sent = 0;
        const pump = () => {
          while (!gone() && sent < total) {
            const n = Math.min(block.length, total - sent);
            sent += n;
            if (!res.write(n === block.length ? block : block.subarray(0, n))) {
              res.once('drain', pump);
              return;
            }
          }
          if (!gone()) res.end();
        };
        pump();
        break;
      }
      case 'endless': {
        res.writeHead(200, { 'content-type': 'application/octet-stream', ...extra });
        const block = Buffer.alloc(spec.chunk ?? 64 * 1024, 'e');
        const pump = () => {
          while (!gone()) {
            if (!res.write(block)) {
              res.once('drain', pump);
              return;
            }
          }
        };
        pump();
        break;
      }
      case 'gzipBomb': {
        const gz = gzipOfZeros(spec.bytes ?? 64 * 1024 * 1024);
        res.writeHead(200, {
          'content-type': spec.contentType || 'application/json',
          'content-encoding': 'gzip',
          'content-length': String(gz.length),
          ...extra,
        });
        res.end(gz);
        break;
      }
      case 'sse': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...extra });
        res.flushHeaders();
        const events = [...(spec.events || [])];
        const send = () => {
          if (gone()) return;
          const ev = events.shift();
          if (ev === undefined) {
            if (!spec.keepOpen) res.end();
            return;
          }
          let s = '';
          if (ev.comment !== undefined) s += `: ${ev.comment}\n`;
          if (ev.event !== undefined) s += `event: ${ev.event}\n`;
          if (ev.id !== undefined) s += `id: ${ev.id}\n`;
          if (ev.retry !== undefined) s += `retry: ${ev.retry}\n`;
          if (ev.data !== undefined) {
            const d = typeof ev.data === 'string' ? ev.data : JSON.stringify(ev.data);
            for (const line of d.split('\n')) s += `data: ${line}\n`;
          }
          res.write(s + '\n');
          if (spec.interval) later(send, spec.interval);
          else send();
        };
        send();
        break;
      }
      default:
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`upstream mock: unknown mode ${spec.mode}`);
    }
  }

  const actualPort = await listen(server, port, host);
  const url = `http://${hostForUrl(host)}:${actualPort}`;
  let closed = false;

  return {
    url,
    host,
    port: actualPort,
    requests,
    /** setMode('status', {status: 500}) or setMode({mode: 'status', status: 500}) */
    setMode(mode, opts) {
      current = normaliseSpec(mode, opts);
    },
    /** Per-path override (exact raw path, no query); spec null removes it. */
    route(path, spec) {
      if (spec == null) routes.delete(path);
      else routes.set(path, normaliseSpec(spec));
    },
    clearRoutes() {
      routes.clear();
    },
    /** Forget the recorded requests. */
    reset() {
      requests.length = 0;
    },
    /** Resolves once at least n requests were recorded (rejects after timeout ms). */
    waitForRequests(n, timeout = 5000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const check = () => {
          if (requests.length >= n) return resolve(requests.slice());
          if (Date.now() - t0 > timeout)
            return reject(new Error(`upstream: ${requests.length} of ${n} requests after ${timeout} ms`));
          waiters.push(check);
          later(check, 50);
        };
        check();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const done = new Promise((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await done;
    },
  };
}

/** A TCP listener that only counts connections: every DENY test asserts 0 new hits. */
export async function startCanaryListener(host, port = 0) {
  const connections = [];
  const sockets = new Set();
  const server = net.createServer((sock) => {
    connections.push({ remoteAddress: sock.remoteAddress, remotePort: sock.remotePort, time: Date.now() });
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    sock.destroy();
  });
  const actualPort = await listen(server, port, host);
  let closed = false;
  return {
    host,
    port: actualPort,
    url: `http://${hostForUrl(host)}:${actualPort}`,
    connections,
    get hits() {
      return connections.length;
    },
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await done;
    },
  };
}
