/*
 * client: the MCP client transport, asynchronous on the worker's loop. It
 * drives the transport-free core (jsonrpc.h, protocol.h, sse.h) over
 * src/outbound (SSRF guard, limits, libcurl multi), so every byte leaves
 * through the same guarded client as any other outbound call.
 *
 * Transports (enum mcp_transport):
 *  - MCP_STREAMABLE_HTTP: every message is a POST to the URL with
 *    `Accept: application/json, text/event-stream`; the answer is one JSON
 *    document or an SSE stream (streamed through out_request.on_chunk, priming
 *    events with empty data skipped, the response picked by id; server
 *    requests on it are answered with jsonrpc_answer_default()).
 *    `Mcp-Session-Id` and `MCP-Protocol-Version` are sent when they apply.
 *  - MCP_SSE (legacy HTTP+SSE, 2024-11-05): a long-lived GET of the URL
 *    (streamed); the first `endpoint` event is resolved against the URL with
 *    curl_url(); an endpoint on another origin is refused (SSRF-166,
 *    "mcp_endpoint_origin"); messages are POSTed there, answers come on the GET.
 *  - MCP_AUTO: POST initialize; 400, 404 or 405 to it means "try the legacy
 *    transport on the same URL" (spec, backwards compatibility). 401/403 are
 *    auth errors, never a transport signal.
 *
 * Results and errors. done(e, result, ei, arg) runs exactly once, on the
 * loop's thread, never from inside mcp_discover()/mcp_call_tool(). On ERR_OK
 * result is a NEW reference the callback owns; otherwise result is NULL and
 * ei says what failed:
 *   ERR_UPSTREAM "mcp_error"          the server answered with a JSON-RPC
 *                                     error (message has its code and text);
 *   ERR_UPSTREAM "mcp_unauthorized"   HTTP 401/403: the configured credential
 *                                     was refused (never retried);
 *   ERR_UPSTREAM "mcp_http_status"    another unexpected HTTP status;
 *   ERR_UPSTREAM "mcp_bad_message"    the answer is not JSON-RPC / not MCP;
 *   ERR_UPSTREAM "mcp_no_response"    the answer did not contain our response;
 *   ERR_UPSTREAM "mcp_session_lost"   the session expired again after the
 *                                     one transparent re-initialize;
 *   ERR_UPSTREAM "mcp_endpoint_origin" legacy endpoint on another origin;
 *   ERR_TOO_LARGE "mcp_too_large"     a named limit below (or MCP_MAX_TOOLS);
 *   ERR_TIMEOUT  "timeout"            the operation's timeout_ms passed
 *                                     (tools/call: notifications/cancelled sent);
 *   transport failures (outbound):   ERR_UPSTREAM "connect_failed",
 *                                     "resolve_failed", "tls_failed",
 *                                     "protocol_error", ERR_FORBIDDEN "blocked"
 *                                     (SSRF policy), ERR_INVALID "bad_url",
 *                                     ERR_TIMEOUT "timeout", ERR_UNAVAILABLE
 *                                     "cancelled" (shutting down).
 * A tool that fails (isError: true) is NOT an error here: ERR_OK with
 * "isError": true, content passed through faithfully.
 *
 * Sessions. mcp_call_tool() takes a per-loop struct mcp_session_cache and a
 * caller key (workspace id + connection id). A Streamable HTTP session
 * (Mcp-Session-Id, negotiated version) is kept after a call and reused by the
 * next call with the same key, URL and headers (a fingerprint of them is
 * compared, so a rotated credential starts a new session). While a call runs
 * its session is taken out of the cache (concurrent calls on one key open
 * their own). HTTP 404 (or 400 with a session-looking JSON-RPC error, as the
 * TypeScript SDK sends) to a request that carried a session id re-initializes
 * once, transparently, and repeats the request. Legacy HTTP+SSE sessions are
 * not cached: each operation opens the GET stream and closes it at the end.
 *
 * Credentials: header values from the target are copied, sent on every
 * request of the operation (marked credential for outbound's cross-origin
 * rule), wiped when the operation ends, and never logged or put in errors.
 *
 * Ownership: the target is copied by the starting call; args is borrowed
 * (a reference is taken). One cache per loop; free it only once no operation
 * is running (outbound_free() first cancels every transfer: operations then
 * complete with "cancelled").
 */
