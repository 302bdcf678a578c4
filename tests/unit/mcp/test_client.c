/* The MCP client transport against the scripted loopback server
 * (tests/support/mcp_server.c on 127.0.0.2; the SSRF policy allows exactly
 * 127.0.0.2/32): both transports and AUTO, sessions and expiry, paging and
 * its limits, adversarial answers, auth, and the async contract. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "mcp/client.h"
#include "mcp/client_int.h"
#include "support/mcp_server.h"
#include "support/upstream.h"

static struct mcp_server *srv;
static struct loop *lp;
static struct outbound *ob;
static struct ssrf_policy pol;

struct result {
    bool called;
    int calls;
    enum err e;
    json_t *r;
    struct errinfo ei;
};

static void
on_guard(struct loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
}

static int64_t settle_ms; /* keep the loop running this long after done() */
static struct loop_timer stop_timer;
/* With settle_until set, the loop after done() runs until it holds (checked
 * every 10 ms) rather than for settle_ms, and at most SETTLE_MAX_MS: a
 * fire-and-forget request (a reply to the server's ping, the DELETE) may take
 * longer than a fixed wait on a loaded machine. */
#define SETTLE_MAX_MS 5000
static bool (*settle_until)(void);
static int64_t settle_waited;

static void
on_settle(struct loop *l, void *arg)
{
    (void)arg;
    if (settle_until() || settle_waited >= SETTLE_MAX_MS) {
        loop_stop(l);
        return;
    }
    settle_waited += 10;
    loop_timer_start(l, &stop_timer, 10, on_settle, NULL);
}

static void
on_done(enum err e, json_t *r, const struct errinfo *ei, void *arg)
{
    struct result *res = arg;

    res->called = true;
    res->calls++;
    res->e = e;
    res->r = r;
    if (ei != NULL)
        res->ei = *ei;
    settle_waited = 0;
    if (settle_until != NULL)
        loop_timer_start(lp, &stop_timer, 0, on_settle, NULL);
    else
        loop_timer_start(lp, &stop_timer, settle_ms, on_guard, NULL);
}

/* A loop's stop is sticky: every operation gets a fresh loop and outbound
 * (sessions live in the cache, which does not depend on either). */
static void
begin(void)
{
    assert_int_equal(loop_new(&lp), ERR_OK);
    assert_int_equal(outbound_new(lp, &pol, &ob), ERR_OK);
    memset(&stop_timer, 0, sizeof(stop_timer));
}

/* Runs the loop until done() (+ settle_ms, to let fire-and-forget requests
 * such as notifications/cancelled finish), or ms passed; then frees it. */
static void
run(struct result *res, int64_t ms)
{
    struct loop_timer guard = {0};

    loop_timer_start(lp, &guard, ms, on_guard, NULL);
    assert_int_equal(loop_run(lp), ERR_OK);
    loop_timer_stop(lp, &guard);
    loop_timer_stop(lp, &stop_timer);
    outbound_free(ob);
    loop_free(lp);
    lp = NULL;
    ob = NULL;
    settle_ms = 0;
    settle_until = NULL;
    (void)res;
}

static void
settle(int64_t ms)
{
    settle_ms = ms;
}

static void
url(char *out, size_t n, const char *path)
{
    snprintf(out, n, "http://127.0.0.2:%d%s", mcp_server_port(srv), path);
}

static void
set(const struct ms_opts *o)
{
    mcp_server_set(srv, o);
}

static void
discover(enum mcp_transport tr, const char *path, const struct out_header *h, size_t nh,
         uint32_t timeout_ms, struct result *res)
{
    char u[128];
    struct mcp_target t = {u, tr, h, nh, timeout_ms};
    struct errinfo ei;

    url(u, sizeof(u), path);
    memset(res, 0, sizeof(*res));
    begin();
    assert_int_equal(mcp_discover(ob, &t, on_done, res, &ei), ERR_OK);
    assert_false(res->called); /* never from inside the starting call */
    run(res, 30000);
    assert_true(res->called);
    assert_int_equal(res->calls, 1);
}

static void
call(struct mcp_session_cache *cache, enum mcp_transport tr, const char *path, const char *tool,
     const char *args, uint32_t timeout_ms, struct result *res)
{
    char u[128];
    struct mcp_target t = {u, tr, NULL, 0, timeout_ms};
    struct errinfo ei;
    json_t *a = args ? json_loads(args, 0, NULL) : NULL;

    url(u, sizeof(u), path);
    memset(res, 0, sizeof(*res));
    begin();
    assert_int_equal(mcp_call_tool(ob, cache, "ws1/conn1", &t, tool, a, on_done, res, &ei), ERR_OK);
    json_decref(a);
    assert_false(res->called);
    run(res, 30000);
    assert_true(res->called);
}

