#include "engine/call.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "conn/conn.h"
#include "conn/conn_mcp.h"
#include "conn/conn_gmail.h"
#include "conn/conn_oauth.h"
#include "creds/creds.h"
#include "services/builtins.h"
#include "services/registry.h"
#include "services/gmail.h"
#include "services/telegram.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/schema.h"
#include "engine/template.h"
#include "outbound/ssrf.h"
#include "core/banned.h"

struct call_ctx {
    call_done_cb done;
    void *arg;
    int64_t start_ms;
    struct call_env env;
    struct auth_values vals; /* kept (wiped at the end) to redact echoes */
    char action[160];
    char conn_id[ID_MAX];
    bool is_test;
    json_t *steps; /* connection tests */
    bool base_probe;
    /* oauth2 (and gmail) connections: what it takes to build the request
     * again with a fresh token, after a refresh or an upstream 401 */
    bool oauth;
    bool retried; /* the one forced refresh + retry after a 401 was used */
    struct conn conn;
    json_t *op;
    json_t *input;
    struct oauth_use use;
    token_fresh_fn fresh;
};

void
call_result_release(struct call_result *r)
{
    buf_release(&r->json);
}

json_t *
call_error_body(const char *stage, enum err e, const struct errinfo *ei)
{
    json_t *err = json_pack("{s:s, s:s, s:s}", "stage", stage, "code",
                            ei && ei->code[0] ? ei->code : err_default_code(e), "message",
                            ei && ei->msg[0] ? ei->msg : err_default_code(e));

    if (ei && ei->field[0])
        json_object_set_new(err, "field", json_string(ei->field));
    /* OAuth refusals (needs_tier, needs_reauth, not_connected, revoked) name
     * the URL that fixes them: also given on its own */
    if (ei && strstr(ei->msg, " at /api/auth/connect/") != NULL) {
        const char *u = strstr(ei->msg, " at /api/auth/connect/") + 4;
        json_object_set_new(err, "reconnect_url", json_stringn(u, strcspn(u, " ")));
    }
    return json_pack("{s:b, s:o}", "ok", 0, "error", err);
}

/* ---- building the request ---- */

/* Scalar JSON value as query/header text (NULL for null/array/object). */
static char *
scalar_text(const json_t *v)
{
    if (json_is_string(v))
        return xstrdup(json_string_value(v));
    if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v))
        return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    return NULL;
}

static enum err
add_query_value(struct out_request *rq, const char *key, const json_t *v, struct errinfo *ei)
{
    char *s;
    enum err e = ERR_OK;

    if (json_is_null(v))
        return ERR_OK;
    if (json_is_array(v)) {
        size_t i;
        json_t *it;
        json_array_foreach (v, i, it) {
            e = add_query_value(rq, key, it, ei);
            if (e != ERR_OK)
                return e;
        }
        return ERR_OK;
    }
    s = json_is_object(v) ? json_dumps(v, JSON_COMPACT) : scalar_text(v);
    if (s == NULL)
        return ERR_NOMEM;
    e = out_request_add_query(rq, key, s, false, ei);
    free(s);
    return e;
}

static enum err
place_param(const json_t *p, const json_t *input, struct out_request *rq, struct buf *cookies,
            json_t **body, struct errinfo *ei)
{
    const char *name = json_string_value(json_object_get(p, "name"));
    const char *in = json_string_value(json_object_get(p, "in"));
    const char *wire = json_string_value(json_object_get(p, "wire_name"));
    json_t *v = name ? json_object_get(input, name) : NULL;
    char field[96];
    char *s;
    enum err e = ERR_OK;

    if (name == NULL || in == NULL || v == NULL || strcmp(in, "path") == 0)
        return ERR_OK;
    if (wire == NULL)
        wire = name;
    snprintf(field, sizeof(field), "input.%s", name);
    if (strcmp(in, "query") == 0)
        return add_query_value(rq, wire, v, ei);
    if (strcmp(in, "body") == 0) {
        json_decref(*body);
        *body = json_deep_copy(v);
        return ERR_OK;
    }
    s = scalar_text(v);
    if (s == NULL)
        return err_set(ei, ERR_INVALID, "invalid_input", field, "must be a string or number");
    if (strcmp(in, "header") == 0) {
        e = out_request_add_header(rq, wire, s, false, ei);
        if (e != ERR_OK)
            err_set(ei, e, "invalid_input", field, "is not a valid header value");
    } else if (strcmp(in, "cookie") == 0) {
        if (strpbrk(s, ";\r\n") != NULL)
            e = err_set(ei, ERR_INVALID, "invalid_input", field, "is not a valid cookie value");
        else
            e = buf_printf(cookies, "%s%s=%s", cookies->len ? "; " : "", wire, s);
    }
    free(s);
    return e;
}

