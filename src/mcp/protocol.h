/*
 * protocol: the MCP layer above JSON-RPC, with no I/O: version negotiation,
 * the initialize result, tools/list pages, tools/call results, the mapping of
 * MCP tool names to connhub operation names, and the per-session state a
 * transport drives.
 *
 * What a transport (Streamable HTTP, src/outbound) must do with this:
 *  1. mcp_session_start() -> POST the initialize body with
 *     `Content-Type: application/json` and
 *     `Accept: application/json, text/event-stream` (on every POST).
 *  2. If the answer carries `Mcp-Session-Id` (header name case-insensitive,
 *     beware `Access-Control-Expose-Headers` listing the name), call
 *     mcp_session_set_id(); send it back on every later POST/GET/DELETE.
 *  3. Feed each JSON body, or each SSE event with non-empty data (src/mcp/sse.h;
 *     skip empty-data priming events but keep their id), to jsonrpc_parse()
 *     on s->rpc; pass the initialize RESPONSE to mcp_session_on_initialize(),
 *     which negotiates the version and builds notifications/initialized to POST
 *     (expect 202). Answer every JSONRPC_REQUEST (jsonrpc_answer_default()).
 *  4. On every later request send `MCP-Protocol-Version:
 *     mcp_session_version_header()` when it is not NULL (>= 2025-06-18).
 *  5. HTTP 404 to a request that carried a session id (also 400 with a
 *     session-looking JSON-RPC error, server-everything): call
 *     mcp_session_expired(), re-initialize, retry the request once.
 *  6. SSE responses: remember sse_last_event_id(); if the stream ends before
 *     the response, wait sse_retry_ms() and GET with `Last-Event-ID`.
 *  7. Legacy HTTP+SSE (2024-11-05): GET the SSE URL; the first `endpoint`
 *     event's data is a URI reference resolved against the SSE URL; refuse a
 *     different origin; POST every message there, answers come on the GET
 *     stream. No session header, no version header.
 *  8. tools/list: loop jsonrpc_build_tools_list() / mcp_tool_list_add_page()
 *     until next cursor is NULL; re-list on notifications/tools/list_changed
 *     and after a re-initialize.
 *
 * Room for 2026-07-28 (stateless, "modern"): no initialize and no session;
 * mcp_stateless_meta() builds the params._meta keys each request must carry
 * (jsonrpc_client_set_meta()), and the transport adds `Mcp-Method` and
 * `Mcp-Name` headers. Not implemented: server/discover, resultType,
 * input_required retries.
 *
 * Ownership: every struct here lives in the caller's memory and is freed by
 * its _release(); each json_t * field is an owned reference. Errors from the
 * server's side are ERR_UPSTREAM (shape, unsupported version, repeated
 * cursor) or ERR_TOO_LARGE (a named limit); the field names what is wrong.
 */
#ifndef CONNHUB_MCP_PROTOCOL_H
#define CONNHUB_MCP_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "mcp/jsonrpc.h"

#define MCP_PROTOCOL_LATEST "2025-11-25"    /* what we offer */
#define MCP_PROTOCOL_STATELESS "2026-07-28" /* the stateless revision (not yet spoken) */

#define MCP_MAX_TOOLS 10000     /* tools in one list */
#define MCP_MAX_TOOL_PAGES 1000 /* tools/list pages per listing */
#define MCP_MAX_TOOL_SCHEMA                                                                        \
    ((size_t)256 * 1024)       /* inputSchema + outputSchema, compact JSON bytes */
#define MCP_MAX_TOOL_NAME 1024 /* bytes of an MCP tool name we accept */
#define MCP_MAX_CURSOR 4096    /* bytes of a nextCursor */
#define MCP_MAX_SESSION_ID 256 /* bytes of Mcp-Session-Id */
#define MCP_MAX_REINIT 3       /* re-initializations after 404 in a row */
#define MCP_OP_NAME_MAX 64     /* = MAX_OPERATION_NAME_LEN */
#define MCP_OP_HASH_LEN 8      /* the stable suffix: 8 chars of base32 */

/* ---- versions ---- */

enum mcp_version {
    MCP_VERSION_NONE = 0,
    MCP_VERSION_2024_11_05,
    MCP_VERSION_2025_03_26,
    MCP_VERSION_2025_06_18,
    MCP_VERSION_2025_11_25,
};

