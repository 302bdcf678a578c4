/* Every spec of the OpenAPI corpus (tests/fixtures/openapi-corpus.lock: 27 real
 * specs from npm packages) imports with the stated operation count, base URL and
 * security schemes. The corpus is found through $CONNHUB_OPENAPI_CORPUS, else
 * tests/.corpus/openapi from the repo root (tools/fetch-openapi-corpus puts it there). */
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

struct spec {
    const char *file;
    size_t ops;
    const char *base;    /* NULL: needs base_url_override */
    const char *auth;    /* proposal auth.type */
    const char *schemes; /* "name:type ..." from MANIFEST's auth column */
};

static const struct spec specs[] = {
    {"bitbucket.apisguru.oas30.json", 305, "https://api.bitbucket.org/2.0", "oauth2",
     "api_key:api_key_header basic:basic oauth2:oauth2"},
    {"circular.oas30.json", 1, "https://httpbin.org", "none", ""},
    {"github-api.github.com.oas30.json", 1223, "https://api.github.com", "none", ""},
    {"github-webhooks.oas31.json", 0, "https://api.github.com", "none", ""},
    {"kubernetes-1.13.swagger20.json", 1014, NULL, "api_key_header", "BearerToken:api_key_header"},
    {"msgraph-v1.0.apisguru.oas30.json", 11422, "https://graph.microsoft.com/v1.0", "none", ""},
    {"openai.apisguru.oas30.json", 28, "https://api.openai.com/v1", "none", ""},
    {"parameters-common.oas30.json", 5, "https://httpbin.org", "none", ""},
    {"parameters-style.oas30.yaml", 25, "https://httpbin.org", "none", ""},
    {"petstore.oas30.json", 20, "http://petstore.swagger.io/v2", "oauth2",
     "petstore_auth:oauth2 api_key:api_key_header"},
    {"petstore.oas30.yaml", 20, "http://petstore.swagger.io/v2", "oauth2",
     "petstore_auth:oauth2 api_key:api_key_header"},
    {"petstore.oas31.json", 20, "http://petstore.swagger.io/v2", "oauth2",
     "petstore_auth:oauth2 api_key:api_key_header"},
    {"petstore.oas31.yaml", 20, "http://petstore.swagger.io/v2", "oauth2",
     "petstore_auth:oauth2 api_key:api_key_header"},
    {"petstore.swagger20.json", 20, "http://petstore.swagger.io/v2", "oauth2",
     "petstore_auth:oauth2 api_key:api_key_header"},
    {"petstore.swagger20.yaml", 20, "http://petstore.swagger.io/v2", "oauth2",
     "petstore_auth:oauth2 api_key:api_key_header"},
    {"scalar-galaxy.oas31.yaml", 10, "https://galaxy.scalar.com", "bearer",
     "bearerAuth:bearer basicAuth:basic apiKeyHeader:api_key_header apiKeyQuery:api_key_query "
     "apiKeyCookie:api_key_cookie oAuth2:oauth2 openIdConnect:unsupported"},
    {"schema-circular.swagger20.yaml", 1, "http://httpbin.org", "none", ""},
    {"security-schemes.oas30.json", 15, "https://httpbin.org", "api_key_query",
     "apiKey_cookie:api_key_cookie apiKey_header:api_key_header apiKey_query:api_key_query "
     "basic:basic bearer:bearer bearer_jwt:bearer oauth2:oauth2 "
     "oauth2_authorizationCode:oauth2 oauth2_clientCredentials:oauth2 "
     "oauth2_implicit:oauth2 oauth2_password:oauth2 openIdConnect:unsupported"},
    {"security-schemes.oas31.yaml", 15, "https://httpbin.org", "api_key_query",
     "apiKey_cookie:api_key_cookie apiKey_header:api_key_header apiKey_query:api_key_query "
     "basic:basic bearer:bearer bearer_jwt:bearer mutualTLS:unsupported oauth2:oauth2 "
     "oauth2_authorizationCode:oauth2 oauth2_clientCredentials:oauth2 "
     "oauth2_implicit:oauth2 oauth2_password:oauth2 openIdConnect:unsupported"},
    {"server-variables.oas30.yaml", 4, "https://demo.example.com:443/v2", "none", ""},
    {"slack.apisguru.oas30.json", 174, "https://slack.com/api", "oauth2", "slackAuth:oauth2"},
    {"square.apisguru.oas30.json", 200, "https://connect.squareup.com", "oauth2",
     "oauth2:oauth2 oauth2ClientSecret:api_key_header"},
    {"stripe.apisguru.oas30.json", 452, "https://api.stripe.com", "basic",
     "basicAuth:basic bearerAuth:bearer"},
    {"train-travel.oas31.yaml", 7, "https://api.example.com", "oauth2", "OAuth2:oauth2"},
    {"twilio-api-v2010.apisguru.oas30.json", 195, "https://api.twilio.com", "basic",
     "accountSid_authToken:basic"},
    {"uspto.oas30.yaml", 3, "https://developer.uspto.gov/ds-api", "none", ""},
    {"zoom.apisguru.oas30.json", 373, "https://api.zoom.us/v2", "oauth2",
     "Bearer:api_key_header Client_Credentials:oauth2 OAuth:oauth2"},
};

