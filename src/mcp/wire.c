/*
 * wire: the HTTP side of the MCP client (see client_int.h): Streamable HTTP
 * POSTs whose answers are JSON or SSE, the legacy GET stream with its
 * `endpoint` event, and the dispatch of every JSON-RPC message received to
 * the operation waiting for it.
 */
#include "mcp/client_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util.h"
#include "core/banned.h"

/* ---- media types and bodies ---- */

/* Compares the media-type essence ("text/event-stream; charset=utf-8"). */
static bool
media_is(const char *ct, const char *want)
{
    size_t n = strlen(want);

    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The server's JSON-RPC error message in an error body, if any, into out. */
static void
body_rpc_error(const struct buf *b, char *out, size_t outlen)
{
    json_t *j, *err, *msg;

    out[0] = '\0';
    if (b->len == 0)
        return;
    j = json_loadb(b->data, b->len, 0, NULL);
    err = json_is_object(j) ? json_object_get(j, "error") : NULL;
    msg = json_is_object(err) ? json_object_get(err, "message") : NULL;
    if (json_is_string(msg)) {
        snprintf(out, outlen, ": %.200s", json_string_value(msg));
        for (char *p = out; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = ' ';
    }
    json_decref(j);
}

/* TypeScript SDK servers answer 400 "Bad Request: No valid session ID
 * provided" to an unknown session, others 404: both mean "re-initialize". */
static bool
body_says_session(const struct buf *b)
{
    char msg[256];

    body_rpc_error(b, msg, sizeof(msg));
    return strcasestr(msg, "session") != NULL;
}

/* ---- dispatch ---- */

static void
note_bad(struct mcp_op *op, const char *why)
{
    if (op->bad == 0 || op->bad_ei.msg[0] == '\0')
        err_set(&op->bad_ei, ERR_UPSTREAM, "mcp_bad_message", NULL, "%s", why);
    if (++op->bad > MCP_MAX_BAD_MESSAGES)
        op_fail(op, ERR_UPSTREAM, "mcp_bad_message",
                "MCP: more than %u unusable messages from the server (last: %s)",
                MCP_MAX_BAD_MESSAGES, op->bad_ei.msg);
}

static void
keep_response(struct mcp_op *op, const struct jsonrpc_batch *b, const struct jsonrpc_msg *m)
{
    op->resp_root = json_incref(b->root);
    op->resp = *m;
    op->resp.kind = JSONRPC_RESPONSE;
    op->resp.id = op->want_id;
    op->have_resp = true;
    op->answered_id = op->want_id;
    op_kick(op);
}

static void
queue_reply(struct mcp_op *op, const struct jsonrpc_msg *m)
{
    struct buf out;
    struct errinfo ei;
    struct outmsg *om;

    if (++op->server_reqs > MCP_MAX_SERVER_REQUESTS) {
        op_fail(op, ERR_UPSTREAM, "mcp_bad_message",
                "MCP: the server sent more than %u requests to the client",
                MCP_MAX_SERVER_REQUESTS);
        return;
    }
    buf_init(&out, MCP_MAX_MESSAGE);
    if (jsonrpc_answer_default(m, &out, &ei) != ERR_OK) {
        buf_release(&out);
        return;
    }
    om = xcalloc(1, sizeof(*om));
    om->body = buf_take(&out, NULL);
    *op->outbox_tail = om;
    op->outbox_tail = &om->next;
    op_kick(op);
}

/* Server notifications that matter to a call: progress for our token
 * (counted, the last one kept for the result) and tools/list_changed while
 * the call is in flight (the caller marks the stored list stale). One on the
 * call's own Streamable HTTP stream (from: that POST, or its resumption) is
 * the server's word about this call's session and always counts. On the
 * legacy stream, a session this operation just opened is skipped: servers
 * announce their tools there as they register them at connect
 * (server-everything does), which says nothing about the list discovered
 * earlier. Logging and everything else is dropped; discovery always lists. */
static void
on_notification(struct mcp_op *op, const struct jsonrpc_msg *m, const struct post *from)
{
    json_t *tok;

    if (op->kind != OP_CALL || op->phase != PH_CALL || m->method == NULL)
        return;
    if (strcmp(m->method, "notifications/tools/list_changed") == 0) {
        op->tools_changed = op->tools_changed || !op->inited_here ||
                            (from != NULL && !from->legacy && from->id == op->want_id);
    } else if (strcmp(m->method, "notifications/progress") == 0 && json_is_object(m->params)) {
        tok = json_object_get(m->params, "progressToken");
        if (!json_is_integer(tok) || json_integer_value(tok) != op->want_id)
            return;
        op->progress_n++;
        json_decref(op->progress_last);
        op->progress_last = json_pack(
            "{s:O?, s:O?, s:O?}", "progress", json_object_get(m->params, "progress"), "total",
            json_object_get(m->params, "total"), "message", json_object_get(m->params, "message"));
    }
}

/* One JSON document (a body or an SSE event's data). from: the POST whose
 * answer it is, or NULL (the legacy stream). */
static enum err
dispatch(struct mcp_op *op, const char *data, size_t len, const struct post *from)
{
    struct jsonrpc_batch b = {0};
    struct errinfo ei = {0};
    enum err e;

    e = jsonrpc_parse(&op->conn->s.rpc, data, len, &b, &ei);
    if (e != ERR_OK) {
        note_bad(op, ei.msg);
        return e;
    }
    for (size_t i = 0; i < b.n && !op->failed; i++) {
        const struct jsonrpc_msg *m = &b.msgs[i];
        switch (m->kind) {
        case JSONRPC_RESPONSE:
            if (m->id == op->want_id && !op->have_resp)
                keep_response(op, &b, m);
            break;
        case JSONRPC_ERROR_UNBOUND:
            /* tie it to the request this POST (or the only one in flight) carried */
            if (!op->have_resp && op->want_id > 0 &&
                (from == NULL || (from->kind == POST_REQUEST && from->id == op->want_id))) {
                (void)jsonrpc_forget(&op->conn->s.rpc, op->want_id);
                keep_response(op, &b, m);
            }
            break;
        case JSONRPC_REQUEST:
            queue_reply(op, m);
            break;
        case JSONRPC_NOTIFICATION:
            on_notification(op, m, from);
            break;
        case JSONRPC_IGNORED:
        case JSONRPC_INVALID:
        default:
            note_bad(op, m->why ? m->why : "not a JSON-RPC 2.0 message");
            break;
        }
    }
    jsonrpc_batch_release(&b);
    return ERR_OK;
}

/* ---- requests ---- */

static void
limits_for(const struct mcp_op *op, struct out_limits *l, uint32_t ms)
{
    l->total_timeout_ms = ms;
    l->idle_timeout_ms = ms; /* long tools may be silent; the total bounds them */
    if (l->connect_timeout_ms > ms)
        l->connect_timeout_ms = ms;
    l->max_response = MCP_MAX_STREAM_BYTES;
    (void)op;
}

/* The request with the operation's headers (+ session headers on Streamable HTTP). */
static enum err
build_request(struct mcp_op *op, const char *method, const char *url, bool session_hdrs,
              struct out_request *rq, struct errinfo *ei)
{
    const char *v;
    enum err e;

    e = out_request_init(rq, method, url, ei);
    for (size_t i = 0; i < op->nhdrs && e == ERR_OK; i++)
        e = out_request_add_header(rq, op->hdrs[i].name, op->hdrs[i].value, op->hdrs[i].credential,
                                   ei);
    if (e == ERR_OK && session_hdrs && (v = mcp_session_id_header(&op->conn->s)) != NULL)
        e = out_request_add_header(rq, "Mcp-Session-Id", v, false, ei);
    if (e == ERR_OK && session_hdrs && (v = mcp_session_version_header(&op->conn->s)) != NULL)
        e = out_request_add_header(rq, "MCP-Protocol-Version", v, false, ei);
    return e;
}

static enum err
add_post_headers(struct out_request *rq, struct errinfo *ei)
{
    enum err e = out_request_add_header(rq, "Content-Type", "application/json", false, ei);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Accept", "application/json, text/event-stream", false, ei);
    return e;
}

static enum err
post_event(void *arg, const struct sse_event *ev)
{
    struct post *p = arg;

    if (p->op == NULL)
        return ERR_UNAVAILABLE;
    if (ev->data_len == 0 || (ev->type_len != 7 || memcmp(ev->type, "message", 7) != 0))
        return ERR_OK; /* priming event, or not a JSON-RPC message */
    (void)dispatch(p->op, ev->data, ev->data_len, p);
    return p->op->failed ? ERR_UPSTREAM : ERR_OK;
}

static enum err
post_chunk(void *arg, const struct out_response *res, const char *data, size_t len)
{
    struct post *p = arg;
    struct mcp_op *op = p->op;
    enum err e;

    if (op == NULL || op->failed)
        return ERR_UNAVAILABLE;
    if (!p->started) {
        const char *ct = out_response_header(res, "content-type");
        const char *sid = out_response_header(res, "mcp-session-id");
        struct errinfo ei;
        struct sse_limits sl = {MCP_MAX_MESSAGE, MCP_MAX_MESSAGE, MCP_MAX_STREAM_EVENTS};

        p->started = true;
        p->ok2xx = res->status >= 200 && res->status < 300;
        if (p->ok2xx && p->init && op->conn->transport == MCP_AUTO)
            op->conn->transport = MCP_STREAMABLE_HTTP; /* the server speaks it */
        if (p->ok2xx && p->init && sid != NULL &&
            mcp_session_set_id(&op->conn->s, sid, strlen(sid), &ei) != ERR_OK) {
            op_fail(op, ERR_UPSTREAM, "mcp_bad_message", "%s", ei.msg);
            return ERR_UPSTREAM;
        }
        p->is_sse = p->ok2xx && !p->legacy && (p->kind == POST_REQUEST || p->kind == POST_RESUME) &&
                    media_is(ct, "text/event-stream");
        if (p->is_sse) {
            sse_init(&p->sp, &sl, post_event, p);
            p->sp_init = true;
        }
        buf_init(&p->body, p->ok2xx && !p->legacy && p->kind == POST_REQUEST ? MCP_MAX_MESSAGE
                                                                             : MCP_ERROR_BODY);
    }
    if (p->is_sse) {
        e = sse_feed(&p->sp, data, len);
        if (e == ERR_TOO_LARGE)
            op_fail(op, ERR_TOO_LARGE, "mcp_too_large", "MCP: %s", p->sp.ei.msg);
        else if (e != ERR_OK && !op->failed)
            op_fail(op, e, "mcp_bad_message", "MCP: SSE answer refused: %s", p->sp.ei.msg);
        return e;
    }
    if (p->body.max == MCP_ERROR_BODY) {
        size_t room = p->body.max - p->body.len;
        if (buf_append(&p->body, data, len < room ? len : room) != ERR_OK)
            return ERR_OK; /* an error body is only for the message */
        return ERR_OK;
    }
    if (buf_append(&p->body, data, len) != ERR_OK) {
        op_fail(op, ERR_TOO_LARGE, "mcp_too_large",
                "MCP: a message from the server exceeds %zu bytes (MCP_MAX_MESSAGE)",
                (size_t)MCP_MAX_MESSAGE);
        return ERR_TOO_LARGE;
    }
    return ERR_OK;
}

static void
post_free(struct post *p)
{
    if (p->sp_init)
        sse_release(&p->sp);
    buf_release(&p->body);
    free(p);
}

static void
unlink_post(struct mcp_op *op, struct post *p)
{
    for (struct post **pp = &op->posts; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    p->next = NULL;
    p->h = NULL;
}

static const char *
method_of(const struct mcp_op *op, const struct post *p)
{
    const struct jsonrpc_pending *pe;

    if (p->kind == POST_DELETE)
        return "DELETE";
    if (p->kind == POST_RESUME)
        return "the resumption GET";
    if (p->kind == POST_NOTIFY)
        return "notifications/initialized";
    if (p->init)
        return "initialize";
    pe = jsonrpc_pending_find(&op->conn->s.rpc, p->id);
    if (pe != NULL)
        return pe->method;
    return op->kind == OP_CALL ? "tools/call" : "tools/list";
}

static void
fail_status(struct mcp_op *op, const struct post *p, const struct out_response *res)
{
    char detail[256];
    const char *wa;

    if (res->status == 401 || res->status == 403) {
        wa = out_response_header(res, "www-authenticate");
        op_fail(op, ERR_UPSTREAM, "mcp_unauthorized",
                "MCP: the server refused the credentials (HTTP %ld to %s)%s%.160s", res->status,
                method_of(op, p), wa ? "; WWW-Authenticate: " : "", wa ? wa : "");
        return;
    }
    body_rpc_error(&p->body, detail, sizeof(detail));
    op_fail(op, ERR_UPSTREAM, "mcp_http_status", "MCP: HTTP %ld from the server to %s%s",
            res->status, method_of(op, p), detail);
}

static void on_resume_timer(struct loop *lp, void *arg);

/* The awaited request's SSE stream ended (cleanly or cut) without the
 * response: if the server gave an event id, wait its retry: and GET the
 * stream again with Last-Event-ID (2025-11-25 "polling" and resumability);
 * bounded by MCP_MAX_RESUMES per request. Returns true if scheduled. */
static bool
schedule_resume(struct mcp_op *op, struct post *p, const struct out_response *res)
{
    const char *id = p->sp_init ? sse_last_event_id(&p->sp) : "";
    int64_t wait;

    if (!p->is_sse || id[0] == '\0' || (res->fail != OUT_OK && res->fail != OUT_FAIL_PROTOCOL) ||
        op->conn->transport != MCP_STREAMABLE_HTTP)
        return false;
    if (op->resumes >= MCP_MAX_RESUMES) {
        op_fail(op, ERR_UPSTREAM, "mcp_no_response",
                "MCP: the server's stream for %s ended without the response %u times in a "
                "row (MCP_MAX_RESUMES)",
                op->kind == OP_CALL ? "tools/call" : "the request", MCP_MAX_RESUMES + 1);
        return true;
    }
    free(op->resume_id);
    op->resume_id = xstrdup(id);
    op->resume_retry = sse_retry_ms(&p->sp);
    wait = op->resume_retry >= 0 ? op->resume_retry : (int64_t)MCP_RESUME_DEFAULT_MS;
    if (wait > (int64_t)MCP_RESUME_MAX_MS)
        wait = MCP_RESUME_MAX_MS;
    op->resumes++;
    log_kv(LOG_DEBUG, "mcp.resume_scheduled", "I:wait_ms", (long long)wait, "I:attempt",
           (long long)op->resumes, LOG_END);
    loop_timer_start(op->lp, &op->resume_timer, wait, on_resume_timer, op);
    return true;
}

static void
post_outcome(struct mcp_op *op, struct post *p, const struct out_response *res)
{
    bool waited =
        (p->kind == POST_REQUEST || p->kind == POST_RESUME) && !p->legacy && op->want_id == p->id;

    if (p->kind == POST_DELETE) {
        op->notify_done = true;
        return;
    }
    /* Answered already, even if the step consumed it before this transfer
     * ended (its last bytes and its end can come in different reads). */
    if (op->failed || (waited && (op->have_resp || op->answered_id == p->id)))
        return;
    if (waited && schedule_resume(op, p, res))
        return;
    if (res->fail != OUT_OK) {
        op_fail_transport(op, res);
        return;
    }
    if (res->status == 401 || res->status == 403) {
        fail_status(op, p, res);
        return;
    }
    if (!p->legacy && p->had_session &&
        (res->status == 404 || (res->status == 400 && body_says_session(&p->body)))) {
        op->expired = true;
        return;
    }
    if (!p->legacy && p->init && op->conn->transport == MCP_AUTO &&
        (res->status == 400 || res->status == 404 || res->status == 405)) {
        op->fallback = true;
        return;
    }
    if (p->kind == POST_RESUME && (res->status < 200 || res->status >= 300 || !p->is_sse)) {
        op_fail(op, ERR_UPSTREAM, "mcp_no_response",
                "MCP: the stream for request %lld ended before the response and resuming it "
                "failed (GET with Last-Event-ID got HTTP %ld%s)",
                (long long)p->id, res->status, p->is_sse ? "" : ", not an event stream");
        return;
    }
    if (res->status < 200 || res->status >= 300) {
        fail_status(op, p, res);
        return;
    }
    if (p->kind == POST_NOTIFY) {
        op->notify_done = true;
        return;
    }
    if (!waited)
        return; /* legacy: the answer comes on the stream */
    if (!p->is_sse && p->body.len > 0 && dispatch(op, p->body.data, p->body.len, p) != ERR_OK) {
        op_fail(op, ERR_UPSTREAM, "mcp_bad_message", "MCP: the answer to %s is not JSON-RPC: %s",
                method_of(op, p), op->bad_ei.msg);
        return;
    }
    if (!op->have_resp && !op->failed)
        op_fail(op, ERR_UPSTREAM, "mcp_no_response",
                "MCP: the server's answer to %s (HTTP %ld, %s) held no response to request %lld",
                method_of(op, p), res->status, p->is_sse ? "SSE" : "JSON", (long long)p->id);
}

static void
post_done(struct out_response *res, void *arg)
{
    struct post *p = arg;
    struct mcp_op *op = p->op;

    if (op == NULL) {
        post_free(p);
        return;
    }
    unlink_post(op, p);
    if (p->sp_init)
        (void)sse_finish(&p->sp);
    post_outcome(op, p, res);
    post_free(p);
    op_step(op);
}

enum err
post_start(struct mcp_op *op, enum post_kind kind, struct buf *body, int64_t id, bool init)
{
    struct out_request rq = {0};
    struct errinfo ei = {0};
    struct post *p;
    bool legacy = op->conn->transport == MCP_SSE;
    int64_t ms = op_remaining(op);
    enum err e;

    if (ms <= 0) {
        op_fail(op, ERR_TIMEOUT, "timeout", "MCP: the operation timed out (%u ms)", op->timeout_ms);
        return ERR_TIMEOUT;
    }
    e = build_request(op,
                      kind == POST_DELETE   ? "DELETE"
                      : kind == POST_RESUME ? "GET"
                                            : "POST",
                      legacy ? op->endpoint : op->conn->url, !legacy, &rq, &ei);
    if (e == ERR_OK && kind == POST_RESUME) {
        e = out_request_add_header(&rq, "Accept", "text/event-stream", false, &ei);
        if (e == ERR_OK)
            e = out_request_add_header(&rq, "Last-Event-ID", op->resume_id, false, &ei);
    } else if (e == ERR_OK && kind != POST_DELETE) {
        e = add_post_headers(&rq, &ei);
    }
    if (e == ERR_OK && body != NULL)
        e = buf_append(&rq.body, body->data, body->len);
    if (e != ERR_OK) {
        out_request_release(&rq);
        op_fail(op, e, ei.code[0] ? ei.code : "internal", "MCP: cannot build the request: %s",
                ei.msg);
        return e;
    }
    limits_for(op, &rq.limits, (uint32_t)ms);
    p = xcalloc(1, sizeof(*p));
    p->op = op;
    p->kind = kind;
    p->id = id;
    p->init = init;
    p->legacy = legacy;
    p->had_session = !legacy && mcp_session_id_header(&op->conn->s) != NULL;
    rq.on_chunk = post_chunk;
    rq.chunk_arg = p;
    e = outbound_send(op->ob, &rq, post_done, p, &p->h);
    if (e != ERR_OK) {
        free(p);
        op_fail(op, e, "internal", "MCP: cannot start the HTTP request");
        return e;
    }
    p->next = op->posts;
    op->posts = p;
    return ERR_OK;
}

void
resume_start(struct mcp_op *op)
{
    if (op->phase == PH_DONE || op->failed || op->have_resp || op->resume_id == NULL)
        return;
    if (!out_is_header_value(op->resume_id)) {
        op_fail(op, ERR_UPSTREAM, "mcp_bad_message",
                "MCP: the server's SSE event id cannot be sent back as Last-Event-ID");
        return;
    }
    (void)post_start(op, POST_RESUME, NULL, op->want_id, false);
}

static void
on_resume_timer(struct loop *lp, void *arg)
{
    struct mcp_op *op = arg;

    (void)lp;
    resume_start(op);
    op_step(op);
}

/* A fire-and-forget request, optionally followed by another one (the DELETE
 * of a session must not overtake notifications/cancelled). */
struct fire {
    struct outbound *ob;
    struct out_request next;
    bool has_next;
};

static void
fire_done(struct out_response *res, void *arg)
{
    struct fire *f = arg;

    if (f == NULL)
        return;
    if (f->has_next && res->fail != OUT_FAIL_CANCELLED) {
        if (outbound_send(f->ob, &f->next, fire_done, NULL, NULL) != ERR_OK)
            f->has_next = false; /* best effort: next was released */
    } else if (f->has_next) {
        out_request_release(&f->next);
    }
    free(f);
}

static enum err
fire_request(struct mcp_op *op, const char *method, const char *body, uint32_t timeout_ms,
             struct out_request *rq)
{
    struct errinfo ei = {0};
    bool legacy = op->conn->transport == MCP_SSE;
    const char *url = legacy ? op->endpoint : op->conn->url;
    enum err e;

    if (url == NULL)
        return ERR_INVALID;
    e = build_request(op, method, url, !legacy, rq, &ei);
    if (e == ERR_OK && body != NULL) {
        e = add_post_headers(rq, &ei);
        if (e == ERR_OK)
            e = buf_puts(&rq->body, body);
    }
    if (e != ERR_OK) {
        out_request_release(rq);
        return e;
    }
    limits_for(op, &rq->limits, timeout_ms);
    return ERR_OK;
}

void
post_fire(struct mcp_op *op, const char *method, const char *body, uint32_t timeout_ms,
          bool then_delete)
{
    struct out_request rq = {0};
    struct fire *f = NULL;

    if (fire_request(op, method, body, timeout_ms, &rq) != ERR_OK)
        return;
    if (then_delete) {
        f = xcalloc(1, sizeof(*f));
        f->ob = op->ob;
        f->has_next = fire_request(op, "DELETE", NULL, timeout_ms, &f->next) == ERR_OK;
    }
    if (outbound_send(op->ob, &rq, fire_done, f, NULL) != ERR_OK && f != NULL) {
        if (f->has_next)
            out_request_release(&f->next);
        free(f); /* best effort: rq was released */
    }
}

/* ---- the legacy GET stream ---- */

enum err
mcp_resolve_endpoint(const char *base, const char *ref, char **out, struct errinfo *ei)
{
    struct url_info a, b;
    CURLU *h = curl_url();
    char *u = NULL;
    enum err e = ERR_OK;

    *out = NULL;
    if (h == NULL)
        return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    if (ref[0] == '\0' || str_has_ctl(ref) ||
        curl_url_set(h, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_set(h, CURLUPART_URL, ref, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_URL, &u, 0) != CURLUE_OK) {
        e = err_set(ei, ERR_UPSTREAM, "mcp_bad_endpoint", "endpoint",
                    "MCP: the legacy endpoint event is not a usable URL reference");
        goto out;
    }
    e = url_validate(base, "url", &a, ei);
    if (e == ERR_OK)
        e = url_validate(u, "endpoint", &b, ei);
    if (e != ERR_OK) {
        e = err_set(ei, ERR_UPSTREAM, "mcp_bad_endpoint", "endpoint",
                    "MCP: the legacy endpoint is not an acceptable URL: %s", ei->msg);
        goto out;
    }
    if (!url_same_origin(&a, &b)) {
        e = err_set(ei, ERR_UPSTREAM, "mcp_endpoint_origin", "endpoint",
                    "MCP: the legacy endpoint is on another origin (%s://%s:%d), refused", b.scheme,
                    b.host, b.port);
        goto out;
    }
    *out = xstrdup(u);
out:
    curl_free(u);
    curl_url_cleanup(h);
    return e;
}

static enum err
stream_event(void *arg, const struct sse_event *ev)
{
    struct stream *st = arg;
    struct mcp_op *op = st->op;
    struct errinfo ei = {0};

    if (op == NULL)
        return ERR_UNAVAILABLE;
    if (ev->type_len == 8 && memcmp(ev->type, "endpoint", 8) == 0) {
        if (op->endpoint == NULL) {
            if (mcp_resolve_endpoint(op->conn->url, ev->data, &op->endpoint, &ei) != ERR_OK)
                op_fail(op, ERR_UPSTREAM, ei.code, "%s", ei.msg);
            op_kick(op);
        }
    } else if (ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0 && ev->data_len > 0) {
        (void)dispatch(op, ev->data, ev->data_len, NULL);
    }
    return op->failed ? ERR_UPSTREAM : ERR_OK;
}

static enum err
stream_chunk(void *arg, const struct out_response *res, const char *data, size_t len)
{
    struct stream *st = arg;
    struct mcp_op *op = st->op;
    enum err e;

    if (op == NULL || op->failed)
        return ERR_UNAVAILABLE;
    if (!st->started) {
        struct sse_limits sl = {MCP_MAX_MESSAGE, MCP_MAX_MESSAGE, MCP_MAX_STREAM_EVENTS};
        st->started = true;
        st->status = res->status;
        st->ok = res->status >= 200 && res->status < 300 &&
                 media_is(out_response_header(res, "content-type"), "text/event-stream");
        if (st->ok) {
            sse_init(&st->sp, &sl, stream_event, st);
            st->sp_init = true;
        }
    }
    if (!st->ok)
        return ERR_OK;
    e = sse_feed(&st->sp, data, len);
    if (e == ERR_TOO_LARGE)
        op_fail(op, ERR_TOO_LARGE, "mcp_too_large", "MCP: %s", st->sp.ei.msg);
    return e;
}

static void
stream_done(struct out_response *res, void *arg)
{
    struct stream *st = arg;
    struct mcp_op *op = st->op;

    if (op != NULL && !op->failed && op->phase != PH_DONE) {
        op->stream = NULL;
        if (res->fail != OUT_OK)
            op_fail_transport(op, res);
        else if (res->status == 401 || res->status == 403)
            op_fail(op, ERR_UPSTREAM, "mcp_unauthorized",
                    "MCP: the server refused the credentials (HTTP %ld to the SSE GET)",
                    res->status);
        else if (!st->ok && op->fell_back)
            op_fail(op, ERR_UPSTREAM, "mcp_no_transport",
                    "MCP: neither transport answered: Streamable HTTP initialize was refused "
                    "and the legacy SSE GET got HTTP %ld%s",
                    res->status,
                    st->status >= 200 && st->status < 300 ? " (not an event stream)" : "");
        else if (!st->ok)
            op_fail(op, ERR_UPSTREAM, "mcp_http_status",
                    "MCP: HTTP %ld from the server to the SSE GET%s", res->status,
                    st->status >= 200 && st->status < 300 ? " (not text/event-stream)" : "");
        else
            op_fail(op, ERR_UPSTREAM, "mcp_stream_closed",
                    "MCP: the server closed the SSE stream before answering");
    } else if (op != NULL) {
        op->stream = NULL;
    }
    if (st->sp_init)
        sse_release(&st->sp);
    free(st);
    if (op != NULL)
        op_step(op);
}

enum err
stream_start(struct mcp_op *op)
{
    struct out_request rq = {0};
    struct errinfo ei = {0};
    struct stream *st;
    int64_t ms = op_remaining(op);
    enum err e;

    if (ms <= 0) {
        op_fail(op, ERR_TIMEOUT, "timeout", "MCP: the operation timed out (%u ms)", op->timeout_ms);
        return ERR_TIMEOUT;
    }
    e = build_request(op, "GET", op->conn->url, false, &rq, &ei);
    if (e == ERR_OK)
        e = out_request_add_header(&rq, "Accept", "text/event-stream", false, &ei);
    if (e == ERR_OK)
        e = out_request_add_header(&rq, "Cache-Control", "no-cache", false, &ei);
    if (e != ERR_OK) {
        out_request_release(&rq);
        op_fail(op, e, "internal", "MCP: cannot build the SSE request: %s", ei.msg);
        return e;
    }
    limits_for(op, &rq.limits, (uint32_t)ms);
    st = xcalloc(1, sizeof(*st));
    st->op = op;
    rq.on_chunk = stream_chunk;
    rq.chunk_arg = st;
    e = outbound_send(op->ob, &rq, stream_done, st, &st->h);
    if (e != ERR_OK) {
        free(st);
        op_fail(op, e, "internal", "MCP: cannot start the SSE request");
        return e;
    }
    op->stream = st;
    return ERR_OK;
}

void
wire_detach(struct mcp_op *op)
{
    while (op->posts != NULL) {
        struct post *p = op->posts;
        struct out_handle *h = p->h;
        op->posts = p->next;
        p->op = NULL;
        p->next = NULL;
        outbound_cancel(h); /* p is freed by its done() */
    }
    if (op->stream != NULL) {
        op->stream->op = NULL;
        outbound_cancel(op->stream->h);
        op->stream = NULL;
    }
}

void
op_fail_transport(struct mcp_op *op, const struct out_response *res)
{
    static const struct {
        enum err e;
        const char *code;
    } map[] = {
        [OUT_OK] = {ERR_INTERNAL, "internal"},
        [OUT_FAIL_URL] = {ERR_INVALID, "bad_url"},
        [OUT_FAIL_BLOCKED] = {ERR_FORBIDDEN, "blocked"},
        [OUT_FAIL_RESOLVE] = {ERR_UPSTREAM, "resolve_failed"},
        [OUT_FAIL_CONNECT] = {ERR_UPSTREAM, "connect_failed"},
        [OUT_FAIL_TLS] = {ERR_UPSTREAM, "tls_failed"},
        [OUT_FAIL_TIMEOUT] = {ERR_TIMEOUT, "timeout"},
        [OUT_FAIL_TOO_LARGE] = {ERR_TOO_LARGE, "mcp_too_large"},
        [OUT_FAIL_REDIRECTS] = {ERR_UPSTREAM, "too_many_redirects"},
        [OUT_FAIL_PROTOCOL] = {ERR_UPSTREAM, "protocol_error"},
        [OUT_FAIL_CANCELLED] = {ERR_UNAVAILABLE, "cancelled"},
        [OUT_FAIL_INTERNAL] = {ERR_INTERNAL, "internal"},
    };
    unsigned f = (unsigned)res->fail;

    if (f >= ARRAY_LEN(map) || map[f].code == NULL)
        f = OUT_FAIL_INTERNAL;
    op_fail(op, map[f].e, map[f].code, "MCP transport: %s", res->error);
}
