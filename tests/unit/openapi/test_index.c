/* index.c and doc.c: the span index of a JSON spec, and imports through it
 * that match the whole-document import (oa_whole_json) byte for byte: the
 * proposal, or the error with its line and column. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openapi/internal.h"
#include "openapi/openapi.h"

static struct oa_index *
build(const char *text)
{
    return oa_index_build(text, strlen(text), OPENAPI_MAX_DEPTH);
}

/* The span at keys k[0]/k[1]/... from the root, or -1. */
static int
span_at(const struct oa_index *x, const char *const *k, size_t n)
{
    int s = 0;

    for (size_t i = 0; i < n && s >= 0; i++)
        s = oa_index_child(x, s, k[i], strlen(k[i]));
    return s;
}

#define SPAN(x, ...)                                                                               \
    span_at((x), (const char *const[]){__VA_ARGS__},                                               \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static bool
span_is(const struct oa_index *x, int s, const char *text)
{
    return s >= 0 && x->sp[s].end - x->sp[s].start == strlen(text) &&
           memcmp(x->text + x->sp[s].start, text, strlen(text)) == 0;
}

struct outcome {
    enum err e;
    char *dump; /* the proposal, or "field: message" */
};

static struct outcome
import1(const char *text, size_t len, bool whole)
{
    struct openapi_opts o = {.base_url_override = "https://api.example"};
    struct errinfo ei = {0};
    struct outcome r = {0};
    json_t *p = NULL;

    oa_whole_json = whole;
    r.e = openapi_import(text, len, &o, &p, &ei);
    oa_whole_json = false;
    if (r.e == ERR_OK) {
        r.dump = json_dumps(p, JSON_COMPACT);
    } else {
        size_t n = strlen(ei.field) + strlen(ei.msg) + 3;
        r.dump = malloc(n);
        snprintf(r.dump, n, "%s: %s", ei.field, ei.msg);
    }
    json_decref(p);
    return r;
}

/* Imports text with and without the index; both must give the same. Returns
 * the outcome (free dump). */
static struct outcome
both(const char *text)
{
    struct outcome a = import1(text, strlen(text), false), b = import1(text, strlen(text), true);

    assert_non_null(a.dump);
    assert_non_null(b.dump);
    if (a.e != b.e || strcmp(a.dump, b.dump) != 0)
        fail_msg("indexed %d %s\nwhole %d %s", a.e, a.dump, b.e, b.dump);
    free(b.dump);
    return a;
}

static void
both_ok(const char *text)
{
    struct outcome r = both(text);

    if (r.e != ERR_OK)
        fail_msg("import failed: %s", r.dump);
    free(r.dump);
}

#define OAS "\"openapi\": \"3.0.3\", \"info\": {\"title\": \"T\", \"version\": \"1\"}"

static void
test_index_spans(void **state)
{
    static const char spec[] =
        "{" OAS ", \"paths\": {\"/a/{b}\": {\"get\": {}, \"post\": {\"security\": [{\"k\": []}]},"
        " \"x-get\": {}, \"put\": 1},\n \"/c\": {\"parameters\": []}},"
        " \"components\": {\"schemas\": {\"A\": {\"type\": \"object\"}, \"B\": [1]}}} \n";
    struct oa_index *x = build(spec);
    int paths, a, c;

    (void)state;
    assert_non_null(x);
    assert_true(x->sp[0].kids);
    paths = SPAN(x, "paths");
    assert_true(paths > 0 && x->sp[paths].kids && x->sp[paths].depth == 1);
    a = SPAN(x, "paths", "/a/{b}");
    c = SPAN(x, "paths", "/c");
    assert_int_equal(x->sp[paths].first, a); /* document order */
    assert_int_equal(x->sp[a].next, c);
    assert_int_equal(x->sp[c].next, -1);
    assert_int_equal(x->sp[a].nops, 2); /* "put": 1 and "x-get" are no operations */
    assert_true(x->sp[a].security);
    assert_false(x->sp[a].kids); /* path items are parsed whole */
    assert_int_equal(x->sp[c].nops, 0);
    assert_false(x->sp[c].security);
    assert_true(span_is(x, SPAN(x, "components", "schemas", "A"), "{\"type\": \"object\"}"));
    assert_true(span_is(x, SPAN(x, "components", "schemas", "B"), "[1]"));
    assert_true(span_is(x, SPAN(x, "info", "title"), "\"T\""));
    assert_int_equal(SPAN(x, "components", "schemas", "C"), -1);
    assert_int_equal(SPAN(x, "info", "title", "x"), -1);
    assert_int_equal(x->sp[0].end, strlen(spec) - 2); /* trailing white space is not in */
    oa_index_free(x);
    oa_index_free(NULL);
}

/* Keys are decoded: "~1" in a path key is literal, escapes in keys count. */
static void
test_index_escaped_keys(void **state)
{
    static const char spec[] =
        "{\"openapi\": \"3.0.3\", \"info\": {}, \"pa\\u0074hs\": {\"/~1x/{\\\"q\\\"}\": "
        "{\"g\\u0065t\": {\"s\\u0065curity\": []}}}, \"c\\u006fmponents\": {\"schemas\": "
        "{\"P\\u00e9t\": {}, \"a\\/b\": {}, \"\\ud83d\\ude00\": {}, \"\\\"\\\\\\b\\f\\n\\r\\t\": "
        "{}}}}";
    struct oa_index *x = build(spec);
    int item;

    (void)state;
    assert_non_null(x);
    item = SPAN(x, "paths", "/~1x/{\"q\"}");
    assert_true(item > 0);
    assert_int_equal(x->sp[item].nops, 1);
    assert_true(x->sp[item].security);
    assert_true(SPAN(x, "components", "schemas", "P\xc3\xa9t") > 0);
    assert_true(SPAN(x, "components", "schemas", "a/b") > 0);
    assert_true(SPAN(x, "components", "schemas", "\xf0\x9f\x98\x80") > 0);
    assert_true(SPAN(x, "components", "schemas", "\"\\\b\f\n\r\t") > 0);
    oa_index_free(x);
    both_ok(spec);
}

/* "paths" inside a string is text, not a member. */
static void
test_index_key_in_string(void **state)
{
    static const char spec[] =
        "{" OAS ", \"x-doc\": \"\\\"paths\\\": {\\\"/evil\\\": {\\\"get\\\": {}}}\","
        " \"x-arr\": [\"paths\", {\"paths\": {\"/evil2\": {\"get\": {}}}}],"
        " \"paths\": {\"/a\": {\"get\": {\"description\": \"{\\\"paths\\\": {}}\"}}}}";
    struct oa_index *x = build(spec);
    struct outcome r;

    (void)state;
    assert_non_null(x);
    assert_int_equal(SPAN(x, "paths", "/evil"), -1);
    assert_int_equal(SPAN(x, "paths", "/evil2"), -1);
    assert_true(SPAN(x, "paths", "/a") > 0);
    oa_index_free(x);
    r = both(spec);
    assert_int_equal(r.e, ERR_OK);
    assert_non_null(strstr(r.dump, "\"path\":\"/a\""));
    assert_null(strstr(r.dump, "evil\""));
    free(r.dump);
}

/* What the index refuses is parsed whole: the same error (line, column) or,
 * when jansson takes it after all, the same import. */
static void
test_index_refused(void **state)
{
    static const char *const refused[] = {
        "{" OAS ", \"paths\": {}, \"paths\": {}}",            /* duplicate top-level key */
        "{" OAS ", \"x\": 1, \"\\u0078\": 2, \"paths\": {}}", /* the same, escaped */
        "{" OAS ", \"paths\": {\"/a\": {}, \"/a\": {}}}",     /* duplicate path */
        "{" OAS ", \"x\": {\"y\": [{\"k\": 1, \"k\": 2}]}}",  /* deep in an unread member */
        "{" OAS ", \"x\": {\"a\": 1, \"b\": 1, \"c\": 1, \"d\": 1, \"e\": 1, \"f\": 1,"
        " \"g\": 1, \"h\": 1, \"i\": 1, \"j\": 1, \"k\": 1, \"l\": 1, \"m\": 1, \"n\": 1,"
        " \"o\": 1, \"p\": 1, \"q\": 1, \"r\": 1, \"\\u0069\": 2}}", /* past SMALL_OBJECT */
        "{" OAS ", \"x\": \"a\\u0000b\"}",                           /* NUL in a string */
        "{" OAS ", \"x\": \"\\ud800\"}",                             /* lone high surrogate */
        "{" OAS ", \"x\": \"\\udc00\"}",                             /* lone low surrogate */
        "{" OAS ", \"x\": \"\\ud800\\u0041\"}",                      /* high then not low */
        "{" OAS ", \"x\": 1234567890123456789}",                     /* 19 digits: may overflow */
        "{" OAS ", \"x\": 99999999999999999999}",                    /* does overflow */
        "{" OAS ", \"x\": 1e400}",                                   /* real overflow */
        "{" OAS ", \"x\": 1e100}",                                   /* 3-digit exponent */
        "{" OAS ", \"x\": [1,]}",                                    /* trailing comma */
        "{" OAS ", \"x\": {\"a\" 1}}",                               /* no colon */
        "{" OAS ", \"x\": tru}",                                     /* bad literal */
        "{" OAS ", \"x\": truex}",                                   /* bad literal */
        "{" OAS ", \"x\": 01}",                                      /* leading zero */
        "{" OAS ", \"x\": 1.}",                                      /* no fraction digits */
        "{" OAS ", \"x\": -}",                                       /* no digits */
        "{" OAS ", \"x\": 1e}",                                      /* no exponent digits */
        "{" OAS ", \"x\": \"\\x\"}",                                 /* bad escape */
        "{" OAS ", \"x\": \"\\u12G4\"}",                             /* bad \\u */
        "{" OAS ", \"x\": \"a\tb\"}",                                /* raw control byte */
        "{" OAS ", \"x\": 'a'}",                                     /* not JSON */
        "{" OAS ", \"x\": 1} x",                                     /* trailing bytes */
        "{" OAS ", \"x\": 1",                                        /* unclosed */
        "{" OAS ", \"x\": [1}",                                      /* mismatched */
        "{" OAS ", \"x\": \"abc",                                    /* unterminated string */
        "{" OAS ", \"x\": \"abc\\",                                  /* ... in an escape */
        "{" OAS ", \"x\": \"\\u12\"}",                               /* short \\u */
        "{" OAS ", , \"x\": 1}",                                     /* stray comma */
        "{" OAS ", \"x\": 1,}",                                      /* trailing comma */
        "{" OAS ", 1: 2}",                                           /* key not a string */
        "{\"a\":{}}}",                                               /* one close too many */
        "{}[]",
    };
    static const char *const accepted[] = {
        "{" OAS ", \"x\": 123456789012345678}", /* 18 digits */
        "{" OAS ", \"x\": -123456789012345678}",
        "{" OAS ", \"x\": [0, -0, 0.5, -1.25e-10, 1E+99, 2e-99, 1.5e99, true, false, null]}",
        "{" OAS ", \"x\": \"\\ud83d\\ude00 \\u00e9 \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}",
        "{" OAS ", \"x\": {}, \"y\": [], \"z\": [{}, [], [[]]], \"paths\": {}}",
        " \t\r\n{" OAS "} \t\r\n",
        "{}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        struct oa_index *x = build(refused[i]);
        struct outcome r;
        if (x != NULL)
            fail_msg("indexed: %s", refused[i]);
        r = both(refused[i]);
        free(r.dump);
    }
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        struct oa_index *x = build(accepted[i]);
        struct outcome r;
        if (x == NULL)
            fail_msg("refused: %s", accepted[i]);
        oa_index_free(x);
        r = both(accepted[i]);
        free(r.dump);
    }
}