static char *
slurp(const char *file, size_t *len)
{
    const char *dir = getenv("CONNHUB_OPENAPI_CORPUS");
    char path[4096];
    FILE *f;
    char *p;
    long n;

    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "tests/.corpus/openapi", file);
    f = fopen(path, "rb");
    if (f == NULL) {
        print_error("cannot open %s: run tools/fetch-openapi-corpus (tools/install-deps does), or set "
                    "CONNHUB_OPENAPI_CORPUS\n",
                    path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc((size_t)n + 1);
    if (p != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static const char *
sget(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Every operation is well-formed: unique [a-z0-9_]{1,64} name, path with
 * {{...}} only, an object input_schema, and each params key in it. */
static void
check_ops(const json_t *ops)
{
    json_t *seen = json_object(), *op;
    size_t i;

    json_array_foreach(ops, i, op)
    {
        const char *name = sget(op, "name"), *path = sget(op, "path");
        json_t *props = json_object_get(json_object_get(op, "input_schema"), "properties");
        json_t *p;
        size_t k;
        assert_true(strlen(name) >= 1 && strlen(name) <= 64);
        assert_int_equal(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_"), strlen(name));
        assert_null(json_object_get(seen, name));
        json_object_set_new(seen, name, json_true());
        assert_int_equal(path[0], '/');
        assert_true(json_is_object(props));
        json_array_foreach(json_object_get(op, "params"), k, p)
        {
            assert_non_null(json_object_get(props, sget(p, "name")));
        }
        assert_true(json_is_array(json_object_get(op, "security")));
    }
    json_decref(seen);
}

static void
check_schemes(const json_t *opts, const char *want)
{
    char got[2048] = "";
    json_t *o;
    size_t i, n = 0;

    json_array_foreach(opts, i, o)
    {
        n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s:%s", i ? " " : "", sget(o, "scheme"),
                              sget(o, "type"));
    }
    /* compare as sets: every wanted pair is present and the counts agree */
    {
        char buf[2048], *save = NULL, *tok;
        size_t count = 0;
        snprintf(buf, sizeof(buf), "%s", want);
        for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            char pat[256];
            snprintf(pat, sizeof(pat), " %s ", tok);
            char hay[2100];
            snprintf(hay, sizeof(hay), " %s ", got);
            if (strstr(hay, pat) == NULL)
                fail_msg("scheme %s missing in [%s]", tok, got);
            count++;
        }
        assert_int_equal(count, json_array_size(opts));
    }
}

static void
test_corpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        const struct spec *s = &specs[i];
        struct openapi_opts o = {0};
        struct errinfo ei = {0};
        json_t *p = NULL;
        size_t len;
        char *text = slurp(s->file, &len);
        enum err e;

        assert_non_null(text);
        o.base_url_override = s->base ? NULL : "https://k8s.example.test";
        e = openapi_import(text, len, &o, &p, &ei);
        if (e != ERR_OK)
            fail_msg("%s: %d %s %s", s->file, e, ei.field, ei.msg);
        assert_int_equal(json_array_size(json_object_get(p, "operations")), s->ops);
        assert_string_equal(sget(p, "base_url"), s->base ? s->base : "https://k8s.example.test");
        assert_string_equal(sget(json_object_get(p, "auth"), "type"), s->auth);
        check_schemes(json_object_get(p, "auth_options"), s->schemes);
        check_ops(json_object_get(p, "operations"));
        assert_true(json_is_array(json_object_get(p, "warnings")));
        json_decref(p);
        if (s->base == NULL) { /* no host: a base URL must be asked for */
            e = openapi_import(text, len, NULL, &p, &ei);
            assert_int_equal(e, ERR_UNPROCESSABLE);
            assert_string_equal(ei.field, "base_url");
            assert_null(p);
        }
        free(text);
    }
}

static char *
dump_import(const char *text, size_t len, bool whole)
{
    struct openapi_opts o = {.base_url_override = "https://k8s.example.test"};
    struct errinfo ei = {0};
    json_t *p = NULL;
    char *s;

    oa_whole_json = whole;
    assert_int_equal(openapi_import(text, len, &o, &p, &ei), ERR_OK);
    oa_whole_json = false;
    s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    assert_non_null(s);
    return s;
}

/* Every JSON spec imports byte for byte the same through the span index
 * (index.c, doc.c) as parsed whole. */
static void
test_corpus_index_same(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        size_t len, n = strlen(specs[i].file);
        char *text, *a, *b;

        if (n < 5 || strcmp(specs[i].file + n - 5, ".json") != 0)
            continue;
        text = slurp(specs[i].file, &len);
        assert_non_null(text);
        a = dump_import(text, len, false);
        b = dump_import(text, len, true);
        if (strcmp(a, b) != 0)
            fail_msg("%s: the indexed import differs", specs[i].file);
        free(a);
        free(b);
        free(text);
    }
}

