/*
 * client: MCP operations (discover, tools/call) as a state machine on the
 * loop, their results, and the per-loop session cache. The HTTP exchanges are
 * in wire.c; see client_int.h for the re-entrancy and lifetime rules.
 */
#include "mcp/client_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/util.h"
#include "core/banned.h"

/* ---- names ---- */

const char *
mcp_transport_name(enum mcp_transport t)
{
    switch (t) {
    case MCP_STREAMABLE_HTTP:
        return "streamable_http";
    case MCP_SSE:
        return "sse";
    case MCP_AUTO:
    default:
        return "auto";
    }
}

bool
mcp_transport_parse(const char *s, enum mcp_transport *out)
{
    if (s == NULL)
        return false;
    if (strcmp(s, "auto") == 0)
        *out = MCP_AUTO;
    else if (strcmp(s, "streamable_http") == 0 || strcmp(s, "streamable-http") == 0 ||
             strcmp(s, "http") == 0)
        *out = MCP_STREAMABLE_HTTP;
    else if (strcmp(s, "sse") == 0)
        *out = MCP_SSE;
    else
        return false;
    return true;
}

/* ---- connections and the cache ---- */

static void
conn_free(struct mcp_conn *c)
{
    if (c == NULL)
        return;
    mcp_session_release(&c->s);
    free(c->url);
    free(c);
}

/* SHA-256 over transport, URL and every header: a rotated credential or a
 * changed URL never reuses a session. */
static void
fingerprint(const struct mcp_target *t, unsigned char out[MCP_FP_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char tr = (unsigned char)t->transport;
    unsigned int n = 0;

    memset(out, 0, MCP_FP_LEN);
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    EVP_DigestUpdate(ctx, &tr, 1);
    EVP_DigestUpdate(ctx, t->url, strlen(t->url) + 1);
    for (size_t i = 0; i < t->nheaders; i++) {
        EVP_DigestUpdate(ctx, t->headers[i].name, strlen(t->headers[i].name) + 1);
        EVP_DigestUpdate(ctx, t->headers[i].value, strlen(t->headers[i].value) + 1);
    }
    EVP_DigestFinal_ex(ctx, out, &n);
out:
    EVP_MD_CTX_free(ctx);
}

struct cache_entry {
    char *key;
    struct mcp_conn *conn;
};

struct mcp_session_cache {
    struct cache_entry e[MCP_MAX_CACHED_SESSIONS];
    size_t n;
};

struct mcp_session_cache *
mcp_session_cache_new(void)
{
    return xcalloc(1, sizeof(struct mcp_session_cache));
}

static void
cache_drop(struct mcp_session_cache *c, size_t i)
{
    free(c->e[i].key);
    conn_free(c->e[i].conn);
    c->e[i] = c->e[--c->n];
}

void
mcp_session_cache_free(struct mcp_session_cache *c)
{
    if (c == NULL)
        return;
    while (c->n > 0)
        cache_drop(c, 0);
    free(c);
}

size_t
mcp_session_cache_size(const struct mcp_session_cache *c)
{
    return c ? c->n : 0;
}

/* Takes the session for key out of the cache if it still fits. */
static struct mcp_conn *
cache_take(struct mcp_session_cache *c, const char *key, const unsigned char *fp)
{
    struct mcp_conn *conn;

    for (size_t i = 0; c != NULL && i < c->n; i++) {
        if (strcmp(c->e[i].key, key) != 0)
            continue;
        conn = c->e[i].conn;
        if (memcmp(conn->fp, fp, MCP_FP_LEN) != 0 ||
            mono_ms() - conn->last_used > (int64_t)MCP_SESSION_IDLE_MS) {
            cache_drop(c, i);
            return NULL;
        }
        free(c->e[i].key);
        c->e[i] = c->e[--c->n];
        return conn;
    }
    return NULL;
}

static void
cache_put(struct mcp_session_cache *c, const char *key, struct mcp_conn *conn)
{
    size_t lru = 0;

    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0) {
            cache_drop(c, i); /* a concurrent call's session: keep the newer */
            break;
        }
    if (c->n == MCP_MAX_CACHED_SESSIONS) {
        for (size_t i = 1; i < c->n; i++)
            if (c->e[i].conn->last_used < c->e[lru].conn->last_used)
                lru = i;
        cache_drop(c, lru);
    }
    conn->last_used = mono_ms();
    while (conn->s.rpc.npending > 0)
        (void)jsonrpc_forget(&conn->s.rpc, conn->s.rpc.pending[0].id);
    c->e[c->n].key = xstrdup(key);
    c->e[c->n].conn = conn;
    c->n++;
}

