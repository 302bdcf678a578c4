/* Unit tests for engine/result: the call answer written by hand around the
 * upstream body. A JSON body is spliced exactly when jansson would accept it
 * (the scanner in result.c allocates nothing, so it is checked against
 * jansson on a table of edge cases); otherwise text becomes a JSON string
 * and anything else base64. Headers: hop-by-hop ones dropped, repeated names
 * joined, escapes as jansson writes them, echoed secrets redacted (LEAK-006). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/auth.h"
#include "engine/call.h"
#include "outbound/outbound.h"

static void
add_header(struct out_response *r, const char *name, const char *value)
{
    r->headers = realloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
    assert_non_null(r->headers);
    memset(&r->headers[r->nheaders], 0, sizeof(r->headers[0]));
    r->headers[r->nheaders].name = strdup(name);
    r->headers[r->nheaders].value = strdup(value);
    r->nheaders++;
}

static void
mk_res(struct out_response *r, const char *ctype, const char *body, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->status = 200;
    buf_init(&r->body, 1u << 20);
    if (len > 0)
        assert_int_equal(buf_append(&r->body, body, len), ERR_OK);
    if (ctype) {
        r->content_type = strdup(ctype);
        add_header(r, "content-type", ctype);
    }
}

/* Renders r and parses the answer (which must always be valid JSON). */
static json_t *
render(struct out_response *r, const struct auth_values *sec, char **text)
{
    struct call_result out = {0};
    json_error_t je;
    json_t *j;

    buf_init(&out.json, 1u << 22);
    result_render(r, sec, &out);
    assert_int_equal(out.http_status, 200);
    j = json_loadb(out.json.data, out.json.len, 0, &je);
    if (j == NULL)
        fail_msg("answer is not JSON (%s): %.200s", je.text, out.json.data);
    if (text)
        *text = strndup(out.json.data, out.json.len);
    call_result_release(&out);
    out_response_release(r);
    return j;
}

static const struct {
    const char *body;
    size_t len; /* 0: strlen */
} json_cases[] = {
    {"{\"id\":42,\"tags\":[\"a\",\"b\"],\"ok\":true,\"x\":null}", 0},
    {"  [1, -0, 0.5, -1.5e+10, 2E-3, 1e5]  \n", 0},
    {"\"just a string\"", 0},
    {"42", 0},
    {"true", 0},
    {"null", 0},
    {"{}", 0},
    {"[]", 0},
    {"[[[[[[[[[[{}]]]]]]]]]]", 0},
    {"{\"a\":\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"}", 0},
    {"{\"caf\xc3\xa9\":\"\xf0\x9f\x98\x80\"}", 0},
    /* refused by jansson: spliced never, rendered as a JSON string instead */
    {"{\"a\":1,}", 0},
    {"[1,]", 0},
    {"{\"a\" 1}", 0},
    {"{a:1}", 0},
    {"01", 0},
    {"1.", 0},
    {".5", 0},
    {"1e", 0},
    {"-", 0},
    {"+1", 0},
    {"tru", 0},
    {"nul", 0},
    {"[1] [2]", 0},
    {"[1", 0},
    {"{\"a\":[1}", 0},
    {"\"unterminated", 0},
    {"\"bad \\x escape\"", 0},
    {"\"\\u12\"", 0},
    {"\"\\u0000\"", 0},
    {"\"\\ud800\"", 0},
    {"\"\\udc00\"", 0},
    {"\"\\ud800\\u0041\"", 0},
    {"\"tab\there\"", 0},
    {"", 0},
    {"   ", 0},
    {"NaN", 0},
};

/* JSON bodies: spliced byte for byte exactly when jansson accepts them;
 * otherwise a string holding the same text. */
static void
test_json_splice_matches_jansson(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
        const char *b = json_cases[i].body;
        size_t len = json_cases[i].len ? json_cases[i].len : strlen(b);
        json_t *ref = json_loadb(b, len, JSON_DECODE_ANY, NULL);
        struct out_response r;
        char *text = NULL;
        json_t *j, *body;

        mk_res(&r, "application/json; charset=utf-8", b, len);
        j = render(&r, NULL, &text);
        body = json_object_get(j, "body");
        if (len == 0) {
            assert_true(json_is_null(body));
        } else if (ref != NULL) {
            const char *at = strstr(text, ",\"body\":");
            assert_non_null(at);
            if (strncmp(at + 8, b, len) != 0)
                fail_msg("case %zu not spliced as is: %s", i, text);
            assert_true(json_equal(body, ref));
        } else {
            if (!json_is_string(body) || strcmp(json_string_value(body), b) != 0)
                fail_msg("case %zu: want the text as a string, got %s", i, text);
        }
        json_decref(ref);
        json_decref(j);
        free(text);
    }
}

