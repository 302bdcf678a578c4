/* The outbound client end to end against loopback upstreams: the SSRF guard
 * at connect time (A.1-A.3, A.5, A.8 via the test resolver), redirects (A.9),
 * proxies from the environment (A.10), upstream limits (PARSE-027..030) and
 * the async contract (done on the loop, cancel, keep-alive reuse).
 *
 * Upstream A binds 127.0.0.2, upstream B 127.0.0.3; a canary listens on
 * 127.0.0.1 and must never see a connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "outbound/internal.h" /* the easy-handle pool */
#include "outbound/outbound.h"
#include "support/netns.h"
#include "support/upstream.h"

static struct upstream *ua, *ub;
static struct canary *canary;
static struct ssrf_policy pol_a, pol_ab; /* 127.0.0.2/32; 127.0.0.2/32 + 127.0.0.3/32 */

static int
setup(void **state)
{
    struct errinfo ei;

    (void)state;
    ua = upstream_start("127.0.0.2");
    ub = upstream_start("127.0.0.3");
    canary = canary_start("127.0.0.1");
    if (!ua || !ub || !canary)
        return -1;
    if (ssrf_policy_parse(&pol_a, "127.0.0.2/32", &ei) != ERR_OK ||
        ssrf_policy_parse(&pol_ab, "127.0.0.2/32,127.0.0.3/32", &ei) != ERR_OK)
        return -1;
    log_set_level(LOG_ERROR);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    assert_int_equal(canary_hits(canary), 0);
    upstream_stop(ua);
    upstream_stop(ub);
    canary_stop(canary);
    return 0;
}

/* Limits a case may change; 0 keeps the default. */
struct lim {
    uint32_t idle_ms, total_ms;
    size_t max_response;
    int max_redirects; /* -1 keeps the default */
};

/* Case tables hold format strings (a port goes in at run time). */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void
fmt(char *out, size_t n, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, n, f, ap);
    va_end(ap);
}

static void
init_rq(struct out_request *rq, const char *method, const char *url, const struct lim *l)
{
    struct errinfo ei;

    assert_int_equal(out_request_init(rq, method, url, &ei), ERR_OK);
    if (l == NULL)
        return;
    if (l->idle_ms)
        rq->limits.idle_timeout_ms = l->idle_ms;
    if (l->total_ms)
        rq->limits.total_timeout_ms = l->total_ms;
    if (l->max_response)
        rq->limits.max_response = l->max_response;
    if (l->max_redirects >= 0)
        rq->limits.max_redirects = l->max_redirects;
}

static void
fetch(const struct ssrf_policy *pol, struct out_request *rq, struct out_response *res)
{
    assert_int_equal(outbound_fetch(pol, rq, res), ERR_OK);
}

/* ---- A.1-A.3, A.5, A.8: the connect-time guard ---- */

static const struct {
    const char *id;
    const char *url;     /* %d: canary port */
    const char *resolve; /* "host:%d:addr" or NULL */
    enum out_fail fail;
    const char *why;
} blocked_cases[] = {
    {"SSRF-001", "http://127.0.0.1:%d/?api_key=SECRETQ", NULL, OUT_FAIL_BLOCKED, "loopback"},
    {"SSRF-002", "http://127.255.255.254:%d/", NULL, OUT_FAIL_BLOCKED, "loopback"},
    {"SSRF-014", "http://0.0.0.0:%d/", NULL, OUT_FAIL_BLOCKED, "this network"},
    {"SSRF-030", "http://localhost:%d/", NULL, OUT_FAIL_URL, "localhost"},
    {"SSRF-040", "http://169.254.169.254:%d/latest/meta-data/", NULL, OUT_FAIL_BLOCKED,
     "link-local"},
    {"SSRF-080", "http://[::1]:%d/", NULL, OUT_FAIL_BLOCKED, "loopback"},
    {"SSRF-081", "http://[::]:%d/", NULL, OUT_FAIL_BLOCKED, "unspecified"},
    {"SSRF-082", "http://[::ffff:127.0.0.1]:%d/", NULL, OUT_FAIL_BLOCKED, "loopback"},
    {"SSRF-083", "http://[::ffff:0.0.0.0]:%d/", NULL, OUT_FAIL_BLOCKED, "this network"},
    {"SSRF-085", "http://[::127.0.0.1]:%d/", NULL, OUT_FAIL_BLOCKED, "IPv4-compatible"},
    {"SSRF-003", "http://127.1:%d/", NULL, OUT_FAIL_URL, "IPv4"},
    {"SSRF-005", "http://2130706433:%d/", NULL, OUT_FAIL_URL, "IPv4"},
    {"SSRF-100", "http://evil.test@127.0.0.1:%d/", NULL, OUT_FAIL_URL, "userinfo"},
    {"SSRF-093", "http://[::ffff:127.0.0.1%%25lo]:%d/", NULL, OUT_FAIL_URL, "zone"},
    {"SSRF-060", "http://127.0.0.3:%d/", NULL, OUT_FAIL_BLOCKED, "loopback"}, /* not allowed */
    {"SSRF-130", "http://a.test:%d/", "a.test:%d:127.0.0.1", OUT_FAIL_BLOCKED, "loopback"},
    {"SSRF-034", "http://b.test:%d/", "b.test:%d:[::1]", OUT_FAIL_BLOCKED, "loopback"},
    {"SSRF-035", "http://c.test:%d/", "c.test:%d:0.0.0.0", OUT_FAIL_BLOCKED, "this network"},
    {"SSRF-047", "http://metadata.google.internal:%d/computeMetadata/v1/",
     "metadata.google.internal:%d:169.254.169.254", OUT_FAIL_BLOCKED, "link-local"},
    {"SSRF-033", "http://127.0.0.1.nip.io:%d/", "127.0.0.1.nip.io:%d:127.0.0.1", OUT_FAIL_BLOCKED,
     "loopback"},
    {"SSRF-138", "http://many.test:%d/", "many.test:%d:127.0.0.1,10.0.0.1,192.168.0.1,[::1]",
     OUT_FAIL_BLOCKED, ""},
    /* SSRF-133: a CNAME chain a.test -> b.internal -> 169.254.169.254. The
     * system resolver follows the chain; the guard only ever sees the final
     * address, which the test resolver supplies (no local DNS server here). */
    {"SSRF-133", "http://a.cname.test:%d/", "a.cname.test:%d:169.254.169.254", OUT_FAIL_BLOCKED,
     "link-local"},
};

