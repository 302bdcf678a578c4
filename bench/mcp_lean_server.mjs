// A lean MCP server for bench/mcp.mjs (node:http only, no SDK): Streamable HTTP on /mcp with
// sessions and plain application/json answers, TOOLS tools (default 500) listed PAGE (50) at a
// time with opaque cursors, and an `echo` tool. Its own cost per request is small, so the
// clients' costs show.   node bench/mcp_lean_server.mjs HOST PORT   (prints "listening PORT")
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { helpFromHeader } from './help.mjs';

helpFromHeader(import.meta.url);

const [host, port] = [process.argv[2] || '127.0.0.1', Number(process.argv[3] || 0)];
const TOOLS = Number(process.env.TOOLS || 500);
const PAGE = Number(process.env.PAGE || 50);
const sessions = new Set();

const tools = [{ name: 'echo', description: 'Echoes the message back',
  inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } }];
for (let i = 1; i < TOOLS; i++) {
  tools.push({ name: `tool_${String(i).padStart(4, '0')}`, description: `Generated tool number ${i}, for paging`,
    inputSchema: { type: 'object', properties: { q: { type: 'string', description: 'a query' }, n: { type: 'integer' } }, required: ['q'] } });
}

function answer(msg) {
  const ok = (result) => ({ jsonrpc: '2.0', id: msg.id, result });
  switch (msg.method) {
    case 'initialize':
      return ok({ protocolVersion: msg.params?.protocolVersion === '2025-06-18' ? '2025-06-18' : '2025-11-25',
        capabilities: { tools: { listChanged: false } }, serverInfo: { name: 'lean-bench-server', version: '1.0.0' } });
    case 'tools/list': {
      const start = msg.params?.cursor ? Number(Buffer.from(msg.params.cursor, 'base64url').toString()) : 0;
      const r = { tools: tools.slice(start, start + PAGE) };
      if (start + PAGE < tools.length) r.nextCursor = Buffer.from(String(start + PAGE)).toString('base64url');
      return ok(r);
    }
    case 'tools/call':
      if (msg.params?.name === 'echo') return ok({ content: [{ type: 'text', text: `Echo: ${msg.params.arguments?.message ?? ''}` }] });
      return ok({ content: [{ type: 'text', text: 'unknown tool' }], isError: true });
    case 'ping':
      return ok({});
    default:
      return { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found' } };
  }
}

const server = http.createServer((req, res) => {
  if (req.url !== '/mcp') { res.writeHead(404).end(); return; }
  const sid = req.headers['mcp-session-id'];
  if (req.method === 'DELETE') { sessions.delete(sid); res.writeHead(200).end(); return; }
  if (req.method !== 'POST') { res.writeHead(405).end(); return; }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let msg;
    try { msg = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}');
      return;
    }
    const headers = { 'content-type': 'application/json' };
    if (msg.method === 'initialize') {
      const id = randomUUID();
      sessions.add(id);
      headers['mcp-session-id'] = id;
    } else if (!sessions.has(sid)) {
      res.writeHead(404, headers).end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
      return;
    }
    if (msg.id === undefined) { res.writeHead(202).end(); return; }
    res.writeHead(200, headers).end(JSON.stringify(answer(msg)));
  });
});
server.keepAliveTimeout = 60000;
server.listen(port, host, () => process.stdout.write(`listening ${server.address().port}\n`));
