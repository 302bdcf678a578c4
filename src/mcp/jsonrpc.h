/*
 * jsonrpc: JSON-RPC 2.0 as MCP uses it, with no I/O.
 *
 * Building: every request gets the next integer id (1, 2, ...) and is
 * remembered as pending (with its method) until its response is parsed, it
 * is cancelled, or it is forgotten. Messages are serialised compactly into a
 * capped struct buf the caller owns (appended to; reset it first if needed).
 *
 * Parsing (jsonrpc_parse): one HTTP body or one SSE `data` is one JSON value,
 * an object or (2025-03-26 servers) a batch array. Before jansson sees the
 * bytes, a linear pre-scan enforces the size, the nesting depth and the batch
 * length, so deep nesting can never recurse and a 100,000-element batch is
 * refused without building it; jansson then parses with JSON_REJECT_DUPLICATES.
 * A document that fails any of that is an error (nothing is classified). Each
 * element is then classified on its own:
 *   JSONRPC_RESPONSE      result or error to one of our pending ids (id and
 *                         type must match exactly: 1 is not "1"); the id
 *                         stops being pending;
 *   JSONRPC_ERROR_UNBOUND an error with "id": null (parse errors, expired
 *                         sessions): the transport ties it to the request it
 *                         POSTed, if any;
 *   JSONRPC_NOTIFICATION  method, no id: never answered;
 *   JSONRPC_REQUEST       server -> client request (ping, roots/list,
 *                         sampling/createMessage, elicitation/create, ...):
 *                         must be answered, jsonrpc_answer_default() helps;
 *   JSONRPC_IGNORED       a response to an id we never sent or already got
 *                         (duplicate, or late after cancel): dropped, counted;
 *   JSONRPC_INVALID       not a JSON-RPC 2.0 message (no "jsonrpc":"2.0", id
 *                         neither integer nor string, both result and error,
 *                         ...): dropped, counted, `why` says what.
 * Counters in struct jsonrpc_stats let the transport close a session that
 * floods (PARSE-026).
 *
 * Room for MCP 2026-07-28 (stateless): when c->meta is set, its keys are
 * merged into params._meta of every request built (protocolVersion,
 * clientCapabilities, clientInfo under io.modelcontextprotocol/).
 *
 * jansson ownership is stated per function. Not thread-safe; one client per
 * MCP session.
 */
#ifndef CONNHUB_MCP_JSONRPC_H
#define CONNHUB_MCP_JSONRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

#define JSONRPC_MAX_MESSAGE ((size_t)10 * 1024 * 1024) /* default: one JSON document, bytes */
#define JSONRPC_MAX_BATCH 64                           /* default: elements of a batch array */
#define JSONRPC_MAX_DEPTH 128                          /* default: nesting (schemas nest deeply) */
#define JSONRPC_MAX_PENDING 1024                       /* default: requests in flight */
#define JSONRPC_MAX_METHOD 128                         /* method names we keep */
#define JSONRPC_DONE_RING 64                           /* answered ids remembered (duplicates) */
/* Ids stay exact in JavaScript peers (Number.MAX_SAFE_INTEGER). */
#define JSONRPC_MAX_ID ((int64_t)9007199254740991)

/* Standard and MCP error codes. */
#define JSONRPC_PARSE_ERROR (-32700)
#define JSONRPC_INVALID_REQUEST (-32600)
#define JSONRPC_METHOD_NOT_FOUND (-32601)
#define JSONRPC_INVALID_PARAMS (-32602)
#define JSONRPC_INTERNAL_ERROR (-32603)

struct jsonrpc_limits {
    size_t max_message; /* JSONRPC_MAX_MESSAGE */
    size_t max_batch;   /* JSONRPC_MAX_BATCH */
    int max_depth;      /* JSONRPC_MAX_DEPTH */
    size_t max_pending; /* JSONRPC_MAX_PENDING */
};