static void
release(struct result *res)
{
    json_decref(res->r);
    res->r = NULL;
}

static const char *
text0(const struct result *res)
{
    json_t *c = json_array_get(json_object_get(res->r, "content"), 0);
    return json_string_value(json_object_get(c, "text"));
}

static int
setup(void **state)
{
    struct errinfo ei;

    (void)state;
    log_set_level(getenv("MCPC_DEBUG") ? LOG_DEBUG : LOG_ERROR);
    srv = mcp_server_start("127.0.0.2");
    if (srv == NULL || ssrf_policy_parse(&pol, "127.0.0.2/32", &ei) != ERR_OK)
        return -1;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    mcp_server_stop(srv);
    return 0;
}

/* ---- discovery ---- */

static bool sse_case;

/* The discovery's DELETE, and in the SSE case the reply to the server's ping, arrived. */
static bool
discover_settled(void)
{
    struct ms_counts n;

    mcp_server_counts(srv, &n);
    return n.deletes >= 1 && (!sse_case || n.replies >= 1);
}

static void
test_discover_streamable(void **state)
{
    static const struct {
        bool sse;
    } cases[] = {{false}, {true}};
    struct ms_counts n;
    struct result res;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ms_opts o = {.sse_answers = cases[i].sse};
        json_t *tools;
        set(&o);
        sse_case = cases[i].sse;
        settle_until = discover_settled;
        discover(MCP_STREAMABLE_HTTP, "/mcp", NULL, 0, 0, &res);
        assert_int_equal(res.e, ERR_OK);
        assert_string_equal(json_string_value(json_object_get(res.r, "transport")),
                            "streamable_http");
        assert_string_equal(json_string_value(json_object_get(res.r, "protocol_version")),
                            "2025-11-25");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(res.r, "server"), "name")),
            "mcp-test");
        assert_non_null(json_object_get(res.r, "instructions"));
        tools = json_object_get(res.r, "tools");
        assert_int_equal(json_array_size(tools), 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(tools, 0), "name")),
                            "echo");
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(tools, 0), "tool_name")), "echo");
        assert_true(json_is_object(json_object_get(json_array_get(tools, 0), "input_schema")));
        assert_true(json_is_array(json_object_get(res.r, "warnings")));
        release(&res);
        mcp_server_counts(srv, &n);
        assert_int_equal(n.initialize, 1);
        assert_int_equal(n.initialized, 1);
        assert_int_equal(n.deletes, 1);
        assert_int_equal(n.missing_version, 0);
        if (cases[i].sse)
            assert_true(n.replies >= 1); /* the server's ping was answered */
    }
}

static void
test_discover_legacy_and_auto(void **state)
{
    static const struct {
        enum mcp_transport tr;
        const char *path, *want;
        size_t warnings;
    } cases[] = {
        {MCP_SSE, "/sse", "sse", 0},
        {MCP_AUTO, "/sse", "sse", 1}, /* POST /sse is 405: fall back */
        {MCP_AUTO, "/mcp", "streamable_http", 0},
    };
    struct ms_opts o = {0};
    struct result res;

    (void)state;
    set(&o);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        discover(cases[i].tr, cases[i].path, NULL, 0, 0, &res);
        assert_int_equal(res.e, ERR_OK);
        assert_string_equal(json_string_value(json_object_get(res.r, "transport")), cases[i].want);
        assert_int_equal(json_array_size(json_object_get(res.r, "tools")), 3);
        assert_int_equal(json_array_size(json_object_get(res.r, "warnings")), cases[i].warnings);
        release(&res);
    }
}