static void
ssrf_a_blocked_at_connect(void **state)
{
    int port = canary_port(canary);
    (void)state;

    for (size_t i = 0; i < sizeof(blocked_cases) / sizeof(blocked_cases[0]); i++) {
        struct out_request rq;
        struct out_response res;
        char url[256], resolve[256];

        fmt(url, sizeof(url), blocked_cases[i].url, port);
        init_rq(&rq, "GET", url, NULL);
        if (blocked_cases[i].resolve) {
            fmt(resolve, sizeof(resolve), blocked_cases[i].resolve, port);
            rq.test_resolve[0] = resolve;
        }
        fetch(&pol_a, &rq, &res);
        if (res.fail != blocked_cases[i].fail || strstr(res.error, blocked_cases[i].why) == NULL)
            fail_msg("%s %s: got %s (%s)", blocked_cases[i].id, url, out_fail_name(res.fail),
                     res.error);
        assert_null(strstr(res.error, "SECRETQ"));
        assert_int_equal(res.status, 0);
        out_response_release(&res);
        assert_int_equal(canary_hits(canary), 0);
    }
}

/* SSRF-131/132: a name with a denied and an allowed answer. The guard is per
 * address (like Smokescreen's pinning): the denied address is never
 * connected to, and the transfer proceeds on the allowed one. */
static void
ssrf_131_mixed_answers_never_reach_denied(void **state)
{
    struct out_request rq;
    struct out_response res;
    char url[128], resolve[128];
    (void)state;

    fmt(url, sizeof(url), "http://mix.test:%d/echo", upstream_port(ua));
    fmt(resolve, sizeof(resolve), "mix.test:%d:127.0.0.1,[::1],127.0.0.2", upstream_port(ua));
    init_rq(&rq, "GET", url, NULL);
    rq.test_resolve[0] = resolve;
    fetch(&pol_a, &rq, &res);
    assert_int_equal(res.fail, OUT_OK);
    assert_int_equal(res.status, 200);
    out_response_release(&res);
    assert_int_equal(canary_hits(canary), 0);
}

/* ---- A.8 rebinding: one name:port, two answers ----
 * rb.test:P resolves either to upstream A (127.0.0.2:P, allowed) or to a
 * canary on 127.0.0.1:P (denied). Steps run one after another on ONE client
 * (one DNS cache, one connection pool), each with its own resolver answer. */

struct rb_step {
    const char *addr; /* the resolver's answer for rb.test:P */
    bool close;       /* send Connection: close (no keep-alive afterwards) */
    enum out_fail fail;
    long status;
    char error[256];
};

struct rb_chain {
    struct loop *lp;
    struct outbound *ob;
    struct rb_step *steps;
    int n, next;
    char url[128], resolve[8][128];
};

static void rb_start(struct rb_chain *c);

static void
rb_done(struct out_response *res, void *arg)
{
    struct rb_chain *c = arg;
    struct rb_step *st = &c->steps[c->next - 1];

    st->fail = res->fail;
    st->status = res->status;
    snprintf(st->error, sizeof(st->error), "%s", res->error);
    if (c->next < c->n)
        rb_start(c);
    else
        loop_stop(c->lp);
}

static void
rb_start(struct rb_chain *c)
{
    int i = c->next++;
    struct out_request rq;
    struct errinfo ei;

    fmt(c->resolve[i], sizeof(c->resolve[i]), "rb.test:%d:%s", upstream_port(ua), c->steps[i].addr);
    init_rq(&rq, "GET", c->url, NULL);
    rq.test_resolve[0] = c->resolve[i];
    if (c->steps[i].close)
        assert_int_equal(out_request_add_header(&rq, "Connection", "close", false, &ei), ERR_OK);
    assert_int_equal(outbound_send(c->ob, &rq, rb_done, c, NULL), ERR_OK);
}

static void
rb_run(struct rb_step *steps, int n)
{
    struct rb_chain c = {.steps = steps, .n = n};

    assert_true(n <= 8);
    assert_int_equal(loop_new(&c.lp), ERR_OK);
    assert_int_equal(outbound_new(c.lp, &pol_a, &c.ob), ERR_OK);
    fmt(c.url, sizeof(c.url), "http://rb.test:%d/echo", upstream_port(ua));
    rb_start(&c);
    assert_int_equal(loop_run(c.lp), ERR_OK);
    outbound_free(c.ob);
    loop_free(c.lp);
}

/* SSRF-134, SSRF-135: the name was fine a moment ago (rb.test -> 127.0.0.2,
 * answered); the next connection for the same name:port resolves to loopback
 * and is refused at connect on the address actually used. Nothing remembers
 * "this host was OK" (no per-host verdict, the DNS cache is not trusted). */
static void
ssrf_134_135_rebinding_checked_at_connect(void **state)
{
    struct canary *lo = canary_start_at("127.0.0.1", upstream_port(ua));
    struct rb_step steps[] = {
        {.addr = "127.0.0.2", .close = true},
        {.addr = "127.0.0.1"},
    };
    (void)state;

    assert_non_null(lo);
    rb_run(steps, 2);
    assert_int_equal(steps[0].fail, OUT_OK);
    assert_int_equal(steps[0].status, 200);
    if (steps[1].fail != OUT_FAIL_BLOCKED || strstr(steps[1].error, "127.0.0.1") == NULL)
        fail_msg("rebound: %s (%s)", out_fail_name(steps[1].fail), steps[1].error);
    assert_int_equal(canary_hits(lo), 0);
    canary_stop(lo);
}

/* SSRF-136: DNS flips while a keep-alive connection to 127.0.0.2 is pooled:
 * the next request reuses that socket (already checked: ALLOW, no new
 * connection); once it is gone, a new connection to the new answer is DENY. */