/* Everything not consumed by the template goes where the operation says. */
static enum err
place_rest(const json_t *op, const json_t *input, const json_t *used, struct out_request *rq,
           json_t **body, struct errinfo *ei)
{
    const json_t *params = json_object_get(op, "params");
    const char *k;
    json_t *v;
    bool to_body = strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0 ||
                   strcmp(rq->method, "PATCH") == 0;
    enum err e = ERR_OK;

    if (json_is_array(params)) {
        struct buf cookies;
        size_t i;
        json_t *p;
        buf_init(&cookies, 16384);
        json_object_foreach ((json_t *)input, k, v) {
            bool known = json_object_get(used, k) != NULL;
            (void)v;
            json_array_foreach (params, i, p) {
                const char *n = json_string_value(json_object_get(p, "name"));
                known = known || (n && strcmp(n, k) == 0);
            }
            if (!known) {
                char field[96];
                snprintf(field, sizeof(field), "input.%s", k);
                buf_release(&cookies);
                return err_set(ei, ERR_INVALID, "unknown_input", field,
                               "is not a parameter of this operation");
            }
        }
        json_array_foreach (params, i, p) {
            e = place_param(p, input, rq, &cookies, body, ei);
            if (e != ERR_OK)
                break;
        }
        if (e == ERR_OK && cookies.len > 0)
            e = out_request_add_header(rq, "Cookie", cookies.data, false, ei);
        buf_release(&cookies);
        return e;
    }
    json_object_foreach ((json_t *)input, k, v) {
        if (json_object_get(used, k) != NULL)
            continue;
        if (to_body) {
            if (*body == NULL)
                *body = json_object();
            json_object_set(*body, k, v);
        } else {
            e = add_query_value(rq, k, v, ei);
            if (e != ERR_OK)
                return e;
        }
    }
    return ERR_OK;
}

enum err
call_build(const struct conn *c, const json_t *op, const json_t *input, struct out_request *rq,
           json_t **body, struct errinfo *ei)
{
    const char *base = c->row.base_url ? c->row.base_url : "";
    const char *path = json_string_value(json_object_get(op, "path"));
    const char *method = json_string_value(json_object_get(op, "method"));
    size_t blen = strlen(base);
    json_t *used = json_object();
    struct buf url;
    enum err e;

    *body = NULL;
    buf_init(&url, MAX_BASE_URL_LEN + MAX_OP_PATH_LEN + 64 * 1024);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    e = buf_append(&url, base, blen);
    if (e == ERR_OK)
        e = tmpl_render(path ? path : "/", input, &url, used, ei);
    if (e == ERR_OK)
        e = out_request_init(rq, method ? method : "GET", url.data, ei);
    if (e == ERR_OK)
        e = place_rest(op, input, used, rq, body, ei);
    buf_release(&url);
    json_decref(used);
    if (e != ERR_OK) {
        json_decref(*body);
        *body = NULL;
    }
    return e;
}

/* ---- running it ---- */

static void
ctx_free(struct call_ctx *ctx)
{
    conn_release(&ctx->conn);
    json_decref(ctx->op);
    json_decref(ctx->input);
    auth_values_release(&ctx->vals);
    json_decref(ctx->steps);
    free(ctx);
}

static void on_test_done(struct out_response *res, struct call_ctx *ctx);

static bool oauth_retry(struct call_ctx *ctx, const struct out_response *res);