static void
test_discover_paging_limits(void **state)
{
    static const struct {
        int tools, page; /* +3 fixed tools */
        bool repeat;
        enum err e;
        const char *code;
        size_t n;
    } cases[] = {
        {9997, 100, false, ERR_OK, NULL, 10000}, /* MCP_MAX_TOOLS exactly, 100 pages */
        {9998, 100, false, ERR_TOO_LARGE, NULL, 0},
        {7, 3, false, ERR_OK, NULL, 10},
        {10, 5, true, ERR_UPSTREAM, "mcp_cursor_repeat", 0},
    };
    struct result res;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ms_opts o = {
            .tools = cases[i].tools, .page = cases[i].page, .repeat_cursor = cases[i].repeat};
        set(&o);
        discover(MCP_STREAMABLE_HTTP, "/mcp", NULL, 0, 0, &res);
        if (res.e != cases[i].e)
            fail_msg("case %zu: error %d (%s: %s), expected %d", i, res.e, res.ei.code, res.ei.msg,
                     cases[i].e);
        if (cases[i].code)
            assert_string_equal(res.ei.code, cases[i].code);
        if (res.e == ERR_OK) {
            json_t *tools = json_object_get(res.r, "tools");
            assert_int_equal(json_array_size(tools), cases[i].n);
            assert_string_equal(
                json_string_value(json_object_get(json_array_get(tools, 3), "tool_name")),
                "tool_00000");
        }
        release(&res);
    }
}

/* ---- tools/call ---- */

static void
test_call_results(void **state)
{
    static const struct {
        enum mcp_transport tr;
        const char *path;
        bool sse;
    } tr[] = {
        {MCP_STREAMABLE_HTTP, "/mcp", false},
        {MCP_STREAMABLE_HTTP, "/mcp", true},
        {MCP_SSE, "/sse", false},
        {MCP_AUTO, "/sse", false},
    };
    struct result res;

    (void)state;
    for (size_t i = 0; i < sizeof(tr) / sizeof(tr[0]); i++) {
        struct ms_opts o = {.sse_answers = tr[i].sse};
        set(&o);
        call(NULL, tr[i].tr, tr[i].path, "echo", "{\"message\":\"hi\"}", 0, &res);
        assert_int_equal(res.e, ERR_OK);
        assert_string_equal(text0(&res), "Echo: hi");
        assert_false(json_is_true(json_object_get(res.r, "isError")));
        release(&res);
        call(NULL, tr[i].tr, tr[i].path, "add", "{\"a\":2,\"b\":40}", 0, &res);
        assert_int_equal(res.e, ERR_OK);
        assert_true(json_number_value(json_object_get(json_object_get(res.r, "structuredContent"),
                                                      "sum")) == 42.0);
        release(&res);
        call(NULL, tr[i].tr, tr[i].path, "fail", NULL, 0, &res);
        assert_int_equal(res.e, ERR_OK); /* a tool error is a result */
        assert_true(json_is_true(json_object_get(res.r, "isError")));
        release(&res);
        call(NULL, tr[i].tr, tr[i].path, "nope", NULL, 0, &res);
        assert_int_equal(res.e, ERR_UPSTREAM);
        assert_string_equal(res.ei.code, "mcp_error");
        assert_non_null(strstr(res.ei.msg, "-32602"));
        assert_null(res.r);
    }
}

/* A tools/call whose SSE stream stops before the response is resumed with
 * GET + Last-Event-ID (the id of the last event seen), after the server's
 * retry:, on a cut connection and on a clean end alike; MCP_MAX_RESUMES
 * resumptions are fine, one more drop is a clear error. */
static void
test_call_resume(void **state)
{
    static const struct {
        int drops;
        bool clean;
        enum err e;
    } cases[] = {
        {1, false, ERR_OK},
        {1, true, ERR_OK},
        {MCP_MAX_RESUMES, false, ERR_OK},
        {MCP_MAX_RESUMES + 1, false, ERR_UPSTREAM},
        {MCP_MAX_RESUMES + 1, true, ERR_UPSTREAM},
    };
    struct ms_counts n;
    struct result res;
    char want[32];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ms_opts o = {.drops = cases[i].drops, .drop_clean = cases[i].clean};
        set(&o);
        call(NULL, MCP_STREAMABLE_HTTP, "/mcp", "echo", "{\"message\":\"resumed\"}", 0, &res);
        mcp_server_counts(srv, &n);
        assert_int_equal(res.e, cases[i].e);
        if (cases[i].e == ERR_OK) {
            assert_string_equal(text0(&res), "Echo: resumed");
            assert_int_equal(n.resumes, cases[i].drops);
            /* each dropped stream carried the priming event and one progress */
            assert_int_equal(json_integer_value(json_object_get(json_object_get(res.r, "progress"),
                                                                "notifications")),
                             cases[i].drops);
        } else {
            assert_string_equal(res.ei.code, "mcp_no_response");
            assert_non_null(strstr(res.ei.msg, "MCP_MAX_RESUMES"));
            assert_int_equal(n.resumes, MCP_MAX_RESUMES);
        }
        /* every stream gave two ids: the GET names the last one of the stream before */
        snprintf(want, sizeof(want), "ev-%d", 2 * n.resumes);
        assert_string_equal(n.last_event_id, want);
        assert_int_equal(n.tools_call, 1); /* resumed, never sent again */
        release(&res);
    }
}

