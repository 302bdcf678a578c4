/* Unit tests for engine/template: tmpl_check, tmpl_render, pct_encode.
 * SSRF-168: a path value always renders to one encoded segment. */
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
#include "engine/template.h"

/* Renders tmpl with input (JSON text); returns the result or NULL on error. */
static char *
render(const char *tmpl, const char *input_json, enum err *e, struct errinfo *ei)
{
    json_error_t jerr;
    json_t *in = input_json ? json_loads(input_json, JSON_ALLOW_NUL, &jerr) : NULL;
    struct buf out;
    char *s = NULL;

    if (input_json != NULL)
        assert_non_null(in);
    buf_init(&out, 8192);
    memset(ei, 0, sizeof(*ei));
    *e = tmpl_render(tmpl, in, &out, NULL, ei);
    if (*e == ERR_OK)
        s = buf_take(&out, NULL);
    buf_release(&out);
    json_decref(in);
    return s;
}

/* ---- tmpl_check ---- */

static const struct {
    const char *tmpl;
    const char *msg_part; /* NULL = valid */
} check_cases[] = {
    {"/", NULL},
    {"/repos/{{owner}}/{{repo}}/issues?state={{state}}&per_page=30", NULL},
    {"/a/{{_x9}}.json", NULL},
    {"/a/{{a}}-{{b}}", NULL},
    {"/search?q={{q}}&q2={{q}}", NULL},
    {"/a%20b/{{x}}", NULL},
    {"/x?", NULL},
    {"", "must start with '/'"},
    {"repos/{{a}}", "must start with '/'"},
    {"http://evil/{{a}}", "must start with '/'"},
    {"/a/{{9x}}", "must start with a letter"},
    {"/a/{{}}", "must start with a letter"},
    {"/a/{{a-b}}", "expected '}}'"},
    {"/a/{{a}", "expected '}}'"},
    {"/a/{{a", "expected '}}'"},
    {"/a/{a}", "unbalanced '{'"},
    {"/a/{", "unbalanced '{'"},
    {"/a/}", "unbalanced '}'"},
    {"/a/{{a}}}", "unbalanced '}'"},
    {"/a/{{ a }}", "must start with a letter"},
    {"/a b", "space"},
    {"/a\r\nHost: evil", "CR or LF"},
    {"/a\n", "CR or LF"},
    {"/a\t", "control"},
    {"/a#frag", "'#'"},
    {"/a?x=1?y=2", "second '?'"},
    {"/a?x={{a}}?", "second '?'"},
    {"/a%zz", "%XX"},
    {"/a%2", "%XX"},
    {"/caf\xc3\xa9", "ASCII"},
};

static void
test_check_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
        struct errinfo ei = {{0}};
        enum err e = tmpl_check(check_cases[i].tmpl, "operations[3].path", NULL, &ei);
        if (check_cases[i].msg_part == NULL) {
            if (e != ERR_OK)
                fail_msg("case %zu (%s): %s", i, check_cases[i].tmpl, ei.msg);
        } else {
            if (e != ERR_INVALID)
                fail_msg("case %zu (%s) should fail", i, check_cases[i].tmpl);
            assert_string_equal(ei.field, "operations[3].path");
            if (strstr(ei.msg, check_cases[i].msg_part) == NULL)
                fail_msg("case %zu: message '%s' lacks '%s'", i, ei.msg, check_cases[i].msg_part);
        }
    }
}

