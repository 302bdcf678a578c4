/*
 * server: worker threads, each one event loop driving an MHD daemon in
 * external-epoll mode (see http.h). Also request parsing (body, auth) and
 * response rendering, so that handlers only see struct req / struct resp.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "http/gate.h"
#include "http/http.h"
#include "mcp/client.h"
#include "core/banned.h"

enum req_state { RQ_NEW, RQ_BODY, RQ_SUSPENDED, RQ_DONE };

/* Bytes of an over-limit chunked body read and dropped before the connection
 * is closed without an answer. */
#define BODY_DISCARD_MAX ((size_t)4 * 1024 * 1024)

#define REQ_SPARES 64

struct req_block {
    struct req rq;
    struct resp rs;
};

struct worker {
    struct app *app;
    const struct server_config *cfg;
    int index;
    int listen_fd;
    struct loop *lp;
    struct MHD_Daemon *d;
    struct store *st;
    struct outbound *ob;
    struct mcp_session_cache *mcp;
    struct loop_timer mhd_timer;
    pthread_t thread;
    bool started;
    atomic_int in_flight;
    atomic_bool draining;
    bool quiesced;
    bool need_run;
    unsigned zero_runs; /* MHD runs in a row whose timeout was 0 */
    /* finished requests kept for the next ones: a struct req with its resp
     * is ~5 KB, and a fresh calloc of that size made glibc consolidate its
     * small free chunks on nearly every request */
    struct req_block *spare[REQ_SPARES];
    unsigned nspare;
};

void
http_limits_default(struct http_limits *l)
{
    l->max_body = MAX_REQUEST_BODY;
    l->max_spec_body = MAX_SPEC_BODY;
    l->max_header_bytes = MAX_REQUEST_HEADER_BYTES;
    l->max_connections = MAX_CONNECTIONS;
    l->max_per_ip = MAX_CONNECTIONS_PER_IP;
    l->idle_timeout_s = CONNECTION_IDLE_TIMEOUT_S;
    l->drain_timeout_s = SHUTDOWN_DRAIN_TIMEOUT_S;
    l->max_calls = MAX_CALLS_IN_FLIGHT;
    l->max_calls_ws = MAX_CALLS_PER_WORKSPACE;
}

static int64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- request helpers for handlers ---- */

const char *
req_query(const struct req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->mhd, MHD_GET_ARGUMENT_KIND, name);
}

const char *
req_header(const struct req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->mhd, MHD_HEADER_KIND, name);
}

bool
req_draining(const struct req *rq)
{
    return atomic_load(&rq->w->draining);
}

enum err
req_json_object(struct req *rq, struct errinfo *ei)
{
    const char *ct = req_header(rq, "Content-Type");
    json_error_t je;

    if (rq->json)
        return ERR_OK;
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
        return err_set(ei, ERR_MEDIA_TYPE, "unsupported_media_type", "Content-Type",
                       "send the body as application/json");
    if (rq->body.len == 0)
        return err_set(ei, ERR_INVALID, "empty_body", NULL, "the request needs a JSON body");
    if (json_text_too_deep(rq->body.data, rq->body.len, MAX_JSON_DEPTH, NULL))
        return err_set(ei, ERR_INVALID, "too_deep", NULL,
                       "the JSON body is nested deeper than %d levels", MAX_JSON_DEPTH);
    rq->json = json_loadb(rq->body.data, rq->body.len, JSON_REJECT_DUPLICATES, &je);
    if (rq->json == NULL)
        return err_set(ei, ERR_INVALID, "invalid_json", NULL,
                       "the body is not valid JSON: %s (line %d, column %d)", je.text, je.line,
                       je.column);
    if (!json_is_object(rq->json)) {
        json_decref(rq->json);
        rq->json = NULL;
        return err_set(ei, ERR_INVALID, "invalid_body", NULL, "the body must be a JSON object");
    }
    return ERR_OK;
}

enum err
resp_json(struct resp *rs, int status, json_t *json)
{
    json_decref(rs->json);
    rs->status = status;
    rs->json = json;
    return ERR_OK;
}

json_t *
http_error_body(enum err e, const struct errinfo *ei)
{
    const char *code = ei && ei->code[0] ? ei->code : err_default_code(e);
    const char *msg = ei && ei->msg[0] ? ei->msg : err_default_code(e);
    json_t *err = json_pack("{s:s, s:s}", "code", code, "message", msg);

    if (ei && ei->field[0])
        json_object_set_new(err, "field", json_string(ei->field));
    return json_pack("{s:o}", "error", err);
}

