/*
 * hop: one HTTP exchange of a transfer on a libcurl easy handle: the options
 * every connection gets (SSRF guard in the open-socket hook, http/https only,
 * no proxy, no netrc, no automatic redirects, timeouts), the header and body
 * callbacks that count bytes against the limits, and the mapping of curl's
 * result to enum out_fail.
 *
 * The idle timeout is a loop timer per transfer (millisecond granularity):
 * every header line, body chunk or upload progress moves last_rx; the timer
 * checks it and ends the transfer with OUT_FAIL_TIMEOUT after
 * limits.idle_timeout_ms without any. (curl's LOW_SPEED_* averages over a
 * window of several seconds, so it is not used.)
 */
#include "outbound/internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "core/banned.h"

void
hop_origin(const struct out_handle *x, char *out, size_t outlen)
{
    bool v6 = strchr(x->cur.host, ':') != NULL;

    snprintf(out, outlen, "%s://%s%s%s:%d", x->cur.scheme[0] ? x->cur.scheme : "?", v6 ? "[" : "",
             x->cur.host, v6 ? "]" : "", x->cur.port);
}

static void
addr_str(const struct sockaddr *sa, char *out, size_t outlen)
{
    const void *p = NULL;

    if (sa->sa_family == AF_INET)
        p = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        p = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (p == NULL || inet_ntop(sa->sa_family, p, out, (socklen_t)outlen) == NULL)
        snprintf(out, outlen, "?");
}

/* CURLOPT_OPENSOCKETFUNCTION: the SSRF guard, on the exact address curl is
 * about to connect to (every attempt, every hop, Happy Eyeballs included). */
static curl_socket_t
on_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct out_handle *x = clientp;
    char why[96], ip[INET6_ADDRSTRLEN], origin[300];
    enum ssrf_verdict v;
    curl_socket_t fd;

    addr_str(&a->addr, ip, sizeof(ip));
    hop_origin(x, origin, sizeof(origin));
    v = purpose == CURLSOCKTYPE_IPCXN ? ssrf_classify(&x->ob->pol, &a->addr, why, sizeof(why))
                                      : SSRF_DENY;
    if (v == SSRF_DENY) {
        x->blocked = true;
        snprintf(x->why, sizeof(x->why), "address %s is %s", ip,
                 purpose == CURLSOCKTYPE_IPCXN ? why : "not an outbound connection");
        log_kv(LOG_WARN, "outbound.ssrf_blocked", "s:origin", origin, "s:addr", ip, "s:reason", why,
               (const char *)NULL);
        return CURL_SOCKET_BAD;
    }
    if (v == SSRF_ALLOW_LISTED)
        log_kv(LOG_WARN, "outbound.ssrf_allow_listed", "s:origin", origin, "s:addr", ip, "s:range",
               why, (const char *)NULL);
    fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd >= 0) /* the number may be that of a parked connection curl closed */
        loop_forget(x->ob->lp, fd);
    return fd;
}

/* Does this hop send a credential: a flagged header or query key (the query
 * keys are gone after a change of origin), an Authorization or Cookie
 * header, or a credential body (never replayed to another origin)? */
static bool
carries_credential(const struct out_handle *x)
{
    for (size_t i = 0; i < x->rq.nheaders; i++)
        if (x->rq.headers[i].credential || out_is_auth_header(x->rq.headers[i].name))
            return true;
    if (!x->crossed && x->rq.ncred_query > 0)
        return true;
    return x->rq.cred_body && x->rq.body.len > 0;
}

/* CURLOPT_PREREQFUNCTION: second check, on the connected peer, before the
 * request is sent (also for a reused connection). It cannot prevent the TCP
 * handshake (on_open does); it guards against a socket opened elsewhere.
 * SSRF-124: it also refuses to send a credential over plain http, unless
 * the peer is an address the operator allow-listed (--allow-private). */
