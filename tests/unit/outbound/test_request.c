/* out_request_* / out_response_* helpers: header and query injection
 * (SSRF-168, SSRF-169), percent-encoding, credential query stripping used on
 * cross-origin redirects (SSRF-144), names of failures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "outbound/internal.h"

static void
ssrf_169_header_injection(void **state)
{
    static const struct {
        const char *name, *value;
        enum err e;
    } cases[] = {
        {"X-API-Key", "abc", ERR_OK},
        {"x-a!#$%&'*+-.^_`|~1", "v", ERR_OK},
        {"X-Empty", "", ERR_OK},
        {"X-Tab", "a\tb", ERR_OK},
        {"X-Obs", "caf\xc3\xa9", ERR_OK},
        {"X-Key\r\nX-Evil", "1", ERR_INVALID},
        {"X-Key: x", "1", ERR_INVALID},
        {"X Key", "1", ERR_INVALID},
        {"", "1", ERR_INVALID},
        {"X-(k)", "1", ERR_INVALID},
        {"X-Key", "a\r\nX-Evil: 1", ERR_INVALID},
        {"X-Key", "a\nb", ERR_INVALID},
        {"X-Key", "a\rb", ERR_INVALID},
        {"X-Key", "a\x01", ERR_INVALID},
        {"X-Key", "a\x7f", ERR_INVALID},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct out_request rq;
        struct errinfo ei = {0};
        assert_int_equal(out_request_init(&rq, "GET", "http://a.test/", &ei), ERR_OK);
        if (out_request_add_header(&rq, cases[i].name, cases[i].value, true, &ei) != cases[i].e)
            fail_msg("case %zu: header %s", i, cases[i].name);
        if (cases[i].e != ERR_OK) {
            assert_string_equal(ei.field, "headers");
            assert_null(strstr(ei.msg, "X-Evil"));
        }
        out_request_release(&rq);
    }
}

/* MAX_HEADER_NAME_LEN accepted, +1 refused. */
static void
ssrf_169_header_name_limit(void **state)
{
    char name[MAX_HEADER_NAME_LEN + 2];
    struct out_request rq;
    struct errinfo ei;
    (void)state;

    assert_int_equal(out_request_init(&rq, "GET", "http://a.test/", &ei), ERR_OK);
    memset(name, 'a', sizeof(name));
    name[MAX_HEADER_NAME_LEN] = '\0';
    assert_int_equal(out_request_add_header(&rq, name, "v", false, &ei), ERR_OK);
    name[MAX_HEADER_NAME_LEN] = 'a';
    name[MAX_HEADER_NAME_LEN + 1] = '\0';
    assert_int_equal(out_request_add_header(&rq, name, "v", false, &ei), ERR_INVALID);
    for (int i = 0; i < 40; i++) /* growth */
        assert_int_equal(out_request_add_header(&rq, "X-N", "v", i % 2, &ei), ERR_OK);
    assert_int_equal(rq.nheaders, 41);
    out_request_release(&rq);
    out_request_release(&rq); /* on {0}: nothing */
}

static void
out_request_method(void **state)
{
    static const struct {
        const char *m, *want;
        enum err e;
    } cases[] = {
        {"get", "GET", ERR_OK},           {"PATCH", "PATCH", ERR_OK},
        {"OPTIONS", "OPTIONS", ERR_OK},   {"", NULL, ERR_INVALID},
        {"GE T", NULL, ERR_INVALID},      {"GET\r\n", NULL, ERR_INVALID},
        {"TOOLONGXX", NULL, ERR_INVALID},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct out_request rq;
        struct errinfo ei;
        assert_int_equal(out_request_init(&rq, cases[i].m, "http://a.test/", &ei), cases[i].e);
        if (cases[i].want)
            assert_string_equal(rq.method, cases[i].want);
        assert_int_equal(rq.limits.max_redirects, OUT_MAX_REDIRECTS);
        out_request_release(&rq);
    }
}

/* SSRF-168: values never change the URL's structure. */
static void
ssrf_168_query_encoding(void **state)
{
    static const struct {
        const char *base, *key, *value, *want;
    } cases[] = {
        {"http://a.test/p", "q", "x", "http://a.test/p?q=x"},
        {"http://a.test/p?a=1", "q", "x", "http://a.test/p?a=1&q=x"},
        {"http://a.test/p#f", "q", "x", "http://a.test/p?q=x#f"},
        {"http://a.test/", "k y", "a&b=c", "http://a.test/?k%20y=a%26b%3Dc"},
        {"http://a.test/", "q", "../admin", "http://a.test/?q=..%2Fadmin"},
        {"http://a.test/", "q", "x#f?y=1", "http://a.test/?q=x%23f%3Fy%3D1"},
        {"http://a.test/", "q", "@evil.test", "http://a.test/?q=%40evil.test"},
        {"http://a.test/", "q", "http://127.0.0.1/", "http://a.test/?q=http%3A%2F%2F127.0.0.1%2F"},
        {"http://a.test/", "q", "a\r\nb\x01", "http://a.test/?q=a%0D%0Ab%01"},
        {"http://a.test/", "q", "-._~AZaz09", "http://a.test/?q=-._~AZaz09"},
        {"http://a.test/", "q", "\xc3\xa9+", "http://a.test/?q=%C3%A9%2B"},
        {"http://a.test/", "q", "", "http://a.test/?q="},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct out_request rq;
        struct errinfo ei;
        assert_int_equal(out_request_init(&rq, "GET", cases[i].base, &ei), ERR_OK);
        assert_int_equal(out_request_add_query(&rq, cases[i].key, cases[i].value, i == 0, &ei),
                         ERR_OK);
        assert_string_equal(rq.url, cases[i].want);
        out_request_release(&rq);
    }
}