static void
ssrf_136_rebinding_on_connection_reuse(void **state)
{
    struct canary *lo = canary_start_at("127.0.0.1", upstream_port(ua));
    struct rb_step steps[] = {
        {.addr = "127.0.0.2"},
        {.addr = "127.0.0.1", .close = true}, /* reuses the pooled socket, then closes it */
        {.addr = "127.0.0.1"},
    };
    unsigned conns = upstream_connections(ua);
    (void)state;

    assert_non_null(lo);
    rb_run(steps, 3);
    assert_int_equal(steps[0].fail, OUT_OK);
    assert_int_equal(steps[1].fail, OUT_OK);
    assert_int_equal(steps[1].status, 200);
    assert_int_equal(upstream_connections(ua) - conns, 1);
    if (steps[2].fail != OUT_FAIL_BLOCKED)
        fail_msg("new connection: %s (%s)", out_fail_name(steps[2].fail), steps[2].error);
    assert_int_equal(canary_hits(lo), 0);
    canary_stop(lo);
}

/* Each refusal is logged as a warning, without the URL's query. */
static void
ssrf_refusal_logged_without_query(void **state)
{
    struct out_request rq;
    struct out_response res;
    char url[128], logbuf[4096] = {0};
    int fds[2];
    ssize_t n;
    (void)state;

    assert_int_equal(pipe(fds), 0);
    log_set_level(LOG_WARN);
    log_set_fd(fds[1]);
    fmt(url, sizeof(url), "http://127.0.0.1:%d/p?api_key=SECRETQ", canary_port(canary));
    init_rq(&rq, "GET", url, NULL);
    fetch(&pol_a, &rq, &res);
    out_response_release(&res);
    fmt(url, sizeof(url), "http://127.0.0.2:%d/status?code=204&k=SECRETQ", upstream_port(ua));
    init_rq(&rq, "GET", url, NULL);
    fetch(&pol_a, &rq, &res);
    assert_int_equal(res.status, 204);
    out_response_release(&res);
    log_set_fd(2);
    log_set_level(LOG_ERROR);
    close(fds[1]);
    n = read(fds[0], logbuf, sizeof(logbuf) - 1);
    close(fds[0]);
    assert_true(n > 0);
    assert_non_null(strstr(logbuf, "outbound.ssrf_blocked"));
    assert_non_null(strstr(logbuf, "outbound.ssrf_allow_listed"));
    assert_non_null(strstr(logbuf, "127.0.0.1"));
    assert_null(strstr(logbuf, "SECRETQ"));
}

static void
ssrf_allowed_upstream_answers(void **state)
{
    struct out_request rq;
    struct out_response res;
    struct errinfo ei;
    char url[128];
    (void)state;

    fmt(url, sizeof(url), "http://127.0.0.2:%d/echo", upstream_port(ua));
    init_rq(&rq, "GET", url, NULL);
    assert_int_equal(out_request_add_header(&rq, "X-Plain", "v1", false, &ei), ERR_OK);
    assert_int_equal(out_request_add_query(&rq, "q", "a b/c", false, &ei), ERR_OK);
    fetch(&pol_a, &rq, &res);
    assert_int_equal(res.fail, OUT_OK);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.body.data, "GET /echo\n"));
    assert_non_null(strstr(res.body.data, "arg: q=a b/c\n"));
    assert_non_null(strstr(res.body.data, "hdr: X-Plain: v1\n"));
    assert_string_equal(res.content_type, "text/plain");
    assert_string_equal(out_response_header(&res, "content-type"), "text/plain");
    assert_int_equal(res.redirects, 0);
    assert_true(res.duration_ms >= 0);
    out_response_release(&res);
}

/* A closed port on an allowed address is a connect error, not "blocked". */
static void
ssrf_connect_error_is_not_blocked(void **state)
{
    struct canary *c = canary_start("127.0.0.2");
    struct out_request rq;
    struct out_response res;
    char url[128];
    (void)state;

    assert_non_null(c);
    fmt(url, sizeof(url), "http://127.0.0.2:%d/", canary_port(c));
    canary_stop(c);
    init_rq(&rq, "GET", url, NULL);
    fetch(&pol_a, &rq, &res);
    assert_int_equal(res.fail, OUT_FAIL_CONNECT);
    out_response_release(&res);
}

/* ---- A.9 redirects ---- */

static const struct {
    const char *id;
    const char *to; /* %d: canary port */
    enum out_fail fail;
} redirect_cases[] = {
    {"SSRF-140", "http://127.0.0.1:%d/", OUT_FAIL_BLOCKED},
    {"SSRF-140", "http://[::1]:%d/", OUT_FAIL_BLOCKED},
    {"SSRF-140", "http://0.0.0.0:%d/", OUT_FAIL_BLOCKED},
    {"SSRF-140", "http://localhost:%d/", OUT_FAIL_URL},
    {"SSRF-141", "http://169.254.169.254:%d/latest/meta-data/", OUT_FAIL_BLOCKED},
    {"SSRF-142", "file:///etc/passwd", OUT_FAIL_URL},
    {"SSRF-142", "gopher://127.0.0.1:%d/_SET%%20x", OUT_FAIL_URL},
    {"SSRF-143", "http://2130706433:%d/", OUT_FAIL_URL},
    {"SSRF-143", "http://[::ffff:7f00:1]:%d/", OUT_FAIL_BLOCKED},
    {"SSRF-148", "http://user:pw@127.0.0.2:%d/", OUT_FAIL_URL},
    {"SSRF-148", "http://127.0.0.2\\@127.0.0.1:%d/", OUT_FAIL_URL},
    {"SSRF-148", "//127.0.0.1:%d/", OUT_FAIL_BLOCKED},
    {"SSRF-148", "http://127.0.0.1:%d/ x", OUT_FAIL_URL},
};

static void
ssrf_a9_redirect_targets_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(redirect_cases) / sizeof(redirect_cases[0]); i++) {
        struct out_request rq;
        struct out_response res;
        struct errinfo ei;
        char url[128], to[256];

        fmt(url, sizeof(url), "http://127.0.0.2:%d/redirect", upstream_port(ua));
        fmt(to, sizeof(to), redirect_cases[i].to, canary_port(canary));
        init_rq(&rq, "GET", url, NULL);
        assert_int_equal(out_request_add_query(&rq, "to", to, false, &ei), ERR_OK);
        fetch(&pol_a, &rq, &res);
        if (res.fail != redirect_cases[i].fail)
            fail_msg("%s -> %s: got %s (%s)", redirect_cases[i].id, to, out_fail_name(res.fail),
                     res.error);
        out_response_release(&res);
        assert_int_equal(canary_hits(canary), 0);
    }
}

