/* yaml_to_json: conversion rules and hostile inputs (PARSE-007..014). Each
 * hostile case is refused by a limit checked per event, so it returns fast by
 * construction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openapi/yaml.h"

static const struct yaml_limits lim = {256, 10000, 1000000};

static enum err
conv(const char *s, json_t **out, struct errinfo *ei)
{
    return yaml_to_json(s, strlen(s), &lim, out, ei);
}

static void
test_scalars(void **state)
{
    struct errinfo ei = {0};
    json_t *v = NULL;

    (void)state;
    assert_int_equal(conv("a: 1\nb: -2.5\nc: true\nd: ~\ne: 'true'\nf: \"3\"\ng: 3.0.3\n"
                          "200: x\nh: null\ni: 1e3\nj: .inf\nk: 99999999999999999999\nl:\n",
                          &v, &ei),
                     ERR_OK);
    assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
    assert_true(json_is_real(json_object_get(v, "b")));
    assert_true(json_is_true(json_object_get(v, "c")));
    assert_true(json_is_null(json_object_get(v, "d")));
    assert_string_equal(json_string_value(json_object_get(v, "e")), "true");
    assert_string_equal(json_string_value(json_object_get(v, "f")), "3");
    assert_string_equal(json_string_value(json_object_get(v, "g")), "3.0.3");
    assert_string_equal(json_string_value(json_object_get(v, "200")), "x");
    assert_true(json_is_null(json_object_get(v, "h")));
    assert_true(json_is_real(json_object_get(v, "i")));
    assert_string_equal(json_string_value(json_object_get(v, "j")), ".inf");
    assert_true(json_is_real(json_object_get(v, "k")));
    assert_true(json_is_null(json_object_get(v, "l")));
    json_decref(v);
}

static void
test_anchor_merge(void **state)
{
    struct errinfo ei = {0};
    json_t *v = NULL;

    (void)state;
    assert_int_equal(conv("base: &b {x: 1, y: 2}\nobj:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n"
                          "tagged: !!str 5\ncustom: !foo {z: 1}\n",
                          &v, &ei),
                     ERR_OK);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "obj"), "x")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "obj"), "y")), 3);
    assert_int_equal(json_array_size(json_object_get(v, "list")), 2);
    assert_true(json_is_object(json_object_get(v, "custom")));
    json_decref(v);
}

struct bad {
    const char *yaml;
    enum err e;
    const char *field;
    const char *msg_part;
};

static void
check_bad(const struct bad *b)
{
    struct errinfo ei = {0};
    json_t *v = NULL;
    enum err e = conv(b->yaml, &v, &ei);

    if (e != b->e)
        fail_msg("%.40s: got %d (%s), want %d", b->yaml, e, ei.msg, b->e);
    assert_null(v);
    assert_string_equal(ei.field, b->field);
    if (strstr(ei.msg, b->msg_part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", ei.msg, b->msg_part);
}

static void
test_bad_small(void **state)
{
    static const struct bad cases[] = {
        {"a: [1, 2", ERR_INVALID, "spec", "line"},
        {"a: 1\na: 2\n", ERR_INVALID, "spec", "duplicate mapping key at line 2"},
        {"? [a]\n: b\n", ERR_INVALID, "spec", "keys must be scalars"},
        {"a: *nope\n", ERR_INVALID, "spec", "undefined alias"},
        {"a: &x 1\nb: &x 2\n", ERR_INVALID, "spec", "duplicate anchor"},
        {"&a [*a]\n", ERR_INVALID, "spec", "cycle"},
        {"&m {k: *m}\n", ERR_INVALID, "spec", "cycle"},
        {"a: 1\n---\nb: 2\n", ERR_INVALID, "spec", "one document"},
        {"a: \"x\\0y\"\n", ERR_INVALID, "spec", "NUL"},
        {"", ERR_INVALID, "spec", "empty"},
        {"a: 1\n\t- b", ERR_INVALID, "spec", "line 2"},
        {"<<: 5\n", ERR_INVALID, "spec", "merge"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_bad(&cases[i]);
}

/* The classic 9 x 9 billion laughs. */
static void
test_billion_laughs(void **state)
{
    char doc[4096];
    size_t n = 0;
    struct bad b = {doc, ERR_TOO_LARGE, "max_alias_nodes", "too many values"};

    (void)state;
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "a0: &a0 \"lol\"\n");
    for (int l = 1; l <= 9; l++) {
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "a%d: &a%d [", l, l);
        for (int k = 0; k < 9; k++)
            n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s*a%d", k ? "," : "", l - 1);
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "]\n");
    }
    check_bad(&b);
}

static void
test_alias_count(void **state)
{
    struct {
        char *p;
    } d;
    size_t cap = 200000, n = 0;
    struct bad b = {NULL, ERR_TOO_LARGE, "max_aliases", "too many aliases"};

    (void)state;
    d.p = malloc(cap);
    n += (size_t)snprintf(d.p + n, cap - n, "x: &x {a: 1}\nl:\n");
    for (int i = 0; i < 10001; i++)
        n += (size_t)snprintf(d.p + n, cap - n, "- *x\n");
    b.yaml = d.p;
    check_bad(&b);
    free(d.p);
}

static char *
repeat(const char *head, const char *unit, size_t times, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *p = malloc(hl + ul * times + tl + 1), *q = p;

    memcpy(q, head, hl);
    q += hl;
    for (size_t i = 0; i < times; i++, q += ul)
        memcpy(q, unit, ul);
    memcpy(q, tail, tl + 1);
    return p;
}

static void
test_deep(void **state)
{
    char *flow = repeat("a: ", "[", 100000, "");
    char *map = repeat("a: ", "{a: ", 100000, "");
    char *block = malloc(20000 * 2 + 8);
    struct bad b = {NULL, ERR_TOO_LARGE, "max_depth", "nesting too deep"};
    size_t n = 0;

    (void)state;
    b.yaml = flow;
    check_bad(&b);
    b.yaml = map;
    check_bad(&b);
    for (int i = 0; i < 20000; i++) {
        block[n++] = '-';
        block[n++] = ' ';
    }
    memcpy(block + n, "x\n", 3);
    b.yaml = block;
    check_bad(&b);
    free(flow);
    free(map);
    free(block);
}

/* Depth N is accepted, N + 1 refused. */
static void
test_depth_limit(void **state)
{
    struct yaml_limits l2 = {3, 10, 10};
    struct errinfo ei = {0};
    json_t *v = NULL;

    (void)state;
    assert_int_equal(yaml_to_json("[[[1]]]", 7, &l2, &v, &ei), ERR_OK);
    json_decref(v);
    assert_int_equal(yaml_to_json("[[[[1]]]]", 9, &l2, &v, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.field, "max_depth");
}

static void
test_many_documents(void **state)
{
    char *docs = repeat("", "--- a\n", 10000, "");
    struct bad b = {docs, ERR_INVALID, "spec", "one document"};

    (void)state;
    check_bad(&b);
    free(docs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),     cmocka_unit_test(test_anchor_merge),
        cmocka_unit_test(test_bad_small),   cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_alias_count), cmocka_unit_test(test_deep),
        cmocka_unit_test(test_depth_limit), cmocka_unit_test(test_many_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