/* ---- responses ---- */

void
resp_header(struct resp *rs, const char *name, const char *value)
{
    if (rs->nextra >= RESP_MAX_HEADERS)
        return;
    rs->extra_headers[rs->nextra][0] = name;
    rs->extra_headers[rs->nextra][1] = value;
    rs->nextra++;
}

/* Headers on every answer. A handler's own Cache-Control or Content-Security-Policy (the web UI)
 * replaces the default: nothing cached, nothing loaded or framed. */
static void
common_headers(struct MHD_Response *r, const struct resp *rs)
{
    bool own_cache = false, own_csp = false;

    for (size_t i = 0; rs && i < rs->nextra; i++) {
        MHD_add_response_header(r, rs->extra_headers[i][0], rs->extra_headers[i][1]);
        own_cache = own_cache || strcasecmp(rs->extra_headers[i][0], "Cache-Control") == 0;
        own_csp = own_csp || strcasecmp(rs->extra_headers[i][0], "Content-Security-Policy") == 0;
    }
    if (!own_cache)
        MHD_add_response_header(r, "Cache-Control", "no-store");
    if (!own_csp)
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (rs && rs->set_cookie[0])
        MHD_add_response_header(r, "Set-Cookie", rs->set_cookie);
}

static enum MHD_Result
queue_response(struct MHD_Connection *c, struct MHD_Response *r, int status, const char *ctype,
               const struct resp *rs, bool close)
{
    enum MHD_Result ok;

    if (ctype)
        MHD_add_response_header(r, "Content-Type", ctype);
    common_headers(r, rs);
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    if (rs && rs->location[0])
        MHD_add_response_header(r, "Location", rs->location);
    if (close)
        MHD_add_response_header(r, "Connection", "close");
    ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result
send_body(struct MHD_Connection *c, int status, const char *ctype, char *body, size_t len,
          const struct resp *rs, bool close)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    return queue_response(c, r, status, ctype, rs, close);
}

static enum MHD_Result
send_json(struct MHD_Connection *c, int status, json_t *j, const struct resp *rs, bool close)
{
    char *s = json_dumps(j, JSON_COMPACT);
    size_t n;

    if (s == NULL)
        return MHD_NO;
    n = strlen(s);
    {
        char *grown = realloc(s, n + 2);
        if (grown == NULL) {
            free(s);
            return MHD_NO;
        }
        s = grown;
    }
    s[n++] = '\n';
    s[n] = '\0';
    return send_body(c, status, "application/json", s, n, rs, close);
}

/* status 0: the kind's own (err_http_status). */
static enum MHD_Result
send_error_status(struct MHD_Connection *c, int status, enum err e, const struct errinfo *ei,
                  bool close)
{
    json_t *j = http_error_body(e, ei);
    enum MHD_Result ok = send_json(c, status ? status : err_http_status(e), j, NULL, close);

    json_decref(j);
    return ok;
}

static enum MHD_Result
send_error(struct MHD_Connection *c, enum err e, const struct errinfo *ei, bool close)
{
    return send_error_status(c, 0, e, ei, close);
}

static enum MHD_Result
send_resp(struct req *rq, enum err e)
{
    struct resp *rs = rq->rs;
    struct MHD_Connection *c = rq->mhd;
    int status = rs->status ? rs->status : 200;

    if (e != ERR_OK) {
        json_t *j = http_error_body(e, &rs->ei);
        enum MHD_Result ok;
        rs->status = err_http_status(e);
        ok = send_json(c, rs->status, j, rs, false); /* keeps a cookie-clearing Set-Cookie */
        json_decref(j);
        return ok;
    }
    if (rs->json)
        return send_json(c, status, rs->json, rs, false);
    if (rs->static_body || status == 304) {
        struct MHD_Response *r = MHD_create_response_from_buffer(status == 304 ? 0 : rs->static_len,
                                                                 (void *)(uintptr_t)rs->static_body,
                                                                 MHD_RESPMEM_PERSISTENT);
        if (r == NULL)
            return MHD_NO;
        return queue_response(c, r, status, rs->content_type, rs, false);
    }
    {
        size_t n;
        char *body = buf_take(&rs->raw, &n);
        return send_body(c, status, rs->content_type ? rs->content_type : "application/json", body,
                         n, rs, false);
    }
}