/* A few spot checks of mapped content. */
static json_t *
load(const char *file)
{
    size_t len;
    char *text = slurp(file, &len);
    json_t *p = NULL;
    struct errinfo ei = {0};

    assert_non_null(text);
    assert_int_equal(openapi_import(text, len, NULL, &p, &ei), ERR_OK);
    free(text);
    return p;
}

static json_t *
find_op(const json_t *p, const char *opid)
{
    json_t *op;
    size_t i;

    json_array_foreach(json_object_get(p, "operations"), i, op)
    {
        if (!strcmp(sget(op, "operation_id"), opid))
            return op;
    }
    fail_msg("no operation %s", opid);
    return NULL;
}

static void
test_github_issue(void **state)
{
    json_t *p = load("github-api.github.com.oas30.json");
    json_t *op = find_op(p, "issues/create");

    (void)state;
    assert_string_equal(sget(op, "name"), "issues_create");
    assert_string_equal(sget(op, "method"), "POST");
    assert_string_equal(sget(op, "path"), "/repos/{{owner}}/{{repo}}/issues");
    assert_non_null(json_object_get(
        json_object_get(json_object_get(op, "input_schema"), "properties"), "body"));
    assert_non_null(json_object_get(op, "output_schema"));
    json_decref(p);
}

static void
test_petstore_oauth(void **state)
{
    json_t *p = load("petstore.oas30.json");
    json_t *a = json_object_get(p, "auth");

    (void)state;
    assert_string_equal(sget(a, "scheme"), "petstore_auth");
    assert_string_equal(sget(a, "authorization_url"), "http://petstore.swagger.io/oauth/dialog");
    assert_true(json_object_size(json_object_get(a, "scopes")) > 0);
    assert_non_null(json_object_get(json_object_get(a, "flows"), "implicit"));
    json_decref(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_corpus_index_same),
        cmocka_unit_test(test_github_issue),
        cmocka_unit_test(test_petstore_oauth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