/* ---- operations ---- */

static void
on_kick(struct loop *lp, void *arg)
{
    (void)lp;
    op_step(arg);
}

void
op_kick(struct mcp_op *op)
{
    if (op->phase != PH_DONE)
        loop_timer_start(op->lp, &op->kick, 0, on_kick, op);
}

int64_t
op_remaining(const struct mcp_op *op)
{
    return op->deadline - mono_ms();
}

void
op_fail(struct mcp_op *op, enum err e, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (op->failed)
        return;
    op->failed = true;
    op->fe = e;
    snprintf(op->fei.code, sizeof(op->fei.code), "%s", code ? code : err_default_code(e));
    op->fei.field[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(op->fei.msg, sizeof(op->fei.msg), fmt, ap);
    va_end(ap);
    op_kick(op);
}

static void
op_fail_ei(struct mcp_op *op, enum err e, const struct errinfo *ei)
{
    op_fail(op, e, ei->code[0] ? ei->code : err_default_code(e), "%s", ei->msg);
    if (ei->field[0])
        snprintf(op->fei.field, sizeof(op->fei.field), "%s", ei->field);
}

static void
clear_resp(struct mcp_op *op)
{
    loop_timer_stop(op->lp, &op->resume_timer);
    free(op->resume_id);
    op->resume_id = NULL;
    op->resumes = 0;
    json_decref(op->resp_root);
    op->resp_root = NULL;
    memset(&op->resp, 0, sizeof(op->resp));
    op->have_resp = false;
}

static void
op_free(struct mcp_op *op)
{
    loop_timer_stop(op->lp, &op->kick);
    loop_timer_stop(op->lp, &op->timer);
    loop_timer_stop(op->lp, &op->resume_timer);
    clear_resp(op);
    free(op->resume_id);
    json_decref(op->progress_last);
    for (size_t i = 0; i < op->nhdrs; i++) {
        struct out_header h = op->hdrs[i];
        h.credential = true; /* wipe every value */
        out_header_release(&h);
    }
    free(op->hdrs);
    while (op->outbox != NULL) {
        struct outmsg *m = op->outbox;
        op->outbox = m->next;
        free(m->body);
        free(m);
    }
    conn_free(op->conn);
    free(op->endpoint);
    free(op->key);
    free(op->tool);
    json_decref(op->args);
    json_decref(op->result);
    mcp_tool_list_release(&op->tl);
    json_decref(op->warnings);
    free(op);
}

static void warn(struct mcp_op *op, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void
warn(struct mcp_op *op, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (op->warnings == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_array_append_new(op->warnings, json_string(msg));
}

/* Sends notifications/cancelled for the tools/call still in flight (then
 * DELETE when asked). Returns false when there was nothing to cancel. */
static bool
send_cancel(struct mcp_op *op, bool then_delete)
{
    struct buf b;
    struct errinfo ei;
    bool sent = false;

    if (op->kind != OP_CALL || op->phase != PH_CALL || op->have_resp ||
        jsonrpc_pending_find(&op->conn->s.rpc, op->want_id) == NULL)
        return false;
    buf_init(&b, MCP_MAX_MESSAGE);
    if (jsonrpc_build_cancelled(&op->conn->s.rpc, op->want_id, "timeout", &b, &ei) == ERR_OK) {
        post_fire(op, "POST", b.data, MCP_CANCEL_TIMEOUT_MS, then_delete);
        sent = true;
    }
    buf_release(&b);
    return sent;
}

/* The exchange a discovery was in (errinfo.field of its failures). */
static const char *
step_name(enum op_phase ph)
{
    switch (ph) {
    case PH_CONNECT:
        return "connect";
    case PH_LIST:
        return "tools/list";
    case PH_CLOSE:
        return "close";
    case PH_CALL:
        return "tools/call";
    case PH_START:
    case PH_INIT:
    case PH_INITIALIZED:
    case PH_DONE:
    default:
        return "initialize";
    }
}

static void
finish(struct mcp_op *op, enum err e, json_t *result)
{
    struct mcp_conn *conn = op->conn;
    bool streamable = conn->transport == MCP_STREAMABLE_HTTP;
    bool reusable = op->kind == OP_CALL && streamable && op->cache != NULL &&
                    conn->s.state == MCP_SESSION_READY &&
                    (e == ERR_OK || e == ERR_TIMEOUT || strcmp(op->fei.code, "mcp_error") == 0);
    /* close what we don't keep (a finished discovery already sent DELETE) */
    bool del = !reusable && streamable && mcp_session_id_header(&conn->s) != NULL &&
               e != ERR_UNAVAILABLE && !(op->kind == OP_DISCOVER && e == ERR_OK);

    if (e != ERR_OK && op->kind == OP_DISCOVER && op->fei.field[0] == '\0')
        snprintf(op->fei.field, sizeof(op->fei.field), "%s", step_name(op->phase));
    if (!(e == ERR_TIMEOUT && send_cancel(op, del)) && del)
        post_fire(op, "DELETE", NULL, MCP_CANCEL_TIMEOUT_MS, false);
    op->phase = PH_DONE;
    op->result = NULL; /* handed to done() */
    loop_timer_stop(op->lp, &op->kick);
    loop_timer_stop(op->lp, &op->timer);
    loop_timer_stop(op->lp, &op->resume_timer);
    wire_detach(op);
    if (reusable) {
        cache_put(op->cache, op->key, conn);
        op->conn = NULL;
    }
    op->done(e, result, e == ERR_OK ? NULL : &op->fei, op->arg);
    op_free(op);
}

static const struct mcp_client_info client_info = {
    .protocol_version = MCP_PROTOCOL_LATEST,
    .name = MCP_CLIENT_NAME,
    .version = MCP_CLIENT_VERSION,
    .capabilities = NULL,
};

/* Builds a request with build(), POSTs it and waits for its response in ph. */
static void
send_init(struct mcp_op *op)
{
    struct buf b;
    struct errinfo ei = {0};

    buf_init(&b, MCP_MAX_MESSAGE);
    clear_resp(op);
    if (mcp_session_start(&op->conn->s, &client_info, &b, &ei) != ERR_OK) {
        op_fail_ei(op, ERR_INTERNAL, &ei);
    } else {
        op->want_id = op->conn->s.init_id;
        op->phase = PH_INIT;
        op->inited_here = true;
        (void)post_start(op, POST_REQUEST, &b, op->want_id, true);
    }
    buf_release(&b);
}

static void
send_list(struct mcp_op *op, const char *cursor)
{
    struct buf b;
    struct errinfo ei = {0};
    int64_t id = 0;

    buf_init(&b, MCP_MAX_MESSAGE);
    clear_resp(op);
    if (jsonrpc_build_tools_list(&op->conn->s.rpc, cursor, &b, &id, &ei) != ERR_OK) {
        op_fail_ei(op, ERR_INTERNAL, &ei);
    } else {
        op->want_id = id;
        op->phase = PH_LIST;
        (void)post_start(op, POST_REQUEST, &b, id, false);
    }
    buf_release(&b);
}

static void
send_call(struct mcp_op *op)
{
    struct buf b;
    struct errinfo ei = {0};
    int64_t id = 0;
    enum err e;

    buf_init(&b, MCP_MAX_MESSAGE);
    clear_resp(op);
    /* the progress token is the request's own id (unique in the session) */
    json_t *tok = json_integer(op->conn->s.rpc.next_id);
    e = jsonrpc_build_tools_call(&op->conn->s.rpc, op->tool, op->args, tok, &b, &id, &ei);
    json_decref(tok);
    op->progress_n = 0;
    json_decref(op->progress_last);
    op->progress_last = NULL;
    op->tools_changed = false;
    if (e != ERR_OK) {
        op_fail_ei(op, e == ERR_TOO_LARGE ? ERR_TOO_LARGE : ERR_INVALID, &ei);
    } else {
        op->want_id = id;
        op->phase = PH_CALL;
        (void)post_start(op, POST_REQUEST, &b, id, false);
    }
    buf_release(&b);
}

static void
after_init(struct mcp_op *op)
{
    if (op->after_init == PH_CALL) {
        send_call(op);
        return;
    }
    mcp_tool_list_release(&op->tl);
    mcp_tool_list_init(&op->tl, NULL);
    if (!op->conn->s.server.tools) {
        warn(op, "the server does not declare the tools capability; no tools listed");
        op->tl.complete = true;
        op->phase = PH_CLOSE;
        op->notify_done = true;
        return;
    }
    send_list(op, NULL);
}

static void
close_session(struct mcp_op *op)
{
    op->phase = PH_CLOSE;
    op->notify_done = true;
    if (op->conn->transport == MCP_STREAMABLE_HTTP && mcp_session_id_header(&op->conn->s) != NULL) {
        op->notify_done = false;
        if (post_start(op, POST_DELETE, NULL, 0, false) != ERR_OK)
            op->notify_done = true;
    }
}

static bool
resp_is_error(struct mcp_op *op, const char *what)
{
    if (!op->resp.is_error)
        return false;
    op_fail(op, ERR_UPSTREAM, "mcp_error", "MCP error %lld from the server to %s: %.200s",
            (long long)op->resp.err_code, what, op->resp.err_message ? op->resp.err_message : "");
    return true;
}

static void
on_init_resp(struct mcp_op *op)
{
    struct buf b;
    struct errinfo ei = {0};
    enum err e;

    buf_init(&b, MCP_MAX_MESSAGE);
    e = mcp_session_on_initialize(&op->conn->s, &op->resp, &b, &ei);
    clear_resp(op);
    if (e != ERR_OK) {
        op_fail_ei(op, e, &ei);
    } else {
        op->phase = PH_INITIALIZED;
        op->notify_done = false;
        (void)post_start(op, POST_NOTIFY, &b, 0, false);
    }
    buf_release(&b);
}

static void
on_list_resp(struct mcp_op *op)
{
    struct errinfo ei = {0};
    const char *next = NULL;
    enum err e;

    if (resp_is_error(op, "tools/list"))
        return;
    e = mcp_tool_list_add_page(&op->tl, op->resp.result, &next, &ei);
    clear_resp(op);
    if (e != ERR_OK)
        op_fail_ei(op, e, &ei);
    else if (next != NULL)
        send_list(op, next);
    else
        close_session(op);
}

static void
set_str(json_t *o, const char *k, const char *v)
{
    if (v != NULL)
        json_object_set_new(o, k, json_string(v));
}

static json_t *
discovery_result(struct mcp_op *op)
{
    const struct mcp_server_info *si = &op->conn->s.server;
    json_t *r = json_object(), *server = json_object(), *tools = json_array();

    json_object_set_new(r, "transport", json_string(mcp_transport_name(op->conn->transport)));
    json_object_set_new(r, "protocol_version", json_string(mcp_version_str(op->conn->s.version)));
    json_object_set_new(server, "name", json_string(si->name ? si->name : ""));
    json_object_set_new(server, "version", json_string(si->version_str ? si->version_str : ""));
    set_str(server, "title", si->title);
    json_object_set_new(r, "server", server);
    set_str(r, "instructions", si->instructions);
    for (size_t i = 0; i < op->tl.n; i++) {
        const struct mcp_tool *t = &op->tl.tools[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(t->name));
        json_object_set_new(o, "tool_name", json_string(t->op));
        set_str(o, "title", t->title);
        json_object_set_new(o, "description", json_string(t->description ? t->description : ""));
        json_object_set(o, "input_schema", t->input_schema);
        if (t->output_schema)
            json_object_set(o, "output_schema", t->output_schema);
        if (t->annotations)
            json_object_set(o, "annotations", t->annotations);
        if (t->task_required)
            warn(op, "tool %.128s requires task augmentation, which connhub does not support",
                 t->name);
        json_array_append_new(tools, o);
    }
    json_object_set_new(r, "tools", tools);
    if (op->tl.dropped > 0)
        warn(op, "%zu tools were dropped (last reason: %s)", op->tl.dropped,
             op->tl.drop_reason ? op->tl.drop_reason : "invalid");
    json_object_set(r, "warnings", op->warnings);
    return r;
}

static void
on_call_resp(struct mcp_op *op)
{
    struct mcp_call_result cr = {0};
    struct errinfo ei = {0};
    json_t *r;
    enum err e;

    if (resp_is_error(op, "tools/call"))
        return;
    e = mcp_parse_call_result(op->resp.result, &cr, &ei);
    clear_resp(op);
    if (e != ERR_OK) {
        op_fail_ei(op, ERR_UPSTREAM, &ei);
        return;
    }
    r = json_object();
    json_object_set(r, "content", cr.content);
    if (cr.structured != NULL)
        json_object_set(r, "structuredContent", cr.structured);
    json_object_set_new(r, "isError", json_boolean(cr.is_error));
    if (op->progress_n > 0)
        json_object_set_new(r, "progress",
                            json_pack("{s:I, s:O?}", "notifications", (json_int_t)op->progress_n,
                                      "last", op->progress_last));
    if (op->tools_changed)
        json_object_set_new(r, "tools_list_changed", json_true());
    mcp_call_result_release(&cr);
    op->result = r;
}

static void
flush_outbox(struct mcp_op *op)
{
    while (op->outbox != NULL) {
        struct outmsg *m = op->outbox;
        op->outbox = m->next;
        if (op->outbox == NULL)
            op->outbox_tail = &op->outbox;
        post_fire(op, "POST", m->body, (uint32_t)(op_remaining(op) > 0 ? op_remaining(op) : 1),
                  false);
        free(m->body);
        free(m);
    }
}

static void
handle_expiry(struct mcp_op *op)
{
    struct errinfo ei = {0};

    op->expired = false;
    if (op->reinit_done) {
        op_fail(op, ERR_UPSTREAM, "mcp_session_lost",
                "MCP: the server dropped the session again right after re-initializing");
        return;
    }
    op->reinit_done = true;
    if (mcp_session_expired(&op->conn->s, &ei) != ERR_OK) {
        op_fail_ei(op, ERR_UPSTREAM, &ei);
        return;
    }
    send_init(op);
}

static void
handle_fallback(struct mcp_op *op)
{
    op->fallback = false;
    op->fell_back = true;
    op->conn->transport = MCP_SSE;
    mcp_session_release(&op->conn->s);
    mcp_session_init(&op->conn->s, NULL);
    warn(op, "the server refused Streamable HTTP; using the deprecated HTTP+SSE transport");
    op->phase = PH_CONNECT;
    (void)stream_start(op);
}

void
op_step(struct mcp_op *op)
{
    if (op->phase == PH_DONE)
        return;
    if (op->failed) {
        finish(op, op->fe, NULL);
        return;
    }
    if (op->expired) {
        handle_expiry(op);
    } else if (op->fallback) {
        handle_fallback(op);
    } else {
        switch (op->phase) {
        case PH_START:
            if (op->conn->s.state == MCP_SESSION_READY)
                after_init(op);
            else if (op->conn->transport == MCP_SSE) {
                op->phase = PH_CONNECT;
                (void)stream_start(op);
            } else
                send_init(op);
            break;
        case PH_CONNECT:
            if (op->endpoint != NULL)
                send_init(op);
            break;
        case PH_INIT:
            if (op->have_resp)
                on_init_resp(op);
            break;
        case PH_INITIALIZED:
            if (op->notify_done)
                after_init(op);
            break;
        case PH_LIST:
            if (op->have_resp)
                on_list_resp(op);
            break;
        case PH_CALL:
            if (op->have_resp)
                on_call_resp(op);
            break;
        case PH_CLOSE:
        case PH_DONE:
            break;
        }
    }
    /* replies to server requests go after the state changed (a ping that
     * came with the initialize result gets the negotiated version header) */
    if (!op->failed)
        flush_outbox(op);
    if (op->failed)
        finish(op, op->fe, NULL);
    else if (op->result != NULL)
        finish(op, ERR_OK, op->result);
    else if (op->phase == PH_CLOSE && op->notify_done)
        finish(op, ERR_OK, discovery_result(op));
}

static void
on_deadline(struct loop *lp, void *arg)
{
    struct mcp_op *op = arg;
    static const char *const what[] = {
        [PH_START] = "the start",         [PH_CONNECT] = "the SSE endpoint event",
        [PH_INIT] = "initialize",         [PH_INITIALIZED] = "notifications/initialized",
        [PH_LIST] = "tools/list",         [PH_CALL] = "tools/call",
        [PH_CLOSE] = "the session close", [PH_DONE] = "",
    };

    (void)lp;
    if (op->phase == PH_CLOSE) { /* discovery is complete: a slow DELETE does not matter */
        op->notify_done = true;
        op_step(op);
        return;
    }
    op_fail(op, ERR_TIMEOUT, "timeout", "MCP: the server did not answer %s within %u ms",
            what[op->phase], op->timeout_ms);
    op_step(op);
}

static enum err
op_new(struct outbound *ob, const struct mcp_target *t, enum op_kind kind, mcp_json_cb done,
       void *arg, struct mcp_op **out, struct errinfo *ei)
{
    struct url_info ui;
    struct mcp_op *op;
    enum err e;

    *out = NULL;
    if (ob == NULL || t == NULL || done == NULL || t->url == NULL)
        return err_set(ei, ERR_INVALID, "invalid_field", "url", "MCP: a target URL is required");
    e = url_validate(t->url, "url", &ui, ei);
    if (e != ERR_OK)
        return e;
    if (t->transport != MCP_AUTO && t->transport != MCP_STREAMABLE_HTTP && t->transport != MCP_SSE)
        return err_set(ei, ERR_INVALID, "invalid_field", "transport", "MCP: unknown transport");
    for (size_t i = 0; i < t->nheaders; i++)
        if (t->headers[i].name == NULL || t->headers[i].value == NULL ||
            !out_is_token(t->headers[i].name, MAX_HEADER_NAME_LEN) ||
            !out_is_header_value(t->headers[i].value))
            return err_set(ei, ERR_INVALID, "invalid_field", "headers",
                           "MCP: header %zu is not a valid HTTP header", i);
    op = xcalloc(1, sizeof(*op));
    op->kind = kind;
    op->after_init = kind == OP_CALL ? PH_CALL : PH_LIST;
    op->ob = ob;
    op->lp = outbound_loop(ob);
    op->done = done;
    op->arg = arg;
    op->timeout_ms = t->timeout_ms ? t->timeout_ms : MCP_CALL_TIMEOUT_MS;
    if (op->timeout_ms > MCP_MAX_TIMEOUT_MS)
        op->timeout_ms = MCP_MAX_TIMEOUT_MS;
    op->deadline = mono_ms() + op->timeout_ms;
    op->outbox_tail = &op->outbox;
    op->warnings = json_array();
    mcp_tool_list_init(&op->tl, NULL);
    op->hdrs = xcalloc(t->nheaders ? t->nheaders : 1, sizeof(*op->hdrs));
    for (size_t i = 0; i < t->nheaders; i++) {
        op->hdrs[i].name = xstrdup(t->headers[i].name);
        op->hdrs[i].value = xstrdup(t->headers[i].value);
        op->hdrs[i].credential = t->headers[i].credential;
    }
    op->nhdrs = t->nheaders;
    *out = op;
    return ERR_OK;
}

static struct mcp_conn *
conn_new(const struct mcp_target *t)
{
    struct mcp_conn *c = xcalloc(1, sizeof(*c));

    c->transport = t->transport;
    c->url = xstrdup(t->url);
    fingerprint(t, c->fp);
    mcp_session_init(&c->s, NULL);
    return c;
}

static void
op_go(struct mcp_op *op)
{
    loop_timer_start(op->lp, &op->timer, op->timeout_ms, on_deadline, op);
    op_kick(op);
}

enum err
mcp_discover(struct outbound *ob, const struct mcp_target *t, mcp_json_cb done, void *arg,
             struct errinfo *ei)
{
    struct mcp_op *op;
    enum err e = op_new(ob, t, OP_DISCOVER, done, arg, &op, ei);

    if (e != ERR_OK || op == NULL)
        return e != ERR_OK ? e : ERR_INTERNAL;
    op->conn = conn_new(t);
    op_go(op);
    return ERR_OK;
}

enum err
mcp_call_tool(struct outbound *ob, struct mcp_session_cache *cache, const char *cache_key,
              const struct mcp_target *t, const char *tool, const json_t *args, mcp_json_cb done,
              void *arg, struct errinfo *ei)
{
    struct mcp_op *op;
    unsigned char fp[MCP_FP_LEN];
    enum err e;

    if (tool == NULL || tool[0] == '\0' || strlen(tool) > MCP_MAX_TOOL_NAME)
        return err_set(ei, ERR_INVALID, "invalid_field", "tool", "MCP: a tool name is required");
    if (args != NULL && !json_is_object(args))
        return err_set(ei, ERR_INVALID, "invalid_field", "arguments",
                       "MCP: tool arguments must be a JSON object");
    if (cache != NULL && (cache_key == NULL || cache_key[0] == '\0'))
        return err_set(ei, ERR_INVALID, "invalid_field", "cache_key",
                       "MCP: a session cache needs a key");
    e = op_new(ob, t, OP_CALL, done, arg, &op, ei);
    if (e != ERR_OK || op == NULL)
        return e != ERR_OK ? e : ERR_INTERNAL;
    op->tool = xstrdup(tool);
    op->args = args ? json_deep_copy(args) : json_object();
    if (cache != NULL) {
        op->cache = cache;
        op->key = xstrdup(cache_key);
        fingerprint(t, fp);
        op->conn = cache_take(cache, cache_key, fp);
    }
    if (op->conn == NULL)
        op->conn = conn_new(t);
    op_go(op);
    return ERR_OK;
}