static int
on_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    struct out_handle *x = clientp;
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    char why[96];

    (void)local_ip;
    (void)local_port;
    if (inet_pton(AF_INET, primary_ip, &s4->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        s4->sin_port = htons((uint16_t)primary_port); /* for the self endpoints */
    } else if (inet_pton(AF_INET6, primary_ip, &s6->sin6_addr) == 1) {
        ss.ss_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)primary_port);
    }
    if (ssrf_check_addr(&x->ob->pol, (struct sockaddr *)&ss, why, sizeof(why))) {
        if (strcmp(x->cur.scheme, "https") == 0 || !carries_credential(x) ||
            ssrf_in_allow_list(&x->ob->pol, (struct sockaddr *)&ss))
            return CURL_PREREQFUNC_OK;
        x->blocked = true;
        snprintf(x->why, sizeof(x->why),
                 "a credential is sent over https only, and this %s URL is plain http",
                 x->crossed ? "redirect's" : "request's");
        log_kv(LOG_WARN, "outbound.plain_http_credential", "s:addr", primary_ip, "i:port",
               primary_port, (const char *)NULL);
        return CURL_PREREQFUNC_ABORT;
    }
    x->blocked = true;
    snprintf(x->why, sizeof(x->why), "connected peer is %s", why);
    log_kv(LOG_WARN, "outbound.ssrf_blocked", "s:addr", primary_ip, "s:reason", why, "s:check",
           "prereq", (const char *)NULL);
    return CURL_PREREQFUNC_ABORT;
}

static void
drop_response_headers(struct out_handle *x)
{
    for (size_t i = 0; i < x->res.nheaders; i++)
        out_header_release(&x->res.headers[i]);
    x->res.nheaders = 0;
}

static bool
add_response_header(struct out_handle *x, const char *name, size_t nn, const char *val, size_t vn)
{
    struct out_header *h;

    if (x->res.nheaders == x->ahdrs) {
        size_t n = x->ahdrs ? x->ahdrs * 2 : 16;
        struct out_header *nh = realloc(x->res.headers, n * sizeof(*nh));
        if (nh == NULL)
            return false;
        x->res.headers = nh;
        x->ahdrs = n;
    }
    h = &x->res.headers[x->res.nheaders++];
    h->name = strndup(name, nn);
    h->value = strndup(val, vn);
    h->credential = false;
    if (h->name == NULL || h->value == NULL) {
        out_header_release(h);
        x->res.nheaders--;
        return false;
    }
    for (char *p = h->name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return true;
}

/* CURLOPT_HEADERFUNCTION: one complete header line per call. */
static size_t
on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct out_handle *x = ud;
    size_t len = size * nmemb, nn;
    const char *colon, *v, *end = p + len;

    x->last_rx = mono_ms();
    x->hdr_bytes += len;
    if (x->hdr_bytes > (size_t)OUT_MAX_HEADER_BYTES) {
        x->hdr_too_large = true;
        return 0;
    }
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (1xx, or the final one) */
        drop_response_headers(x);
        return len;
    }
    while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    colon = memchr(p, ':', (size_t)(end - p));
    if (colon == NULL || colon == p)
        return len; /* blank line or junk: curl decides about validity */
    nn = (size_t)(colon - p);
    v = colon + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    if (!add_response_header(x, p, nn, v, (size_t)(end - v)))
        return 0;
    return len;
}

static bool is_redirect(long status);

/* Streaming: the body of a response that is not a redirect about to be
 * followed. Sets res.status so that on_chunk sees it. */
static bool
stream_this_hop(struct out_handle *x)
{
    long status = 0;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    x->res.status = status;
    return !(is_redirect(status) && x->rq.limits.max_redirects > 0 &&
             out_response_header(&x->res, "location") != NULL);
}

/* CURLOPT_WRITEFUNCTION: decoded body bytes, counted against max_response
 * (or handed to rq.on_chunk when streaming). */
