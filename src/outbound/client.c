/*
 * client: the libcurl multi_socket client on a struct loop.
 *
 * CURLMOPT_SOCKETFUNCTION registers curl's sockets with loop_watch();
 * CURLMOPT_TIMERFUNCTION arms one loop_timer; both call
 * curl_multi_socket_action() and then drain the finished transfers. done()
 * therefore always runs from a loop callback. Failures found before a
 * transfer reaches curl (bad URL, cancel) are queued and completed by a
 * zero-delay timer, so done() never runs inside outbound_send() or
 * outbound_cancel(). Easy handles are pooled; connections are kept alive in
 * the multi handle's cache.
 */
#include "outbound/internal.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "core/log.h"
#include "core/util.h"
#include "core/banned.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static char *ca_file; /* outbound_set_ca_file; read-only once workers run */

/* Counts the certificates in a PEM file: -1 when it cannot be opened. */
static int
pem_cert_count(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    X509 *c;
    int n = 0;

    if (b == NULL) {
        ERR_clear_error();
        return -1;
    }
    while ((c = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        X509_free(c);
        n++;
    }
    ERR_clear_error(); /* the read that ended the loop */
    BIO_free(b);
    return n;
}

enum err
outbound_set_ca_file(const char *path, struct errinfo *ei)
{
    int n = path && *path ? pem_cert_count(path) : -1;

    if (n < 0)
        return err_set(ei, ERR_INVALID, "invalid", "out-ca-file", "cannot read %s",
                       path ? path : "(none)");
    if (n == 0)
        return err_set(ei, ERR_INVALID, "invalid", "out-ca-file",
                       "%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path);
    free(ca_file);
    ca_file = xstrdup(path);
    return ERR_OK;
}

const char *
ob_ca_file(void)
{
    return ca_file;
}

static void
curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
drain(struct ob_shard *sh)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(sh->multi, &left)) != NULL) {
        struct out_handle *x = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x != NULL)
            hop_finished(x, m->data.result);
    }
}

static void
on_fd(struct loop *lp, int fd, uint32_t events, void *arg)
{
    struct ob_shard *sh = arg;
    int flags = 0, running;

    (void)lp;
    if (events & (EPOLLIN | EPOLLHUP))
        flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (events & EPOLLERR)
        flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(sh->multi, fd, flags, &running);
    drain(sh);
}

static void
on_timer(struct loop *lp, void *arg)
{
    struct ob_shard *sh = arg;
    int running;

    (void)lp;
    curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(sh);
}

static int
on_curl_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct ob_shard *sh = userp;
    uint32_t ev = 0;

    (void)e;
    (void)socketp;
    if (what == CURL_POLL_REMOVE) {
        /* usually a connection going back to the pool, to be watched again by
         * the next call: parked saves an epoll_ctl per call */
        loop_park(sh->ob->lp, s);
        return 0;
    }
    if (what & CURL_POLL_IN)
        ev |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev |= EPOLLOUT;
    return loop_watch(sh->ob->lp, s, ev, on_fd, sh) == ERR_OK ? 0 : -1;
}

static int
on_curl_timer(CURLM *m, long ms, void *userp)
{
    struct ob_shard *sh = userp;

    (void)m;
    if (ms < 0)
        loop_timer_stop(sh->ob->lp, &sh->timer);
    else
        loop_timer_start(sh->ob->lp, &sh->timer, ms, on_timer, sh);
    return 0;
}

static bool
shard_init(struct outbound *ob, struct ob_shard *sh)
{
    sh->ob = ob;
    sh->multi = curl_multi_init();
    if (sh->multi == NULL)
        return false;
    curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh);
    curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh);
    curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS, (long)OB_MAXCONNECTS);
    return true;
}

struct ob_shard *
ob_shard_pick(struct outbound *ob)
{
    struct ob_shard *best = &ob->shard[0];

    for (size_t i = 1; i < OB_SHARDS && best->active > 0; i++) {
        struct ob_shard *sh = &ob->shard[i];
        if (sh->multi == NULL) { /* the used ones are all busy: open the next */
            if (shard_init(ob, sh))
                best = sh;
            break;
        }
        if (sh->active < best->active)
            best = sh;
    }
    return best->multi != NULL ? best : NULL;
}

