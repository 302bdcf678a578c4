// A real MCP server built on the TypeScript SDK (@modelcontextprotocol/sdk, from the lockfile)
// for the behaviour server-everything does not show: a tool list that changes at run time, a
// tool that reports progress, and a tool whose response stream the server closes before the
// answer (SDK closeSSEStream with an event store: the client must come back with GET +
// Last-Event-ID). Streamable HTTP on /mcp, sessions, resumability. Run as a child process:
//   node mcp_sdk_server.mjs HOST PORT       (GET /stats: counters as JSON)
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';

const [host, port] = [process.argv[2] || '127.0.0.1', Number(process.argv[3] || 0)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stats = { resumes: 0, lastEventIds: [], dropped: 0, calls: 0 };
const obj = (props = {}, required = []) => ({ type: 'object', properties: props, required });

// One tool list for every session: a tool added by add-tool is there for all.
const tools = new Map([
  ['echo', { def: { name: 'echo', description: 'Echoes the message', inputSchema: obj({ message: { type: 'string' } }, ['message']) },
    run: async ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }) }],
  ['add-tool', { def: { name: 'add-tool', description: 'Adds a tool at run time', inputSchema: obj({ name: { type: 'string' } }, ['name']) },
    run: async ({ name }, extra) => {
      tools.set(name, { def: { name, description: 'added at run time', inputSchema: obj() },
        run: async () => ({ content: [{ type: 'text', text: `I am ${name}` }] }) });
      // on this request's stream (no GET stream is open to carry an unrelated one)
      await extra.sendNotification({ method: 'notifications/tools/list_changed' });
      return { content: [{ type: 'text', text: `added ${name}` }] };
    } }],
  ['progress', { def: { name: 'progress', description: 'Reports progress', inputSchema: obj({ steps: { type: 'integer' } }, ['steps']) },
    run: async ({ steps }, extra) => {
      const tok = extra._meta?.progressToken;
      for (let i = 1; i <= steps; i++) {
        if (tok !== undefined) {
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: tok, progress: i, total: steps, message: `step ${i}` } });
        }
        await sleep(20);
      }
      return { content: [{ type: 'text', text: `done in ${steps} steps` }] };
    } }],
  ['drop-stream', { def: { name: 'drop-stream', description: 'Closes its response stream before answering', inputSchema: obj() },
    run: async (_args, extra) => {
      const tok = extra._meta?.progressToken;
      const progress = (n) => tok === undefined ? null
        : extra.sendNotification({ method: 'notifications/progress', params: { progressToken: tok, progress: n, total: 2 } });
      await progress(1);
      if (!extra.closeSSEStream) throw new Error('no event store: cannot close the stream');
      extra.closeSSEStream();
      stats.dropped++;
      await sleep(300);
      await progress(2);
      return { content: [{ type: 'text', text: 'answered after the drop' }] };
    } }],
]);

function newServer() {
  const s = new Server({ name: 'connhub-e2e-sdk-peer', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  s.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...tools.values()].map((t) => t.def) }));
  s.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    stats.calls++;
    const t = tools.get(req.params.name);
    if (!t) return { content: [{ type: 'text', text: `no tool ${req.params.name}` }], isError: true };
    return t.run(req.params.arguments || {}, { ...extra, _meta: req.params._meta });
  });
  return s;
}

const sessions = new Map();

const httpServer = http.createServer(async (req, res) => {
  try {
    if (req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stats));
      return;
    }
    if (!req.url.startsWith('/mcp')) { res.writeHead(404); res.end(); return; }
    let body;
    if (req.method === 'POST') {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
    }
    if (req.method === 'GET' && req.headers['last-event-id']) {
      stats.resumes++;
      stats.lastEventIds.push(req.headers['last-event-id']);
    }
    const sid = req.headers['mcp-session-id'];
    let t = sid ? sessions.get(sid) : undefined;
    if (!t && body && body.method === 'initialize') {
      t = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: new InMemoryEventStore(),
        retryInterval: 100,
        onsessioninitialized: (id) => sessions.set(id, t),
      });
      t.onclose = () => { if (t.sessionId) sessions.delete(t.sessionId); };
      await newServer().connect(t);
    }
    if (!t) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
      return;
    }
    await t.handleRequest(req, res, body);
  } catch (e) {
    if (!res.headersSent) res.writeHead(500);
    res.end(String(e));
  }
});

httpServer.listen(port, host, () => {
  process.stdout.write(`listening ${httpServer.address().port}\n`);
});