/* A syntax error where the importer never reads (components/examples) still
 * fails the import, with the message and position of the whole parse. */
static void
test_index_syntax_error_unread(void **state)
{
    static const char spec[] = "{" OAS ",\n \"paths\": {\"/a\": {\"get\": {}}},\n"
                               " \"components\": {\"examples\": {\"e\": {\"value\": [1 2]}}}}";
    struct outcome r = both(spec);

    (void)state;
    assert_int_equal(r.e, ERR_INVALID);
    assert_non_null(strstr(r.dump, "spec: JSON: "));
    assert_non_null(strstr(r.dump, "at line 3 column"));
    free(r.dump);
    r = both("{" OAS ", \"paths\": {}, \"components\": {\"examples\": {\"e\": 1, \"e\": 2}}}");
    assert_int_equal(r.e, ERR_INVALID);
    assert_non_null(strstr(r.dump, "duplicate object key"));
    free(r.dump);
}

/* $refs into places that are not spans: inside a path item, inside a
 * component, a top-level extension, an array; missing ones warn alike. */
static void
test_index_refs(void **state)
{
    static const char spec[] =
        "{" OAS ", \"servers\": [{\"url\": \"https://a.example\"}],"
        " \"x-defs\": {\"S\": {\"type\": \"string\", \"maxLength\": 3}},"
        " \"x-list\": [{\"name\": \"l\", \"in\": \"query\", \"schema\": {\"type\": \"integer\"}}],"
        " \"paths\": {"
        "  \"/a\": {\"get\": {\"parameters\": [{\"name\": \"q\", \"in\": \"query\","
        "   \"schema\": {\"$ref\": \"#/components/schemas/A/properties/b\"}}]}},"
        "  \"/b\": {\"get\": {\"parameters\": [{\"$ref\": \"#/paths/~1a/get/parameters/0\"},"
        "   {\"$ref\": \"#/x-list/0\"}, {\"name\": \"s\", \"in\": \"header\","
        "    \"schema\": {\"$ref\": \"#/x-defs/S\"}}, {\"name\": \"p\", \"in\": \"query\","
        "    \"schema\": {\"$ref\": \"#/components/schemas/A~1B\"}}, {\"name\": \"r\","
        "    \"in\": \"query\", \"schema\": {\"$ref\": \"#/components/schemas/%41\"}}],"
        "   \"responses\": {\"200\": {\"$ref\": \"#/components/responses/Missing\"},"
        "    \"201\": {\"content\": {\"application/json\": {\"schema\": {\"$ref\": \"#\"}}}}}}},"
        "  \"/c\": {\"$ref\": \"#/paths/~1b\"},"
        "  \"/d\": {\"$ref\": \"#/components/pathItems/D\"}},"
        " \"components\": {\"schemas\": {\"A\": {\"type\": \"object\", \"properties\":"
        "  {\"b\": {\"type\": \"boolean\"}}}, \"A/B\": {\"enum\": [1, 2]}},"
        "  \"pathItems\": {\"D\": {\"post\": {\"operationId\": \"d\"}}}}}";
    struct outcome r = both(spec);

    (void)state;
    assert_int_equal(r.e, ERR_OK);
    assert_non_null(strstr(r.dump, "\"q\":{\"type\":\"boolean\"}"));
    assert_non_null(strstr(r.dump, "\"l\":{\"type\":\"integer\"}"));
    assert_non_null(strstr(r.dump, "\"maxLength\":3"));
    assert_non_null(strstr(r.dump, "\"p\":{\"enum\":[1,2]}"));
    assert_non_null(strstr(r.dump, "\"operation_id\":\"d\""));
    assert_non_null(strstr(r.dump, "$ref target not found: #/components/responses/Missing"));
    free(r.dump);
}

