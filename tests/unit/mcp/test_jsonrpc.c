/* Tests for src/mcp/jsonrpc.c: building, classification, bounds (PARSE-026). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/jsonrpc.h"

static void
test_build_requests(void **state)
{
    struct jsonrpc_client c;
    struct buf b;
    struct errinfo ei;
    struct mcp_client_info ci = {"2025-11-25", "connhub", "0.1", NULL};
    json_t *args = json_pack("{s:i,s:i}", "a", 2, "b", 40), *tok = json_string("tok-1");
    int64_t id;

    (void)state;
    jsonrpc_client_init(&c, NULL);
    buf_init(&b, 1 << 16);
    assert_int_equal(jsonrpc_build_initialize(&c, &ci, &b, &id, &ei), ERR_OK);
    assert_int_equal(id, 1);
    assert_string_equal(b.data,
                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
                        "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
                        "\"clientInfo\":{\"name\":\"connhub\",\"version\":\"0.1\"}}}");
    buf_reset(&b);
    assert_int_equal(jsonrpc_build_initialized(&b, &ei), ERR_OK);
    assert_string_equal(b.data, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    buf_reset(&b);
    assert_int_equal(jsonrpc_build_tools_list(&c, NULL, &b, &id, &ei), ERR_OK);
    assert_int_equal(id, 2);
    assert_string_equal(b.data, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
    buf_reset(&b);
    assert_int_equal(jsonrpc_build_tools_list(&c, "eyJvIjo1MH0", &b, &id, &ei), ERR_OK);
    assert_string_equal(b.data, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\","
                                "\"params\":{\"cursor\":\"eyJvIjo1MH0\"}}");
    buf_reset(&b);
    assert_int_equal(jsonrpc_build_tools_call(&c, "get-sum", args, tok, &b, &id, &ei), ERR_OK);
    assert_string_equal(b.data,
                        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
                        "{\"name\":\"get-sum\",\"arguments\":{\"a\":2,\"b\":40},"
                        "\"_meta\":{\"progressToken\":\"tok-1\"}}}");
    assert_string_equal(jsonrpc_pending_find(&c, 4)->method, "tools/call");
    buf_reset(&b);
    assert_int_equal(jsonrpc_build_cancelled(&c, 4, "timeout", &b, &ei), ERR_OK);
    assert_string_equal(b.data, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                                "\"params\":{\"requestId\":4,\"reason\":\"timeout\"}}");
    assert_null(jsonrpc_pending_find(&c, 4));
    /* initialize is never cancelled; unknown ids neither */
    assert_int_equal(jsonrpc_build_cancelled(&c, 1, NULL, &b, &ei), ERR_INVALID);
    assert_string_equal(ei.code, "mcp_cannot_cancel");
    assert_int_equal(jsonrpc_build_cancelled(&c, 99, NULL, &b, &ei), ERR_INVALID);
    /* bad input */
    assert_int_equal(jsonrpc_build_tools_call(&c, "x", tok, NULL, &b, &id, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "arguments");
    assert_int_equal(jsonrpc_build_request(&c, "", NULL, &b, &id, &ei), ERR_INVALID);
    json_decref(args);
    json_decref(tok);
    buf_release(&b);
    jsonrpc_client_release(&c);
}

static void
test_build_limits(void **state)
{
    struct jsonrpc_limits lim;
    struct jsonrpc_client c;
    struct buf b;
    struct errinfo ei;
    int64_t id;

    (void)state;
    jsonrpc_limits_default(&lim);
    lim.max_pending = 2;
    jsonrpc_client_init(&c, &lim);
    buf_init(&b, 1 << 16);
    assert_int_equal(jsonrpc_build_ping(&c, &b, &id, &ei), ERR_OK);
    assert_int_equal(jsonrpc_build_ping(&c, &b, &id, &ei), ERR_OK);        /* N */
    assert_int_equal(jsonrpc_build_ping(&c, &b, &id, &ei), ERR_TOO_LARGE); /* N+1 */
    assert_string_equal(ei.code, "mcp_too_many_pending");
    assert_true(jsonrpc_forget(&c, 1));
    assert_int_equal(jsonrpc_build_ping(&c, &b, &id, &ei), ERR_OK);
    assert_int_equal(id, 3); /* ids never reused */
    buf_release(&b);
    /* the output cap: nothing half-written */
    buf_init(&b, 20);
    assert_int_equal(jsonrpc_build_initialized(&b, &ei), ERR_TOO_LARGE);
    assert_int_equal(b.len, 0);
    buf_release(&b);
    /* ids beyond 2^53 - 1 are refused */
    c.next_id = JSONRPC_MAX_ID + 1;
    jsonrpc_forget(&c, 2);
    buf_init(&b, 1 << 10);
    assert_int_equal(jsonrpc_build_ping(&c, &b, &id, &ei), ERR_UNAVAILABLE);
    buf_release(&b);
    jsonrpc_client_release(&c);
}