static void
add_credentials(struct out_request *rq)
{
    struct errinfo ei;

    assert_int_equal(out_request_add_header(rq, "X-API-Key", "CANARYH", true, &ei), ERR_OK);
    assert_int_equal(out_request_add_header(rq, "Cookie", "sid=CANARYC", true, &ei), ERR_OK);
    assert_int_equal(out_request_add_header(rq, "Authorization", "Bearer CANARYA", false, &ei),
                     ERR_OK);
    assert_int_equal(out_request_add_header(rq, "X-Plain", "visible", false, &ei), ERR_OK);
}

/* SSRF-124: a credential goes over https only. An upstream at a globally
 * routable address (45.0.0.7, on this namespace's own loopback: nothing
 * leaves it) is reached without a credential; with one (a flagged header,
 * an unflagged Authorization or Cookie, a credential query key, a token
 * request's form body) the transfer stops after connecting, before the
 * request is sent, with a clear reason. An address the operator allow-listed
 * (--allow-private) is the override: the same requests go through. */
static void
ssrf_124_credentials_only_over_https(void **state)
{
    enum { NONE, FLAGGED, AUTHZ, COOKIE, QUERY, BODY, NKINDS };
    struct upstream *pub = upstream_start("45.0.0.7");
    struct ssrf_policy none = {0}, listed = {0};
    struct errinfo ei;
    char url[128];

    (void)state;
    assert_non_null(pub);
    assert_int_equal(ssrf_policy_parse(&listed, "45.0.0.7/32", &ei), ERR_OK);
    fmt(url, sizeof(url), "http://45.0.0.7:%d/echo", upstream_port(pub));
    for (int pass = 0; pass < 2; pass++) {
        for (int k = NONE; k < NKINDS; k++) {
            struct out_request rq;
            struct out_response res;
            unsigned before = upstream_hits(pub);
            bool refused = pass == 0 && k != NONE;

            init_rq(&rq, k == BODY ? "POST" : "GET", url, NULL);
            if (k == FLAGGED)
                assert_int_equal(out_request_add_header(&rq, "X-API-Key", "CANARYH", true, &ei),
                                 ERR_OK);
            if (k == AUTHZ)
                assert_int_equal(
                    out_request_add_header(&rq, "Authorization", "Bearer CANARYA", false, &ei),
                    ERR_OK);
            if (k == COOKIE)
                assert_int_equal(out_request_add_header(&rq, "Cookie", "sid=CANARYC", false, &ei),
                                 ERR_OK);
            if (k == QUERY)
                assert_int_equal(out_request_add_query(&rq, "api_key", "CANARYQ", true, &ei),
                                 ERR_OK);
            if (k == BODY) {
                assert_int_equal(buf_puts(&rq.body, "code=CANARYB"), ERR_OK);
                rq.cred_body = true;
            }
            fetch(pass == 0 ? &none : &listed, &rq, &res);
            if (refused) {
                if (res.fail != OUT_FAIL_BLOCKED || strstr(res.error, "https only") == NULL)
                    fail_msg("kind %d: fail %d (%s), expected blocked", k, res.fail, res.error);
                assert_int_equal(upstream_hits(pub), before); /* no request was sent */
            } else {
                if (res.fail != OUT_OK || res.status != 200)
                    fail_msg("pass %d kind %d: fail %d (%s)", pass, k, res.fail, res.error);
                assert_int_equal(upstream_hits(pub), before + 1);
            }
            out_response_release(&res);
        }
    }
    upstream_stop(pub);
}

/* SSRF-144: 127.0.0.2:P1 -> 127.0.0.3:P2 (both allowed): B sees no credential
 * header, cookie, Authorization or credential query key. */
static void
ssrf_144_cross_origin_drops_credentials(void **state)
{
    struct out_request rq;
    struct out_response res;
    struct errinfo ei;
    char url[128], to[128];
    unsigned hits_b = upstream_hits(ub);
    (void)state;

    fmt(url, sizeof(url), "http://127.0.0.2:%d/redirect", upstream_port(ua));
    fmt(to, sizeof(to), "http://127.0.0.3:%d/echo?api_key=CANARYQ&keep=1", upstream_port(ub));
    init_rq(&rq, "GET", url, NULL);
    assert_int_equal(out_request_add_query(&rq, "to", to, false, &ei), ERR_OK);
    assert_int_equal(out_request_add_query(&rq, "api_key", "CANARYQ", true, &ei), ERR_OK);
    add_credentials(&rq);
    fetch(&pol_ab, &rq, &res);
    assert_int_equal(res.fail, OUT_OK);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.redirects, 1);
    assert_int_equal(upstream_hits(ub), hits_b + 1);
    assert_null(strstr(res.body.data, "CANARY"));
    assert_null(strstr(res.body.data, "api_key"));
    assert_non_null(strstr(res.body.data, "arg: keep=1\n"));
    assert_non_null(strstr(res.body.data, "hdr: X-Plain: visible\n"));
    out_response_release(&res);
}

/* SSRF-145: a same-origin redirect keeps every credential. */
static void
ssrf_145_same_origin_keeps_credentials(void **state)
{
    struct out_request rq;
    struct out_response res;
    struct errinfo ei;
    char url[128];
    (void)state;

    fmt(url, sizeof(url), "http://127.0.0.2:%d/redirect", upstream_port(ua));
    init_rq(&rq, "GET", url, NULL);
    assert_int_equal(out_request_add_query(&rq, "to", "/echo?api_key=CANARYQ", false, &ei), ERR_OK);
    assert_int_equal(out_request_add_query(&rq, "api_key", "CANARYQ", true, &ei), ERR_OK);
    add_credentials(&rq);
    fetch(&pol_a, &rq, &res);
    assert_int_equal(res.fail, OUT_OK);
    assert_int_equal(res.redirects, 1);
    assert_non_null(strstr(res.body.data, "hdr: X-API-Key: CANARYH\n"));
    assert_non_null(strstr(res.body.data, "hdr: Cookie: sid=CANARYC\n"));
    assert_non_null(strstr(res.body.data, "hdr: Authorization: Bearer CANARYA\n"));
    assert_non_null(strstr(res.body.data, "arg: api_key=CANARYQ\n"));
    out_response_release(&res);
}