/* A huge member nobody reads is skipped, never parsed; a huge path item
 * still imports. */
static void
test_index_huge_member(void **state)
{
    size_t n = 200000, cap = n * 8 + 100000 + 4096, len;
    char *s = malloc(cap);
    struct oa_index *x;
    struct outcome r;
    int big;

    (void)state;
    len = (size_t)snprintf(s, cap, "{" OAS ", \"x-big\": [");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s{\"a\":1}", i ? "," : "");
    len += (size_t)snprintf(s + len, cap - len,
                            "], \"paths\": {\"/a\": {\"get\": {\"description\": \"");
    memset(s + len, 'd', 100000);
    len += 100000;
    snprintf(s + len, cap - len, "\"}}}}");
    x = build(s);
    assert_non_null(x);
    big = SPAN(x, "x-big");
    assert_true(big > 0);
    assert_int_equal(x->sp[big].end - x->sp[big].start, n * 8 + 1);
    assert_false(x->sp[big].kids);
    assert_int_equal(x->n, 8); /* root, openapi, info, title, version, x-big, paths, /a */
    oa_index_free(x);
    r = both(s);
    assert_int_equal(r.e, ERR_OK);
    free(r.dump);
    free(s);
}

/* Nesting: OPENAPI_MAX_DEPTH is indexed, one more is refused and fails as
 * before (max_depth). */
