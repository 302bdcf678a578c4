/*
 * call: the path every agent and workflow call takes.
 *
 *   resolve   built-in tool names first, then slug.operation in the caller's
 *             workspace (or the connection named by connectionId)
 *   input     validated against the operation's input_schema
 *   build     {{param}} in path and query filled (percent-encoded); the rest
 *             of the input goes where the operation's params say, else to the
 *             query (GET, DELETE, HEAD) or a JSON body (POST, PUT, PATCH)
 *   credential  the connection's secrets opened once, injected, wiped after
 *   send      through the outbound client (SSRF guard, limits)
 *   result    {"ok","status","headers","body","duration_ms"}: a JSON upstream
 *             body is spliced in as is, text as a string, binary as base64
 *
 * A failure before an upstream answer is an error naming its stage:
 * resolve, input, credential, connect, tls, timeout, blocked, too_large...
 * No error, log line or result ever contains a credential: values that an
 * upstream echoes back are replaced by "[REDACTED]".
 */
#ifndef CONNHUB_ENGINE_CALL_H
#define CONNHUB_ENGINE_CALL_H

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "crypto/vault.h"
#include "outbound/outbound.h"
#include "store/store.h"

struct mcp_session_cache;
struct fulfil_ctx;
struct call_env {
    struct store *st;
    const struct vault *vault;
    struct outbound *ob;
    const struct out_limits *limits;
    struct mcp_session_cache *mcp; /* this worker's MCP sessions */
    /* set by call_start for the credential lookup of this call only */
    const struct principal *who;
    const struct fulfil_ctx *fulfil;
};

struct call_spec {
    const char *action;        /* "slug.operation" */
    const char *connection_id; /* optional */
    const json_t *input;       /* borrowed; NULL = {} */
    /* participants and per-run credentials (conn/accounts.h), borrowed for
     * the duration of call_start; NULL = none. Whose credential a call uses
     * follows the connection's fulfillment: static (its own), caller (the
     * principal's personal account or a per-run value), participant. */
    const struct fulfil_ctx *fulfil;
};

/* The outcome of a call, rendered for the API. */
struct call_result {
    int http_status;  /* of connhub's own answer: 200 when the upstream answered */
    struct buf json;  /* the answer body (JSON text) */
    bool upstream_ok; /* 2xx upstream */
};
void call_result_release(struct call_result *r);

typedef void (*call_done_cb)(struct call_result *res, void *arg); /* res is borrowed */

/* Resolves, validates, builds and sends. On ERR_OK the call is in flight and
 * done() runs later on this thread, exactly once. On an error (resolve,
 * input, credential) nothing was sent: ei says what, with code and field, and
 * ei->code carries the stage. */
enum err call_start(const struct call_env *env, const struct principal *who,
                    const struct call_spec *spec, call_done_cb done, void *arg, const char **stage,
                    struct errinfo *ei) WARN_UNUSED;

/* Renders an upstream response as the call's answer (result.c). Every
 * occurrence of a credential value in the body or headers is replaced by
 * "[REDACTED]" first (an upstream that echoes the key leaks nothing). */
struct auth_values;
void result_render(struct out_response *res, const struct auth_values *secrets,
                   struct call_result *out);
/* Replaces every secret value (and the basic-auth form) in b by [REDACTED]. */
void result_redact(struct buf *b, const struct auth_values *secrets);

/* An error answer body {"ok":false,"error":{"stage","code","message","field"?}}. */
json_t *call_error_body(const char *stage, enum err e, const struct errinfo *ei);

/* Builds an outbound request for operation op of c with input (exposed for
 * tests and the connection test). body_out gets the JSON body object or NULL. */
struct conn;
enum err call_build(const struct conn *c, const json_t *op, const json_t *input,
                    struct out_request *rq, json_t **body_out, struct errinfo *ei) WARN_UNUSED;

/* Connection test: validates, opens the credential, makes one cheap request
 * (the declared test operation with an empty input, else GET of base_url) and
 * reports each step: {"ok","steps":[{"name","ok","detail"}],"duration_ms"}. */
enum err call_test_start(const struct call_env *env, const struct principal *who,
                         const char *conn_id, call_done_cb done, void *arg,
                         struct errinfo *ei) WARN_UNUSED;

/* The function name of tool slug.op for an LLM's function-calling API:
 * "<slug>__<op>" ([a-z0-9_]) when it fits TOOL_FUNCTION_NAME_MAX (the
 * OpenAI/Gemini limit), else its first 55 bytes, "_" and 8 hex digits of a
 * hash of the whole name (stable, distinct for distinct names in practice). */
#define TOOL_FUNCTION_NAME_MAX 64
void tool_function_name(const char *slug, const char *op, char out[TOOL_FUNCTION_NAME_MAX + 1]);

/* GET /api/tools: every connection's slug.operation tools with their input
 * schemas (function-calling shape), plus built-ins. New reference. */
enum err tools_list(struct store *st, const struct principal *who, json_t **out,
                    struct errinfo *ei) WARN_UNUSED;

/* The connection tool slug.operation of workspace ws: ERR_NOT_FOUND (code
 * unknown_tool, ei saying why) when there is none; *out (may be NULL) gets
 * its definition (new reference). Built-ins are builtin_find's. */
enum err tool_find(struct store *st, int64_t ws, const char *name, json_t **out,
                   struct errinfo *ei) WARN_UNUSED;
/* POST /api/agents/resolve: the definitions of the named tools (built-in
 * names resolved first, then slug.operation of who's workspace) as an LLM's
 * function-calling API wants them: {"tools": [built-ins..., connection
 * tools...], "errors": [{"name", "code", "message"}]} -- unknown names are
 * listed, never dropped; a name given twice is defined once. A connection
 * tool: {name, description (else "METHOD path on <connection>"),
 * input_schema (the operation's, else one required property per path/query
 * placeholder), function: {name, description, parameters}, connection_id,
 * service_type, fulfillment, tier (OAuth2 operations that name one)}. At
 * most MAX_AGENT_TOOLS names. New reference. */
enum err tools_resolve(struct store *st, const struct principal *who, const json_t *names,
                       json_t **out, struct errinfo *ei) WARN_UNUSED;

#endif