static void
out_request_query_errors(void **state)
{
    struct out_request rq;
    struct errinfo ei;
    char *big = malloc(URL_MAX_LEN);
    (void)state;

    assert_int_equal(out_request_init(&rq, "GET", "http://a.test/", &ei), ERR_OK);
    assert_int_equal(out_request_add_query(&rq, "", "v", false, &ei), ERR_INVALID);
    memset(big, 'a', URL_MAX_LEN - 1);
    big[URL_MAX_LEN - 1] = '\0';
    assert_int_equal(out_request_add_query(&rq, "k", big, false, &ei), ERR_TOO_LARGE);
    assert_string_equal(rq.url, "http://a.test/");
    assert_int_equal(out_request_add_query(&rq, "api_key", "s", true, &ei), ERR_OK);
    assert_int_equal(rq.ncred_query, 1);
    assert_string_equal(rq.cred_query[0], "api_key");
    free(big);
    out_request_release(&rq);
}

/* SSRF-144: credential keys removed from a redirect target, encoded or not. */
static void
ssrf_144_strip_query_keys(void **state)
{
    static const struct {
        const char *url, *want;
    } cases[] = {
        {"http://b.test/x?api_key=S&keep=1", "http://b.test/x?keep=1"},
        {"http://b.test/x?keep=1&api_key=S", "http://b.test/x?keep=1"},
        {"http://b.test/x?api_key=S", "http://b.test/x"},
        {"http://b.test/x?api%5Fkey=S&a=1", "http://b.test/x?a=1"},
        {"http://b.test/x?api_key&a=1", "http://b.test/x?a=1"},
        {"http://b.test/x?k%20y=S&a=1#frag", "http://b.test/x?a=1#frag"},
        {"http://b.test/x?api_keyx=1&xapi_key=2", "http://b.test/x?api_keyx=1&xapi_key=2"},
        {"http://b.test/x?a=1&&b=2", "http://b.test/x?a=1&b=2"},
        {"http://b.test/x#?api_key=S", "http://b.test/x#?api_key=S"},
        {"http://b.test/x", "http://b.test/x"},
        {"http://b.test/x?api_key=%", "http://b.test/x"},
    };
    char k1[] = "api_key", k2[] = "k y";
    char *keys[] = {k1, k2};
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = url_strip_query_keys(cases[i].url, keys, 2);
        assert_non_null(got);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s -> %s, want %s", cases[i].url, got, cases[i].want);
        free(got);
    }
}

static void
out_fail_names(void **state)
{
    static const struct {
        enum out_fail f;
        const char *name;
    } cases[] = {
        {OUT_OK, "ok"},
        {OUT_FAIL_URL, "url"},
        {OUT_FAIL_BLOCKED, "blocked"},
        {OUT_FAIL_RESOLVE, "resolve"},
        {OUT_FAIL_CONNECT, "connect"},
        {OUT_FAIL_TLS, "tls"},
        {OUT_FAIL_TIMEOUT, "timeout"},
        {OUT_FAIL_TOO_LARGE, "too_large"},
        {OUT_FAIL_REDIRECTS, "redirects"},
        {OUT_FAIL_PROTOCOL, "protocol"},
        {OUT_FAIL_CANCELLED, "cancelled"},
        {OUT_FAIL_INTERNAL, "internal"},
        {(enum out_fail)99, "internal"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(out_fail_name(cases[i].f), cases[i].name);
}

static void
out_response_helpers(void **state)
{
    struct out_response res = {0};
    struct out_header h[2] = {{strdup("content-type"), strdup("text/plain"), false},
                              {strdup("x-a"), strdup("1"), false}};
    (void)state;

    res.headers = malloc(sizeof(h));
    memcpy(res.headers, h, sizeof(h));
    res.nheaders = 2;
    assert_string_equal(out_response_header(&res, "x-a"), "1");
    assert_null(out_response_header(&res, "x-b"));
    out_response_release(&res);
    out_response_release(&res);
    out_response_release(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ssrf_169_header_injection),
        cmocka_unit_test(ssrf_169_header_name_limit),
        cmocka_unit_test(out_request_method),
        cmocka_unit_test(ssrf_168_query_encoding),
        cmocka_unit_test(out_request_query_errors),
        cmocka_unit_test(ssrf_144_strip_query_keys),
        cmocka_unit_test(out_fail_names),
        cmocka_unit_test(out_response_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