static void
test_index_depth(void **state)
{
    for (int extra = 0; extra <= 1; extra++) {
        int d = OPENAPI_MAX_DEPTH + extra;
        size_t len = 0, cap = (size_t)d * 2 + 256;
        char *s = malloc(cap);
        struct oa_index *x;
        struct outcome r;

        len += (size_t)snprintf(s, cap, "{" OAS ", \"x\": ");
        for (int i = 1; i < d; i++)
            s[len++] = '[';
        for (int i = 1; i < d; i++)
            s[len++] = ']';
        snprintf(s + len, cap - len, "}");
        x = build(s);
        assert_true((x != NULL) == (extra == 0));
        oa_index_free(x);
        r = both(s);
        assert_int_equal(r.e, extra ? ERR_TOO_LARGE : ERR_OK);
        if (extra)
            assert_non_null(strstr(r.dump, "max_depth: JSON: nesting deeper than 256"));
        free(r.dump);
        free(s);
    }
    (void)state;
}

/* Values the mapping never reads are holes, left out when a path item is
 * parsed for its operations; a $ref into one still finds it (a span is
 * parsed whole for oa_pointer). */
static void
test_index_holes(void **state)
{
    static const char spec[] =
        "{" OAS ", \"servers\": [{\"url\": \"https://a.example\"}], \"paths\": {\"/a\": {"
        "\"summary\": \"item summary stays\", \"x-item\": {\"get\": {}},"
        "\"get\": {\"tags\": [\"t\"], \"externalDocs\": {}, \"x-p\": [{\"name\": \"h\","
        " \"in\": \"query\"}], \"deprecated\": true, \"operationId\": \"g\","
        " \"summary\": \"S\", \"description\": \"D\", \"parameters\": [{\"$ref\":"
        " \"#/paths/~1a/get/x-p/0\"}, {\"name\": \"q\", \"in\": \"query\", \"examples\":"
        " {\"e\": {}}, \"schema\": {\"type\": \"string\", \"example\": \"kept\"}}],"
        " \"responses\": {\"200\": {\"description\": \"d\", \"headers\": {}, \"links\": {},"
        " \"content\": {\"application/json\": {\"examples\": {}, \"example\": 1,"
        " \"encoding\": {}, \"schema\": {\"type\": \"object\", \"example\": {\"k\": 2}}}}}},"
        " \"requestBody\": {\"description\": \"b\", \"content\": {\"application/json\": {"
        "\"examples\": {}, \"schema\": {\"examples\": [3]}}}}, \"security\": [],"
        " \"x-\\u0074ail\": 1},"
        "\"post\": {\"responses\": {\"201\": {\"$ref\": \"#/paths/~1a/get/responses/200\"}}}"
        "}}}";
    struct oa_index *x = build(spec);
    struct outcome r;
    int a;

    (void)state;
    assert_non_null(x);
    a = SPAN(x, "paths", "/a");
    /* tags externalDocs x-p deprecated x-tail; description headers links; examples
     * example encoding; the body's examples (its description is read) */
    assert_int_equal(x->sp[a].nholes, 12);
    assert_int_equal(x->nh, 12);
    assert_true(x->sp[a].security);
    assert_int_equal(x->sp[a].nops, 2);
    oa_index_free(x);
    r = both(spec);
    assert_int_equal(r.e, ERR_OK);
    assert_non_null(strstr(r.dump, "\"h\":{\"type\":\"string\"}"));
    assert_non_null(strstr(r.dump, "\"example\":\"kept\""));
    assert_non_null(strstr(r.dump, "\"example\":{\"k\":2}"));
    assert_non_null(strstr(r.dump, "\"examples\":[3]"));
    free(r.dump);
}