/* ---- auth ---- */

/* SHA256() fetches the digest from OpenSSL's provider store on every call
 * (a lock and a lookup, ~2/3 of hashing a token): fetch it once. */
static EVP_MD *g_sha256;
static pthread_once_t g_sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void
token_hash(const char *tok, size_t n, unsigned char out[SHA256_DIGEST_LENGTH])
{
    pthread_once(&g_sha256_once, sha256_fetch);
    if (g_sha256 == NULL || EVP_Digest(tok, n, out, NULL, g_sha256, NULL) != 1)
        SHA256((const unsigned char *)tok, n, out);
}

/* The browser's session cookie: valid, and for a state-changing method the CSRF token and an
 * Origin naming this server (session.h). */
static enum err
authenticate_session(struct req *rq, struct errinfo *ei)
{
    enum err e = session_authenticate(rq->st, &rq->app->session, rq->session_cookie, &rq->who, ei);

    if (e != ERR_OK) {
        if (e == ERR_UNAUTHORIZED) /* the browser may drop a cookie that no longer works */
            session_set_cookie(rq->rs->set_cookie, sizeof(rq->rs->set_cookie), NULL,
                               rq->app->secure_cookies, 0);
        return e;
    }
    rq->via_session = true;
    if (session_method_is_safe(rq->method))
        return ERR_OK;
    if (!session_origin_ok(req_header(rq, "Origin"), rq->app->app_url, req_header(rq, "Host")))
        return err_set(ei, ERR_FORBIDDEN, "origin_mismatch", "Origin",
                       "a request made with the session cookie must come from this server's own "
                       "pages (Origin)");
    if (!session_csrf_ok(rq->session_cookie, req_header(rq, SESSION_CSRF_HEADER)))
        return err_set(ei, ERR_FORBIDDEN, "csrf_token_invalid", SESSION_CSRF_HEADER,
                       "send the session's CSRF token (GET /api/session) as " SESSION_CSRF_HEADER);
    return ERR_OK;
}

static enum err
authenticate(struct req *rq, struct errinfo *ei)
{
    const char *h = req_header(rq, "Authorization");
    unsigned char hash[SHA256_DIGEST_LENGTH];
    const char *tok;

    if (h == NULL) {
        const char *ck = req_header(rq, "Cookie");
        if (ck && session_cookie_get(ck, rq->session_cookie))
            return authenticate_session(rq, ei);
    }
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return err_set(ei, ERR_UNAUTHORIZED, "missing_token", NULL,
                       "send an API token as Authorization: Bearer <token>, or sign in");
    tok = h + 7;
    while (*tok == ' ')
        tok++;
    if (*tok == '\0' || strlen(tok) > 256)
        return err_set(ei, ERR_UNAUTHORIZED, "invalid_token", NULL, "the API token is not valid");
    token_hash(tok, strlen(tok), hash);
    return store_token_lookup(rq->st, hash, &rq->who, ei);
}

/* ---- dispatch ---- */

static enum err
dispatch_in_scope(struct req *rq)
{
    struct resp *rs = rq->rs;
    enum err e = rq->route_err; /* routed once, on the request's first callback */
    if (e == ERR_NOT_FOUND)
        return err_set(&rs->ei, e, "no_such_endpoint", NULL, "no such endpoint: %s", rq->path);
    if (e == ERR_METHOD)
        return err_set(&rs->ei, e, NULL, NULL, "%s is not allowed on %s", rq->method, rq->path);
    if (!(rq->route->flags & ROUTE_PUBLIC)) {
        e = authenticate(rq, &rs->ei);
        if (e != ERR_OK)
            return e;
        if (rq->who.role < rq->route->min_role)
            return err_set(&rs->ei, ERR_FORBIDDEN, "forbidden", NULL,
                           "this needs the workspace role %s", role_name(rq->route->min_role));
    } else if ((rq->route->flags & ROUTE_WHO_OPTIONAL) &&
               (req_header(rq, "Authorization") || req_header(rq, "Cookie"))) {
        struct errinfo ignored = {0};
        if (authenticate(rq, &ignored) != ERR_OK)
            memset(&rq->who, 0, sizeof(rq->who));
    }
    return rq->route->fn(rq, rs);
}

