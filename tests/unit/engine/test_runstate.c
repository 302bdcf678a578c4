/* Unit tests for engine/runstate: the run-state template resolver (types
 * kept for whole-string templates, text inside strings, array indexes, paths
 * pointing nowhere) and workflow checking (unknown tools, duplicate ids,
 * unknown dependencies, cycles, templates pointing nowhere or at later nodes,
 * MAX_RUN_NODES and MAX_NODE_INPUT_BYTES at N and N+1, the execution order). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/limits.h"
#include "engine/runstate.h"

static json_t *
J(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);

    if (j == NULL)
        fail_msg("bad JSON in test: %s: %s", text, je.text);
    return j;
}

#define STATE                                                                                      \
    "{\"input\":{\"owner\":\"octo\",\"n\":3,\"flag\":true,\"tags\":[\"a\",\"b\"],"                 \
    "\"obj\":{\"k\":null}},\"steps\":{\"n1\":{\"output\":{\"ok\":true,\"status\":200,"             \
    "\"body\":{\"items\":[{\"id\":41},{\"id\":42,\"name\":\"x y\"}],\"repo\":\"r/1\"}}}}}"

static void
test_render_types_and_text(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"\"{{input.owner}}\"", "\"octo\""},
        {"\"{{ input.n }}\"", "3"},
        {"\"{{input.flag}}\"", "true"},
        {"\"{{input.tags}}\"", "[\"a\",\"b\"]"},
        {"\"{{input.obj}}\"", "{\"k\":null}"},
        {"\"{{input.obj.k}}\"", "null"},
        {"\"{{input.tags[1]}}\"", "\"b\""},
        {"\"{{input.tags.0}}\"", "\"a\""},
        {"\"{{steps.n1.output.body.items[1].id}}\"", "42"},
        {"\"{{steps.n1.output.status}}\"", "200"},
        {"\"id-{{steps.n1.output.body.items[0].id}}/{{input.owner}}\"", "\"id-41/octo\""},
        {"\"{{input.n}}{{input.flag}}\"", "\"3true\""},
        {"\"tags={{input.tags}}\"", "\"tags=[\\\"a\\\",\\\"b\\\"]\""},
        {"\"no templates { here }\"", "\"no templates { here }\""},
        {"{\"a\":[\"{{input.n}}\",{\"b\":\"{{steps.n1.output.body.repo}}\"}],\"c\":7}",
         "{\"a\":[3,{\"b\":\"r/1\"}],\"c\":7}"},
    };
    json_t *st = J(STATE);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = J(cases[i].in), *want = J(cases[i].want), *out = NULL;
        struct errinfo ei = {0};
        enum err e = rs_render(in, st, "input", &out, &ei);
        if (e != ERR_OK)
            fail_msg("case %zu: %s: %s", i, ei.field, ei.msg);
        if (!json_equal(out, want)) {
            char *got = json_dumps(out, JSON_ENCODE_ANY);
            fail_msg("case %zu: got %s, want %s", i, got, cases[i].want);
        }
        json_decref(in);
        json_decref(want);
        json_decref(out);
    }
    json_decref(st);
}

static void
test_render_errors(void **state)
{
    static const struct {
        const char *in;
        const char *code, *field;
    } cases[] = {
        {"{\"x\":\"{{input.missing}}\"}", "template_unresolved", "input.x"},
        {"{\"x\":[1,\"a{{input.tags[5]}}\"]}", "template_unresolved", "input.x[1]"},
        {"{\"x\":\"{{steps.n1.output.body.items[9].id}}\"}", "template_unresolved", "input.x"},
        {"{\"x\":\"{{steps.n2.output}}\"}", "template_unresolved", "input.x"},
        {"{\"x\":\"{{input.owner\"}", "invalid_template", "input.x"},
        {"{\"x\":\"{{secrets.key}}\"}", "invalid_template", "input.x"},
        {"{\"x\":\"{{steps.n1}}\"}", "invalid_template", "input.x"},
        {"{\"x\":\"{{steps.n1.input}}\"}", "invalid_template", "input.x"},
        {"{\"x\":\"{{input..owner}}\"}", "invalid_template", "input.x"},
        {"{\"x\":\"{{input.tags[x]}}\"}", "invalid_template", "input.x"},
        {"{\"x\":\"{{}}\"}", "invalid_template", "input.x"},
    };
    json_t *st = J(STATE);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = J(cases[i].in), *out = NULL;
        struct errinfo ei = {0};
        enum err e = rs_render(in, st, "input", &out, &ei);
        if (e != ERR_INVALID || strcmp(ei.code, cases[i].code) != 0 ||
            strcmp(ei.field, cases[i].field) != 0)
            fail_msg("case %zu: e=%d code=%s field=%s", i, (int)e, ei.code, ei.field);
        assert_null(out);
        json_decref(in);
    }
    json_decref(st);
}

static void
test_template_path_limit(void **state)
{
    char path[MAX_TEMPLATE_PATH_LEN + 8];
    json_t *st = J("{\"input\":{}}");
    const json_t *v = NULL;
    struct errinfo ei = {0};
    size_t n;

    (void)state;
    /* N characters: well-formed, points nowhere; N+1: refused as too long */
    n = (size_t)snprintf(path, sizeof(path), "input.");
    memset(path + n, 'k', MAX_TEMPLATE_PATH_LEN - n);
    path[MAX_TEMPLATE_PATH_LEN] = '\0';
    assert_int_equal(rs_lookup(st, path, &v, &ei), ERR_NOT_FOUND);
    path[MAX_TEMPLATE_PATH_LEN] = 'k';
    path[MAX_TEMPLATE_PATH_LEN + 1] = '\0';
    assert_int_equal(rs_lookup(st, path, &v, &ei), ERR_INVALID);
    assert_string_equal(ei.code, "invalid_template");
    json_decref(st);
}