static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct out_handle *x = ud;
    size_t len = size * nmemb;

    x->last_rx = mono_ms();
    if (x->rq.on_chunk != NULL && stream_this_hop(x)) {
        if (len > x->rq.limits.max_response - x->streamed) {
            x->body_too_large = true;
            return 0;
        }
        x->streamed += len;
        if (x->rq.on_chunk(x->rq.chunk_arg, &x->res, p, len) != ERR_OK) {
            x->stopped = true;
            return 0;
        }
        return len;
    }
    if (buf_append(&x->res.body, p, len) != ERR_OK) {
        x->body_too_large = true;
        return 0;
    }
    return len;
}

/* CURLOPT_XFERINFOFUNCTION: upload progress counts as activity. */
static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    struct out_handle *x = ud;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    if (ulnow != x->last_ul) {
        x->last_ul = ulnow;
        x->last_rx = mono_ms();
    }
    return 0;
}

static void
on_idle(struct loop *lp, void *arg)
{
    struct out_handle *x = arg;
    int64_t idle = (int64_t)x->rq.limits.idle_timeout_ms, quiet = mono_ms() - x->last_rx;
    char origin[300];

    if (quiet < idle) {
        loop_timer_start(lp, &x->idle, idle - quiet, on_idle, x);
        return;
    }
    hop_origin(x, origin, sizeof(origin));
    xfer_fail(x, OUT_FAIL_TIMEOUT, "idle timeout (no bytes for %u ms) from %s",
              x->rq.limits.idle_timeout_ms, origin);
    xfer_complete(x); /* from the loop, outside any curl callback */
}

static void
slist_wipe_free(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p; p = p->next)
        if (p->data)
            OPENSSL_cleanse(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

static bool
build_headers(struct out_handle *x)
{
    struct buf line;
    struct curl_slist *l = NULL, *n;
    bool ok = true;

    buf_init(&line, MAX_HEADER_NAME_LEN + 2 + MAX_SECRET_LEN + 2);
    for (size_t i = 0; i < x->rq.nheaders && ok; i++) {
        const struct out_header *h = &x->rq.headers[i];
        buf_reset(&line);
        /* "Name;" sends an empty header; "Name:" would delete curl's own */
        ok = buf_printf(&line, h->value[0] ? "%s: %s" : "%s;", h->name, h->value) == ERR_OK;
        if (ok && (n = curl_slist_append(l, line.data)) != NULL)
            l = n;
        else
            ok = false;
    }
    if (ok && (n = curl_slist_append(l, "Expect:")) != NULL) /* no 100-continue wait */
        l = n;
    else
        ok = false;
    buf_wipe_release(&line);
    x->hdrs = l;
    return ok;
}

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (curl_easy_setopt(e, opt, val) != CURLE_OK)                                             \
            goto fail;                                                                             \
    } while (0)

/* The method of this hop. A pooled handle keeps its last hop's method, so
 * every hop first returns to a plain GET (HTTPGET also clears NOBODY and
 * upload) with no custom verb, then sets its own. */
static bool
set_method(struct out_handle *x, CURL *e)
{
    const struct out_request *rq = &x->rq;
    bool has_body = rq->body.len > 0 || strcmp(rq->method, "POST") == 0 ||
                    strcmp(rq->method, "PUT") == 0 || strcmp(rq->method, "PATCH") == 0;

    SET(CURLOPT_HTTPGET, 1L);
    SET(CURLOPT_CUSTOMREQUEST, (char *)NULL);
    if (strcmp(rq->method, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "GET") != 0) {
        if (has_body) {
            SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body.len);
            SET(CURLOPT_POSTFIELDS, rq->body.data ? rq->body.data : "");
        }
        if (strcmp(rq->method, "POST") != 0)
            SET(CURLOPT_CUSTOMREQUEST, rq->method);
    }
    return true;
fail:
    return false;
}