static void
test_check_null_and_default_field(void **state)
{
    struct errinfo ei = {{0}};

    (void)state;
    assert_int_equal(tmpl_check(NULL, NULL, NULL, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "path");
    assert_int_equal(tmpl_check("/a", "p", NULL, NULL), ERR_OK);
    assert_int_equal(tmpl_check("a", "p", NULL, NULL), ERR_INVALID);
}

static void
test_check_names(void **state)
{
    json_t *names = json_array();
    struct errinfo ei = {{0}};
    char *dump;

    (void)state;
    assert_int_equal(
        tmpl_check("/r/{{owner}}/{{repo}}/{{owner}}?s={{state}}&o={{owner}}", "path", names, &ei),
        ERR_OK);
    dump = json_dumps(names, JSON_COMPACT);
    assert_string_equal(dump, "[{\"name\":\"owner\",\"in\":\"path\"},"
                              "{\"name\":\"repo\",\"in\":\"path\"},"
                              "{\"name\":\"state\",\"in\":\"query\"},"
                              "{\"name\":\"owner\",\"in\":\"query\"}]");
    free(dump);
    json_decref(names);
}

static void
test_check_name_length_limit(void **state)
{
    char t[128], name[80];
    struct errinfo ei = {{0}};

    (void)state;
    memset(name, 'a', TMPL_MAX_NAME);
    name[TMPL_MAX_NAME] = '\0';
    snprintf(t, sizeof(t), "/{{%s}}", name); /* N */
    assert_int_equal(tmpl_check(t, "path", NULL, &ei), ERR_OK);
    name[TMPL_MAX_NAME] = 'a'; /* N+1 */
    name[TMPL_MAX_NAME + 1] = '\0';
    snprintf(t, sizeof(t), "/{{%s}}", name);
    assert_int_equal(tmpl_check(t, "path", NULL, &ei), ERR_INVALID);
    assert_non_null(strstr(ei.msg, "longer than 64"));
}

static void
test_check_length_limit(void **state)
{
    char *t = malloc(MAX_OP_PATH_LEN + 2);
    struct errinfo ei = {{0}};

    (void)state;
    memset(t, 'a', MAX_OP_PATH_LEN + 1);
    t[0] = '/';
    t[MAX_OP_PATH_LEN] = '\0'; /* N */
    assert_int_equal(tmpl_check(t, "path", NULL, &ei), ERR_OK);
    t[MAX_OP_PATH_LEN] = 'a'; /* N+1 */
    t[MAX_OP_PATH_LEN + 1] = '\0';
    assert_int_equal(tmpl_check(t, "path", NULL, &ei), ERR_INVALID);
    assert_non_null(strstr(ei.msg, "at most 2048"));
    free(t);
}

/* ---- SSRF-168: hostile path values ---- */

static const struct {
    const char *value_json; /* a JSON string */
    const char *want;       /* rendered "/users/<seg>/x" */
} hostile[] = {
    {"\"../admin\"", "/users/..%2Fadmin/x"},
    {"\"%2e%2e%2f\"", "/users/%252e%252e%252f/x"},
    {"\"%2E%2E\"", "/users/%252E%252E/x"},
    {"\"x?y=1\"", "/users/x%3Fy%3D1/x"},
    {"\"x#f\"", "/users/x%23f/x"},
    {"\"@evil.test\"", "/users/%40evil.test/x"},
    {"\"http://127.0.0.1/\"", "/users/http%3A%2F%2F127.0.0.1%2F/x"},
    {"\"//127.0.0.1\"", "/users/%2F%2F127.0.0.1/x"},
    {"\"a\\r\\nHost: evil\"", "/users/a%0D%0AHost%3A%20evil/x"},
    {"\"a b+c&d=e;f,g\"", "/users/a%20b%2Bc%26d%3De%3Bf%2Cg/x"},
    {"\"..\\\\..\\\\etc\"", "/users/..%5C..%5Cetc/x"},
    {"\"...\"", "/users/.../x"},
    {"\".a\"", "/users/.a/x"},
    {"\"\\u00e9\"", "/users/%C3%A9/x"},
    {"\"~-._AZaz09\"", "/users/~-._AZaz09/x"},
    {"\"{{id}}\"", "/users/%7B%7Bid%7D%7D/x"},
    {"\"[::1]\"", "/users/%5B%3A%3A1%5D/x"},
};

static void
test_render_hostile_path_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        char in[256];
        struct errinfo ei;
        enum err e;
        char *got;
        const char *seg;
        snprintf(in, sizeof(in), "{\"id\": %s}", hostile[i].value_json);
        got = render("/users/{{id}}/x", in, &e, &ei);
        if (e != ERR_OK)
            fail_msg("case %zu: %s %s", i, ei.field, ei.msg);
        assert_string_equal(got, hostile[i].want);
        /* one segment: exactly three '/' and no '?', '#', '@', ':' */
        seg = got + strlen("/users/");
        assert_null(strpbrk(got, "?#@: \r\n"));
        assert_ptr_equal(strchr(seg, '/'), got + strlen(got) - 2);
        free(got);
    }
}

