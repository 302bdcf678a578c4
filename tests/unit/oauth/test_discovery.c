/* discovery (src/oauth/discovery.c), OAUTH-032: where a document is looked
 * for, and what of it is used: the issuer must match exactly, the endpoints
 * must be URLs, the limits OAUTH_MAX_DISCOVERY_BYTES and MAX_JSON_DEPTH hold
 * at N and refuse at N+1. The fetching (SSRF guard, 404 fallback, a hostile
 * server) is in tests/e2e/oauth.test.mjs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "oauth/discovery.h"

#define ISS "https://as.example.com"
#define GOOD                                                                                       \
    "{\"issuer\":\"" ISS "\",\"authorization_endpoint\":\"" ISS                                    \
    "/auth\",\"token_endpoint\":\"" ISS "/token\",\"revocation_endpoint\":\"" ISS "/revoke\"}"

static void
test_urls(void **state)
{
    static const struct {
        const char *issuer, *oidc, *rfc;
    } cases[] = {
        {ISS, ISS "/.well-known/openid-configuration",
         ISS "/.well-known/oauth-authorization-server"},
        {ISS "/", ISS "/.well-known/openid-configuration",
         ISS "/.well-known/oauth-authorization-server"},
        {ISS "/tenant/1", ISS "/tenant/1/.well-known/openid-configuration",
         ISS "/.well-known/oauth-authorization-server/tenant/1"},
        {"https://as.example.com:8443/t/",
         "https://as.example.com:8443/t/.well-known/openid-configuration",
         "https://as.example.com:8443/.well-known/oauth-authorization-server/t"},
    };
    struct errinfo ei = {0};
    char *a, *b;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(oauth_discovery_urls(cases[i].issuer, &a, &b, &ei), ERR_OK);
        assert_string_equal(a, cases[i].oidc);
        assert_string_equal(b, cases[i].rfc);
        free(a);
        free(b);
    }
    assert_int_equal(oauth_discovery_urls(ISS "/?x=1", &a, &b, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "issuer");
    assert_int_equal(oauth_discovery_urls("ftp://as.example.com", &a, &b, &ei), ERR_INVALID);
    assert_int_equal(oauth_discovery_urls(NULL, &a, &b, &ei), ERR_INVALID);
    assert_null(a);
}

static enum err
parse(const char *doc, json_t **out, struct errinfo *ei)
{
    return oauth_discovery_parse(ISS, doc, strlen(doc), out, ei);
}

static void
test_parse(void **state)
{
    struct errinfo ei = {0};
    json_t *out = NULL;

    (void)state;
    assert_int_equal(parse(GOOD, &out, &ei), ERR_OK);
    assert_string_equal(json_string_value(json_object_get(out, "authorize_url")), ISS "/auth");
    assert_string_equal(json_string_value(json_object_get(out, "token_url")), ISS "/token");
    assert_string_equal(json_string_value(json_object_get(out, "revocation_url")), ISS "/revoke");
    assert_null(json_object_get(out, "userinfo_url"));
    json_decref(out);

    /* the issuer must be the configured one, to the byte */
    assert_int_equal(oauth_discovery_parse(ISS "/", GOOD, strlen(GOOD), &out, &ei), ERR_UPSTREAM);
    assert_string_equal(ei.code, "issuer_mismatch");
    assert_int_equal(parse("{\"authorization_endpoint\":\"" ISS "/a\",\"token_endpoint\":\"" ISS
                           "/t\"}",
                           &out, &ei),
                     ERR_UPSTREAM);
    assert_string_equal(ei.code, "issuer_mismatch");
    assert_null(out);
    /* required endpoints, as URLs */
    assert_int_equal(
        parse("{\"issuer\":\"" ISS "\",\"authorization_endpoint\":\"" ISS "/a\"}", &out, &ei),
        ERR_UPSTREAM);
    assert_string_equal(ei.code, "bad_discovery");
    assert_int_equal(parse("{\"issuer\":\"" ISS "\",\"authorization_endpoint\":\"" ISS
                           "/a\",\"token_endpoint\":\"javascript:alert(1)\"}",
                           &out, &ei),
                     ERR_UPSTREAM);
    assert_string_equal(ei.code, "bad_discovery");
    assert_string_equal(ei.field, "issuer");
    /* not an object, duplicate keys */
    assert_int_equal(parse("[]", &out, &ei), ERR_UPSTREAM);
    assert_int_equal(parse("{\"issuer\":\"" ISS "\",\"issuer\":\"" ISS "\"}", &out, &ei),
                     ERR_UPSTREAM);
    assert_null(out);
}

/* OAUTH_MAX_DISCOVERY_BYTES: a valid document of exactly N bytes (padded with
 * spaces) is used, N+1 is refused; MAX_JSON_DEPTH levels are parsed (and
 * then found wanting), one more is refused before parsing. */
static void
test_limits(void **state)
{
    struct errinfo ei = {0};
    json_t *out = NULL;
    size_t good = strlen(GOOD), n = OAUTH_MAX_DISCOVERY_BYTES + 1;
    char *doc = malloc(n + 1);
    char *deep = malloc(2 * (MAX_JSON_DEPTH + 1) + 1);

    (void)state;
    assert_non_null(doc);
    assert_non_null(deep);
    memset(doc, ' ', n);
    memcpy(doc, GOOD, good);
    doc[n] = '\0';
    assert_int_equal(oauth_discovery_parse(ISS, doc, n - 1, &out, &ei), ERR_OK);
    json_decref(out);
    assert_int_equal(oauth_discovery_parse(ISS, doc, n, &out, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.code, "limit_exceeded");
    assert_null(out);

    for (int d = MAX_JSON_DEPTH; d <= MAX_JSON_DEPTH + 1; d++) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        deep[2 * d] = '\0';
        assert_int_equal(parse(deep, &out, &ei), ERR_UPSTREAM);
        assert_non_null(strstr(ei.msg, d > MAX_JSON_DEPTH ? "nested deeper" : "not a JSON object"));
    }
    free(doc);
    free(deep);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