/* ---- workflows ---- */

static enum err
fake_tool(void *arg, const char *name, struct errinfo *ei)
{
    (void)arg;
    if (strcmp(name, "web_search") == 0 || strcmp(name, "gh.get") == 0 ||
        strcmp(name, "gh.post") == 0)
        return ERR_OK;
    return err_set(ei, ERR_NOT_FOUND, "unknown_tool", NULL, "unknown tool %s", name);
}

static enum err
plan(const char *nodes, const char *input, size_t **order, size_t *n, struct errinfo *ei)
{
    json_t *ns = J(nodes), *in = J(input ? input : "{}");
    enum err e;

    memset(ei, 0, sizeof(*ei));
    e = wf_plan(ns, in, fake_tool, NULL, order, n, ei);
    json_decref(ns);
    json_decref(in);
    return e;
}

static void
test_workflow_refusals(void **state)
{
    static const struct {
        const char *nodes;
        enum err e;
        const char *code, *field;
    } cases[] = {
        {"[]", ERR_INVALID, "invalid_workflow", "workflow.nodes"},
        {"{}", ERR_INVALID, "invalid_workflow", "workflow.nodes"},
        {"[1]", ERR_INVALID, "invalid_workflow", "workflow.nodes[0]"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.nope\"}]", ERR_INVALID,
         "unknown_tool", "workflow.nodes[0].tool_name"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\"},"
         "{\"id\":\"b\",\"type\":\"tool\",\"tool_name\":\"nothing_here\"}]",
         ERR_INVALID, "unknown_tool", "workflow.nodes[1].tool_name"},
        {"[{\"id\":\"a\",\"type\":\"code\",\"tool_name\":\"gh.get\"}]", ERR_INVALID,
         "invalid_workflow", "workflow.nodes[0].type"},
        {"[{\"id\":\"a b\",\"type\":\"tool\",\"tool_name\":\"gh.get\"}]", ERR_INVALID,
         "invalid_workflow", "workflow.nodes[0].id"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"run\":1}]", ERR_INVALID,
         "unknown_field", "workflow.nodes[0]"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\"},"
         "{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\"}]",
         ERR_INVALID, "duplicate_id", "workflow.nodes[1].id"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"depends_on\":[\"zz\"]}]",
         ERR_INVALID, "unknown_dependency", "workflow.nodes[0].depends_on[0]"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"depends_on\":[\"a\"]}]",
         ERR_INVALID, "cycle", "workflow.nodes[0].depends_on[0]"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"depends_on\":[\"c\"]},"
         "{\"id\":\"b\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"depends_on\":[\"a\"]},"
         "{\"id\":\"c\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"depends_on\":[\"b\"]}]",
         ERR_INVALID, "cycle", "workflow.nodes[0].depends_on"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"input\":[]}]", ERR_INVALID,
         "invalid_type", "workflow.nodes[0].input"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"input\":{\"o\":"
         "\"{{input.nope}}\"}}]",
         ERR_INVALID, "template_unresolved", "workflow.nodes[0].input.o"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"input\":{\"o\":"
         "\"{{steps.b.output.body}}\"}},{\"id\":\"b\",\"type\":\"tool\",\"tool_name\":\"gh.get\"}]",
         ERR_INVALID, "template_unresolved", "workflow.nodes[0].input.o"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"input\":{\"o\":"
         "[\"{{steps.ghost.output}}\"]}}]",
         ERR_INVALID, "template_unresolved", "workflow.nodes[0].input.o[0]"},
        {"[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"input\":{\"o\":"
         "\"{{input.owner\"}}]",
         ERR_INVALID, "invalid_template", "workflow.nodes[0].input.o"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t *order = NULL, n = 0;
        struct errinfo ei;
        enum err e = plan(cases[i].nodes, "{\"owner\":\"octo\"}", &order, &n, &ei);
        if (e != cases[i].e || strcmp(ei.code, cases[i].code) != 0 ||
            strcmp(ei.field, cases[i].field) != 0)
            fail_msg("case %zu: e=%d code=%s field=%s (%s)", i, (int)e, ei.code, ei.field, ei.msg);
        assert_null(order);
    }
}

static void
test_workflow_order(void **state)
{
    /* d waits for b; b for c: order a c b d (first ready node in the given order) */
    const char *nodes =
        "[{\"id\":\"a\",\"type\":\"tool\",\"tool_name\":\"web_search\"},"
        "{\"id\":\"b\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"depends_on\":[\"c\"],"
        "\"input\":{\"x\":\"{{steps.c.output.body.id}}\",\"y\":\"{{steps.a.output}}\"}},"
        "{\"id\":\"c\",\"type\":\"tool\",\"tool_name\":\"gh.post\",\"input\":{\"o\":"
        "\"{{input.owner}}\"}},"
        "{\"id\":\"d\",\"type\":\"tool\",\"tool_name\":\"gh.get\",\"depends_on\":[\"b\"]}]";
    size_t *order = NULL, n = 0;
    struct errinfo ei;

    (void)state;
    assert_int_equal(plan(nodes, "{\"owner\":\"octo\"}", &order, &n, &ei), ERR_OK);
    assert_int_equal(n, 4);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 1);
    assert_int_equal(order[3], 3);
    free(order);
}