static const struct {
    const char *tmpl;
    const char *value_json;
    const char *field;
    const char *msg_part;
} refused[] = {
    {"/users/{{id}}", "\"\"", "input.id", "empty"},
    {"/users/{{id}}", "\".\"", "input.id", "'..'"},
    {"/users/{{id}}", "\"..\"", "input.id", "'..'"},
    {"/users/{{id}}.", "\".\"", "input.id", "'.'"},
    {"/users/.{{id}}", "\".\"", "input.id", "'.'"},
    {"/users/{{id}}", "null", "input.id", "null"},
    {"/users/{{id}}", "{}", "input.id", "string, a number or a boolean"},
    {"/users/{{id}}", "[1]", "input.id", "string, a number or a boolean"},
    {"/users/{{id}}", "\"a\\u0000b\"", "input.id", "NUL"},
    {"/users?q={{id}}", "\"a\\u0000b\"", "input.id", "NUL"},
    {"/users?q={{id}}", "null", "input.id", "null"},
};

static void
test_render_refused_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char in[256];
        struct errinfo ei;
        enum err e;
        char *got;
        snprintf(in, sizeof(in), "{\"id\": %s}", refused[i].value_json);
        got = render(refused[i].tmpl, in, &e, &ei);
        if (e != ERR_INVALID)
            fail_msg("case %zu should be refused, got %s", i, got ? got : "(error)");
        assert_string_equal(ei.field, refused[i].field);
        assert_string_equal(ei.code, "invalid_input");
        if (strstr(ei.msg, refused[i].msg_part) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, ei.msg, refused[i].msg_part);
        free(got);
    }
}

/* ---- query values, scalar types ---- */

static const struct {
    const char *tmpl;
    const char *input;
    const char *want;
} renders[] = {
    {"/s?q={{q}}", "{\"q\": \"a b&c=d+e#f?g/h%i\"}", "/s?q=a%20b%26c%3Dd%2Be%23f%3Fg%2Fh%25i"},
    {"/s?q={{q}}", "{\"q\": \"\"}", "/s?q="},
    {"/s?q={{q}}&n=1", "{\"q\": \"x\\r\\ny\"}", "/s?q=x%0D%0Ay&n=1"},
    {"/s?n={{n}}", "{\"n\": 42}", "/s?n=42"},
    {"/s?n={{n}}", "{\"n\": -7}", "/s?n=-7"},
    {"/s?n={{n}}", "{\"n\": 2.5}", "/s?n=2.5"},
    {"/s?n={{n}}", "{\"n\": 1e300}", "/s?n=1.0000000000000001e300"},
    {"/s?b={{b}}&c={{c}}", "{\"b\": true, \"c\": false}", "/s?b=true&c=false"},
    {"/s/{{n}}", "{\"n\": 9223372036854775807}", "/s/9223372036854775807"},
    {"/s/{{b}}", "{\"b\": false}", "/s/false"},
    {"/repos/{{owner}}/{{repo}}/issues?state={{state}}&per_page=30",
     "{\"owner\": \"octo cat\", \"repo\": \"hello/world\", \"state\": \"open\", \"body\": 1}",
     "/repos/octo%20cat/hello%2Fworld/issues?state=open&per_page=30"},
    {"/plain", NULL, "/plain"},
    {"/plain?x=1", "{}", "/plain?x=1"},
    {"/a/{{x}}/b/{{x}}", "{\"x\": \"v\"}", "/a/v/b/v"},
    {"/a?{{k}}=1", "{\"k\": \"a=b&c\"}", "/a?a%3Db%26c=1"},
};

static void
test_render_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(renders) / sizeof(renders[0]); i++) {
        struct errinfo ei;
        enum err e;
        char *got = render(renders[i].tmpl, renders[i].input, &e, &ei);
        if (e != ERR_OK)
            fail_msg("case %zu: %s: %s", i, ei.field, ei.msg);
        assert_string_equal(got, renders[i].want);
        free(got);
    }
}