/* The request's reads (token, then whatever the handler loads before it
 * answers or suspends) share one store snapshot; see store_read_begin. */
static enum err
dispatch(struct req *rq)
{
    enum err e;

    store_read_begin(rq->st);
    e = dispatch_in_scope(rq);
    store_read_end(rq->st);
    return e;
}

static void
log_request(struct req *rq)
{
    double ms = (double)(now_us() - rq->start_us) / 1000.0;
    int status = rq->rs ? rq->rs->status : 0;

    log_kv(status >= 500 ? LOG_WARN : LOG_INFO, "http.request", "s:method", rq->method, "s:path",
           rq->path, "i:status", status, "f:ms", ms, "s:user",
           rq->who.user_id ? rq->who.user_name : "", "s:code",
           rq->rs && rq->rs->ei.code[0] ? rq->rs->ei.code : "", LOG_END);
}

static void
count_status(struct app *app, int status)
{
    int cls = status / 100;

    atomic_fetch_add(&app->metrics.requests, 1);
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add(&app->metrics.by_class[cls], 1);
}

static struct req *
req_new(struct worker *w, struct MHD_Connection *c, const char *url, const char *method)
{
    struct req_block *b;
    struct req *rq;

    if (w->nspare > 0) {
        b = w->spare[--w->nspare];
        memset(b, 0, sizeof(*b));
    } else {
        b = xcalloc(1, sizeof(*b));
    }
    rq = &b->rq;
    rq->rs = &b->rs;
    buf_init(&rq->rs->raw, OUT_MAX_RESPONSE + 65536);
    rq->w = w;
    rq->app = w->app;
    rq->st = w->st;
    rq->ob = w->ob;
    rq->mcp = w->mcp;
    rq->mhd = c;
    rq->method = method;
    rq->start_us = now_us();
    {
        size_t n = strnlen(url, sizeof(rq->path) - 1); /* longer: 414 below */
        memcpy(rq->path, url, n);
        rq->path[n] = '\0';
    }
    atomic_fetch_add(&w->in_flight, 1);
    atomic_fetch_add(&w->app->metrics.in_flight, 1);
    return rq;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct worker *w = cls;
    struct req *rq = *con_cls;
    enum err e;

    (void)version;
    if (rq == NULL) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        uint64_t n = 0;
        size_t lim;
        rq = req_new(w, c, url, method);
        rq->route_err =
            router_match(w->cfg->routes, w->cfg->nroutes, method, rq->path, rq, &rq->route);
        lim = rq->route && (rq->route->flags & ROUTE_BIG_BODY) ? w->app->limits.max_spec_body
                                                               : w->app->limits.max_body;
        *con_cls = rq;
        buf_init(&rq->body, lim);
        if (strlen(url) > MAX_URL_PATH) {
            err_set(&rq->rs->ei, ERR_INVALID, "uri_too_long", NULL, "the path is too long");
            rq->rs->status = 414;
            rq->state = RQ_DONE;
            return send_error_status(c, 414, ERR_INVALID, &rq->rs->ei, true);
        }
        if (cl && (!parse_u64(cl, UINT64_MAX, &n) || n > lim)) {
            rq->too_large = true;
            rq->state = RQ_DONE;
            rq->rs->status = 413;
            atomic_fetch_add(&w->app->metrics.body_too_large, 1);
            err_set(&rq->rs->ei, ERR_TOO_LARGE, "body_too_large", NULL,
                    "the request body is over the %zu-byte limit of this endpoint", lim);
            return send_error(c, ERR_TOO_LARGE, &rq->rs->ei, true);
        }
        rq->state = RQ_BODY;
        return MHD_YES;
    }
    if (rq->state == RQ_DONE) {
        *upload_size = 0; /* an early error was queued: drop the rest */
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (rq->too_large) {
            /* Over the limit without a declared length (chunked): discard,
             * answer 413 at the end of the body; a client that keeps sending
             * far past the limit is cut off. */
            rq->discarded += *upload_size;
            *upload_size = 0;
            return rq->discarded > BODY_DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        if (buf_append(&rq->body, upload, *upload_size) != ERR_OK) {
            rq->too_large = true;
            rq->discarded = *upload_size;
            buf_wipe_release(&rq->body);
            atomic_fetch_add(&w->app->metrics.body_too_large, 1);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->too_large) {
        rq->state = RQ_DONE;
        rq->rs->status = 413;
        err_set(&rq->rs->ei, ERR_TOO_LARGE, "body_too_large", NULL,
                "the request body is over the %zu-byte limit of this endpoint", rq->body.max);
        return send_error(c, ERR_TOO_LARGE, &rq->rs->ei, true);
    }
    if (rq->state == RQ_SUSPENDED) {
        /* resumed: req_finish filled the response */
        rq->state = RQ_DONE;
        return send_resp(rq, ERR_OK);
    }
    e = dispatch(rq);
    if (e == ERR_OK && rq->rs->async) {
        rq->state = RQ_SUSPENDED;
        MHD_suspend_connection(c);
        return MHD_YES;
    }
    rq->state = RQ_DONE;
    return send_resp(rq, e);
}

void
req_suspend(struct req *rq)
{
    rq->rs->async = true;
}

void
req_finish(struct req *rq, enum err e)
{
    if (e != ERR_OK) {
        json_decref(rq->rs->json);
        rq->rs->json = http_error_body(e, &rq->rs->ei);
        rq->rs->status = err_http_status(e);
    }
    MHD_resume_connection(rq->mhd);
    rq->w->need_run = true;
    loop_kick(rq->w->lp);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct worker *w = cls;
    struct req *rq = *con_cls;

    (void)c;
    if (rq == NULL)
        return;
    if (rq->rs->status == 0)
        rq->rs->status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? 200 : 499;
    count_status(w->app, rq->rs->status);
    log_request(rq);
    json_decref(rq->json);
    json_decref(rq->rs->json);
    buf_release(&rq->rs->raw);
    buf_wipe_release(&rq->body);
    OPENSSL_cleanse(rq->session_cookie, sizeof(rq->session_cookie));
    if (w->nspare < REQ_SPARES)
        w->spare[w->nspare++] = (struct req_block *)rq; /* rq is the block's first member */
    else
        free(rq);
    *con_cls = NULL;
    atomic_fetch_sub(&w->app->metrics.in_flight, 1);
    if (atomic_fetch_sub(&w->in_flight, 1) == 1 && atomic_load(&w->draining))
        loop_stop(w->lp);
}

/* ---- the loop ---- */

static void on_mhd_timer(struct loop *lp, void *arg);

/* MHD_get_timeout() answers 0 whenever a connection may have more to do
 * without a new epoll event (e.g. a keep-alive connection that has not yet
 * seen EAGAIN after its answer went out): nearly every request. A 0 ms loop
 * timer armed from a timer callback is due 1 ms later (loop.c), which cost
 * every keep-alive request ~1 ms; run MHD again on this loop turn instead.
 * MHD_IMMEDIATE_RERUNS bounds the re-runs in a row, so a daemon that kept
 * answering 0 would poll once a millisecond rather than spin. */
#define MHD_IMMEDIATE_RERUNS 64

static void
run_mhd(struct worker *w)
{
    MHD_UNSIGNED_LONG_LONG to = 0;

    w->need_run = false;
    MHD_run(w->d);
    if (MHD_get_timeout(w->d, &to) != MHD_YES)
        to = 1000;
    if (to == 0 && w->zero_runs < MHD_IMMEDIATE_RERUNS) {
        w->zero_runs++;
        w->need_run = true;
        loop_kick(w->lp);
        to = 1000; /* the re-run arms the real timeout */
    } else {
        w->zero_runs = 0;
    }
    loop_timer_start(w->lp, &w->mhd_timer, (int64_t)to, on_mhd_timer, w);
}

static void
on_mhd_timer(struct loop *lp, void *arg)
{
    (void)lp;
    run_mhd(arg);
}

static void
on_mhd_fd(struct loop *lp, int fd, uint32_t events, void *arg)
{
    (void)lp;
    (void)fd;
    (void)events;
    run_mhd(arg);
}

static void
after_batch(struct loop *lp, void *arg)
{
    struct worker *w = arg;

    (void)lp;
    /* A connection resumed outside MHD_run() needs another MHD_run() now,
     * else it waits for the next timeout (perf-notes §9). */
    if (w->need_run)
        run_mhd(w);
    log_flush(); /* this turn's lines, before the loop waits again */
}

static void
on_wake(struct loop *lp, void *arg)
{
    struct worker *w = arg;

    if (!atomic_load(&w->draining) || w->quiesced)
        return;
    w->quiesced = true;
    {
        MHD_socket s = MHD_quiesce_daemon(w->d); /* stop accepting */
        if (s != MHD_INVALID_SOCKET)
            close(s);
    }
    if (atomic_load(&w->in_flight) == 0)
        loop_stop(lp);
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;

    log_batch(true); /* written after each turn: after_batch */
    if (loop_run(w->lp) != ERR_OK)
        log_kv(LOG_ERROR, "server.loop_failed", "i:worker", w->index, LOG_END);
    log_batch(false);
    return NULL;
}

/* The workers share the port through SO_REUSEPORT, which would also let a
 * second server of the same user bind it silently and take half of the
 * requests. So the first worker's bind is preceded by one without it: that
 * fails (EADDRINUSE) while anyone listens on the port. */
static bool
port_taken(const struct sockaddr_storage *ss, socklen_t sl)
{
    int one = 1, fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool taken;

    if (fd < 0)
        return false;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    taken = bind(fd, (const struct sockaddr *)ss, sl) != 0 && errno == EADDRINUSE;
    close(fd);
    if (taken)
        errno = EADDRINUSE;
    return taken;
}

static int
bind_listen(const char *host, int port, bool first, int *actual_port)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int one = 1;
    int fd;

    memset(&ss, 0, sizeof(ss));
    if (strchr(host, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return -2;
        sl = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
            return -2;
        sl = sizeof(*s4);
    }
    if (first && port != 0 && port_taken(&ss, sl))
        return -3;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) != 0) {
        close(fd);
        return -1;
    }
    sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *actual_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                  : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static int