/* The answer must parse with jansson (nesting limit 2048) and wraps the body
 * one level deeper: 2047 levels are spliced, 2048 go out as text. */
static void
test_json_depth_limit(void **state)
{
    (void)state;
    for (size_t depth = 2047; depth <= 2048; depth++) {
        char *b = malloc(2 * depth + 1);
        struct out_response r;
        json_t *j;
        assert_non_null(b);
        memset(b, '[', depth);
        memset(b + depth, ']', depth);
        b[2 * depth] = '\0';
        mk_res(&r, "application/json", b, 2 * depth);
        j = render(&r, NULL, NULL);
        assert_true(depth == 2047 ? json_is_array(json_object_get(j, "body"))
                                  : json_is_string(json_object_get(j, "body")));
        json_decref(j);
        free(b);
    }
}

/* Text, text with a NUL byte, invalid UTF-8 (base64), and escapes. */
static void
test_text_and_binary_bodies(void **state)
{
    static const char txt[] = "line 1\nquote \" back \\ tab \t bell \x07 del \x7f caf\xc3\xa9";
    struct out_response r;
    json_t *j;

    (void)state;
    mk_res(&r, "text/plain", txt, strlen(txt));
    j = render(&r, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "body")), txt);
    assert_null(json_object_get(j, "body_encoding"));
    json_decref(j);

    mk_res(&r, "text/plain", "a\0b", 3);
    j = render(&r, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "body_encoding")), "base64");
    assert_string_equal(json_string_value(json_object_get(j, "body")), "YQBi");
    json_decref(j);

    mk_res(&r, "application/json", "\"\xff\"", 3);
    j = render(&r, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "body_encoding")), "base64");
    json_decref(j);
}

/* Headers: hop-by-hop dropped, repeats joined in order, escapes, a secret
 * echoed in a header or the body redacted, non-UTF-8 values left out. */
static void
test_headers(void **state)
{
    struct auth_values sec = {0};
    struct out_response r;
    char *text = NULL;
    json_t *j, *h;

    (void)state;
    assert_int_equal(auth_values_add(&sec, "token", "s3cr3t-value", 12), ERR_OK);
    mk_res(&r, "application/json", "{\"echo\":\"s3cr3t-value\"}", 23);
    add_header(&r, "connection", "keep-alive");
    add_header(&r, "transfer-encoding", "chunked");
    add_header(&r, "set-cookie", "a=1");
    add_header(&r, "x-quote", "say \"hi\"\\ \x01");
    add_header(&r, "set-cookie", "b=2");
    add_header(&r, "x-echo", "Bearer s3cr3t-value");
    add_header(&r, "x-bin", "\xff\xfe");
    j = render(&r, &sec, &text);
    h = json_object_get(j, "headers");
    assert_int_equal(json_object_size(h), 4);
    assert_null(json_object_get(h, "connection"));
    assert_null(json_object_get(h, "transfer-encoding"));
    assert_null(json_object_get(h, "x-bin"));
    assert_string_equal(json_string_value(json_object_get(h, "set-cookie")), "a=1, b=2");
    assert_string_equal(json_string_value(json_object_get(h, "x-quote")), "say \"hi\"\\ \x01");
    assert_string_equal(json_string_value(json_object_get(h, "x-echo")), "Bearer [REDACTED]");
    assert_null(strstr(text, "s3cr3t-value"));
    assert_non_null(strstr(text, "\\u0001")); /* as jansson writes it */
    assert_true(json_is_true(json_object_get(j, "ok")));
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
    free(text);
    json_decref(j);
    auth_values_release(&sec);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_splice_matches_jansson),
        cmocka_unit_test(test_json_depth_limit),
        cmocka_unit_test(test_text_and_binary_bodies),
        cmocka_unit_test(test_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