static void
on_done(struct out_response *res, void *arg)
{
    struct call_ctx *ctx = arg;
    struct call_result r = {0};

    if (ctx->is_test) {
        on_test_done(res, ctx);
        return;
    }
    if (ctx->oauth && oauth_retry(ctx, res))
        return; /* a forced refresh and one retry are under way */
    buf_init(&r.json, res->body.len * 2 + 65536);
    result_render(res, &ctx->vals, &r);
    if (res->fail != OUT_OK)
        log_kv(LOG_WARN, "call.failed", "s:tool", ctx->action, "s:connection", ctx->conn_id,
               "s:stage", out_fail_name(res->fail), "s:detail", res->error, LOG_END);
    else /* the access log line (http.request) already records each call */
        log_kv(LOG_DEBUG, "call.done", "s:tool", ctx->action, "s:connection", ctx->conn_id,
               "I:status", (long long)res->status, "I:ms", (long long)res->duration_ms, LOG_END);
    ctx->done(&r, ctx->arg);
    call_result_release(&r);
    ctx_free(ctx);
}

static enum err
send_with_credential(const struct call_env *env, const struct conn *c, struct call_ctx *ctx,
                     struct out_request *rq, json_t *body, const char **stage, struct errinfo *ei)
{
    enum err e;

    *stage = "credential";
    e = conn_open_secrets(env->st, env->vault, c, &ctx->vals, ei);
    if (e == ERR_OK)
        e = auth_inject(c->auth, &ctx->vals, rq, body, ei);
    if (e != ERR_OK)
        return e;
    *stage = "build";
    if (body) {
        char *s = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s == NULL)
            return ERR_NOMEM;
        e = buf_puts(&rq->body, s);
        free(s);
        if (e == ERR_TOO_LARGE)
            return err_set(ei, ERR_TOO_LARGE, "body_too_large", "input",
                           "the request body would be over the upstream limit");
        if (e == ERR_OK)
            e = out_request_add_header(rq, "Content-Type", "application/json", false, ei);
    }
    if (e != ERR_OK)
        return e;
    rq->limits = *env->limits;
    *stage = "send";
    return outbound_send(env->ob, rq, on_done, ctx, NULL);
}

/* ---- built-in tools and service-builder operations ---- */

/* Sends rq (built by a service builder) with the engine's limits; a builder
 * that turned redirects off keeps them off. */
static enum err
send_built(const struct call_env *env, struct call_ctx *ctx, struct out_request *rq)
{
    int redirects = rq->limits.max_redirects;

    rq->limits = *env->limits;
    if (redirects < rq->limits.max_redirects)
        rq->limits.max_redirects = redirects;
    return outbound_send(env->ob, rq, on_done, ctx, NULL);
}

static enum err
builtin_start(const struct call_env *env, const struct principal *who, const struct svc_tool *bt,
              const json_t *input, call_done_cb done, void *arg, const char **stage,
              struct errinfo *ei)
{
    struct call_ctx *ctx;
    struct out_request rq = {0};
    struct secret key = {0};
    json_t *schema = svc_tool_schema(bt);
    enum err e;

    *stage = "input";
    e = schema ? schema_validate(schema, input, "input", ei) : ERR_NOMEM;
    json_decref(schema);
    if (e != ERR_OK)
        return e;
    *stage = "credential";
    e = creds_open(env->st, env->vault, who->workspace_id, bt->service, &key, ei);
    if (e != ERR_OK)
        return e;
    ctx = xcalloc(1, sizeof(*ctx));
    ctx->done = done;
    ctx->arg = arg;
    snprintf(ctx->action, sizeof(ctx->action), "%s", bt->name);
    snprintf(ctx->conn_id, sizeof(ctx->conn_id), "builtin");
    e = auth_values_add(&ctx->vals, "key", key.p, key.len); /* to redact echoes */
    *stage = "build";
    if (e == ERR_OK)
        e = bt->build(input, &key, service_base_url(bt->service), &rq, ei);
    secret_release(&key);
    if (e == ERR_OK) {
        *stage = "send";
        e = send_built(env, ctx, &rq);
        if (e == ERR_OK)
            return ERR_OK; /* ctx and rq belong to the transfer */
    }
    out_request_release(&rq);
    ctx_free(ctx);
    return e;
}

/* A telegram connection's tool: the bot token goes in the URL path. */
static enum err
telegram_start(const struct call_env *env, const struct conn *c, const json_t *op,
               const json_t *input, call_done_cb done, void *arg, const char **stage,
               struct errinfo *ei)
{
    const struct svc_tool *tt =
        telegram_tool_find(json_string_value(json_object_get(op, "telegram_tool")));
    struct call_ctx *ctx;
    struct out_request rq = {0};
    const struct secret *tok;
    enum err e = ERR_OK;