const char *mcp_version_str(enum mcp_version v); /* "" for NONE */
/* The server's answer to our offer. Anything but a supported version is
 * ERR_UPSTREAM "mcp_unsupported_version" naming it and listing ours. */
enum err mcp_version_negotiate(const char *answered, enum mcp_version *out,
                               struct errinfo *ei) WARN_UNUSED;
bool mcp_version_needs_header(enum mcp_version v);   /* MCP-Protocol-Version: >= 2025-06-18 */
bool mcp_version_allows_batch(enum mcp_version v);   /* 2025-03-26 only */
bool mcp_version_priming_events(enum mcp_version v); /* >= 2025-11-25 */

/* ---- initialize ---- */

struct mcp_server_info {
    enum mcp_version version;
    char *name, *title, *version_str; /* serverInfo; NULL if absent */
    char *instructions;               /* NULL if absent */
    json_t *capabilities;             /* owned, an object ({} if absent) */
    bool tools, tools_list_changed, logging, prompts, resources, tasks;
};

/* result is the RESPONSE's result (borrowed). */
enum err mcp_parse_initialize(json_t *result, struct mcp_server_info *out,
                              struct errinfo *ei) WARN_UNUSED;
void mcp_server_info_release(struct mcp_server_info *si);

/* ---- tools/list ---- */

struct mcp_tool {
    char *name;                   /* exactly as the server sent it */
    char op[MCP_OP_NAME_MAX + 1]; /* mapped connhub operation name */
    char *title, *description;    /* NULL if absent */
    json_t *input_schema;         /* owned, an object */
    json_t *output_schema;        /* owned or NULL */
    json_t *annotations;          /* owned or NULL: untrusted hints */
    bool task_required;           /* execution.taskSupport == "required" */
};

struct mcp_tool_limits {
    size_t max_tools;  /* MCP_MAX_TOOLS */
    size_t max_pages;  /* MCP_MAX_TOOL_PAGES */
    size_t max_schema; /* MCP_MAX_TOOL_SCHEMA */
};

struct mcp_tool_list {
    struct mcp_tool_limits lim;
    struct mcp_tool *tools;
    size_t n, alloc;
    size_t pages;
    size_t dropped;          /* tools refused (no name, bad schema, duplicate, too big) */
    const char *drop_reason; /* static: the last reason, or NULL */
    char **cursors;          /* every nextCursor seen */
    size_t ncursors;
    bool complete; /* last page seen; names mapped */
};

void mcp_tool_list_init(struct mcp_tool_list *tl, const struct mcp_tool_limits *lim);
void mcp_tool_list_release(struct mcp_tool_list *tl);
/* Adds one tools/list result (borrowed). On ERR_OK *next_cursor is the cursor
 * for the next request (owned by tl, valid until release), or NULL when the
 * list is complete: then names are mapped and tl->complete is set. A cursor
 * seen before stops the loop: ERR_UPSTREAM "mcp_cursor_repeat" (the tools so
 * far stay in tl, unmapped). "" is an ordinary, opaque cursor. Over max_tools
 * or max_pages: ERR_TOO_LARGE. */
enum err mcp_tool_list_add_page(struct mcp_tool_list *tl, json_t *result, const char **next_cursor,
                                struct errinfo *ei) WARN_UNUSED;

/* Maps every tool's name to tl->tools[i].op, deterministically for a given
 * set of names (server order does not matter):
 *   lower-case ASCII letters and digits kept, every other run of bytes
 *   becomes one "_", leading/trailing "_" trimmed;
 *   a name that had to be truncated to 64, or that maps to "", gets
 *   "_" + 8-char hash of the original name (FNV-1a 64, base32) instead;
 *   when several names map to one result, a name equal to it keeps it and the
 *   others get the hash suffix (re-salted in the rare case that still clashes).
 * So `get-sum` is `get_sum`, unless a tool is literally named `get_sum`.
 * Called by mcp_tool_list_add_page() at the last page. */