/* Progress for the call's token is counted and the last one returned;
 * tools/list_changed on the call's own stream is reported, on a new session
 * as on a reused one. */
static void
test_call_progress_and_list_changed(void **state)
{
    struct mcp_session_cache *cache = mcp_session_cache_new();
    struct ms_opts o = {.sse_answers = true, .list_changed = true};
    struct ms_counts n;
    struct result res;
    json_t *p;

    (void)state;
    set(&o);
    call(cache, MCP_STREAMABLE_HTTP, "/mcp", "echo", "{\"message\":\"a\"}", 0, &res);
    assert_int_equal(res.e, ERR_OK);
    mcp_server_counts(srv, &n);
    assert_true(n.progress_token > 0); /* a progress token was sent */
    p = json_object_get(res.r, "progress");
    assert_int_equal(json_integer_value(json_object_get(p, "notifications")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "last"), "total")), 2);
    assert_true(json_is_true(json_object_get(res.r, "tools_list_changed"))); /* new session */
    release(&res);
    call(cache, MCP_STREAMABLE_HTTP, "/mcp", "echo", "{\"message\":\"b\"}", 0, &res);
    assert_int_equal(res.e, ERR_OK);
    assert_true(json_is_true(json_object_get(res.r, "tools_list_changed")));
    release(&res);
    o.list_changed = false;
    set(&o);
    call(cache, MCP_STREAMABLE_HTTP, "/mcp", "echo", "{\"message\":\"c\"}", 0, &res);
    assert_int_equal(res.e, ERR_OK);
    assert_null(json_object_get(res.r, "tools_list_changed"));
    release(&res);
    mcp_session_cache_free(cache);
}

static void
test_session_reuse_and_expiry(void **state)
{
    static const struct {
        int expire_after;
        bool expire_400;
        int calls;
        enum err last;
        const char *code;
        int inits;
    } cases[] = {
        {0, false, 3, ERR_OK, NULL, 1},                     /* reuse */
        {2, false, 2, ERR_OK, NULL, 2},                     /* 404 -> re-init once */
        {2, true, 2, ERR_OK, NULL, 2},                      /* 400 "No valid session" */
        {1, false, 1, ERR_UPSTREAM, "mcp_session_lost", 2}, /* dies again: no loop */
    };
    struct ms_counts n;
    struct result res;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mcp_session_cache *cache = mcp_session_cache_new();
        struct ms_opts o = {.expire_after = cases[i].expire_after,
                            .expire_400 = cases[i].expire_400};
        set(&o);
        for (int k = 0; k < cases[i].calls; k++) {
            call(cache, MCP_STREAMABLE_HTTP, "/mcp", "echo", "{\"message\":\"x\"}", 0, &res);
            if (k + 1 < cases[i].calls)
                assert_int_equal(res.e, ERR_OK);
            release(&res);
        }
        assert_int_equal(res.e, cases[i].last);
        if (cases[i].code)
            assert_string_equal(res.ei.code, cases[i].code);
        else
            assert_int_equal(mcp_session_cache_size(cache), 1);
        mcp_server_counts(srv, &n);
        assert_int_equal(n.initialize, cases[i].inits);
        mcp_session_cache_free(cache);
    }
}