    if (tt == NULL)
        return err_set(ei, ERR_INTERNAL, "unknown_tool", "operation", "unknown telegram tool");
    ctx = xcalloc(1, sizeof(*ctx));

    ctx->done = done;
    ctx->arg = arg;
    snprintf(ctx->conn_id, sizeof(ctx->conn_id), "%s", c->row.id);
    snprintf(ctx->action, sizeof(ctx->action), "%s.%s", c->row.slug,
             json_string_value(json_object_get(op, "name")));
    *stage = "credential";
    e = conn_open_secrets(env->st, env->vault, c, &ctx->vals, ei);
    tok = e == ERR_OK ? auth_values_get(&ctx->vals, "token") : NULL;
    if (e == ERR_OK && tok == NULL)
        e = err_set(ei, ERR_UNPROCESSABLE, "credential_missing", "auth.token",
                    "the connection has no bot token set");
    *stage = e == ERR_OK ? "build" : *stage;
    if (e == ERR_OK)
        e = tt->build(input, tok, c->row.base_url, &rq, ei);
    if (e == ERR_OK) {
        *stage = "send";
        e = send_built(env, ctx, &rq);
        if (e == ERR_OK)
            return ERR_OK;
    }
    out_request_release(&rq);
    ctx_free(ctx);
    return e;
}

/* ---- MCP tools ---- */

static void
on_mcp_done(enum err e, json_t *res, const struct errinfo *mei, void *arg)
{
    struct call_ctx *ctx = arg;
    struct call_result r = {0};
    int64_t ms = mono_ms() - ctx->start_ms;
    json_t *o;
    char *s;

    buf_init(&r.json, MCP_MAX_MESSAGE * 2);
    if (e == ERR_OK) {
        bool is_error = json_is_true(json_object_get(res, "isError"));
        o = json_pack("{s:b, s:b, s:O, s:I}", "ok", !is_error, "isError", is_error, "content",
                      json_object_get(res, "content") ? json_object_get(res, "content")
                                                      : json_null(),
                      "duration_ms", (json_int_t)ms);
        if (json_object_get(res, "structuredContent"))
            json_object_set(o, "structuredContent", json_object_get(res, "structuredContent"));
        r.http_status = 200;
        r.upstream_ok = !is_error;
    } else {
        const char *stage =
            e == ERR_TIMEOUT     ? "timeout"
            : e == ERR_FORBIDDEN ? "blocked"
            : strcmp(mei->code, "mcp_error") == 0 || strcmp(mei->code, "mcp_unauthorized") == 0
                ? "upstream"
                : "connect";
        o = call_error_body(stage, e, mei);
        json_object_set_new(o, "duration_ms", json_integer(ms));
        r.http_status = err_http_status(e) == 500 ? 502 : err_http_status(e);
        log_kv(LOG_WARN, "call.failed", "s:tool", ctx->action, "s:connection", ctx->conn_id,
               "s:stage", stage, "s:code", mei->code, LOG_END);
    }
    s = json_dumps(o, JSON_COMPACT);
    if (s == NULL || buf_puts(&r.json, s) != ERR_OK) {
        buf_reset(&r.json);
        r.http_status = 502;
        if (buf_puts(&r.json, "{\"ok\":false,\"error\":{\"stage\":\"result\",\"code\":"
                              "\"response_too_large\",\"message\":\"the tool's answer is too "
                              "large\"}}") != ERR_OK)
            r.http_status = 500;
    }
    free(s);
    json_decref(o);
    json_decref(res);
    result_redact(&r.json, &ctx->vals);
    ctx->done(&r, ctx->arg);
    call_result_release(&r);
    ctx_free(ctx);
}