/* SSRF-146: max_redirects N followed, N+1 refused; 0 returns the 3xx. */
static void
ssrf_146_redirect_limit(void **state)
{
    static const struct {
        int hops, max;
        enum out_fail fail;
        long status;
    } cases[] = {
        {5, 5, OUT_OK, 200}, {6, 5, OUT_FAIL_REDIRECTS, 302}, {11, 5, OUT_FAIL_REDIRECTS, 302},
        {1, 1, OUT_OK, 200}, {2, 1, OUT_FAIL_REDIRECTS, 302}, {1, 0, OUT_OK, 302},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lim l = {.max_redirects = cases[i].max};
        struct out_request rq;
        struct out_response res;
        char url[128];

        fmt(url, sizeof(url), "http://127.0.0.2:%d/chain?n=%d", upstream_port(ua), cases[i].hops);
        init_rq(&rq, "GET", url, &l);
        fetch(&pol_a, &rq, &res);
        if (res.fail != cases[i].fail || res.status != cases[i].status)
            fail_msg("%d hops, max %d: %s %ld (%s)", cases[i].hops, cases[i].max,
                     out_fail_name(res.fail), res.status, res.error);
        out_response_release(&res);
    }
}

/* SSRF-147 and the method rules: 303 -> GET without body; 307 keeps
 * method+body on the same origin and is refused across origins. */
static void
ssrf_147_method_and_body_on_redirect(void **state)
{
    static const struct {
        const char *code;
        bool cross;
        enum out_fail fail;
        const char *expect; /* in the echo, or NULL */
        bool body_seen;
    } cases[] = {
        {"307", false, OUT_OK, "POST /echo\n", true},
        {"308", false, OUT_OK, "POST /echo\n", true},
        {"303", false, OUT_OK, "GET /echo\n", false},
        {"302", false, OUT_OK, "GET /echo\n", false},
        {"307", true, OUT_FAIL_REDIRECTS, NULL, false},
        {"308", true, OUT_FAIL_REDIRECTS, NULL, false},
        {"303", true, OUT_OK, "GET /echo\n", false},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct out_request rq;
        struct out_response res;
        struct errinfo ei;
        char url[128], to[128];
        unsigned hits_b = upstream_hits(ub);

        fmt(url, sizeof(url), "http://127.0.0.2:%d/redirect", upstream_port(ua));
        if (cases[i].cross)
            fmt(to, sizeof(to), "http://127.0.0.3:%d/echo", upstream_port(ub));
        else
            fmt(to, sizeof(to), "/echo");
        init_rq(&rq, "POST", url, NULL);
        assert_int_equal(out_request_add_query(&rq, "to", to, false, &ei), ERR_OK);
        assert_int_equal(out_request_add_query(&rq, "code", cases[i].code, false, &ei), ERR_OK);
        assert_int_equal(buf_puts(&rq.body, "CANARYBODY"), ERR_OK);
        fetch(&pol_ab, &rq, &res);
        if (res.fail != cases[i].fail)
            fail_msg("%s cross=%d: %s (%s)", cases[i].code, cases[i].cross, out_fail_name(res.fail),
                     res.error);
        if (cases[i].expect) {
            assert_non_null(strstr(res.body.data, cases[i].expect));
            assert_int_equal(strstr(res.body.data, "CANARYBODY") != NULL, cases[i].body_seen);
        } else {
            assert_int_equal(upstream_hits(ub), hits_b);
        }
        out_response_release(&res);
    }
}

/* ---- PARSE-024, 027..030: upstream limits ---- */

static const struct {
    const char *id;
    const char *path;
    struct lim lim;
    enum out_fail fail;
    const char *why;
    size_t body_len;
} limit_cases[] = {
    {"PARSE-027", "/big?n=1024", {.max_response = 1024, .max_redirects = -1}, OUT_OK, "", 1024},
    {"PARSE-027",
     "/big?n=1025",
     {.max_response = 1024, .max_redirects = -1},
     OUT_FAIL_TOO_LARGE,
     "1024 bytes",
     0},
    {"PARSE-027", "/big?n=20000000", {.max_redirects = -1}, OUT_FAIL_TOO_LARGE, "10485760", 0},
    {"PARSE-028",
     "/gzip-bomb?mb=1",
     {.max_response = 1048576, .max_redirects = -1},
     OUT_OK,
     "",
     1048576},
    {"PARSE-028",
     "/gzip-bomb?mb=10",
     {.max_response = 1048576, .max_redirects = -1},
     OUT_FAIL_TOO_LARGE,
     "decoded",
     0},
    {"PARSE-024",
     "/endless",
     {.max_response = 1048576, .max_redirects = -1},
     OUT_FAIL_TOO_LARGE,
     "exceeds",
     0},
    {"PARSE-024",
     "/endless",
     {.max_response = 1u << 30, .total_ms = 800, .max_redirects = -1},
     OUT_FAIL_TIMEOUT,
     "total timeout",
     0},
    {"PARSE-029",
     "/stall",
     {.idle_ms = 1000, .max_redirects = -1},
     OUT_FAIL_TIMEOUT,
     "idle timeout",
     0},
    {"PARSE-029",
     "/slow?ms=4000",
     {.idle_ms = 1000, .max_redirects = -1},
     OUT_FAIL_TIMEOUT,
     "idle timeout",
     0},
    {"PARSE-029",
     "/trickle?ms=100&n=100",
     {.total_ms = 1000, .max_redirects = -1},
     OUT_FAIL_TIMEOUT,
     "total timeout",
     0},
    {"PARSE-029", "/trickle?ms=50&n=5", {.idle_ms = 1000, .max_redirects = -1}, OUT_OK, "", 5},
    {"PARSE-030", "/headers?n=10&len=100", {.max_redirects = -1}, OUT_OK, "", 7},
    {"PARSE-030",
     "/headers?n=2000&len=40",
     {.max_redirects = -1},
     OUT_FAIL_TOO_LARGE,
     "headers",
     0},
    {"PARSE-030", "/headers?n=1&len=1000000", {.max_redirects = -1}, OUT_FAIL_TOO_LARGE, "", 0},
};