parse_listen(const char *listen, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(listen, ':');
    uint64_t p;

    if (colon == NULL || !parse_u64(colon + 1, 65535, &p))
        return -1;
    if (listen[0] == '[' && colon > listen && colon[-1] == ']')
        snprintf(host, hostlen, "%.*s", (int)(colon - listen - 2), listen + 1);
    else
        snprintf(host, hostlen, "%.*s", (int)(colon - listen), listen);
    *port = (int)p;
    return 0;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_kv(LOG_DEBUG, "http.mhd", "s:detail", msg, LOG_END);
}

static int
worker_start(struct worker *w, struct app *app, const struct server_config *cfg, unsigned n)
{
    struct errinfo ei = {0};
    const union MHD_DaemonInfo *info;
    unsigned conn_limit = app->limits.max_connections / n;

    if (store_open(app->db_url, &w->st, &ei) != ERR_OK) {
        log_kv(LOG_ERROR, "server.store_failed", "s:detail", ei.msg, LOG_END);
        return -1;
    }
    if (loop_new(&w->lp) != ERR_OK || outbound_new(w->lp, &app->ssrf, &w->ob) != ERR_OK)
        return -1;
    w->mcp = mcp_session_cache_new();
    w->d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, w,
        MHD_OPTION_LISTEN_SOCKET, w->listen_fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, app->limits.max_header_bytes,
        MHD_OPTION_CONNECTION_LIMIT, conn_limit ? conn_limit : 1,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, app->limits.max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        app->limits.idle_timeout_s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
    if (w->d == NULL)
        return -1;
    w->listen_fd = -1; /* MHD owns it now */
    info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
    if (info == NULL || loop_watch(w->lp, info->epoll_fd, EPOLLIN, on_mhd_fd, w) != ERR_OK)
        return -1;
    loop_set_hook(w->lp, after_batch, w);
    loop_set_wake_cb(w->lp, on_wake, w);
    loop_timer_start(w->lp, &w->mhd_timer, 0, on_mhd_timer, w);
    (void)cfg;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
        return -1;
    w->started = true;
    return 0;
}

