/* Tests for src/mcp/protocol.c: negotiation, initialize, tools/list paging,
 * tool name mapping, tools/call results, session state. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/protocol.h"

static json_t *
js(const char *s)
{
    json_error_t je;
    json_t *v = json_loads(s, 0, &je);

    if (v == NULL)
        fail_msg("bad test JSON: %s", je.text);
    return v;
}

static void
test_negotiate(void **state)
{
    static const struct {
        const char *answer;
        enum mcp_version v;
        bool header, batch;
    } t[] = {
        {"2025-11-25", MCP_VERSION_2025_11_25, true, false},
        {"2025-06-18", MCP_VERSION_2025_06_18, true, false},
        {"2025-03-26", MCP_VERSION_2025_03_26, false, true},
        {"2024-11-05", MCP_VERSION_2024_11_05, false, false},
        {"2026-07-28", MCP_VERSION_NONE, false, false}, /* stateless: not via initialize */
        {"2024-10-07", MCP_VERSION_NONE, false, false},
        {"1999-01-01", MCP_VERSION_NONE, false, false},
        {"2025-11-25 ", MCP_VERSION_NONE, false, false},
        {"", MCP_VERSION_NONE, false, false},
        {NULL, MCP_VERSION_NONE, false, false},
    };
    struct errinfo ei;

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        enum mcp_version v;
        enum err e = mcp_version_negotiate(t[i].answer, &v, &ei);
        assert_int_equal(v, t[i].v);
        if (t[i].v == MCP_VERSION_NONE) {
            assert_int_equal(e, ERR_UPSTREAM);
            assert_string_equal(ei.code, "mcp_unsupported_version");
            assert_string_equal(ei.field, "protocolVersion");
            assert_non_null(strstr(ei.msg, "2025-11-25"));
        } else {
            assert_int_equal(e, ERR_OK);
            assert_string_equal(mcp_version_str(v), t[i].answer);
            assert_int_equal(mcp_version_needs_header(v), t[i].header);
            assert_int_equal(mcp_version_allows_batch(v), t[i].batch);
        }
    }
}

static void
test_initialize_result(void **state)
{
    struct mcp_server_info si;
    struct errinfo ei;
    json_t *r =
        js("{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"tools\":{\"listChanged\":"
           "true},\"logging\":{},\"tasks\":{\"list\":{}}},\"serverInfo\":{\"name\":\"mcp-"
           "servers/everything\",\"title\":\"Everything\",\"version\":\"2.0.0\"},"
           "\"instructions\":\"# hi\",\"_meta\":{\"x\":1}}");

    (void)state;
    assert_int_equal(mcp_parse_initialize(r, &si, &ei), ERR_OK);
    assert_int_equal(si.version, MCP_VERSION_2025_11_25);
    assert_string_equal(si.name, "mcp-servers/everything");
    assert_string_equal(si.title, "Everything");
    assert_string_equal(si.version_str, "2.0.0");
    assert_string_equal(si.instructions, "# hi");
    assert_true(si.tools && si.tools_list_changed && si.logging && si.tasks);
    assert_false(si.prompts || si.resources);
    mcp_server_info_release(&si);
    json_decref(r);
    /* minimal and wrong shapes */
    r = js("{\"protocolVersion\":\"2024-11-05\"}");
    assert_int_equal(mcp_parse_initialize(r, &si, &ei), ERR_OK);
    assert_null(si.name);
    assert_false(si.tools);
    mcp_server_info_release(&si);
    json_decref(r);
    r = js("{\"protocolVersion\":\"2099-01-01\",\"capabilities\":{}}");
    assert_int_equal(mcp_parse_initialize(r, &si, &ei), ERR_UPSTREAM);
    assert_string_equal(ei.code, "mcp_unsupported_version");
    json_decref(r);
    r = js("{\"protocolVersion\":\"2025-06-18\",\"capabilities\":[]}");
    assert_int_equal(mcp_parse_initialize(r, &si, &ei), ERR_UPSTREAM);
    assert_string_equal(ei.field, "capabilities");
    json_decref(r);
    r = js("{\"protocolVersion\":\"2025-06-18\",\"serverInfo\":{\"name\":5}}");
    assert_int_equal(mcp_parse_initialize(r, &si, &ei), ERR_UPSTREAM);
    assert_string_equal(ei.field, "serverInfo.name");
    json_decref(r);
}

/* ---- name mapping ---- */