static enum err
mcp_start(const struct call_env *env, const struct conn *c, const json_t *op, const json_t *input,
          call_done_cb done, void *arg, const char **stage, struct errinfo *ei)
{
    struct call_ctx *ctx = xcalloc(1, sizeof(*ctx));
    struct out_request hdrs = {0};
    struct mcp_target t;
    char key[ID_MAX + 48];
    enum err e;

    ctx->done = done;
    ctx->arg = arg;
    ctx->start_ms = mono_ms();
    snprintf(ctx->conn_id, sizeof(ctx->conn_id), "%s", c->row.id);
    snprintf(ctx->action, sizeof(ctx->action), "%s.%s", c->row.slug,
             json_string_value(json_object_get(op, "name")));
    *stage = "credential";
    e = conn_open_secrets(env->st, env->vault, c, &ctx->vals, ei);
    if (e == ERR_OK)
        e = conn_mcp_target(c->row.base_url,
                            json_string_value(json_object_get(c->config, "transport")),
                            json_integer_value(json_object_get(c->config, "timeout_ms")), c->auth,
                            &ctx->vals, &hdrs, &t, ei);
    if (e == ERR_OK) {
        *stage = "send";
        /* the version: a connection changed by any server never reuses an older session */
        snprintf(key, sizeof(key), "%lld:%s:%lld", (long long)c->row.workspace_id, c->row.id,
                 (long long)c->row.version);
        e = mcp_call_tool(env->ob, env->mcp, key, &t,
                          json_string_value(json_object_get(op, "mcp_tool")), input, on_mcp_done,
                          ctx, ei);
    }
    out_request_release(&hdrs);
    if (e != ERR_OK)
        ctx_free(ctx);
    return e;
}

/* ---- OAuth2: a fresh access token first ---- */

static void
finish_error(struct call_ctx *ctx, const char *stage, enum err e, const struct errinfo *ei)
{
    struct call_result r = {0};
    json_t *o = call_error_body(stage, e, ei);
    char *s = json_dumps(o, JSON_COMPACT);

    buf_init(&r.json, 65536);
    r.http_status = err_http_status(e);
    if (s == NULL || buf_puts(&r.json, s) != ERR_OK)
        r.http_status = 500;
    free(s);
    json_decref(o);
    log_kv(LOG_WARN, "call.failed", "s:tool", ctx->action, "s:connection", ctx->conn_id, "s:stage",
           stage, "s:code", ei->code, LOG_END);
    ctx->done(&r, ctx->arg);
    call_result_release(&r);
    ctx_free(ctx);
}

/* Builds the request with the connection's current access token and sends
 * it: an operation (template + auth injection) or a Gmail tool (builder). */
static enum err
oauth_send(struct call_ctx *ctx, const char **stage, struct errinfo *ei)
{
    struct out_request rq = {0};
    json_t *body = NULL;
    const struct gmail_tool *gt =
        gmail_tool_find(json_string_value(json_object_get(ctx->op, "gmail_tool")));
    enum err e;

    auth_values_release(&ctx->vals); /* a retry opens the new token */
    if (gt) {
        const struct secret *tok;
        *stage = "credential";
        e = conn_open_secrets(ctx->env.st, ctx->env.vault, &ctx->conn, &ctx->vals, ei);
        tok = e == ERR_OK ? auth_values_get(&ctx->vals, "access_token") : NULL;
        if (e == ERR_OK && tok == NULL)
            e = err_set(ei, ERR_UNPROCESSABLE, "not_connected", "auth",
                        "the connection has no access token");
        if (e == ERR_OK) {
            *stage = "build";
            e = gt->build(ctx->input, tok, ctx->conn.row.base_url,
                          json_string_value(json_object_get(ctx->conn.auth, "subject")), &rq, ei);
        }
        if (e == ERR_OK) {
            *stage = "send";
            return send_built(&ctx->env, ctx, &rq);
        }
        out_request_release(&rq);
        return e;
    }
    *stage = "build";
    e = call_build(&ctx->conn, ctx->op, ctx->input, &rq, &body, ei);
    if (e == ERR_OK)
        e = send_with_credential(&ctx->env, &ctx->conn, ctx, &rq, body, stage, ei);
    if (e != ERR_OK)
        out_request_release(&rq);
    json_decref(body);
    return e;
}

static void
on_fresh(enum err e, const struct errinfo *fei, const struct oauth_use *use, void *arg)
{
    struct call_ctx *ctx = arg;
    struct errinfo ei = *fei;
    const char *stage = "credential";

    ctx->use = *use;
    if (e == ERR_OK)
        e = oauth_send(ctx, &stage, &ei);
    if (e != ERR_OK)
        finish_error(ctx, stage, e, &ei);
}

/* Fresh token first (forced_from >= 0: the upstream refused that version),
 * then the request. On ERR_OK the flow owns ctx. */