enum err mcp_tool_list_map_names(struct mcp_tool_list *tl, struct errinfo *ei) WARN_UNUSED;
const struct mcp_tool *mcp_tool_list_find_op(const struct mcp_tool_list *tl, const char *op);
const struct mcp_tool *mcp_tool_list_find(const struct mcp_tool_list *tl, const char *name);
/* New reference: [{"name": original, "operation": mapped, "changed": bool}, ...]
 * in list order, for reports. NULL on OOM. */
json_t *mcp_tool_list_mapping(const struct mcp_tool_list *tl);

/* One name, without collision handling, into out (MCP_OP_NAME_MAX + 1 bytes).
 * salt 0: the base mapping (hash suffix only if truncated or empty); salt k >= 1:
 * always the hash suffix, hashed with salt k - 1 (1 = the plain hash).
 * Returns true if a hash suffix was added. */
bool mcp_op_name(const char *name, size_t len, unsigned salt, char *out);

/* ---- tools/call ---- */

struct mcp_call_result {
    json_t *content;    /* owned: the content array as sent ([] if absent) */
    json_t *structured; /* owned: structuredContent, or NULL */
    json_t *task;       /* owned: a task-augmented call's "task", or NULL */
    json_t *meta;       /* owned: _meta, or NULL */
    bool is_error;      /* the tool failed; the content tells the model why */
};

/* result borrowed. Content items must be objects with a string "type";
 * known types are checked for their required fields (text.text, image/audio
 * data+mimeType, resource_link uri+name, resource.resource.uri); unknown
 * types pass through. */
enum err mcp_parse_call_result(json_t *result, struct mcp_call_result *out,
                               struct errinfo *ei) WARN_UNUSED;
void mcp_call_result_release(struct mcp_call_result *r);

/* ---- session ---- */

enum mcp_session_state {
    MCP_SESSION_NEW = 0,      /* nothing sent, or expired */
    MCP_SESSION_INITIALIZING, /* initialize sent */
    MCP_SESSION_READY,        /* initialized: normal requests allowed */
};

struct mcp_session {
    enum mcp_session_state state;
    enum mcp_version version;                /* negotiated */
    char session_id[MCP_MAX_SESSION_ID + 1]; /* "" = none */
    int64_t init_id;                         /* id of the initialize request */
    unsigned reinits;                        /* expiries since the last READY */
    struct jsonrpc_client rpc;
    struct mcp_server_info server;
};

void mcp_session_init(struct mcp_session *s, const struct jsonrpc_limits *lim);
void mcp_session_release(struct mcp_session *s);
/* Builds the initialize request into out; state -> INITIALIZING. */
enum err mcp_session_start(struct mcp_session *s, const struct mcp_client_info *ci, struct buf *out,
                           struct errinfo *ei) WARN_UNUSED;
/* The Mcp-Session-Id header value: 1..MCP_MAX_SESSION_ID visible ASCII
 * (0x21-0x7E), else ERR_UPSTREAM. */
enum err mcp_session_set_id(struct mcp_session *s, const char *v, size_t n,
                            struct errinfo *ei) WARN_UNUSED;
/* m: the RESPONSE to s->init_id. Parses it, negotiates, and on ERR_OK appends
 * notifications/initialized to out; state -> READY. An error response is
 * ERR_UPSTREAM "mcp_initialize_failed" with the server's code and message. */
enum err mcp_session_on_initialize(struct mcp_session *s, const struct jsonrpc_msg *m,
                                   struct buf *out, struct errinfo *ei) WARN_UNUSED;
/* The server dropped the session (404): forgets the id and every pending
 * request; state -> NEW so the transport re-initializes. After
 * MCP_MAX_REINIT expiries without a READY in between: ERR_UPSTREAM
 * "mcp_session_lost" (stop retrying). */
enum err mcp_session_expired(struct mcp_session *s, struct errinfo *ei) WARN_UNUSED;
/* Header values to send, or NULL when the header must not be sent. */
const char *mcp_session_version_header(const struct mcp_session *s);
const char *mcp_session_id_header(const struct mcp_session *s);

/* 2026-07-28: new reference {"io.modelcontextprotocol/protocolVersion": ...,
 * ".../clientCapabilities": ..., ".../clientInfo": {...}} for
 * jsonrpc_client_set_meta(). NULL on OOM. */
json_t *mcp_stateless_meta(const struct mcp_client_info *ci);

#endif