/* Completes every queued transfer (the queue may grow while this runs). */
static void
on_defer(struct loop *lp, void *arg)
{
    struct outbound *ob = arg;

    (void)lp;
    while (ob->qhead != NULL) {
        struct out_handle *x = ob->qhead;
        ob->qhead = x->qnext;
        if (ob->qhead == NULL)
            ob->qtail = NULL;
        xfer_complete(x);
    }
}

/* Takes x out of curl and completes it on the next loop turn. */
static void
xfer_defer(struct out_handle *x)
{
    struct outbound *ob = x->ob;

    hop_detach(x, false);
    x->queued = true;
    x->qnext = NULL;
    if (ob->qtail)
        ob->qtail->qnext = x;
    else
        ob->qhead = x;
    ob->qtail = x;
    loop_timer_start(ob->lp, &ob->defer, 0, on_defer, ob);
}

CURL *
ob_easy_get(struct outbound *ob)
{
    if (ob->npool == 0) {
        CURL *e = curl_easy_init();
        if (e != NULL && !hop_easy_setup(ob, e)) {
            curl_easy_cleanup(e);
            e = NULL;
        }
        return e;
    }
    if (--ob->npool < ob->pool_low)
        ob->pool_low = ob->npool;
    return ob->pool[ob->npool];
}

/* Frees the handles that stayed idle through the whole period, down to OB_EASY_KEEP. */
static void
on_trim(struct loop *lp, void *arg)
{
    struct outbound *ob = arg;
    size_t excess = ob->pool_low > OB_EASY_KEEP ? ob->pool_low - OB_EASY_KEEP : 0;

    while (excess-- > 0)
        curl_easy_cleanup(ob->pool[--ob->npool]);
    ob->pool_low = ob->npool;
    if (ob->npool > OB_EASY_KEEP)
        loop_timer_start(lp, &ob->trim, ob->trim_ms, on_trim, ob);
}

void
ob_easy_put(struct outbound *ob, CURL *easy)
{
    if (ob->npool == ob->apool) {
        CURL **p = array_grow(ob->pool, &ob->apool, sizeof(*p), 64);
        if (p == NULL) {
            curl_easy_cleanup(easy);
            return;
        }
        ob->pool = p;
    }
    ob->pool[ob->npool++] = easy;
    if (ob->npool > OB_EASY_KEEP && !loop_timer_armed(&ob->trim)) {
        ob->pool_low = ob->npool;
        loop_timer_start(ob->lp, &ob->trim, ob->trim_ms, on_trim, ob);
    }
}

void
xfer_fail(struct out_handle *x, enum out_fail f, const char *fmt, ...)
{
    va_list ap;

    if (x->res.fail != OUT_OK)
        return;
    x->res.fail = f;
    va_start(ap, fmt);
    vsnprintf(x->res.error, sizeof(x->res.error), fmt, ap);
    va_end(ap);
}

void
xfer_complete(struct out_handle *x)
{
    struct outbound *ob = x->ob;
    const char *ct;
    char origin[300];

    hop_detach(x, false);
    if (x->prev)
        x->prev->next = x->next;
    else if (ob->active == x)
        ob->active = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->res.duration_ms = mono_ms() - x->start;
    ct = out_response_header(&x->res, "content-type");
    if (ct != NULL && x->res.content_type == NULL)
        x->res.content_type = xstrdup(ct);
    if (log_enabled(LOG_DEBUG)) {
        hop_origin(x, origin, sizeof(origin));
        log_kv(LOG_DEBUG, "outbound.done", "s:origin", origin, "i:status", (int)x->res.status,
               "s:fail", out_fail_name(x->res.fail), "I:ms", (long long)x->res.duration_ms,
               "i:redirects", x->res.redirects, (const char *)NULL);
    }
    x->done(&x->res, x->arg);
    out_response_release(&x->res);
    out_request_release(&x->rq);
    if (x->url != NULL) /* may carry a credential query parameter */
        OPENSSL_cleanse(x->url, strlen(x->url));
    free(x->url);
    blk_pool_put(&ob->handles, x, sizeof(*x));
}

enum err
outbound_new(struct loop *lp, const struct ssrf_policy *pol, struct outbound **out)
{
    struct outbound *ob;

    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK || lp == NULL)
        return ERR_INTERNAL;
    ob = xcalloc(1, sizeof(*ob));
    ob->lp = lp;
    ob->trim_ms = OB_EASY_TRIM_MS;
    if (pol != NULL)
        ob->pol = *pol;
    /* One thread per client: the share needs no lock callbacks. */
    ob->share = curl_share_init();
    if (ob->share == NULL ||
        curl_share_setopt(ob->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
        !shard_init(ob, &ob->shard[0])) {
        curl_share_cleanup(ob->share);
        free(ob);
        return ERR_INTERNAL;
    }
    *out = ob;
    return ERR_OK;
}