bool
hop_easy_setup(struct outbound *ob, CURL *e)
{
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_SHARE, ob->share); /* a new handle resumes the TLS sessions of the others */
    if (ob_ca_file() != NULL)
        SET(CURLOPT_CAINFO, ob_ca_file());
    SET(CURLOPT_OPENSOCKETFUNCTION, on_open);
    SET(CURLOPT_PREREQFUNCTION, on_prereq);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_PROXY, ""); /* environment proxies have no effect (SSRF-150) */
    SET(CURLOPT_NOPROXY, "*");
    SET(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_UNRESTRICTED_AUTH, 0L);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_ACCEPT_ENCODING, ""); /* decoded in curl, counted in on_body */
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    return true;
fail:
    return false;
}

/* What differs from one hop to the next; the rest is hop_easy_setup's. */
static bool
set_options(struct out_handle *x, CURL *e, long remaining)
{
    const struct out_limits *lim = &x->rq.limits;
    long connect_ms = (long)lim->connect_timeout_ms;

    SET(CURLOPT_URL, x->url);
    SET(CURLOPT_PRIVATE, (char *)x);
    SET(CURLOPT_OPENSOCKETDATA, x);
    SET(CURLOPT_PREREQDATA, x);
    SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms < remaining ? connect_ms : remaining);
    SET(CURLOPT_TIMEOUT_MS, remaining);
    SET(CURLOPT_XFERINFODATA, x);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_HTTPHEADER, x->hdrs);
#ifdef CONNHUB_TEST
    for (size_t i = 0; i < ARRAY_LEN(x->rq.test_resolve) && x->rq.test_resolve[i]; i++) {
        struct curl_slist *n = curl_slist_append(x->resolve, x->rq.test_resolve[i]);
        if (n == NULL)
            goto fail;
        x->resolve = n;
    }
    SET(CURLOPT_RESOLVE, x->resolve);
#endif
    return set_method(x, e);
fail:
    return false;
}

/* Drops what the handle points at in x (freed after this): the handle then
 * holds nothing of this transfer when it waits in the pool or for the next
 * hop. curl_easy_reset would do it too, and also drop every option that
 * hop_easy_setup set, which the next transfer would set again. */
static void
unset_transfer(CURL *e)
{
    curl_easy_setopt(e, CURLOPT_URL, (char *)NULL); /* may carry a credential query */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, (char *)NULL);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)NULL);
#ifdef CONNHUB_TEST
    curl_easy_setopt(e, CURLOPT_RESOLVE, (struct curl_slist *)NULL);
#endif
}

#undef SET

enum out_fail
hop_start(struct out_handle *x)
{
    int64_t remaining = (int64_t)x->rq.limits.total_timeout_ms - (mono_ms() - x->start);

    if (remaining <= 0) {
        xfer_fail(x, OUT_FAIL_TIMEOUT, "total timeout (%u ms) before redirect hop %d",
                  x->rq.limits.total_timeout_ms, x->res.redirects);
        return OUT_FAIL_TIMEOUT;
    }
    if (x->easy == NULL)
        x->easy = ob_easy_get(x->ob);
    x->hdr_bytes = 0;
    x->blocked = x->body_too_large = x->hdr_too_large = x->stopped = false;
    x->streamed = 0;
    x->why[0] = '\0';
    buf_reset(&x->res.body);
    drop_response_headers(x);
    if (x->easy == NULL || !build_headers(x) || !set_options(x, x->easy, (long)remaining) ||
        curl_multi_add_handle(x->sh->multi, x->easy) != CURLM_OK) {
        xfer_fail(x, OUT_FAIL_INTERNAL, "could not set up the HTTP client");
        return OUT_FAIL_INTERNAL;
    }
    x->in_multi = true;
    x->sh->active++;
    x->last_rx = mono_ms();
    x->last_ul = 0;
    if (x->rq.limits.idle_timeout_ms > 0)
        loop_timer_start(x->ob->lp, &x->idle, (int64_t)x->rq.limits.idle_timeout_ms, on_idle, x);
    return OUT_OK;
}