static void
test_op_name_table(void **state)
{
    static const struct {
        const char *in, *want; /* want "" = hashed: checked by prefix below */
        const char *prefix;
    } t[] = {
        {"echo", "echo", NULL},
        {"get-sum", "get_sum", NULL},
        {"Search.Web", "search_web", NULL},
        {"r\xc3\xa9sum\xc3\xa9", "r_sum", NULL},
        {"__a--b__", "a_b", NULL},
        {"A  B", "a_b", NULL},
        {"get_tiny_image", "get_tiny_image", NULL},
        {"---", NULL, "tool_"},
        {"\xe6\x97\xa5\xe6\x9c\xac", NULL, "tool_"},
    };
    char out[MCP_OP_NAME_MAX + 1], again[MCP_OP_NAME_MAX + 1];
    char longname[301];

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        bool hashed = mcp_op_name(t[i].in, strlen(t[i].in), 0, out);
        if (t[i].want != NULL) {
            assert_false(hashed);
            assert_string_equal(out, t[i].want);
        } else {
            assert_true(hashed);
            assert_int_equal(strncmp(out, t[i].prefix, strlen(t[i].prefix)), 0);
            assert_int_equal(strlen(out), strlen(t[i].prefix) + MCP_OP_HASH_LEN);
        }
    }
    /* a 300-char name: truncated + stable hash, exactly 64 chars, [a-z0-9_] */
    memset(longname, 'x', 300);
    longname[300] = '\0';
    assert_true(mcp_op_name(longname, 300, 0, out));
    assert_int_equal(strlen(out), MCP_OP_NAME_MAX);
    assert_int_equal(out[MCP_OP_NAME_MAX - MCP_OP_HASH_LEN - 1], '_');
    for (size_t i = 0; out[i]; i++)
        assert_true((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= '0' && out[i] <= '9') ||
                    out[i] == '_');
    mcp_op_name(longname, 300, 0, again);
    assert_string_equal(out, again);
    longname[299] = 'y'; /* differs only past the cut: a different hash */
    mcp_op_name(longname, 300, 0, again);
    assert_string_not_equal(out, again);
    assert_int_equal(strncmp(out, again, MCP_OP_NAME_MAX - MCP_OP_HASH_LEN), 0);
    /* exactly 64 mapped chars is not truncated; 65 is */
    memset(longname, 'a', 65);
    assert_false(mcp_op_name(longname, 64, 0, out));
    assert_int_equal(strlen(out), 64);
    assert_true(mcp_op_name(longname, 65, 0, out));
}

/* A tools/list result with the given names. */
static json_t *
tools_page(const char *const *names, size_t n, const char *cursor)
{
    json_t *a = json_array(), *r = json_object();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{s:s,s:{s:s}}", "name", names[i], "inputSchema", "type", "object"));
    json_object_set_new(r, "tools", a);
    if (cursor != NULL)
        json_object_set_new(r, "nextCursor", json_string(cursor));
    return r;
}

static void
map_list(const char *const *names, size_t n, struct mcp_tool_list *tl)
{
    struct errinfo ei;
    const char *next;
    json_t *r = tools_page(names, n, NULL);

    mcp_tool_list_init(tl, NULL);
    assert_int_equal(mcp_tool_list_add_page(tl, r, &next, &ei), ERR_OK);
    assert_null(next);
    assert_true(tl->complete);
    json_decref(r);
}