static void
test_workflow_limits(void **state)
{
    json_t *nodes = json_array(), *input = json_object();
    size_t *order = NULL, n = 0;
    struct errinfo ei = {0};
    char *big;
    size_t fill;

    (void)state;
    for (int i = 0; i < MAX_RUN_NODES; i++) {
        char id[16];
        snprintf(id, sizeof(id), "n%d", i);
        json_array_append_new(
            nodes, json_pack("{s:s, s:s, s:s}", "id", id, "type", "tool", "tool_name", "gh.get"));
    }
    assert_int_equal(wf_plan(nodes, input, fake_tool, NULL, &order, &n, &ei), ERR_OK);
    assert_int_equal(n, MAX_RUN_NODES);
    free(order);
    json_array_append_new(
        nodes, json_pack("{s:s, s:s, s:s}", "id", "last", "type", "tool", "tool_name", "gh.get"));
    assert_int_equal(wf_plan(nodes, input, fake_tool, NULL, &order, &n, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.code, "too_many");
    assert_string_equal(ei.field, "workflow.nodes");
    json_decref(nodes);

    /* a node's input at MAX_NODE_INPUT_BYTES and one byte more: {"s":"..."} */
    fill = MAX_NODE_INPUT_BYTES - strlen("{\"s\":\"\"}");
    big = malloc(fill + 2);
    memset(big, 'x', fill + 1);
    big[fill] = '\0';
    nodes = json_pack("[{s:s, s:s, s:s, s:{s:s}}]", "id", "a", "type", "tool", "tool_name",
                      "gh.get", "input", "s", big);
    assert_int_equal(wf_plan(nodes, input, fake_tool, NULL, &order, &n, &ei), ERR_OK);
    free(order);
    json_decref(nodes);
    big[fill] = 'x';
    big[fill + 1] = '\0';
    nodes = json_pack("[{s:s, s:s, s:s, s:{s:s}}]", "id", "a", "type", "tool", "tool_name",
                      "gh.get", "input", "s", big);
    assert_int_equal(wf_plan(nodes, input, fake_tool, NULL, &order, &n, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.field, "workflow.nodes[0].input");
    json_decref(nodes);
    free(big);
    json_decref(input);
}

static void
test_state_size_limit(void **state)
{
    /* {"s":"..."} of exactly N bytes, then N+1 */
    size_t fill = MAX_RUN_STATE_BYTES - strlen("{\"s\":\"\"}");
    char *big = malloc(fill + 2);
    json_t *st;
    struct errinfo ei = {0};

    (void)state;
    memset(big, 'x', fill + 1);
    big[fill] = '\0';
    st = json_pack("{s:s}", "s", big);
    assert_int_equal(rs_state_size(st, MAX_RUN_STATE_BYTES, &ei), ERR_OK);
    json_decref(st);
    big[fill] = 'x';
    big[fill + 1] = '\0';
    st = json_pack("{s:s}", "s", big);
    assert_int_equal(rs_state_size(st, MAX_RUN_STATE_BYTES, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.code, "state_too_large");
    json_decref(st);
    free(big);
}

static void
test_depends_limit(void **state)
{
    json_t *nodes = json_array(), *deps = json_array(), *input = json_object();
    size_t *order = NULL, n = 0;
    struct errinfo ei = {0};

    (void)state;
    for (int i = 0; i <= MAX_NODE_DEPENDS; i++) {
        char id[16];
        snprintf(id, sizeof(id), "d%d", i);
        json_array_append_new(
            nodes, json_pack("{s:s, s:s, s:s}", "id", id, "type", "tool", "tool_name", "gh.get"));
        if (i < MAX_NODE_DEPENDS)
            json_array_append_new(deps, json_string(id));
    }
    json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:O}", "id", "last", "type", "tool",
                                           "tool_name", "gh.get", "depends_on", deps));
    assert_int_equal(wf_plan(nodes, input, fake_tool, NULL, &order, &n, &ei), ERR_OK);
    assert_int_equal(order[n - 1], MAX_NODE_DEPENDS + 1);
    free(order);
    json_array_append_new(deps, json_string("d16"));
    json_object_set(json_array_get(nodes, MAX_NODE_DEPENDS + 1), "depends_on", deps);
    assert_int_equal(wf_plan(nodes, input, fake_tool, NULL, &order, &n, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "workflow.nodes[17].depends_on");
    json_decref(deps);
    json_decref(nodes);
    json_decref(input);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_types_and_text), cmocka_unit_test(test_render_errors),
        cmocka_unit_test(test_template_path_limit),   cmocka_unit_test(test_workflow_refusals),
        cmocka_unit_test(test_workflow_order),        cmocka_unit_test(test_workflow_limits),
        cmocka_unit_test(test_state_size_limit),      cmocka_unit_test(test_depends_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