struct loop *
outbound_loop(const struct outbound *ob)
{
    return ob->lp;
}

void
outbound_free(struct outbound *ob)
{
    if (ob == NULL)
        return;
    while (ob->active != NULL) {
        struct out_handle *x = ob->active;
        ob->active = x->next;
        if (ob->active)
            ob->active->prev = NULL;
        x->next = x->prev = NULL;
        xfer_fail(x, OUT_FAIL_CANCELLED, "cancelled: the client is shutting down");
        xfer_complete(x); /* queued ones too: the queue is dropped below */
    }
    ob->qhead = ob->qtail = NULL;
    for (size_t i = 0; i < ob->npool; i++)
        curl_easy_cleanup(ob->pool[i]);
    free(ob->pool);
    loop_timer_stop(ob->lp, &ob->trim);
    for (size_t i = 0; i < OB_SHARDS; i++) {
        if (ob->shard[i].multi == NULL)
            continue;
        curl_multi_cleanup(ob->shard[i].multi); /* closes pooled connections via on_curl_socket */
        loop_timer_stop(ob->lp, &ob->shard[i].timer);
    }
    loop_timer_stop(ob->lp, &ob->defer);
    curl_share_cleanup(ob->share); /* after every handle that used it */
    blk_pool_drain(&ob->handles);
    blk_pool_drain(&ob->calls);
    free(ob);
}

struct blk_pool *
outbound_call_pool(struct outbound *ob)
{
    return ob ? &ob->calls : NULL;
}

enum err
outbound_send(struct outbound *ob, struct out_request *rq, out_done_cb done, void *arg,
              struct out_handle **handle)
{
    struct out_handle *x;
    struct errinfo ei = {0};
    enum out_fail f;

    if (handle != NULL)
        *handle = NULL;
    if (ob == NULL || done == NULL) {
        out_request_release(rq);
        return ERR_INVALID;
    }
    x = blk_pool_get(&ob->handles, sizeof(*x));
    x->ob = ob;
    x->rq = *rq;
    memset(rq, 0, sizeof(*rq));
    x->done = done;
    x->arg = arg;
    x->start = mono_ms();
    buf_init(&x->res.body, x->rq.limits.max_response);
    x->next = ob->active;
    if (ob->active)
        ob->active->prev = x;
    ob->active = x;
    if (handle != NULL)
        *handle = x;
    if (url_validate(x->rq.url, "url", &x->cur, &ei) != ERR_OK) {
        xfer_fail(x, OUT_FAIL_URL, "%s", ei.msg);
        xfer_defer(x);
        return ERR_OK;
    }
    x->url = xstrdup(x->rq.url);
    x->sh = ob_shard_pick(ob);
    if (x->sh == NULL) {
        xfer_fail(x, OUT_FAIL_INTERNAL, "could not set up the HTTP client");
        xfer_defer(x);
        return ERR_OK;
    }
    f = hop_start(x);
    if (f != OUT_OK)
        xfer_defer(x);
    return ERR_OK;
}

void
outbound_cancel(struct out_handle *h)
{
    if (h == NULL || h->queued)
        return;
    xfer_fail(h, OUT_FAIL_CANCELLED, "cancelled");
    xfer_defer(h);
}

struct fetch_ctx {
    struct loop *lp;
    struct out_response *res;
};

static void
fetch_done(struct out_response *res, void *arg)
{
    struct fetch_ctx *c = arg;

    *c->res = *res;
    memset(res, 0, sizeof(*res));
    loop_stop(c->lp);
}

enum err
outbound_fetch(const struct ssrf_policy *pol, struct out_request *rq, struct out_response *res)
{
    struct fetch_ctx c = {.res = res};
    struct outbound *ob = NULL;
    enum err e;

    memset(res, 0, sizeof(*res));
    e = loop_new(&c.lp);
    if (e != ERR_OK) {
        out_request_release(rq);
        return e;
    }
    e = outbound_new(c.lp, pol, &ob);
    if (e == ERR_OK)
        e = outbound_send(ob, rq, fetch_done, &c, NULL);
    else
        out_request_release(rq);
    if (e == ERR_OK)
        e = loop_run(c.lp);
    outbound_free(ob);
    loop_free(c.lp);
    return e;
}