static void
test_call_adversarial(void **state)
{
    static const struct {
        const char *name;
        enum mcp_transport tr;
        const char *path;
        enum ms_call mode;
        bool sse;
        uint32_t timeout_ms;
        enum err e;
        const char *code;
    } cases[] = {
        {"garbage", MCP_STREAMABLE_HTTP, "/mcp", MS_CALL_GARBAGE, false, 0, ERR_UPSTREAM,
         "mcp_bad_message"},
        {"wrong id", MCP_STREAMABLE_HTTP, "/mcp", MS_CALL_WRONG_ID, false, 0, ERR_UPSTREAM,
         "mcp_no_response"},
        {"wrong id sse", MCP_STREAMABLE_HTTP, "/mcp", MS_CALL_WRONG_ID, true, 0, ERR_UPSTREAM,
         "mcp_no_response"},
        {"oversized", MCP_STREAMABLE_HTTP, "/mcp", MS_CALL_OVERSIZED, false, 0, ERR_TOO_LARGE,
         "mcp_too_large"},
        {"oversized sse", MCP_STREAMABLE_HTTP, "/mcp", MS_CALL_OVERSIZED, true, 0, ERR_TOO_LARGE,
         "mcp_too_large"},
        {"never", MCP_STREAMABLE_HTTP, "/mcp", MS_CALL_NEVER, false, 600, ERR_TIMEOUT, "timeout"},
        {"endless", MCP_STREAMABLE_HTTP, "/mcp", MS_CALL_ENDLESS, false, 800, ERR_TIMEOUT,
         "timeout"},
        {"legacy never", MCP_SSE, "/sse", MS_CALL_NEVER, false, 600, ERR_TIMEOUT, "timeout"},
        {"legacy garbage", MCP_SSE, "/sse", MS_CALL_GARBAGE, false, 600, ERR_TIMEOUT, "timeout"},
    };
    struct ms_counts n;
    struct result res;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ms_opts o = {.call = cases[i].mode, .sse_answers = cases[i].sse};
        print_message("case %s\n", cases[i].name);
        set(&o);
        settle(300);
        call(NULL, cases[i].tr, cases[i].path, "echo", NULL, cases[i].timeout_ms, &res);
        /* An endless stream is bounded by whichever limit comes first: at
         * loopback speed the 64 MiB stream cap can beat the timeout. */
        if (cases[i].mode == MS_CALL_ENDLESS && res.e == ERR_TOO_LARGE) {
            assert_string_equal(res.ei.code, "mcp_too_large");
            assert_null(res.r);
            continue;
        }
        assert_int_equal(res.e, cases[i].e);
        assert_string_equal(res.ei.code, cases[i].code);
        assert_null(res.r);
        if (cases[i].e == ERR_TIMEOUT) {
            mcp_server_counts(srv, &n);
            assert_int_equal(n.cancelled, 1); /* notifications/cancelled was sent */
        }
    }
}

/* SSRF-166: a legacy `endpoint` event on another origin ends the session. */
static void
test_legacy_other_origin(void **state)
{
    struct ms_opts o = {.other_origin = true};
    struct result res;

    (void)state;
    set(&o);
    discover(MCP_SSE, "/sse", NULL, 0, 0, &res);
    assert_int_equal(res.e, ERR_UPSTREAM);
    assert_string_equal(res.ei.code, "mcp_endpoint_origin");
}

/* SSRF-167: an MCP server that redirects to an internal address. The hop is
 * checked like the first one: 302/303 (the POST becomes a GET) reach the
 * connect-time guard and are blocked; 307 (POST kept) is not replayed across
 * origins. The canary on 127.0.0.1 sees no connection. */
static void
test_redirect_to_internal(void **state)
{
    static const struct {
        enum mcp_transport tr;
        const char *code, *want;
    } cases[] = {
        {MCP_STREAMABLE_HTTP, "302", "blocked"},
        {MCP_STREAMABLE_HTTP, "303", "blocked"},
        {MCP_STREAMABLE_HTTP, "307", "too_many_redirects"},
        {MCP_SSE, "302", "blocked"},
        {MCP_AUTO, "302", "blocked"},
    };
    struct upstream *up = upstream_start("127.0.0.2");
    struct canary *c = canary_start("127.0.0.1");

    (void)state;
    assert_non_null(up);
    assert_non_null(c);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char u[256];
        struct mcp_target t = {u, cases[i].tr, NULL, 0, 0};
        struct result res = {0};
        struct errinfo ei;

        snprintf(u, sizeof(u), "http://127.0.0.2:%d/redirect?code=%s&to=http://127.0.0.1:%d/mcp",
                 upstream_port(up), cases[i].code, canary_port(c));
        begin();
        assert_int_equal(mcp_discover(ob, &t, on_done, &res, &ei), ERR_OK);
        run(&res, 30000);
        assert_true(res.called);
        assert_null(res.r);
        if (strcmp(res.ei.code, cases[i].want) != 0)
            fail_msg("%s %s: got %s (%s)", cases[i].code, u, res.ei.code, res.ei.msg);
        assert_int_equal(canary_hits(c), 0);
    }
    canary_stop(c);
    upstream_stop(up);
}

/* SSRF-166: relative endpoints on the same origin are accepted; another
 * port, scheme or host (or a scheme-relative URL) is refused. */