static void
worker_release(struct worker *w)
{
    /* Cancelling transfers resumes their suspended connections, which MHD
     * requires before it stops. */
    outbound_free(w->ob);
    mcp_session_cache_free(w->mcp);
    if (w->d)
        MHD_stop_daemon(w->d);
    loop_free(w->lp);
    store_close(w->st);
    while (w->nspare > 0)
        free(w->spare[--w->nspare]);
}

/* Waits for SIGTERM/SIGINT (blocked in every thread; taken here). */
static int
wait_signal(void)
{
    sigset_t set;
    int sig = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigwait(&set, &sig);
    return sig;
}

static void
drain(struct worker *ws, unsigned n, unsigned timeout_s)
{
    int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
    bool all_done = false;

    for (unsigned i = 0; i < n; i++) {
        atomic_store(&ws[i].draining, true);
        if (ws[i].started)
            loop_wake(ws[i].lp);
    }
    while (!all_done && mono_ms() < deadline) {
        struct timespec ts = {0, 20000000L};
        all_done = true;
        for (unsigned i = 0; i < n; i++)
            all_done = all_done && atomic_load(&ws[i].in_flight) == 0;
        if (!all_done)
            nanosleep(&ts, NULL);
    }
    if (!all_done)
        log_kv(LOG_WARN, "server.drain_timeout", "i:seconds", (int)timeout_s, LOG_END);
    for (unsigned i = 0; i < n; i++) {
        if (!ws[i].started)
            continue;
        loop_stop(ws[i].lp);
        pthread_join(ws[i].thread, NULL);
    }
}