static void
parse_027_030_upstream_limits(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(limit_cases) / sizeof(limit_cases[0]); i++) {
        struct out_request rq;
        struct out_response res;
        char url[128];
        int64_t t0 = mono_ms();

        fmt(url, sizeof(url), "http://127.0.0.2:%d%s", upstream_port(ua), limit_cases[i].path);
        init_rq(&rq, "GET", url, &limit_cases[i].lim);
        fetch(&pol_a, &rq, &res);
        if (res.fail != limit_cases[i].fail || strstr(res.error, limit_cases[i].why) == NULL)
            fail_msg("%s %s: got %s (%s)", limit_cases[i].id, limit_cases[i].path,
                     out_fail_name(res.fail), res.error);
        if (res.fail == OUT_OK)
            assert_int_equal(res.body.len, limit_cases[i].body_len);
        if (mono_ms() - t0 >= 5000)
            fail_msg("%s %s: took %lld ms (%s)", limit_cases[i].id, limit_cases[i].path,
                     (long long)(mono_ms() - t0), res.error);
        out_response_release(&res);
    }
}

/* ---- A.10 proxies from the environment ---- */

static void
ssrf_150_151_env_proxy_ignored(void **state)
{
    static const char *const vars[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                       "HTTPS_PROXY", "ALL_PROXY",  "all_proxy"};
    struct out_request rq;
    struct out_response res;
    char proxy[64], url[128];
    (void)state;

    fmt(proxy, sizeof(proxy), "http://127.0.0.1:%d", canary_port(canary));
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        setenv(vars[i], proxy, 1);
    unsetenv("no_proxy");
    setenv("NO_PROXY", "", 1); /* SSRF-151: no effect either way */
    fmt(url, sizeof(url), "http://127.0.0.2:%d/echo", upstream_port(ua));
    init_rq(&rq, "GET", url, &(struct lim){.total_ms = 3000, .max_redirects = -1});
    fetch(&pol_a, &rq, &res);
    assert_int_equal(res.fail, OUT_OK);
    assert_int_equal(res.status, 200);
    out_response_release(&res);
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    unsetenv("NO_PROXY");
    assert_int_equal(canary_hits(canary), 0);
}

/* ---- the async contract ---- */

struct seq {
    struct loop *lp;
    struct outbound *ob;
    int next, n, done, ok;
    bool in_send, done_inside_send;
    char urls[6][128];
    enum out_fail last;
};

static void seq_next(struct seq *s);

static void
seq_done(struct out_response *res, void *arg)
{
    struct seq *s = arg;

    if (s->in_send)
        s->done_inside_send = true;
    s->done++;
    s->last = res->fail;
    if (res->fail == OUT_OK && res->status == 200)
        s->ok++;
    if (s->next < s->n)
        seq_next(s);
    else
        loop_stop(s->lp);
}

static void
seq_next(struct seq *s)
{
    struct out_request rq;

    init_rq(&rq, "GET", s->urls[s->next++], NULL);
    s->in_send = true;
    assert_int_equal(outbound_send(s->ob, &rq, seq_done, s, NULL), ERR_OK);
    s->in_send = false;
}

/* Sequential requests on one loop reuse one keep-alive connection; done()
 * never runs inside outbound_send(), even for an invalid URL (the last one). */
static void
outbound_async_keepalive_reuse(void **state)
{
    struct seq s = {.n = 6};
    unsigned conns;
    (void)state;

    assert_int_equal(loop_new(&s.lp), ERR_OK);
    assert_int_equal(outbound_new(s.lp, &pol_a, &s.ob), ERR_OK);
    for (int i = 0; i < 5; i++)
        fmt(s.urls[i], sizeof(s.urls[i]), "http://127.0.0.2:%d/echo", upstream_port(ua));
    fmt(s.urls[5], sizeof(s.urls[5]), "http://127.1/");
    conns = upstream_connections(ua);
    seq_next(&s);
    assert_int_equal(s.done, 0);
    assert_int_equal(loop_run(s.lp), ERR_OK);
    assert_int_equal(s.ok, 5);
    assert_int_equal(s.done, 6);
    assert_int_equal(s.last, OUT_FAIL_URL);
    assert_false(s.done_inside_send);
    assert_int_equal(upstream_connections(ua) - conns, 1);
    outbound_free(s.ob);
    loop_free(s.lp);
}

/* Easy handles are pooled: one handle (one transfer at a time, one
 * connection) goes through every method, and nothing of a transfer carries
 * over to the next: not the method, the body, a header. */
static const struct {
    const char *method, *body, *header; /* body, header: NULL = none */
    const char *expect_line;            /* first line the echo answers */
} reuse_steps[] = {
    {"POST", "alpha-body", "X-Step: one", "POST /echo"},
    {"DELETE", NULL, NULL, "DELETE /echo"},
    {"GET", NULL, NULL, "GET /echo"},
    {"PUT", "beta-body", "X-Other: two", "PUT /echo"},
    {"HEAD", NULL, NULL, NULL}, /* no body in the answer */
    {"PATCH", NULL, NULL, "PATCH /echo"},
    {"GET", NULL, NULL, "GET /echo"},
};

struct reuse {
    struct loop *lp;
    struct outbound *ob;
    char url[128];
    size_t step;
};

static void reuse_next(struct reuse *r);

static void
reuse_check(const struct out_response *res, size_t i)
{
    const char *got = res->body.data ? res->body.data : "";

    assert_int_equal(res->fail, OUT_OK);
    assert_int_equal(res->status, 200);
    if (reuse_steps[i].expect_line == NULL) {
        assert_int_equal(res->body.len, 0);
        return;
    }
    assert_true(strncmp(got, reuse_steps[i].expect_line, strlen(reuse_steps[i].expect_line)) == 0);
    /* only this step's body and header, none of an earlier step's */
    for (size_t j = 0; j < i; j++) {
        if (reuse_steps[j].body && reuse_steps[j].body != reuse_steps[i].body)
            assert_null(strstr(got, reuse_steps[j].body));
        if (reuse_steps[j].header && reuse_steps[j].header != reuse_steps[i].header)
            assert_null(strstr(got, reuse_steps[j].header));
    }
    if (reuse_steps[i].body)
        assert_non_null(strstr(got, reuse_steps[i].body));
    else if (strcmp(reuse_steps[i].method, "PATCH") == 0) /* always sent with a body */
        assert_non_null(strstr(got, "hdr: Content-Length: 0\n"));
    else
        assert_null(strstr(got, "hdr: Content-Length"));
    if (reuse_steps[i].header)
        assert_non_null(strstr(got, reuse_steps[i].header));
}