void jsonrpc_limits_default(struct jsonrpc_limits *l);

struct jsonrpc_pending {
    int64_t id;
    char method[JSONRPC_MAX_METHOD];
};

struct jsonrpc_stats {
    uint64_t responses;   /* matched a pending id */
    uint64_t unknown_ids; /* response to an id never sent (or forgotten long ago) */
    uint64_t duplicates;  /* response to an id already answered or cancelled */
    uint64_t unbound_errors;
    uint64_t notifications;
    uint64_t requests; /* server -> client */
    uint64_t invalid;  /* elements that are not JSON-RPC 2.0 */
    uint64_t rejected; /* whole documents refused (size, depth, batch, JSON) */
};

struct jsonrpc_client {
    struct jsonrpc_limits lim;
    int64_t next_id; /* the id the next request gets; starts at 1 */
    struct jsonrpc_pending *pending;
    size_t npending, apending;
    int64_t done[JSONRPC_DONE_RING]; /* recently answered or cancelled ids */
    size_t ndone;                    /* total ever recorded; ring index = ndone % RING */
    struct jsonrpc_stats stats;
    json_t *meta; /* owned reference or NULL: merged into params._meta of requests */
};

/* lim may be NULL for the defaults. */
void jsonrpc_client_init(struct jsonrpc_client *c, const struct jsonrpc_limits *lim);
void jsonrpc_client_release(struct jsonrpc_client *c);
/* Replaces c->meta; takes the reference (NULL clears). */
void jsonrpc_client_set_meta(struct jsonrpc_client *c, json_t *meta_take);

/* Looks up a pending request; NULL if id is not pending. */
const struct jsonrpc_pending *jsonrpc_pending_find(const struct jsonrpc_client *c, int64_t id);
/* Stops waiting for id (after notifications/cancelled, a timeout or a lost
 * stream): a response that still arrives is counted as a duplicate. Returns
 * false if id was not pending. */
bool jsonrpc_forget(struct jsonrpc_client *c, int64_t id);

/* ---- building ---- */

/* A request: {"jsonrpc":"2.0","id":N,"method":...,"params":...}. params is
 * taken (stolen) even on failure, and may be NULL (no "params" unless c->meta
 * adds one). On ERR_OK *id_out (may be NULL) is the id, now pending.
 * ERR_TOO_LARGE if max_pending requests are in flight or out's cap is hit. */
enum err jsonrpc_build_request(struct jsonrpc_client *c, const char *method, json_t *params_take,
                               struct buf *out, int64_t *id_out, struct errinfo *ei) WARN_UNUSED;
/* A notification (no id). params taken, may be NULL. */
enum err jsonrpc_build_notification(const char *method, json_t *params_take, struct buf *out,
                                    struct errinfo *ei) WARN_UNUSED;
/* A response to a server request; id is borrowed (integer or string, as
 * received), result taken (NULL means {}). */
enum err jsonrpc_build_result(const json_t *id, json_t *result_take, struct buf *out,
                              struct errinfo *ei) WARN_UNUSED;
/* An error response; id borrowed (NULL gives "id": null). */
enum err jsonrpc_build_error(const json_t *id, int code, const char *message, struct buf *out,
                             struct errinfo *ei) WARN_UNUSED;

/* MCP requests. Strings are copied; json_t arguments are borrowed (a
 * reference is taken internally, so they must not be changed afterwards). */
struct mcp_client_info {
    const char *protocol_version; /* what we offer: MCP_PROTOCOL_LATEST */
    const char *name;             /* clientInfo.name, e.g. "connhub" */
    const char *version;          /* clientInfo.version */
    json_t *capabilities;         /* borrowed; NULL = {} (declare only what is implemented) */
};
enum err jsonrpc_build_initialize(struct jsonrpc_client *c, const struct mcp_client_info *ci,
                                  struct buf *out, int64_t *id_out, struct errinfo *ei) WARN_UNUSED;