static void
test_name_collisions(void **state)
{
    const char *names[] = {"get-sum", "get_sum", "Get.Sum", "search", "Search", "x", "---", "+++"};
    const char *rev[] = {"+++", "---", "x", "Search", "search", "Get.Sum", "get_sum", "get-sum"};
    struct mcp_tool_list a, b;
    json_t *m;

    (void)state;
    map_list(names, 8, &a);
    map_list(rev, 8, &b);
    /* the literal owner keeps the plain name; the others get hash suffixes */
    assert_string_equal(mcp_tool_list_find(&a, "get_sum")->op, "get_sum");
    assert_string_equal(mcp_tool_list_find(&a, "search")->op, "search");
    assert_string_equal(mcp_tool_list_find(&a, "x")->op, "x");
    assert_int_equal(strncmp(mcp_tool_list_find(&a, "get-sum")->op, "get_sum_", 8), 0);
    assert_int_equal(strncmp(mcp_tool_list_find(&a, "Search")->op, "search_", 7), 0);
    /* all distinct, and independent of the server's order */
    for (size_t i = 0; i < a.n; i++) {
        for (size_t j = i + 1; j < a.n; j++)
            assert_string_not_equal(a.tools[i].op, a.tools[j].op);
        assert_string_equal(a.tools[i].op, mcp_tool_list_find(&b, a.tools[i].name)->op);
        assert_ptr_equal(mcp_tool_list_find_op(&a, a.tools[i].op), &a.tools[i]);
    }
    /* reported mapping */
    m = mcp_tool_list_mapping(&a);
    assert_int_equal(json_array_size(m), 8);
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "name")),
                        "get-sum");
    assert_true(json_is_true(json_object_get(json_array_get(m, 0), "changed")));
    assert_true(json_is_false(json_object_get(json_array_get(m, 1), "changed")));
    json_decref(m);
    /* stable across calls: mapping again gives the same names */
    {
        struct errinfo ei;
        char saved[8][MCP_OP_NAME_MAX + 1];
        for (size_t i = 0; i < a.n; i++)
            memcpy(saved[i], a.tools[i].op, sizeof(saved[i]));
        assert_int_equal(mcp_tool_list_map_names(&a, &ei), ERR_OK);
        for (size_t i = 0; i < a.n; i++)
            assert_string_equal(saved[i], a.tools[i].op);
    }
    mcp_tool_list_release(&a);
    mcp_tool_list_release(&b);
}

/* A tool literally named like another tool's hashed form still gets a distinct op. */
static void
test_name_hash_clash(void **state)
{
    char hashed[MCP_OP_NAME_MAX + 1];
    const char *names[3];
    struct mcp_tool_list tl;

    (void)state;
    mcp_op_name("get-sum", 7, 1, hashed); /* what get-sum becomes when it clashes */
    names[0] = "get-sum";
    names[1] = "get_sum";
    names[2] = hashed;
    map_list(names, 3, &tl);
    assert_string_equal(mcp_tool_list_find(&tl, hashed)->op, hashed);
    assert_string_not_equal(mcp_tool_list_find(&tl, "get-sum")->op, hashed);
    assert_string_not_equal(mcp_tool_list_find(&tl, "get-sum")->op, "get_sum");
    mcp_tool_list_release(&tl);
}

/* ---- tools/list paging ---- */

static void
test_tools_pagination(void **state)
{
    const char *p1[] = {"a", "b"}, *p2[] = {"c"}, *p3[] = {"d"};
    struct mcp_tool_list tl;
    struct errinfo ei;
    const char *next;
    json_t *r;

    (void)state;
    mcp_tool_list_init(&tl, NULL);
    r = tools_page(p1, 2, "c1");
    assert_int_equal(mcp_tool_list_add_page(&tl, r, &next, &ei), ERR_OK);
    assert_string_equal(next, "c1");
    json_decref(r);
    r = tools_page(p2, 1, "");
    assert_int_equal(mcp_tool_list_add_page(&tl, r, &next, &ei), ERR_OK);
    assert_string_equal(next, ""); /* "" is an opaque cursor like any other */
    json_decref(r);
    r = tools_page(p3, 1, NULL);
    assert_int_equal(mcp_tool_list_add_page(&tl, r, &next, &ei), ERR_OK);
    assert_null(next);
    assert_true(tl.complete);
    assert_int_equal(tl.n, 4);
    assert_int_equal(tl.pages, 3);
    json_decref(r);
    mcp_tool_list_release(&tl);
}

/* A server whose cursor does not advance (codebase-memory-mcp): stop, no loop. */
static void
test_tools_repeating_cursor(void **state)
{
    const char *p1[] = {"a", "b"};
    struct mcp_tool_list tl;
    struct errinfo ei;
    const char *next = NULL;
    json_t *r = tools_page(p1, 2, "same");
    int rounds = 0;
    enum err e = ERR_OK;

    (void)state;
    mcp_tool_list_init(&tl, NULL);
    while (e == ERR_OK && rounds < 100) {
        e = mcp_tool_list_add_page(&tl, r, &next, &ei);
        rounds++;
    }
    assert_int_equal(e, ERR_UPSTREAM);
    assert_string_equal(ei.code, "mcp_cursor_repeat");
    assert_int_equal(rounds, 2);
    assert_int_equal(tl.n, 2);       /* no duplicates */
    assert_int_equal(tl.dropped, 2); /* the repeated page's tools */
    assert_false(tl.complete);
    json_decref(r);
    mcp_tool_list_release(&tl);
}