/* SSRF-036: outbound calls never reach this server's own listen address
 * (before the first worker copies the policy). */
static int
deny_self(struct app *app, const char *host, int port)
{
    struct errinfo ei = {0};

    if (ssrf_policy_add_self(&app->ssrf, host, port, &ei) != ERR_OK) {
        log_kv(LOG_ERROR, "server.bad_listen", "s:listen", host, "s:detail", ei.msg, LOG_END);
        return -1;
    }
    return 0;
}

int
server_run(struct app *app, const struct server_config *cfg)
{
    char host[128];
    int port, actual = 0;
    unsigned n = cfg->threads;
    struct worker *ws;
    sigset_t set;
    int sig, rc = 0;

    if (parse_listen(cfg->listen, host, sizeof(host), &port) != 0) {
        log_kv(LOG_ERROR, "server.bad_listen", "s:listen", cfg->listen, "s:detail",
               "use ADDR:PORT, e.g. 127.0.0.1:8080", LOG_END);
        return 1;
    }
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (unsigned)cpus : 1;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    app->calls = gate_new(app->limits.max_calls, app->limits.max_calls_ws);
    if (app->calls == NULL) {
        log_kv(LOG_ERROR, "server.gate_failed", LOG_END);
        return 1;
    }
    ws = xcalloc(n, sizeof(*ws));
    for (unsigned i = 0; i < n && rc == 0; i++) {
        ws[i].app = app;
        ws[i].cfg = cfg;
        ws[i].index = (int)i;
        ws[i].listen_fd = bind_listen(host, i == 0 ? port : actual, i == 0, &actual);
        if (ws[i].listen_fd < 0) {
            log_kv(LOG_ERROR, "server.bind_failed", "s:listen", cfg->listen, "s:detail",
                   ws[i].listen_fd == -2   ? "not a numeric IP address"
                   : ws[i].listen_fd == -3 ? "the address is in use: another server (another "
                                             "connhub?) listens on it; stop it or pick another "
                                             "--listen"
                                           : strerror(errno),
                   LOG_END);
            rc = 1;
            break;
        }
        if (i == 0 && deny_self(app, host, actual) != 0) {
            rc = 1;
            break;
        }
        if (worker_start(&ws[i], app, cfg, n) != 0) {
            log_kv(LOG_ERROR, "server.worker_failed", "i:worker", (int)i, LOG_END);
            rc = 1;
        }
    }
    if (rc == 0) {
        char addr[160];
        snprintf(addr, sizeof(addr), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, actual);
        log_kv(LOG_INFO, "server.listening", "s:addr", addr, "i:workers", (int)n, "s:db",
               store_backend_name(ws[0].st), "I:max_body", (long long)app->limits.max_body,
               "i:idle_timeout_s", (int)app->limits.idle_timeout_s, LOG_END);
        sig = wait_signal();
        log_kv(LOG_INFO, "server.stopping", "s:signal", sig == SIGINT ? "SIGINT" : "SIGTERM",
               "i:drain_timeout_s", (int)app->limits.drain_timeout_s, LOG_END);
    }
    drain(ws, n, rc == 0 ? app->limits.drain_timeout_s : 0);
    for (unsigned i = 0; i < n; i++)
        worker_release(&ws[i]);
    free(ws);
    gate_free(app->calls);
    app->calls = NULL;
    if (rc == 0)
        log_kv(LOG_INFO, "server.stopped", LOG_END);
    return rc;
}