enum err jsonrpc_build_initialized(struct buf *out, struct errinfo *ei) WARN_UNUSED;
/* cursor NULL for the first page (no params). */
enum err jsonrpc_build_tools_list(struct jsonrpc_client *c, const char *cursor, struct buf *out,
                                  int64_t *id_out, struct errinfo *ei) WARN_UNUSED;
/* arguments borrowed, NULL = {}; progress_token borrowed, NULL = none. */
enum err jsonrpc_build_tools_call(struct jsonrpc_client *c, const char *name, json_t *arguments,
                                  json_t *progress_token, struct buf *out, int64_t *id_out,
                                  struct errinfo *ei) WARN_UNUSED;
enum err jsonrpc_build_ping(struct jsonrpc_client *c, struct buf *out, int64_t *id_out,
                            struct errinfo *ei) WARN_UNUSED;
/* notifications/cancelled {requestId, reason?}; also jsonrpc_forget()s the id.
 * ERR_INVALID if id is not pending or is the initialize request (never cancelled). */
enum err jsonrpc_build_cancelled(struct jsonrpc_client *c, int64_t id, const char *reason,
                                 struct buf *out, struct errinfo *ei) WARN_UNUSED;

/* ---- parsing ---- */

enum jsonrpc_kind {
    JSONRPC_INVALID = 0,
    JSONRPC_RESPONSE,
    JSONRPC_ERROR_UNBOUND,
    JSONRPC_NOTIFICATION,
    JSONRPC_REQUEST,
    JSONRPC_IGNORED,
};
const char *jsonrpc_kind_name(enum jsonrpc_kind k);

/* One classified element. Every json_t and string is borrowed from the
 * batch's root and lives until jsonrpc_batch_release(). */
struct jsonrpc_msg {
    enum jsonrpc_kind kind;
    const char *why; /* INVALID / IGNORED: a static reason */
    /* RESPONSE (and IGNORED responses): our id and the method we sent */
    int64_t id;
    char method_sent[JSONRPC_MAX_METHOD];
    bool is_error;           /* RESPONSE / ERROR_UNBOUND */
    json_t *result;          /* RESPONSE without error */
    int64_t err_code;        /* error.code */
    const char *err_message; /* error.message ("" if absent) */
    json_t *err_data;        /* error.data or NULL */
    /* NOTIFICATION / REQUEST */
    const char *method;
    json_t *params; /* may be NULL */
    json_t *req_id; /* REQUEST: integer or string, to echo back */
};

struct jsonrpc_batch {
    json_t *root; /* owned */
    struct jsonrpc_msg *msgs;
    size_t n;
    bool is_array; /* it came as a batch */
};

/* Parses one document. ERR_TOO_LARGE (size, depth, batch length), ERR_UPSTREAM
 * (not JSON, duplicate keys, empty batch, top level not an object or array).
 * On ERR_OK the caller releases out. Pending ids answered are removed. */
enum err jsonrpc_parse(struct jsonrpc_client *c, const char *data, size_t len,
                       struct jsonrpc_batch *out, struct errinfo *ei) WARN_UNUSED;
void jsonrpc_batch_release(struct jsonrpc_batch *b);

/* For a REQUEST: appends the default answer: {} for "ping", -32601 "Method
 * not found" for anything else (a client declaring no capabilities supports
 * no server request). ERR_INVALID if m is not a REQUEST. */
enum err jsonrpc_answer_default(const struct jsonrpc_msg *m, struct buf *out,
                                struct errinfo *ei) WARN_UNUSED;

/* The pre-scan alone (exposed for tests and the fuzzer): checks depth and,
 * for a top-level array, its length, without allocating. */
enum err jsonrpc_prescan(const char *data, size_t len, const struct jsonrpc_limits *lim,
                         struct errinfo *ei) WARN_UNUSED;

#endif