static void
test_stateless_meta(void **state)
{
    struct jsonrpc_client c;
    struct buf b;
    struct errinfo ei;
    int64_t id;

    (void)state;
    jsonrpc_client_init(&c, NULL);
    jsonrpc_client_set_meta(
        &c, json_pack("{s:s}", "io.modelcontextprotocol/protocolVersion", "2026-07-28"));
    buf_init(&b, 1 << 12);
    assert_int_equal(jsonrpc_build_tools_list(&c, NULL, &b, &id, &ei), ERR_OK);
    assert_string_equal(b.data,
                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":"
                        "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
                        "\"2026-07-28\"}}}");
    buf_release(&b);
    jsonrpc_client_release(&c);
}

/* ---- classification, as a table ---- */

static const struct {
    const char *name;
    const char *in;
    enum jsonrpc_kind kind;
} msgs[] = {
    {"result to pending id", "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", JSONRPC_RESPONSE},
    {"error to pending id",
     "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32601,\"message\":\"Method not found\"}}",
     JSONRPC_RESPONSE},
    {"PARSE-026 duplicate response", "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
     JSONRPC_IGNORED},
    {"PARSE-026 unknown id", "{\"jsonrpc\":\"2.0\",\"id\":777,\"result\":{}}", JSONRPC_IGNORED},
    {"string id never matches an integer id", "{\"jsonrpc\":\"2.0\",\"id\":\"3\",\"result\":{}}",
     JSONRPC_IGNORED},
    {"float id", "{\"jsonrpc\":\"2.0\",\"id\":3.0,\"result\":{}}", JSONRPC_INVALID},
    {"bool id", "{\"jsonrpc\":\"2.0\",\"id\":true,\"result\":{}}", JSONRPC_INVALID},
    {"error with null id",
     "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32001,\"message\":\"Session not "
     "found\"}}",
     JSONRPC_ERROR_UNBOUND},
    {"error without id (server-everything 400)",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,\"message\":\"Bad Request\"}}",
     JSONRPC_INVALID},
    {"result with null id", "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}", JSONRPC_INVALID},
    {"both result and error", "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{},\"error\":{\"code\":1}}",
     JSONRPC_INVALID},
    {"error code not integer", "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":\"x\"}}",
     JSONRPC_INVALID},
    {"no jsonrpc member", "{\"id\":3,\"result\":{}}", JSONRPC_INVALID},
    {"jsonrpc 1.0", "{\"jsonrpc\":\"1.0\",\"id\":3,\"result\":{}}", JSONRPC_INVALID},
    {"notification list_changed",
     "{\"method\":\"notifications/tools/list_changed\","
     "\"jsonrpc\":\"2.0\"}",
     JSONRPC_NOTIFICATION},
    {"notification progress",
     "{\"method\":\"notifications/progress\",\"params\":{\"progress\":1,\"total\":4,"
     "\"progressToken\":\"tok-10\"},\"jsonrpc\":\"2.0\"}",
     JSONRPC_NOTIFICATION},
    {"notification message",
     "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\","
     "\"params\":{\"level\":\"info\",\"data\":\"x\"}}",
     JSONRPC_NOTIFICATION},
    {"server ping", "{\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"method\":\"ping\"}", JSONRPC_REQUEST},
    {"server roots/list", "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"roots/list\"}",
     JSONRPC_REQUEST},
    {"server sampling",
     "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"sampling/createMessage\","
     "\"params\":{}}",
     JSONRPC_REQUEST},
    {"request with null id", "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
     JSONRPC_INVALID},
    {"params not object", "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":[1]}", JSONRPC_INVALID},
    {"method not string", "{\"jsonrpc\":\"2.0\",\"method\":5}", JSONRPC_INVALID},
};