static void
test_tools_limits(void **state)
{
    struct mcp_tool_limits lim = {.max_tools = 3, .max_pages = 2, .max_schema = 64};
    const char *p[] = {"a", "b", "c", "d"};
    struct mcp_tool_list tl;
    struct errinfo ei;
    const char *next;
    json_t *r;

    (void)state;
    /* tools: N ok, N+1 refused */
    mcp_tool_list_init(&tl, &lim);
    r = tools_page(p, 3, NULL);
    assert_int_equal(mcp_tool_list_add_page(&tl, r, &next, &ei), ERR_OK);
    json_decref(r);
    mcp_tool_list_release(&tl);
    mcp_tool_list_init(&tl, &lim);
    r = tools_page(p, 4, NULL);
    assert_int_equal(mcp_tool_list_add_page(&tl, r, &next, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.code, "mcp_too_many_tools");
    json_decref(r);
    mcp_tool_list_release(&tl);
    /* pages: N ok, N+1 refused */
    mcp_tool_list_init(&tl, &lim);
    r = tools_page(p, 1, "p1");
    assert_int_equal(mcp_tool_list_add_page(&tl, r, &next, &ei), ERR_OK);
    json_decref(r);
    r = tools_page(p + 1, 1, "p2");
    assert_int_equal(mcp_tool_list_add_page(&tl, r, &next, &ei), ERR_OK);
    json_decref(r);
    r = tools_page(p + 2, 1, NULL);
    assert_int_equal(mcp_tool_list_add_page(&tl, r, &next, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.code, "mcp_too_many_pages");
    json_decref(r);
    mcp_tool_list_release(&tl);
    /* schema size and bad tools are dropped, counted */
    lim.max_tools = 10;
    mcp_tool_list_init(&tl, &lim);
    r = js("{\"tools\":[{\"name\":\"ok\",\"inputSchema\":{\"type\":\"object\"}},"
           "{\"name\":\"big\",\"inputSchema\":{\"type\":\"object\",\"description\":\""
           "0123456789012345678901234567890123456789012345678901234567890123456789\"}},"
           "{\"name\":\"noschema\"},{\"inputSchema\":{}},{\"name\":\"\",\"inputSchema\":{}},"
           "{\"name\":\"ok\",\"inputSchema\":{}}, 5]}");
    assert_int_equal(mcp_tool_list_add_page(&tl, r, &next, &ei), ERR_OK);
    assert_int_equal(tl.n, 1);
    assert_int_equal(tl.dropped, 6);
    json_decref(r);
    mcp_tool_list_release(&tl);
}

/* 10,000 tools (MCP_MAX_TOOLS) in 100 pages: all kept, all distinct ops. */
static void
test_tools_10000(void **state)
{
    struct mcp_tool_list tl;
    struct errinfo ei;
    const char *next = NULL;

    (void)state;
    mcp_tool_list_init(&tl, NULL);
    for (int page = 0; page < 100; page++) {
        json_t *a = json_array(), *r = json_object();
        char cur[32];
        for (int i = 0; i < 100; i++) {
            char name[64];
            /* pairs that collide after mapping: tool-N and tool.N */
            snprintf(name, sizeof(name), (i & 1) ? "Tool-%d" : "tool.%d", (page * 100 + i) / 2);
            json_array_append_new(a, json_pack("{s:s,s:{}}", "name", name, "inputSchema"));
        }
        json_object_set_new(r, "tools", a);
        snprintf(cur, sizeof(cur), "page-%d", page + 1);
        if (page < 99)
            json_object_set_new(r, "nextCursor", json_string(cur));
        assert_int_equal(mcp_tool_list_add_page(&tl, r, &next, &ei), ERR_OK);
        json_decref(r);
    }
    assert_null(next);
    assert_int_equal(tl.n, MCP_MAX_TOOLS);
    assert_int_equal(tl.dropped, 0);
    {
        json_t *m = mcp_tool_list_mapping(&tl);
        json_t *seen = json_object();
        for (size_t i = 0; i < json_array_size(m); i++) {
            const char *op = json_string_value(json_object_get(json_array_get(m, i), "operation"));
            assert_null(json_object_get(seen, op));
            json_object_set_new(seen, op, json_true());
        }
        assert_int_equal(json_object_size(seen), MCP_MAX_TOOLS);
        json_decref(seen);
        json_decref(m);
    }
    mcp_tool_list_release(&tl);
}

/* ---- tools/call results ---- */

static void
test_call_results(void **state)
{
    static const struct {
        const char *name, *in;
        enum err e;
        bool is_error, structured, task;
        size_t ncontent;
    } t[] = {
        {"text", "{\"content\":[{\"type\":\"text\",\"text\":\"Echo: hi\"}]}", ERR_OK, false, false,
         false, 1},
        {"image",
         "{\"content\":[{\"type\":\"text\",\"text\":\"Here\"},{\"type\":\"image\","
         "\"mimeType\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}]}",
         ERR_OK, false, false, false, 2},
        {"structuredContent",
         "{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"temperature\\\":33}\"}],"
         "\"structuredContent\":{\"temperature\":33,\"conditions\":\"Cloudy\"}}",
         ERR_OK, false, true, false, 1},
        {"isError (validation failure)",
         "{\"content\":[{\"type\":\"text\",\"text\":\"MCP error -32602: Input validation\"}],"
         "\"isError\":true}",
         ERR_OK, true, false, false, 1},
        {"audio, resource_link, resource, unknown type",
         "{\"content\":[{\"type\":\"audio\",\"data\":\"AA==\",\"mimeType\":\"audio/wav\"},"
         "{\"type\":\"resource_link\",\"uri\":\"file:///x\",\"name\":\"x\"},"
         "{\"type\":\"resource\",\"resource\":{\"uri\":\"file:///y\",\"text\":\"y\"}},"
         "{\"type\":\"hologram\",\"z\":1}]}",
         ERR_OK, false, false, false, 4},
        {"task", "{\"task\":{\"taskId\":\"8a5d\",\"status\":\"working\"}}", ERR_OK, false, false,
         true, 0},
        {"no content", "{}", ERR_OK, false, false, false, 0},
        {"content not array", "{\"content\":{}}", ERR_UPSTREAM, false, false, false, 0},
        {"item without type", "{\"content\":[{\"text\":\"x\"}]}", ERR_UPSTREAM, false, false, false,
         0},
        {"image without data", "{\"content\":[{\"type\":\"image\",\"mimeType\":\"image/png\"}]}",
         ERR_UPSTREAM, false, false, false, 0},
        {"isError not bool", "{\"content\":[],\"isError\":\"yes\"}", ERR_UPSTREAM, false, false,
         false, 0},
        {"not an object", "[1]", ERR_UPSTREAM, false, false, false, 0},
    };
    struct errinfo ei;

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct mcp_call_result cr;
        json_t *r = js(t[i].in);
        enum err e = mcp_parse_call_result(r, &cr, &ei);
        if (e != t[i].e)
            fail_msg("case \"%s\": got %d (%s)", t[i].name, e, ei.msg);
        if (e == ERR_OK) {
            assert_int_equal(cr.is_error, t[i].is_error);
            assert_int_equal(cr.structured != NULL, t[i].structured);
            assert_int_equal(cr.task != NULL, t[i].task);
            assert_int_equal(json_array_size(cr.content), t[i].ncontent);
            /* kept faithfully: the very same JSON */
            if (json_object_get(r, "content") != NULL)
                assert_true(json_equal(cr.content, json_object_get(r, "content")));
        }
        mcp_call_result_release(&cr);
        json_decref(r);
    }
}

/* ---- session ---- */

static void
test_session_flow(void **state)
{
    struct mcp_client_info ci = {MCP_PROTOCOL_LATEST, "connhub", "0.1", NULL};
    struct mcp_session s;
    struct jsonrpc_batch bt;
    struct errinfo ei;
    struct buf b;
    char resp[512];

    (void)state;
    mcp_session_init(&s, NULL);
    buf_init(&b, 1 << 12);
    assert_null(mcp_session_version_header(&s));
    assert_null(mcp_session_id_header(&s));
    assert_int_equal(mcp_session_start(&s, &ci, &b, &ei), ERR_OK);
    assert_int_equal(s.state, MCP_SESSION_INITIALIZING);
    assert_int_equal(mcp_session_start(&s, &ci, &b, &ei), ERR_CONFLICT);
    assert_int_equal(mcp_session_set_id(&s, "c1c3ee2a-8639", 13, &ei), ERR_OK);
    assert_string_equal(mcp_session_id_header(&s), "c1c3ee2a-8639");
    assert_int_equal(mcp_session_set_id(&s, "bad id", 6, &ei), ERR_UPSTREAM);
    assert_int_equal(mcp_session_set_id(&s, "", 0, &ei), ERR_UPSTREAM);
    snprintf(resp, sizeof(resp),
             "{\"result\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{\"tools\":{}},"
             "\"serverInfo\":{\"name\":\"s\",\"version\":\"1\"}},\"jsonrpc\":\"2.0\",\"id\":%lld}",
             (long long)s.init_id);
    assert_int_equal(jsonrpc_parse(&s.rpc, resp, strlen(resp), &bt, &ei), ERR_OK);
    buf_reset(&b);
    assert_int_equal(mcp_session_on_initialize(&s, &bt.msgs[0], &b, &ei), ERR_OK);
    jsonrpc_batch_release(&bt);
    assert_string_equal(b.data, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    assert_int_equal(s.state, MCP_SESSION_READY);
    assert_string_equal(mcp_session_version_header(&s), "2025-06-18");
    /* 404: expire, re-initialize; a 4th expiry in a row gives up */
    for (int i = 1; i <= MCP_MAX_REINIT; i++) {
        assert_int_equal(mcp_session_expired(&s, &ei), ERR_OK);
        assert_null(mcp_session_id_header(&s));
        assert_int_equal(s.state, MCP_SESSION_NEW);
        buf_reset(&b);
        assert_int_equal(mcp_session_start(&s, &ci, &b, &ei), ERR_OK);
    }
    assert_int_equal(s.rpc.npending, 1);
    assert_int_equal(mcp_session_expired(&s, &ei), ERR_UPSTREAM);
    assert_string_equal(ei.code, "mcp_session_lost");
    assert_int_equal(s.rpc.npending, 0);
    buf_release(&b);
    mcp_session_release(&s);
}

static void
test_session_init_errors(void **state)
{
    struct mcp_client_info ci = {MCP_PROTOCOL_LATEST, "connhub", "0.1", NULL};
    static const char *const answers[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32602,\"message\":\"Unsupported "
        "protocol version\",\"data\":{\"supported\":[\"2024-11-05\"]}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"2030-01-01\"}}",
    };
    static const char *const codes[] = {"mcp_initialize_failed", "mcp_unsupported_version"};
    struct errinfo ei;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct mcp_session s;
        struct jsonrpc_batch bt;
        struct buf b;
        mcp_session_init(&s, NULL);
        buf_init(&b, 1 << 12);
        assert_int_equal(mcp_session_start(&s, &ci, &b, &ei), ERR_OK);
        assert_int_equal(jsonrpc_parse(&s.rpc, answers[i], strlen(answers[i]), &bt, &ei), ERR_OK);
        buf_reset(&b);
        assert_int_equal(mcp_session_on_initialize(&s, &bt.msgs[0], &b, &ei), ERR_UPSTREAM);
        assert_string_equal(ei.code, codes[i]);
        assert_int_equal(b.len, 0);
        assert_int_not_equal(s.state, MCP_SESSION_READY);
        jsonrpc_batch_release(&bt);
        buf_release(&b);
        mcp_session_release(&s);
    }
}

static void
test_stateless_meta(void **state)
{
    struct mcp_client_info ci = {MCP_PROTOCOL_STATELESS, "connhub", "0.1", NULL};
    json_t *m = mcp_stateless_meta(&ci);
    char *s;

    (void)state;
    s = json_dumps(m, JSON_COMPACT);
    assert_string_equal(s, "{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
                           "\"io.modelcontextprotocol/clientCapabilities\":{},"
                           "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"connhub\","
                           "\"version\":\"0.1\"}}");
    free(s);
    json_decref(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_initialize_result),
        cmocka_unit_test(test_op_name_table),
        cmocka_unit_test(test_name_collisions),
        cmocka_unit_test(test_name_hash_clash),
        cmocka_unit_test(test_tools_pagination),
        cmocka_unit_test(test_tools_repeating_cursor),
        cmocka_unit_test(test_tools_limits),
        cmocka_unit_test(test_tools_10000),
        cmocka_unit_test(test_call_results),
        cmocka_unit_test(test_session_flow),
        cmocka_unit_test(test_session_init_errors),
        cmocka_unit_test(test_stateless_meta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