static enum err
oauth_begin(struct call_ctx *ctx, int64_t forced_from, const char **stage, struct errinfo *ei)
{
    bool ready = false;
    enum err e;

    *stage = "credential";
    e = ctx->fresh(ctx->env.st, ctx->env.vault, ctx->env.ob, &ctx->conn,
                   json_string_value(json_object_get(ctx->op, "tier")), forced_from, &ctx->use,
                   &ready, on_fresh, ctx, ei);
    if (e == ERR_OK && ready)
        e = oauth_send(ctx, stage, ei);
    return e;
}

/* An upstream 401 to an OAuth token: exactly one forced refresh and one
 * retry per call (never a loop). Other answers are recorded in the
 * connection's health. true when the retry took over ctx. */
static bool
oauth_retry(struct call_ctx *ctx, const struct out_response *res)
{
    struct errinfo ei = {0};
    const char *stage = "credential";
    enum err e;

    if (res->fail != OUT_OK || res->status != 401 || ctx->retried) {
        if (res->fail == OUT_OK)
            conn_oauth_outcome(ctx->env.st, ctx->conn.row.workspace_id, ctx->conn_id, &ctx->use,
                               res->status, ctx->retried);
        return false;
    }
    ctx->retried = true;
    log_kv(LOG_INFO, "call.upstream_401", "s:tool", ctx->action, "s:connection", ctx->conn_id,
           "I:token_version", (long long)ctx->use.version, LOG_END);
    e = oauth_begin(ctx, ctx->use.version < 0 ? 0 : ctx->use.version, &stage, &ei);
    if (e != ERR_OK)
        finish_error(ctx, stage, e, &ei);
    return true;
}

/* "slug.operation" -> slug, op. */
static enum err
split_action(const char *action, char *slug, size_t slen, const char **op, struct errinfo *ei)
{
    const char *dot = action ? strchr(action, '.') : NULL;

    if (action == NULL || dot == NULL || dot == action || dot[1] == '\0' ||
        (size_t)(dot - action) >= slen)
        return err_set(ei, ERR_INVALID, "invalid_action", "actionIdentifier",
                       "must be a tool name such as github.create_issue");
    snprintf(slug, slen, "%.*s", (int)(dot - action), action);
    *op = dot + 1;
    return ERR_OK;
}

static enum err
resolve(const struct call_env *env, const struct principal *who, const struct call_spec *spec,
        struct conn *c, json_t **op, struct errinfo *ei)
{
    char slug[MAX_SLUG_LEN + 2];
    const char *opname = NULL;
    enum err e = split_action(spec->action, slug, sizeof(slug), &opname, ei);

    if (e != ERR_OK)
        return e;
    e = conn_load(env->st, who->workspace_id, spec->connection_id,
                  spec->connection_id ? NULL : slug, c, ei);
    if (e == ERR_NOT_FOUND)
        return err_set(ei, ERR_NOT_FOUND,
                       spec->connection_id ? "connection_not_found" : "unknown_tool",
                       spec->connection_id ? "connectionId" : "actionIdentifier",
                       spec->connection_id ? "no such connection"
                                           : "unknown tool %s: no connection has slug %s",
                       spec->action, slug);
    if (e != ERR_OK)
        return e;
    if (spec->connection_id && strcmp(c->row.slug, slug) != 0)
        return err_set(ei, ERR_INVALID, "connection_mismatch", "actionIdentifier",
                       "the connection's slug is %s, not %s", c->row.slug, slug);
    e = conn_operation(env->st, c, opname, op, ei);
    if (e == ERR_NOT_FOUND)
        return err_set(ei, ERR_NOT_FOUND, "unknown_tool", "actionIdentifier",
                       "unknown tool %s: connection %s has no operation %s", spec->action,
                       c->row.slug, opname);
    return e;
}