static void
test_render_missing_and_used(void **state)
{
    json_t *in = json_pack("{s:s, s:s, s:i}", "owner", "o", "extra", "e", "state", 1);
    json_t *used = json_object();
    struct buf out;
    struct errinfo ei = {{0}};

    (void)state;
    buf_init(&out, 1024);
    assert_int_equal(tmpl_render("/r/{{owner}}?s={{state}}", in, &out, used, &ei), ERR_OK);
    assert_int_equal(json_object_size(used), 2);
    assert_true(json_is_true(json_object_get(used, "owner")));
    assert_true(json_is_true(json_object_get(used, "state")));
    assert_null(json_object_get(used, "extra"));

    /* missing: out left unchanged, field named */
    buf_reset(&out);
    assert_int_equal(buf_puts(&out, "https://api.test"), ERR_OK);
    assert_int_equal(tmpl_render("/r/{{owner}}/{{repo}}", in, &out, NULL, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "input.repo");
    assert_string_equal(ei.msg, "missing required input");
    assert_string_equal(out.data, "https://api.test");
    assert_int_equal(tmpl_render("/r/{{repo}}", NULL, &out, NULL, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "input.repo");

    /* input must be an object */
    json_t *arr = json_array();
    assert_int_equal(tmpl_render("/r", arr, &out, NULL, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "input");
    json_decref(arr);

    /* an unchecked bad template is refused at render too */
    assert_int_equal(tmpl_render("/r/{{a", in, &out, NULL, &ei), ERR_INVALID);
    assert_int_equal(tmpl_render("r", in, &out, NULL, &ei), ERR_INVALID);
    assert_string_equal(out.data, "https://api.test");

    buf_release(&out);
    json_decref(used);
    json_decref(in);
}

static void
test_render_cap(void **state)
{
    json_t *in = json_pack("{s:s}", "x", "////////"); /* 8 bytes -> 24 encoded */
    struct buf out;
    struct errinfo ei = {{0}};

    (void)state;
    buf_init(&out, 3 + 24); /* "/a/" + 24: exactly N */
    assert_int_equal(tmpl_render("/a/{{x}}", in, &out, NULL, &ei), ERR_OK);
    buf_release(&out);
    buf_init(&out, 3 + 23); /* N-1 */
    assert_int_equal(tmpl_render("/a/{{x}}", in, &out, NULL, &ei), ERR_TOO_LARGE);
    assert_true(out.len == 0);
    buf_release(&out);
    json_decref(in);
}

static void
test_pct_encode(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        enum pct_mode mode;
        const char *want;
    } cases[] = {
        {"", 0, PCT_SEGMENT, ""},
        {"AZaz09-._~", 10, PCT_SEGMENT, "AZaz09-._~"},
        {"a b", 3, PCT_QUERY, "a%20b"},
        {"a b", 3, PCT_SEGMENT, "a%20b"},
        {"&=+#", 4, PCT_QUERY, "%26%3D%2B%23"},
        {"/?%@:", 5, PCT_SEGMENT, "%2F%3F%25%40%3A"},
        {"a\0b", 3, PCT_SEGMENT, "a%00b"},
        {"\xff\x80", 2, PCT_QUERY, "%FF%80"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        buf_init(&b, 256);
        assert_int_equal(pct_encode(&b, cases[i].in, cases[i].n, cases[i].mode), ERR_OK);
        assert_string_equal(b.data ? b.data : "", cases[i].want);
        buf_release(&b);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_table),
        cmocka_unit_test(test_check_null_and_default_field),
        cmocka_unit_test(test_check_names),
        cmocka_unit_test(test_check_name_length_limit),
        cmocka_unit_test(test_check_length_limit),
        cmocka_unit_test(test_render_hostile_path_values),
        cmocka_unit_test(test_render_refused_values),
        cmocka_unit_test(test_render_table),
        cmocka_unit_test(test_render_missing_and_used),
        cmocka_unit_test(test_render_cap),
        cmocka_unit_test(test_pct_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