void
hop_detach(struct out_handle *x, bool keep_easy)
{
    struct outbound *ob = x->ob;

    loop_timer_stop(ob->lp, &x->idle);
    if (x->easy != NULL) {
        if (x->in_multi) {
            curl_multi_remove_handle(x->sh->multi, x->easy);
            x->sh->active--;
        }
        unset_transfer(x->easy);
        if (!keep_easy) {
            ob_easy_put(ob, x->easy);
            x->easy = NULL;
        }
    }
    x->in_multi = false;
    slist_wipe_free(x->hdrs);
    x->hdrs = NULL;
    curl_slist_free_all(x->resolve);
    x->resolve = NULL;
}

static bool
is_tls_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        return true;
    default:
        return false;
    }
}

static void
fail_timeout(struct out_handle *x, const char *origin)
{
    const struct out_limits *lim = &x->rq.limits;
    curl_off_t connect_us = 0;
    int64_t elapsed = mono_ms() - x->start;

    curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
    if (connect_us == 0 && elapsed < (int64_t)lim->total_timeout_ms)
        xfer_fail(x, OUT_FAIL_TIMEOUT, "connect timeout (%u ms) to %s", lim->connect_timeout_ms,
                  origin);
    else
        xfer_fail(x, OUT_FAIL_TIMEOUT, "total timeout (%u ms) from %s", lim->total_timeout_ms,
                  origin);
}

static void
fail_from_curl(struct out_handle *x, CURLcode rc)
{
    char origin[300];
    const char *what = curl_easy_strerror(rc);

    hop_origin(x, origin, sizeof(origin));
    if (x->stopped)
        xfer_fail(x, OUT_FAIL_CANCELLED, "stopped by the receiver");
    else if (x->hdr_too_large)
        xfer_fail(x, OUT_FAIL_TOO_LARGE, "response headers from %s exceed %zu bytes", origin,
                  OUT_MAX_HEADER_BYTES);
    else if (x->body_too_large)
        xfer_fail(x, OUT_FAIL_TOO_LARGE, "response body from %s exceeds %zu bytes (decoded)",
                  origin, x->rq.limits.max_response);
    else if (x->blocked && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_ABORTED_BY_CALLBACK))
        xfer_fail(x, OUT_FAIL_BLOCKED, "blocked by the SSRF policy: %s: %s", origin, x->why);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        fail_timeout(x, origin);
    else if (rc == CURLE_COULDNT_RESOLVE_HOST)
        xfer_fail(x, OUT_FAIL_RESOLVE, "cannot resolve %s: %s", origin, what);
    else if (rc == CURLE_COULDNT_CONNECT)
        xfer_fail(x, OUT_FAIL_CONNECT, "cannot connect to %s: %s", origin, what);
    else if (is_tls_error(rc))
        xfer_fail(x, OUT_FAIL_TLS, "TLS with %s failed: %s", origin, what);
    else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT)
        xfer_fail(x, OUT_FAIL_URL, "URL refused by the HTTP client: %s", what);
    else if (rc == CURLE_OUT_OF_MEMORY)
        xfer_fail(x, OUT_FAIL_TOO_LARGE, "response from %s too large for the HTTP client: %s",
                  origin, what);
    else if (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
             rc == CURLE_WEIRD_SERVER_REPLY || rc == CURLE_PARTIAL_FILE ||
             rc == CURLE_BAD_CONTENT_ENCODING || rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM)
        xfer_fail(x, OUT_FAIL_PROTOCOL, "bad response from %s: %s", origin, what);
    else
        xfer_fail(x, OUT_FAIL_INTERNAL, "request to %s failed: %s", origin, what);
}

static bool
is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

void
hop_finished(struct out_handle *x, CURLcode rc)
{
    long status = 0;
    const char *loc;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    x->res.status = status;
    if (rc != CURLE_OK) {
        fail_from_curl(x, rc);
    } else if (is_redirect(status) && x->rq.limits.max_redirects > 0 &&
               (loc = out_response_header(&x->res, "location")) != NULL) {
        if (redirect_follow(x, status, loc) == OUT_OK)
            return; /* the next hop is running */
    }
    xfer_complete(x);
}
