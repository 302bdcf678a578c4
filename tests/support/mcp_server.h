/*
 * mcp_server: a scripted loopback MCP server for the client's unit tests
 * (libmicrohttpd, one thread per connection), separate from upstream.c.
 *
 * mcp_server_start("127.0.0.2") binds that address on a kernel-chosen port:
 *   POST /mcp                Streamable HTTP (sessions, Mcp-Session-Id)
 *   DELETE /mcp              ends the session
 *   GET /sse                 legacy HTTP+SSE stream: `endpoint` event first
 *   POST /sse                405 (so MCP_AUTO on /sse falls back to legacy)
 *   POST /message?sessionId= legacy messages (202; answers go on the GET)
 * Tools: "echo" {message} -> "Echo: <message>", "add" {a,b} -> text and
 * structuredContent {"sum"}, "fail" -> isError true, anything else -> JSON-RPC
 * error -32602; plus opts.tools generated tools "tool-00000"... Behaviour is
 * set with mcp_server_set() between tests (the struct is copied).
 */
#ifndef CONNHUB_TESTS_MCP_SERVER_H
#define CONNHUB_TESTS_MCP_SERVER_H

#include <stdbool.h>

enum ms_call {
    MS_CALL_OK = 0,
    MS_CALL_GARBAGE,   /* tools/call answered with "{not json" */
    MS_CALL_WRONG_ID,  /* answered with another id */
    MS_CALL_OVERSIZED, /* a text of 11 MiB */
    MS_CALL_ENDLESS,   /* an SSE stream of notifications that never ends */
    MS_CALL_NEVER,     /* no answer at all (until the server stops) */
};

struct ms_opts {
    bool sse_answers;   /* Streamable HTTP answers as SSE (priming, progress, ping request) */
    const char *token;  /* every request needs "Authorization: Bearer <token>" (401 otherwise) */
    int tools;          /* generated tools besides echo/add/fail */
    int page;           /* tools per tools/list page; 0 = all at once */
    bool repeat_cursor; /* every page says nextCursor "again" */
    int expire_after;   /* a session dies after N requests (404); 0 = never */
    bool expire_400;    /* dead sessions get 400 "No valid session ID provided" instead */
    enum ms_call call;
    bool other_origin; /* legacy endpoint event points at 127.0.0.3 */
    /* Streamable HTTP resumability: a tools/call is answered with an SSE stream
     * (priming event with `retry: 20`, a progress event, ids "ev-1", "ev-2", ...)
     * that stops before the response, and so is each GET /mcp with
     * Last-Event-ID, `drops` times in all; the next GET carries the response.
     * drop_clean: the stream ends normally (2025-11-25 polling) instead of
     * being cut mid-chunk. */
    int drops;
    bool drop_clean;
    bool list_changed; /* SSE call answers carry notifications/tools/list_changed */
};

struct ms_counts {
    int initialize, initialized, tools_list, tools_call, cancelled, deletes, replies;
    int missing_version; /* requests after initialize without MCP-Protocol-Version */
    int unauthorized;
    int legacy_streams;
    int resumes;            /* GET /mcp with Last-Event-ID */
    char last_event_id[32]; /* the Last-Event-ID of the latest one */
    int progress_token;     /* the tools/call's _meta.progressToken, -1 if none */
};

struct mcp_server;
struct mcp_server *mcp_server_start(const char *addr); /* NULL if it cannot bind */
int mcp_server_port(const struct mcp_server *s);
void mcp_server_set(struct mcp_server *s, const struct ms_opts *o); /* also resets counts */
void mcp_server_counts(struct mcp_server *s, struct ms_counts *out);
void mcp_server_stop(struct mcp_server *s); /* NULL is fine */

#endif