static void
test_resolve_endpoint(void **state)
{
    static const struct {
        const char *ref, *want; /* want NULL: refused */
    } cases[] = {
        {"/message?sessionId=a", "http://127.0.0.2:8080/message?sessionId=a"},
        {"message?sessionId=a", "http://127.0.0.2:8080/x/message?sessionId=a"},
        {"http://127.0.0.2:8080/m", "http://127.0.0.2:8080/m"},
        {"http://127.0.0.2:8081/m", NULL},
        {"https://127.0.0.2:8080/m", NULL},
        {"http://127.0.0.3:8080/m", NULL},
        {"//evil.example/m", NULL},
        {"", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct errinfo ei;
        char *out = NULL;
        enum err e = mcp_resolve_endpoint("http://127.0.0.2:8080/x/sse", cases[i].ref, &out, &ei);
        if (cases[i].want) {
            assert_int_equal(e, ERR_OK);
            assert_string_equal(out, cases[i].want);
        } else {
            assert_int_equal(e, ERR_UPSTREAM);
            assert_null(out);
        }
        free(out);
    }
}

static void
test_auth(void **state)
{
    static const struct {
        enum mcp_transport tr;
        const char *path;
    } tr[] = {{MCP_STREAMABLE_HTTP, "/mcp"}, {MCP_SSE, "/sse"}, {MCP_AUTO, "/mcp"}};
    char hn[] = "Authorization", gv[] = "Bearer right-token", bv[] = "Bearer WRONG-SECRET";
    struct out_header good = {hn, gv, true};
    struct out_header bad = {hn, bv, true};
    struct ms_opts o = {.token = "right-token"};
    struct result res;

    (void)state;
    set(&o);
    for (size_t i = 0; i < sizeof(tr) / sizeof(tr[0]); i++) {
        discover(tr[i].tr, tr[i].path, &good, 1, 0, &res);
        assert_int_equal(res.e, ERR_OK);
        release(&res);
        discover(tr[i].tr, tr[i].path, &bad, 1, 0, &res);
        assert_int_equal(res.e, ERR_UPSTREAM);
        assert_string_equal(res.ei.code, "mcp_unauthorized");
        assert_null(strstr(res.ei.msg, "WRONG-SECRET"));
        discover(tr[i].tr, tr[i].path, NULL, 0, 0, &res);
        assert_string_equal(res.ei.code, "mcp_unauthorized");
    }
}

static void
test_transport_errors(void **state)
{
    char u[128];
    struct result res;
    struct mcp_target t = {u, MCP_STREAMABLE_HTTP, NULL, 0, 0};
    struct errinfo ei;

    (void)state;
    /* outside the allow list: the SSRF guard */
    snprintf(u, sizeof(u), "http://127.0.0.3:%d/mcp", mcp_server_port(srv));
    memset(&res, 0, sizeof(res));
    begin();
    assert_int_equal(mcp_discover(ob, &t, on_done, &res, &ei), ERR_OK);
    run(&res, 10000);
    assert_int_equal(res.e, ERR_FORBIDDEN);
    assert_string_equal(res.ei.code, "blocked");
    /* nothing listening */
    snprintf(u, sizeof(u), "http://127.0.0.2:1/mcp");
    memset(&res, 0, sizeof(res));
    begin();
    assert_int_equal(mcp_discover(ob, &t, on_done, &res, &ei), ERR_OK);
    run(&res, 10000);
    assert_int_equal(res.e, ERR_UPSTREAM);
    assert_string_equal(res.ei.code, "connect_failed");
    /* refused before starting: done() never runs */
    begin();
    t.url = "ftp://127.0.0.2/x";
    assert_int_equal(mcp_discover(ob, &t, on_done, &res, &ei), ERR_INVALID);
    t.url = u;
    assert_int_equal(mcp_call_tool(ob, NULL, NULL, &t, "", NULL, on_done, &res, &ei), ERR_INVALID);
    run(&res, 10);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discover_streamable),
        cmocka_unit_test(test_discover_legacy_and_auto),
        cmocka_unit_test(test_discover_paging_limits),
        cmocka_unit_test(test_call_results),
        cmocka_unit_test(test_session_reuse_and_expiry),
        cmocka_unit_test(test_call_resume),
        cmocka_unit_test(test_call_progress_and_list_changed),
        cmocka_unit_test(test_call_adversarial),
        cmocka_unit_test(test_legacy_other_origin),
        cmocka_unit_test(test_resolve_endpoint),
        cmocka_unit_test(test_redirect_to_internal),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_transport_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