enum err
call_start(const struct call_env *env, const struct principal *who, const struct call_spec *spec,
           call_done_cb done, void *arg, const char **stage_out, struct errinfo *ei)
{
    struct conn c = {0};
    json_t *op = NULL;
    json_t *empty = NULL, *body = NULL;
    const json_t *input = spec->input;
    struct out_request rq = {0};
    struct call_ctx *ctx = NULL;
    const char *stage = "resolve";
    enum err e;

    /* built-in tools first, then slug.operation */
    if (spec->action && builtin_find(spec->action) && spec->connection_id == NULL) {
        if (input == NULL)
            input = empty = json_object();
        e = json_is_object(input)
                ? builtin_start(env, who, builtin_find(spec->action), input, done, arg, &stage, ei)
                : err_set(ei, ERR_INVALID, "invalid_input", "input", "must be a JSON object");
        if (e != ERR_OK && strcmp(stage, "resolve") == 0)
            stage = "input";
        goto out;
    }
    e = resolve(env, who, spec, &c, &op, ei);
    if (e == ERR_OK) {
        stage = "input";
        if (input == NULL)
            input = empty = json_object();
        if (!json_is_object(input))
            e = err_set(ei, ERR_INVALID, "invalid_input", "input", "must be a JSON object");
    }
    if (e == ERR_OK && json_object_get(op, "input_schema"))
        e = schema_validate(json_object_get(op, "input_schema"), input, "input", ei);
    if (e == ERR_OK && json_object_get(op, "telegram_tool")) {
        e = telegram_start(env, &c, op, input, done, arg, &stage, ei);
        goto out;
    }
    if (e == ERR_OK && json_object_get(op, "mcp_tool")) {
        e = mcp_start(env, &c, op, input, done, arg, &stage, ei);
        goto out;
    }
    if (e == ERR_OK && (strcmp(c.row.auth_type, "oauth2") == 0 ||
                        strcmp(c.row.auth_type, "google_service_account") == 0)) {
        ctx = xcalloc(1, sizeof(*ctx));
        ctx->done = done;
        ctx->arg = arg;
        ctx->env = *env;
        ctx->oauth = true;
        ctx->fresh = strcmp(c.row.auth_type, "oauth2") == 0 ? conn_oauth_fresh : conn_gsa_fresh;
        snprintf(ctx->action, sizeof(ctx->action), "%s", spec->action);
        snprintf(ctx->conn_id, sizeof(ctx->conn_id), "%s", c.row.id);
        ctx->conn = c; /* moved */
        memset(&c, 0, sizeof(c));
        ctx->op = op;
        op = NULL;
        ctx->input = json_deep_copy(input);
        e = ctx->input ? oauth_begin(ctx, -1, &stage, ei) : ERR_NOMEM;
        if (e == ERR_OK)
            ctx = NULL; /* the refresh or the transfer owns it now */
        goto out;
    }
    if (e == ERR_OK && json_object_get(op, "gmail_tool"))
        e = err_set(ei, ERR_INTERNAL, "bad_operation", "operation",
                    "a gmail tool needs an oauth2 or service-account connection");
    if (e == ERR_OK)
        e = call_build(&c, op, input, &rq, &body, ei);
    if (e == ERR_OK) {
        ctx = xcalloc(1, sizeof(*ctx));
        ctx->done = done;
        ctx->arg = arg;
        snprintf(ctx->action, sizeof(ctx->action), "%s", spec->action);
        snprintf(ctx->conn_id, sizeof(ctx->conn_id), "%s", c.row.id);
        e = send_with_credential(env, &c, ctx, &rq, body, &stage, ei);
        if (e == ERR_OK)
            ctx = NULL; /* owned by the transfer now; rq too */
    }
out:
    if (e != ERR_OK) {
        out_request_release(&rq);
        log_kv(LOG_INFO, "call.refused", "s:tool", spec->action ? spec->action : "", "s:stage",
               stage, "s:code", ei->code, "s:field", ei->field, LOG_END);
    }
    if (ctx)
        ctx_free(ctx);
    json_decref(body);
    json_decref(empty);
    json_decref(op);
    conn_release(&c);
    if (stage_out)
        *stage_out = stage;
    return e;
}

/* ---- connection tests ---- */

static void step(json_t *steps, const char *name, bool ok, const char *fmt, ...) PRINTF_LIKE(4, 5);