/* Past jansson's own nesting limit (2048) the index refuses whatever
 * max_depth allows, and leaves the text to the whole parse. */
static void
test_index_scan_depth(void **state)
{
    for (int d = 2048; d <= 2049; d++) {
        size_t len = 0;
        char *s = malloc((size_t)d * 2 + 1);
        struct oa_index *x;

        for (int i = 0; i < d; i++)
            s[len++] = '[';
        for (int i = 0; i < d; i++)
            s[len++] = ']';
        x = oa_index_build(s, len, 5000);
        assert_true((x != NULL) == (d == 2048));
        oa_index_free(x);
        free(s);
    }
    (void)state;
}

/* The span cache is trimmed between path items: many operations sharing
 * components past OA_SPAN_CACHE_BYTES import the same. */
static void
test_index_cache_trim(void **state)
{
    size_t ops = 300, cap = ops * 200 + OA_SPAN_CACHE_BYTES * 2 + 4096, len;
    char *s = malloc(cap);
    struct outcome r;

    (void)state;
    len = (size_t)snprintf(s, cap, "{" OAS ", \"paths\": {");
    for (size_t i = 0; i < ops; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "%s\"/p%zu\": {\"get\": {\"parameters\": [{\"$ref\": "
                                "\"#/components/parameters/P%zu\"}, {\"$ref\": "
                                "\"#/components/parameters/Big\"}]}}",
                                i ? "," : "", i, i % 7);
    len += (size_t)snprintf(s + len, cap - len,
                            "}, \"components\": {\"parameters\": {\"Big\": {\"name\": \"big\","
                            " \"in\": \"query\", \"description\": \"");
    memset(s + len, 'b', OA_SPAN_CACHE_BYTES / 3);
    len += OA_SPAN_CACHE_BYTES / 3;
    len += (size_t)snprintf(s + len, cap - len, "\"}");
    for (size_t i = 0; i < 7; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                ", \"P%zu\": {\"name\": \"p%zu\", \"in\": \"query\"}", i, i);
    snprintf(s + len, cap - len, "}}}");
    r = both(s);
    assert_int_equal(r.e, ERR_OK);
    free(r.dump);
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_spans),
        cmocka_unit_test(test_index_escaped_keys),
        cmocka_unit_test(test_index_key_in_string),
        cmocka_unit_test(test_index_refused),
        cmocka_unit_test(test_index_syntax_error_unread),
        cmocka_unit_test(test_index_refs),
        cmocka_unit_test(test_index_huge_member),
        cmocka_unit_test(test_index_depth),
        cmocka_unit_test(test_index_scan_depth),
        cmocka_unit_test(test_index_cache_trim),
        cmocka_unit_test(test_index_holes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