static void
reuse_done(struct out_response *res, void *arg)
{
    struct reuse *r = arg;

    reuse_check(res, r->step);
    if (++r->step < sizeof(reuse_steps) / sizeof(reuse_steps[0]))
        reuse_next(r);
    else
        loop_stop(r->lp);
}

static void
reuse_next(struct reuse *r)
{
    struct out_request rq;
    struct errinfo ei;
    const char *h = reuse_steps[r->step].header;

    init_rq(&rq, reuse_steps[r->step].method, r->url, NULL);
    if (reuse_steps[r->step].body)
        assert_int_equal(buf_puts(&rq.body, reuse_steps[r->step].body), ERR_OK);
    if (h != NULL) {
        char name[16];
        const char *colon = strchr(h, ':');
        snprintf(name, sizeof(name), "%.*s", (int)(colon - h), h);
        assert_int_equal(out_request_add_header(&rq, name, colon + 2, false, &ei), ERR_OK);
    }
    assert_int_equal(outbound_send(r->ob, &rq, reuse_done, r, NULL), ERR_OK);
}

static void
outbound_reused_handle_carries_nothing_over(void **state)
{
    struct reuse r = {0};
    unsigned conns = upstream_connections(ua);
    (void)state;

    assert_int_equal(loop_new(&r.lp), ERR_OK);
    assert_int_equal(outbound_new(r.lp, &pol_a, &r.ob), ERR_OK);
    fmt(r.url, sizeof(r.url), "http://127.0.0.2:%d/echo", upstream_port(ua));
    reuse_next(&r);
    assert_int_equal(loop_run(r.lp), ERR_OK);
    assert_int_equal(r.step, sizeof(reuse_steps) / sizeof(reuse_steps[0]));
    assert_int_equal(upstream_connections(ua) - conns, 1); /* one connection, one handle */
    outbound_free(r.ob);
    loop_free(r.lp);
}

struct many {
    struct loop *lp;
    int done, ok, cancelled;
};

static void
many_done(struct out_response *res, void *arg)
{
    struct many *m = arg;

    m->done++;
    if (res->fail == OUT_OK && res->status == 200)
        m->ok++;
    if (res->fail == OUT_FAIL_CANCELLED)
        m->cancelled++;
    if (m->done == 11)
        loop_stop(m->lp);
}

/* Ten transfers in flight at once plus one cancelled; then outbound_free()
 * cancels what is still running. */
static void
outbound_async_concurrent_cancel_free(void **state)
{
    struct many m = {0};
    struct outbound *ob;
    struct out_handle *h;
    struct out_request rq;
    char url[128];
    (void)state;

    assert_int_equal(loop_new(&m.lp), ERR_OK);
    assert_int_equal(outbound_new(m.lp, &pol_a, &ob), ERR_OK);
    fmt(url, sizeof(url), "http://127.0.0.2:%d/slow?ms=100", upstream_port(ua));
    for (int i = 0; i < 10; i++) {
        init_rq(&rq, "GET", url, NULL);
        assert_int_equal(outbound_send(ob, &rq, many_done, &m, NULL), ERR_OK);
    }
    fmt(url, sizeof(url), "http://127.0.0.2:%d/slow?ms=3000", upstream_port(ua));
    init_rq(&rq, "GET", url, NULL);
    assert_int_equal(outbound_send(ob, &rq, many_done, &m, &h), ERR_OK);
    outbound_cancel(h);
    assert_int_equal(m.done, 0);
    assert_int_equal(loop_run(m.lp), ERR_OK);
    assert_int_equal(m.ok, 10);
    assert_int_equal(m.cancelled, 1);

    init_rq(&rq, "GET", url, NULL);
    assert_int_equal(outbound_send(ob, &rq, many_done, &m, NULL), ERR_OK);
    outbound_free(ob); /* runs done() with OUT_FAIL_CANCELLED */
    assert_int_equal(m.cancelled, 2);
    loop_free(m.lp);
}

struct wave {
    struct loop *lp;
    struct outbound *ob;
    char url[128];
    int want, round, done, ok[2];
    unsigned conns[3];
};

static void wave_start(struct wave *w);

static void
wave_done(struct out_response *res, void *arg)
{
    struct wave *w = arg;

    if (res->fail == OUT_OK && res->status == 200)
        w->ok[w->round]++;
    if (++w->done < w->want)
        return;
    w->conns[++w->round] = upstream_connections(ua);
    if (w->round < 2)
        wave_start(w); /* the second wave, from the loop */
    else
        loop_stop(w->lp);
}

static void
wave_start(struct wave *w)
{
    struct out_request rq;

    w->done = 0;
    for (int i = 0; i < w->want; i++) {
        init_rq(&rq, "GET", w->url, NULL);
        assert_int_equal(outbound_send(w->ob, &rq, wave_done, w, NULL), ERR_OK);
    }
}

/* More transfers in flight than one client has multi handles (OB_SHARDS = 32,
 * each with its own pool): all complete, and a second identical wave reuses
 * every connection of the first (no new connection at the upstream). */
static void
outbound_async_shards_reuse(void **state)
{
    struct wave w = {.want = 40};
    (void)state;

    assert_int_equal(loop_new(&w.lp), ERR_OK);
    assert_int_equal(outbound_new(w.lp, &pol_a, &w.ob), ERR_OK);
    fmt(w.url, sizeof(w.url), "http://127.0.0.2:%d/slow?ms=50", upstream_port(ua));
    w.conns[0] = upstream_connections(ua);
    wave_start(&w);
    assert_int_equal(loop_run(w.lp), ERR_OK);
    assert_int_equal(w.ok[0], w.want);
    assert_int_equal(w.ok[1], w.want);
    assert_int_equal(w.conns[1] - w.conns[0], (unsigned)w.want);
    assert_int_equal(w.conns[2] - w.conns[1], 0);
    outbound_free(w.ob);
    loop_free(w.lp);
}

/* The easy-handle pool (OB_EASY_KEEP, OB_EASY_TRIM_MS). Transfers to a port where nothing
 * listens are all in flight at once, each on its own handle, and fail at connect. The
 * steps run from one loop_run (a stopped loop stays stopped). */