static void
test_classify_table(void **state)
{
    struct jsonrpc_client c;
    struct buf b;
    struct errinfo ei;
    int64_t id;

    (void)state;
    jsonrpc_client_init(&c, NULL);
    buf_init(&b, 1 << 12);
    assert_int_equal(jsonrpc_build_ping(&c, &b, &id, &ei), ERR_OK);             /* 1 */
    assert_int_equal(jsonrpc_build_tools_list(&c, NULL, &b, &id, &ei), ERR_OK); /* 2 */
    assert_int_equal(jsonrpc_build_ping(&c, &b, &id, &ei), ERR_OK);             /* 3 */
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        struct jsonrpc_batch bt;
        enum err e = jsonrpc_parse(&c, msgs[i].in, strlen(msgs[i].in), &bt, &ei);
        if (e != ERR_OK)
            fail_msg("case \"%s\": parse failed: %s", msgs[i].name, ei.msg);
        assert_int_equal(bt.n, 1);
        if (bt.msgs[0].kind != msgs[i].kind)
            fail_msg("case \"%s\": kind %s, want %s (%s)", msgs[i].name,
                     jsonrpc_kind_name(bt.msgs[0].kind), jsonrpc_kind_name(msgs[i].kind),
                     bt.msgs[0].why ? bt.msgs[0].why : "");
        if (i == 1) {
            assert_true(bt.msgs[0].is_error);
            assert_int_equal(bt.msgs[0].err_code, -32601);
            assert_string_equal(bt.msgs[0].err_message, "Method not found");
            assert_string_equal(bt.msgs[0].method_sent, "tools/list");
        }
        jsonrpc_batch_release(&bt);
    }
    assert_int_equal(c.stats.responses, 2);
    assert_int_equal(c.stats.duplicates, 1);
    assert_int_equal(c.stats.unknown_ids, 2);
    assert_int_equal(c.stats.requests, 3);
    assert_int_equal(c.stats.notifications, 3);
    assert_non_null(jsonrpc_pending_find(&c, 3)); /* "3" and 3.0 did not answer it */
    buf_release(&b);
    jsonrpc_client_release(&c);
}

static void
test_answer_default(void **state)
{
    static const struct {
        const char *in, *want;
    } t[] = {
        {"{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"method\":\"ping\"}",
         "{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"result\":{}}"},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"elicitation/create\",\"params\":{}}",
         "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32601,\"message\":\"Method not "
         "found\"}}"},
        {"{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"roots/list\"}",
         "{\"jsonrpc\":\"2.0\",\"id\":8,\"error\":{\"code\":-32601,\"message\":\"Method not "
         "found\"}}"},
    };
    struct jsonrpc_client c;
    struct errinfo ei;

    (void)state;
    jsonrpc_client_init(&c, NULL);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct jsonrpc_batch bt;
        struct buf b;
        buf_init(&b, 1 << 12);
        assert_int_equal(jsonrpc_parse(&c, t[i].in, strlen(t[i].in), &bt, &ei), ERR_OK);
        assert_int_equal(jsonrpc_answer_default(&bt.msgs[0], &b, &ei), ERR_OK);
        assert_string_equal(b.data, t[i].want);
        jsonrpc_batch_release(&bt);
        buf_release(&b);
    }
    jsonrpc_client_release(&c);
}

/* ---- whole-document refusals ---- */

static const struct {
    const char *name;
    const char *in;
    enum err e;
    const char *code;
} docs[] = {
    {"not json", "{\"jsonrpc\":", ERR_UPSTREAM, "mcp_bad_json"},
    {"trailing garbage", "{\"jsonrpc\":\"2.0\",\"method\":\"x\"} x", ERR_UPSTREAM, "mcp_bad_json"},
    {"duplicate keys", "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"result\":{}}", ERR_UPSTREAM,
     "mcp_bad_json"},
    {"empty batch", "[]", ERR_UPSTREAM, "mcp_bad_message"},
    {"top-level string", "\"hello\"", ERR_UPSTREAM, "mcp_bad_json"},
    {"empty", "", ERR_UPSTREAM, "mcp_bad_json"},
    {"invalid utf-8", "{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}", ERR_UPSTREAM, "mcp_bad_json"},
};