#ifndef CONNHUB_MCP_CLIENT_H
#define CONNHUB_MCP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "mcp/jsonrpc.h"
#include "outbound/outbound.h"

#define MCP_CALL_TIMEOUT_MS 60000u /* default timeout of one operation (discover or call) */
#define MCP_MAX_TIMEOUT_MS 900000u /* timeout_ms is capped here (15 min) */
#define MCP_MAX_MESSAGE JSONRPC_MAX_MESSAGE             /* one JSON body or SSE event, bytes */
#define MCP_MAX_STREAM_BYTES ((size_t)64 * 1024 * 1024) /* one response/GET stream, total */
#define MCP_MAX_STREAM_EVENTS 100000u                   /* SSE events on one stream */
#define MCP_MAX_BAD_MESSAGES 64u     /* unusable messages (garbage, wrong ids) per operation */
#define MCP_MAX_SERVER_REQUESTS 64u  /* server -> client requests answered per operation */
#define MCP_MAX_CACHED_SESSIONS 256u /* sessions in one cache (least recently used evicted) */
#define MCP_SESSION_IDLE_MS 300000u  /* a cached session unused this long is dropped */
#define MCP_CANCEL_TIMEOUT_MS 5000u  /* notifications/cancelled, DELETE after the deadline */
#define MCP_MAX_RESUMES 5u           /* GETs with Last-Event-ID for one request's stream */
#define MCP_RESUME_DEFAULT_MS 1000u  /* wait before resuming when the server gave no retry: */
#define MCP_RESUME_MAX_MS 30000u     /* a larger retry: is capped here */
#define MCP_CLIENT_NAME "connhub"
#define MCP_CLIENT_VERSION "0.1"

enum mcp_transport {
    MCP_AUTO = 0,
    MCP_STREAMABLE_HTTP,
    MCP_SSE,
};
const char *mcp_transport_name(enum mcp_transport t); /* "auto", "streamable_http", "sse" */
/* "auto", "streamable_http" (also "streamable-http", "http"), "sse"; false otherwise. */
bool mcp_transport_parse(const char *s, enum mcp_transport *out);

struct mcp_target {
    const char *url; /* absolute http(s) URL of the MCP endpoint (or legacy SSE URL) */
    enum mcp_transport transport;
    const struct out_header *headers; /* borrowed, copied; e.g. Authorization, credential */
    size_t nheaders;
    uint32_t timeout_ms; /* whole operation; 0 = MCP_CALL_TIMEOUT_MS */
};

/* e == ERR_OK: result is a new reference (owned by the callback), ei NULL.
 * Otherwise result is NULL and ei (borrowed) says why. */
typedef void (*mcp_json_cb)(enum err e, json_t *result, const struct errinfo *ei, void *arg);

struct mcp_session_cache;
struct mcp_session_cache *mcp_session_cache_new(void);
/* Frees idle sessions without network traffic (servers expire them). NULL is fine. */
void mcp_session_cache_free(struct mcp_session_cache *c);
size_t mcp_session_cache_size(const struct mcp_session_cache *c);

/* Discovery: initialize (+ notifications/initialized), tools/list following
 * nextCursor to the end, then close (DELETE the session / close the stream).
 * Result: {"transport","protocol_version","server":{"name","version"},
 * "instructions"?, "tools":[{"name","tool_name","title"?,"description",
 * "input_schema","output_schema"?,"annotations"?}], "warnings":[string...]}.
 * A return other than ERR_OK (bad target, out of memory) means done() will
 * not run. */
enum err mcp_discover(struct outbound *ob, const struct mcp_target *t, mcp_json_cb done, void *arg,
                      struct errinfo *ei) WARN_UNUSED;

/* tools/call `tool` (the server's own name) with args (object or NULL).
 * Result: {"content":[...], "structuredContent"?, "isError": bool}. cache may
 * be NULL (no reuse: the session is closed afterwards); cache_key is then
 * ignored. */
enum err mcp_call_tool(struct outbound *ob, struct mcp_session_cache *cache, const char *cache_key,
                       const struct mcp_target *t, const char *tool, const json_t *args,
                       mcp_json_cb done, void *arg, struct errinfo *ei) WARN_UNUSED;

#endif