struct pool_test {
    struct loop *lp;
    struct outbound *ob;
    struct loop_timer next;
    int step, want, done, refused;
    CURL *kept[OB_EASY_KEEP + 1];
};

static int
ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (CURL *const *)a, y = (uintptr_t) * (CURL *const *)b;

    return x < y ? -1 : x > y;
}

/* The pool's handles, sorted: the same set in another order compares equal. */
static void
pool_sorted(const struct outbound *ob, CURL **out)
{
    memcpy(out, ob->pool, ob->npool * sizeof(*out));
    qsort(out, ob->npool, sizeof(*out), ptr_cmp);
}

static void pool_step(struct loop *lp, void *arg);

static void
pool_wave_done(struct out_response *res, void *arg)
{
    struct pool_test *t = arg;

    t->refused += res->fail == OUT_FAIL_CONNECT;
    if (++t->done == t->want)
        loop_timer_start(t->lp, &t->next, 0, pool_step, t);
}

static void
pool_wave(struct pool_test *t, int n)
{
    struct out_request rq;

    t->want = n;
    t->done = t->refused = 0;
    for (int i = 0; i < n; i++) {
        init_rq(&rq, "GET", "http://127.0.0.2:9/x", NULL); /* discard: closed */
        assert_int_equal(outbound_send(t->ob, &rq, pool_wave_done, t, NULL), ERR_OK);
    }
}

static void
pool_step(struct loop *lp, void *arg)
{
    struct pool_test *t = arg;

    if (t->step > 0 && t->want > 0) {
        assert_int_equal(t->done, t->want);
        assert_int_equal(t->refused, t->want);
        t->want = 0;
    }
    switch (t->step++) {
    case 0:
        t->ob->trim_ms = 100000; /* no trim while the big waves run */
        pool_wave(t, OB_EASY_KEEP + 1);
        return;
    case 1: /* N + 1 in flight at once: all N + 1 kept */
        assert_int_equal(t->ob->npool, OB_EASY_KEEP + 1);
        assert_true(loop_timer_armed(&t->ob->trim));
        pool_sorted(t->ob, t->kept);
        pool_wave(t, OB_EASY_KEEP + 1);
        return;
    case 2: { /* the same handles again, none made anew */
        CURL *now[OB_EASY_KEEP + 1];

        assert_int_equal(t->ob->npool, OB_EASY_KEEP + 1);
        pool_sorted(t->ob, now);
        assert_memory_equal(now, t->kept, sizeof(now));
    }
        /* A short period from here: the next put arms it, and a transfer inside it takes a
         * handle. */
        loop_timer_stop(lp, &t->ob->trim);
        t->ob->trim_ms = 500;
        pool_wave(t, 1);
        return;
    case 3:
        assert_true(loop_timer_armed(&t->ob->trim));
        pool_wave(t, 1);
        return;
    case 4:
        loop_timer_start(lp, &t->next, 600, pool_step, t);
        return;
    case 5: /* one handle was in use during that period: nothing freed */
        assert_int_equal(t->ob->npool, OB_EASY_KEEP + 1);
        assert_true(loop_timer_armed(&t->ob->trim));
        loop_timer_start(lp, &t->next, 600, pool_step, t);
        return;
    case 6: /* all idle through this one: back to N, and no more trimming */
        assert_int_equal(t->ob->npool, OB_EASY_KEEP);
        assert_false(loop_timer_armed(&t->ob->trim));
        loop_timer_start(lp, &t->next, 600, pool_step, t);
        return;
    default: /* a pool of N is never trimmed */
        assert_int_equal(t->ob->npool, OB_EASY_KEEP);
        loop_stop(lp);
    }
}

/* OB_EASY_KEEP + 1 transfers in flight at once leave all their handles in the pool (N + 1
 * kept, and the next such wave makes none anew). A trim period in which a handle was taken
 * frees nothing; after one in which they all stayed idle the pool is back to OB_EASY_KEEP
 * (N), and a pool of N is never trimmed. */
static void
outbound_easy_pool_follows_demand(void **state)
{
    struct pool_test t = {0};

    (void)state;
    assert_int_equal(loop_new(&t.lp), ERR_OK);
    assert_int_equal(outbound_new(t.lp, &pol_a, &t.ob), ERR_OK);
    loop_timer_start(t.lp, &t.next, 0, pool_step, &t);
    assert_int_equal(loop_run(t.lp), ERR_OK);
    assert_int_equal(t.step, 8);
    outbound_free(t.ob);
    loop_free(t.lp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ssrf_a_blocked_at_connect),
        cmocka_unit_test(ssrf_131_mixed_answers_never_reach_denied),
        cmocka_unit_test(ssrf_134_135_rebinding_checked_at_connect),
        cmocka_unit_test(ssrf_136_rebinding_on_connection_reuse),
        cmocka_unit_test(ssrf_refusal_logged_without_query),
        cmocka_unit_test(ssrf_allowed_upstream_answers),
        cmocka_unit_test(ssrf_connect_error_is_not_blocked),
        cmocka_unit_test(ssrf_a9_redirect_targets_refused),
        cmocka_unit_test(ssrf_124_credentials_only_over_https),
        cmocka_unit_test(ssrf_144_cross_origin_drops_credentials),
        cmocka_unit_test(ssrf_145_same_origin_keeps_credentials),
        cmocka_unit_test(ssrf_146_redirect_limit),
        cmocka_unit_test(ssrf_147_method_and_body_on_redirect),
        cmocka_unit_test(parse_027_030_upstream_limits),
        cmocka_unit_test(ssrf_150_151_env_proxy_ignored),
        cmocka_unit_test(outbound_async_keepalive_reuse),
        cmocka_unit_test(outbound_reused_handle_carries_nothing_over),
        cmocka_unit_test(outbound_async_shards_reuse),
        cmocka_unit_test(outbound_easy_pool_follows_demand),
        cmocka_unit_test(outbound_async_concurrent_cancel_free),
    };
    /* Several cases aim at addresses off this machine (SSRF-040's metadata
     * address, 10.0.0.1...): in a namespace of its own, a guard that let one
     * through reaches nothing. */
    if (netns_isolate() != 0 || netns_add_addr("45.0.0.7") != 0)
        return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}