static void
step(json_t *steps, const char *name, bool ok, const char *fmt, ...)
{
    char detail[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    json_array_append_new(steps,
                          json_pack("{s:s, s:b, s:s}", "name", name, "ok", ok, "detail", detail));
}

static void
test_finish(struct call_ctx *ctx, bool ok, int64_t ms)
{
    struct call_result r = {0};
    json_t *o =
        json_pack("{s:b, s:O, s:I}", "ok", ok, "steps", ctx->steps, "duration_ms", (json_int_t)ms);
    char *s = json_dumps(o, JSON_COMPACT);

    buf_init(&r.json, 1u << 20);
    r.http_status = 200;
    r.upstream_ok = ok;
    if (s == NULL || buf_puts(&r.json, s) != ERR_OK)
        r.http_status = 500;
    free(s);
    json_decref(o);
    log_kv(ok ? LOG_INFO : LOG_WARN, "connection.tested", "s:connection", ctx->conn_id, "b:ok", ok,
           LOG_END);
    ctx->done(&r, ctx->arg);
    call_result_release(&r);
    ctx_free(ctx);
}

static void
on_test_done(struct out_response *res, struct call_ctx *ctx)
{
    bool ok;

    if (res->fail != OUT_OK) {
        step(ctx->steps, "request", false, "%s: %s", out_fail_name(res->fail), res->error);
        test_finish(ctx, false, res->duration_ms);
        return;
    }
    if (res->status == 401 || res->status == 403)
        ok = false;
    else if (ctx->base_probe)
        ok = res->status < 500;
    else
        ok = res->status >= 200 && res->status < 300;
    step(ctx->steps, "request", ok, "upstream answered %ld%s%s", res->status,
         res->status == 401 || res->status == 403 ? ": the credential was refused" : "",
         ctx->base_probe ? " to GET of the base URL" : " to the test operation");
    test_finish(ctx, ok, res->duration_ms);
}

enum err
call_test_start(const struct call_env *env, const struct principal *who, const char *conn_id,
                call_done_cb done, void *arg, struct errinfo *ei)
{
    struct conn c = {0};
    struct call_ctx *ctx;
    struct out_request rq = {0};
    struct url_info ui;
    json_t *body = NULL, *empty = json_object(), *probe = NULL;
    json_t *op = NULL;
    const char *test_op, *stage;
    struct errinfo sei = {0};
    enum err e = conn_load(env->st, who->workspace_id, conn_id, NULL, &c, ei);

    if (e != ERR_OK) {
        json_decref(empty);
        return e; /* 404: not a step */
    }
    ctx = xcalloc(1, sizeof(*ctx));
    ctx->is_test = true;
    ctx->done = done;
    ctx->arg = arg;
    ctx->steps = json_array();
    snprintf(ctx->conn_id, sizeof(ctx->conn_id), "%s", c.row.id);
    test_op = json_string_value(json_object_get(c.config, "test_operation"));
    e = url_validate(c.row.base_url, "base_url", &ui, &sei);
    if (e == ERR_OK && test_op) {
        e = conn_operation(env->st, &c, test_op, &op, &sei);
        if (e == ERR_NOT_FOUND)
            e = err_set(&sei, ERR_INVALID, "unknown_operation", "test_operation",
                        "test_operation %s is not an operation", test_op);
    }
    if (e == ERR_OK && op == NULL) {
        ctx->base_probe = true;
        op = json_pack("{s:s, s:s}", "method", "GET", "path", "/");
    }
    if (e == ERR_OK)
        e = call_build(&c, op, empty, &rq, &body, &sei);
    step(ctx->steps, "configuration", e == ERR_OK, "%s",
         e == ERR_OK ? "base URL and operation are valid" : sei.msg);
    if (e == ERR_OK) {
        e = send_with_credential(env, &c, ctx, &rq, body, &stage, &sei);
        if (e != ERR_OK && strcmp(stage, "credential") == 0)
            step(ctx->steps, "credential", false, "%s", sei.msg);
        else if (e == ERR_OK || strcmp(stage, "credential") != 0)
            json_array_insert_new(ctx->steps, 1,
                                  json_pack("{s:s, s:b, s:s}", "name", "credential", "ok", 1,
                                            "detail", "opened and injected"));
        if (e != ERR_OK && strcmp(stage, "credential") != 0)
            step(ctx->steps, "request", false, "%s", sei.msg);
    }
    json_decref(body);
    json_decref(empty);
    json_decref(probe);
    json_decref(op);
    conn_release(&c);
    if (e != ERR_OK) {
        out_request_release(&rq);
        test_finish(ctx, false, 0); /* reported as steps, not as an error */
    }
    return ERR_OK;
}