static void
test_doc_refusals(void **state)
{
    struct jsonrpc_client c;
    struct errinfo ei;

    (void)state;
    jsonrpc_client_init(&c, NULL);
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct jsonrpc_batch bt;
        enum err e = jsonrpc_parse(&c, docs[i].in, strlen(docs[i].in), &bt, &ei);
        if (e != docs[i].e || strcmp(ei.code, docs[i].code) != 0)
            fail_msg("case \"%s\": got %d %s", docs[i].name, e, ei.code);
        assert_null(bt.root);
    }
    assert_int_equal(c.stats.rejected, sizeof(docs) / sizeof(docs[0]));
    jsonrpc_client_release(&c);
}

/* Builds "[" + n copies of elem joined by "," + "]". */
static char *
make_batch(size_t n, const char *elem, size_t *len)
{
    size_t el = strlen(elem), cap = n * (el + 1) + 3, at = 0;
    char *s = malloc(cap);

    assert_non_null(s);
    s[at++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            s[at++] = ',';
        memcpy(s + at, elem, el);
        at += el;
    }
    s[at++] = ']';
    s[at] = '\0';
    *len = at;
    return s;
}

static void
test_parse026_batch_limit(void **state)
{
    const char *el = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}";
    struct jsonrpc_client c;
    struct jsonrpc_batch bt;
    struct errinfo ei;
    size_t len;
    char *s;

    (void)state;
    jsonrpc_client_init(&c, NULL);
    s = make_batch(JSONRPC_MAX_BATCH, el, &len); /* N */
    assert_int_equal(jsonrpc_parse(&c, s, len, &bt, &ei), ERR_OK);
    assert_true(bt.is_array);
    assert_int_equal(bt.n, JSONRPC_MAX_BATCH);
    assert_int_equal(bt.msgs[JSONRPC_MAX_BATCH - 1].kind, JSONRPC_NOTIFICATION);
    jsonrpc_batch_release(&bt);
    free(s);
    s = make_batch(JSONRPC_MAX_BATCH + 1, el, &len); /* N+1 */
    assert_int_equal(jsonrpc_parse(&c, s, len, &bt, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.code, "mcp_batch_too_long");
    free(s);
    s = make_batch(100000, "1", &len); /* PARSE-026: 100,000 elements */
    assert_int_equal(jsonrpc_parse(&c, s, len, &bt, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.code, "mcp_batch_too_long");
    free(s);
    /* commas inside strings and nested arrays do not count */
    s = make_batch(2, "{\"jsonrpc\":\"2.0\",\"method\":\"a,b,c\",\"params\":{\"x\":[1,2,3,4]}}",
                   &len);
    assert_int_equal(jsonrpc_prescan(s, len, &c.lim, &ei), ERR_OK);
    free(s);
    jsonrpc_client_release(&c);
}

static void
test_parse026_size_limit(void **state)
{
    const size_t big = 50u * 1024 * 1024; /* a 50 MB result */
    struct jsonrpc_client c;
    struct jsonrpc_batch bt;
    struct jsonrpc_limits lim;
    struct errinfo ei;
    char *s = malloc(big);
    const char *head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"x\":\"";

    (void)state;
    assert_non_null(s);
    memset(s, 'a', big);
    memcpy(s, head, strlen(head));
    memcpy(s + big - 4, "\"}}", 3);
    jsonrpc_client_init(&c, NULL);
    assert_int_equal(jsonrpc_parse(&c, s, big, &bt, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.code, "mcp_too_large");
    jsonrpc_client_release(&c);
    free(s);
    /* N and N+1 */
    jsonrpc_limits_default(&lim);
    lim.max_message = 32;
    jsonrpc_client_init(&c, &lim);
    {
        const char *t = "{\"jsonrpc\":\"2.0\",\"method\":\"abc\"}"; /* 32 bytes */
        assert_int_equal(strlen(t), 32);
        assert_int_equal(jsonrpc_parse(&c, t, 32, &bt, &ei), ERR_OK);
        jsonrpc_batch_release(&bt);
        t = "{\"jsonrpc\":\"2.0\",\"method\":\"abcd\"}";
        assert_int_equal(jsonrpc_parse(&c, t, strlen(t), &bt, &ei), ERR_TOO_LARGE);
    }
    jsonrpc_client_release(&c);
}

/* {"jsonrpc":"2.0","method":"x","params":{"a":[[...]]}} with k brackets: depth k + 2. */
static char *
nested(int k, size_t *len)
{
    const char *head = "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"a\":";
    size_t at = strlen(head);
    char *s = malloc(at + 2 * (size_t)k + 3);

    assert_non_null(s);
    memcpy(s, head, at);
    for (int i = 0; i < k; i++)
        s[at++] = '[';
    for (int i = 0; i < k; i++)
        s[at++] = ']';
    s[at++] = '}';
    s[at++] = '}';
    *len = at;
    return s;
}

static void
test_depth_limit(void **state)
{
    struct jsonrpc_client c;
    struct jsonrpc_batch bt;
    struct errinfo ei;
    size_t deep = 1000000, len;
    char *s;

    (void)state;
    jsonrpc_client_init(&c, NULL);
    s = nested(JSONRPC_MAX_DEPTH - 2, &len); /* N */
    assert_int_equal(jsonrpc_parse(&c, s, len, &bt, &ei), ERR_OK);
    jsonrpc_batch_release(&bt);
    free(s);
    s = nested(JSONRPC_MAX_DEPTH - 1, &len); /* N+1 */
    assert_int_equal(jsonrpc_parse(&c, s, len, &bt, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.code, "mcp_too_deep");
    free(s);
    /* a million brackets: refused by the scan, no recursion */
    s = malloc(deep);
    assert_non_null(s);
    memset(s, '[', deep);
    assert_int_equal(jsonrpc_parse(&c, s, deep, &bt, &ei), ERR_TOO_LARGE);
    /* brackets inside strings (with escaped quotes) do not count */
    len = (size_t)snprintf(s, deep, "{\"jsonrpc\":\"2.0\",\"method\":\"\\\"");
    memset(s + len, '[', 1000);
    len += 1000;
    memcpy(s + len, "\\\"\"}", 4);
    len += 4;
    assert_int_equal(jsonrpc_parse(&c, s, len, &bt, &ei), ERR_OK);
    assert_int_equal(bt.msgs[0].kind, JSONRPC_NOTIFICATION);
    jsonrpc_batch_release(&bt);
    free(s);
    jsonrpc_client_release(&c);
}

static void
test_batch_mixed(void **state)
{
    const char *in = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}},"
                     "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}},"
                     "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"},"
                     "42]";
    struct jsonrpc_client c;
    struct jsonrpc_batch bt;
    struct buf b;
    struct errinfo ei;
    int64_t id;

    (void)state;
    jsonrpc_client_init(&c, NULL);
    buf_init(&b, 1 << 10);
    assert_int_equal(jsonrpc_build_ping(&c, &b, &id, &ei), ERR_OK);
    assert_int_equal(jsonrpc_parse(&c, in, strlen(in), &bt, &ei), ERR_OK);
    assert_int_equal(bt.n, 4);
    assert_int_equal(bt.msgs[0].kind, JSONRPC_RESPONSE);
    assert_int_equal(bt.msgs[1].kind, JSONRPC_IGNORED); /* duplicate in the same batch */
    assert_int_equal(bt.msgs[2].kind, JSONRPC_REQUEST);
    assert_int_equal(bt.msgs[3].kind, JSONRPC_INVALID);
    jsonrpc_batch_release(&bt);
    buf_release(&b);
    jsonrpc_client_release(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_requests),       cmocka_unit_test(test_build_limits),
        cmocka_unit_test(test_stateless_meta),       cmocka_unit_test(test_classify_table),
        cmocka_unit_test(test_answer_default),       cmocka_unit_test(test_doc_refusals),
        cmocka_unit_test(test_parse026_batch_limit), cmocka_unit_test(test_parse026_size_limit),
        cmocka_unit_test(test_depth_limit),          cmocka_unit_test(test_batch_mixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
