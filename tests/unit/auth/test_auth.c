/* auth: auth_parse over every method (public part and secret values kept
 * apart, every refusal with its field and code, named limits at N and N+1,
 * PATCH merge) and auth_inject on a real struct out_request (header, query,
 * cookie, basic, custom incl. body). SSRF-169: no CR, LF or NUL in a
 * credential or a header name. */
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
#include "core/limits.h"
#include "outbound/outbound.h"

/* ---- helpers ---- */

static json_t *
J(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
    if (j == NULL)
        fail_msg("bad test JSON (%s): %s", je.text, text);
    return j;
}

/* "name=value;name=value" in the order auth_parse added them. */
static void
vals_str(const struct auth_values *v, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < v->n && n < outlen; i++)
        n += (size_t)snprintf(out + n, outlen - n, "%s%s=%s", i ? ";" : "", v->name[i],
                              v->value[i].p);
}

static char *
repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

#define CUSTOM_SCHEMA                                                                              \
    "\"params_schema\":{\"type\":\"object\",\"properties\":{\"api_key\":{\"type\":\"string\"},"    \
    "\"tenant\":{\"type\":\"string\"}},\"required\":[\"api_key\"]}"
#define CUSTOM_INJECT                                                                              \
    "\"inject\":[{\"in\":\"header\",\"name\":\"X-Key\",\"value\":\"{{api_key}}\"}]"
#define CUSTOM_PUB "{\"type\":\"custom\"," CUSTOM_SCHEMA "," CUSTOM_INJECT "}"

/* ---- auth_parse: accepted inputs ---- */

struct ok_case {
    const char *in;
    const char *prev;
    const char *pub;  /* expected public part */
    const char *vals; /* expected secret values */
};

static const struct ok_case ok_cases[] = {
    {"{\"type\":\"none\"}", NULL, "{\"type\":\"none\"}", ""},
    {"{\"type\":\"api_key_header\",\"name\":\"X-API-Key\",\"key\":\"k1\"}", NULL,
     "{\"type\":\"api_key_header\",\"name\":\"X-API-Key\"}", "key=k1"},
    {"{\"type\":\"api_key_header\",\"name\":\"X-API-Key\",\"key\":\"\"}", NULL,
     "{\"type\":\"api_key_header\",\"name\":\"X-API-Key\"}", ""},
    {"{\"type\":\"api_key_header\",\"name\":\"X-API-Key\",\"key\":null}", NULL,
     "{\"type\":\"api_key_header\",\"name\":\"X-API-Key\"}", ""},
    {"{\"type\":\"api_key_header\",\"name\":\"X-API-Key\"}", NULL,
     "{\"type\":\"api_key_header\",\"name\":\"X-API-Key\"}", ""},
    /* A query name need not be a header token (it is percent-encoded). */
    {"{\"type\":\"api_key_query\",\"name\":\"api key&x=1\",\"key\":\"q\"}", NULL,
     "{\"type\":\"api_key_query\",\"name\":\"api key&x=1\"}", "key=q"},
    {"{\"type\":\"api_key_cookie\",\"name\":\"sid\",\"key\":\"c\"}", NULL,
     "{\"type\":\"api_key_cookie\",\"name\":\"sid\"}", "key=c"},
    {"{\"type\":\"bearer\",\"token\":\"t0k\"}", NULL, "{\"type\":\"bearer\"}", "token=t0k"},
    {"{\"type\":\"bearer\",\"token\":\"\"}", NULL, "{\"type\":\"bearer\"}", ""},
    {"{\"type\":\"bearer\"}", NULL, "{\"type\":\"bearer\"}", ""},
    /* A tab and other bytes are not CR/LF/NUL: accepted by parse. */
    {"{\"type\":\"bearer\",\"token\":\"a\\tb :;\\u00e9\"}", NULL, "{\"type\":\"bearer\"}",
     "token=a\tb :;\xc3\xa9"},
    {"{\"type\":\"basic\",\"username\":\"u\",\"password\":\"p\"}", NULL, "{\"type\":\"basic\"}",
     "username=u;password=p"},
    {"{\"type\":\"basic\",\"username\":\"u\",\"password\":\"\"}", NULL, "{\"type\":\"basic\"}",
     "username=u"},
    {"{\"type\":\"custom\"," CUSTOM_SCHEMA "," CUSTOM_INJECT ",\"values\":{\"api_key\":\"v\"}}",
     NULL, CUSTOM_PUB, "api_key=v"},
    {"{\"type\":\"custom\"," CUSTOM_SCHEMA "," CUSTOM_INJECT
     ",\"values\":{\"api_key\":\"v\",\"tenant\":\"\"}}",
     NULL, CUSTOM_PUB, "api_key=v"},
    {"{\"type\":\"custom\"," CUSTOM_SCHEMA "," CUSTOM_INJECT ",\"values\":null}", NULL, CUSTOM_PUB,
     ""},
    {"{\"type\":\"custom\"," CUSTOM_SCHEMA "," CUSTOM_INJECT "}", NULL, CUSTOM_PUB, ""},
    /* Every kind of rule; a literal value with no placeholder. */
    {"{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"a\":{}}},\"inject\":["
     "{\"in\":\"header\",\"name\":\"X-A\",\"value\":\"A {{a}} {{a}}\"},"
     "{\"in\":\"query\",\"name\":\"a b\",\"value\":\"{{a}}\"},"
     "{\"in\":\"cookie\",\"name\":\"ck\",\"value\":\"{{a}}\"},"
     "{\"in\":\"body\",\"name\":\"client secret\",\"value\":\"{{a}}\"},"
     "{\"in\":\"header\",\"name\":\"X-Fixed\",\"value\":\"literal\"}],"
     "\"values\":{\"a\":\"va\"}}",
     NULL,
     "{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"a\":{}}},\"inject\":["
     "{\"in\":\"header\",\"name\":\"X-A\",\"value\":\"A {{a}} {{a}}\"},"
     "{\"in\":\"query\",\"name\":\"a b\",\"value\":\"{{a}}\"},"
     "{\"in\":\"cookie\",\"name\":\"ck\",\"value\":\"{{a}}\"},"
     "{\"in\":\"body\",\"name\":\"client secret\",\"value\":\"{{a}}\"},"
     "{\"in\":\"header\",\"name\":\"X-Fixed\",\"value\":\"literal\"}]}",
     "a=va"},

    /* PATCH, same type: omitted public fields keep their stored values. */
    {"{\"key\":\"new\"}", "{\"type\":\"api_key_header\",\"name\":\"X-Old\"}",
     "{\"type\":\"api_key_header\",\"name\":\"X-Old\"}", "key=new"},
    {"{\"type\":\"api_key_header\",\"name\":\"X-New\"}",
     "{\"type\":\"api_key_header\",\"name\":\"X-Old\"}",
     "{\"type\":\"api_key_header\",\"name\":\"X-New\"}", ""},
    {"{}", "{\"type\":\"bearer\"}", "{\"type\":\"bearer\"}", ""},
    {"{\"type\":null,\"token\":\"t2\"}", "{\"type\":\"bearer\"}", "{\"type\":\"bearer\"}",
     "token=t2"},
    {"{\"values\":{\"api_key\":\"v2\"}}", CUSTOM_PUB, CUSTOM_PUB, "api_key=v2"},
    /* PATCH, new type: nothing of the old public part is carried over. */
    {"{\"type\":\"bearer\",\"token\":\"t\"}", "{\"type\":\"api_key_header\",\"name\":\"X-Old\"}",
     "{\"type\":\"bearer\"}", "token=t"},
    {"{\"type\":\"api_key_cookie\",\"name\":\"sid\"}",
     "{\"type\":\"api_key_header\",\"name\":\"X-Old\"}",
     "{\"type\":\"api_key_cookie\",\"name\":\"sid\"}", ""},
};

static void
test_parse_accepts_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
        const struct ok_case *c = &ok_cases[i];
        json_t *in = J(c->in), *prev = c->prev ? J(c->prev) : NULL, *want = J(c->pub);
        json_t *pub = NULL;
        struct auth_values vals = {0};
        struct errinfo ei = {0};
        char got[512];
        enum err e = auth_parse(in, prev, &pub, &vals, &ei);

        if (e != ERR_OK)
            fail_msg("ok case %zu: %d %s field=%s (%s)", i, e, ei.code, ei.field, ei.msg);
        if (!json_equal(pub, want)) {
            char *d = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
            fail_msg("ok case %zu: pub %s", i, d);
        }
        vals_str(&vals, got, sizeof(got));
        if (strcmp(got, c->vals) != 0)
            fail_msg("ok case %zu: vals [%s], want [%s]", i, got, c->vals);
        auth_values_release(&vals);
        json_decref(pub);
        json_decref(in);
        json_decref(prev);
        json_decref(want);
    }
}

/* ---- auth_parse: refusals ---- */

struct bad_case {
    const char *in;
    const char *prev;
    enum err e;
    const char *code;
    const char *field; /* relative to "auth" */
};

#define CS_PROPS "\"params_schema\":{\"properties\":{\"a\":{}}}"
#define RULE(in, name, value) "{\"in\":\"" in "\",\"name\":\"" name "\",\"value\":\"" value "\"}"

static const struct bad_case bad_cases[] = {
    {"[]", NULL, ERR_INVALID, "invalid_type", ""},
    {"\"bearer\"", NULL, ERR_INVALID, "invalid_type", ""},
    {"{}", NULL, ERR_INVALID, "missing_field", "type"},
    {"{\"type\":42}", NULL, ERR_INVALID, "missing_field", "type"},
    {"{\"type\":\"magic\"}", NULL, ERR_INVALID, "unknown_auth_type", "type"},
    {"{\"type\":\"Bearer\"}", NULL, ERR_INVALID, "unknown_auth_type", "type"},
    {"{\"type\":\"\"}", NULL, ERR_INVALID, "unknown_auth_type", "type"},
    /* unknown fields, per type (a typo must not be ignored) */
    {"{\"type\":\"none\",\"token\":\"x\"}", NULL, ERR_INVALID, "unknown_field", "token"},
    {"{\"type\":\"bearer\",\"key\":\"x\"}", NULL, ERR_INVALID, "unknown_field", "key"},
    {"{\"type\":\"bearer\",\"tokn\":\"x\"}", NULL, ERR_INVALID, "unknown_field", "tokn"},
    {"{\"type\":\"basic\",\"user\":\"x\"}", NULL, ERR_INVALID, "unknown_field", "user"},
    {"{\"type\":\"api_key_header\",\"name\":\"X\",\"value\":\"x\"}", NULL, ERR_INVALID,
     "unknown_field", "value"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("header", "X", "{{a}}") "],\"a\":1}",
     NULL, ERR_INVALID, "unknown_field", "a"},
    /* header / cookie names (SSRF-169) */
    {"{\"type\":\"api_key_header\"}", NULL, ERR_INVALID, "missing_field", "name"},
    {"{\"type\":\"api_key_header\",\"name\":null}", NULL, ERR_INVALID, "missing_field", "name"},
    {"{\"type\":\"api_key_header\",\"name\":7}", NULL, ERR_INVALID, "invalid_type", "name"},
    {"{\"type\":\"api_key_header\",\"name\":\"\"}", NULL, ERR_INVALID, "invalid_name", "name"},
    {"{\"type\":\"api_key_header\",\"name\":\"X-Key\\r\\nEvil: 1\"}", NULL, ERR_INVALID,
     "invalid_characters", "name"},
    {"{\"type\":\"api_key_header\",\"name\":\"X-Key\\n\"}", NULL, ERR_INVALID, "invalid_characters",
     "name"},
    {"{\"type\":\"api_key_header\",\"name\":\"X\\u0000Y\"}", NULL, ERR_INVALID,
     "invalid_characters", "name"},
    {"{\"type\":\"api_key_header\",\"name\":\"X:Key\"}", NULL, ERR_INVALID, "invalid_name", "name"},
    {"{\"type\":\"api_key_header\",\"name\":\"X Key\"}", NULL, ERR_INVALID, "invalid_name", "name"},
    {"{\"type\":\"api_key_header\",\"name\":\"X\\u00e9\"}", NULL, ERR_INVALID, "invalid_name",
     "name"},
    {"{\"type\":\"api_key_cookie\",\"name\":\"a=b\"}", NULL, ERR_INVALID, "invalid_name", "name"},
    {"{\"type\":\"api_key_cookie\",\"name\":\"a;b\"}", NULL, ERR_INVALID, "invalid_name", "name"},
    {"{\"type\":\"api_key_query\",\"name\":\"\"}", NULL, ERR_INVALID, "invalid_name", "name"},
    {"{\"type\":\"api_key_query\",\"name\":\"a\\r\\nb\"}", NULL, ERR_INVALID, "invalid_characters",
     "name"},
    /* secret values: type, CR, LF, NUL (SSRF-169) */
    {"{\"type\":\"bearer\",\"token\":42}", NULL, ERR_INVALID, "invalid_type", "token"},
    {"{\"type\":\"bearer\",\"token\":{\"a\":1}}", NULL, ERR_INVALID, "invalid_type", "token"},
    {"{\"type\":\"bearer\",\"token\":\"a\\rb\"}", NULL, ERR_INVALID, "invalid_characters", "token"},
    {"{\"type\":\"bearer\",\"token\":\"a\\nb\"}", NULL, ERR_INVALID, "invalid_characters", "token"},
    {"{\"type\":\"bearer\",\"token\":\"x\\r\\nX-Evil: 1\"}", NULL, ERR_INVALID,
     "invalid_characters", "token"},
    {"{\"type\":\"bearer\",\"token\":\"a\\u0000b\"}", NULL, ERR_INVALID, "invalid_characters",
     "token"},
    {"{\"type\":\"api_key_header\",\"name\":\"X\",\"key\":\"k\\r\\n\"}", NULL, ERR_INVALID,
     "invalid_characters", "key"},
    {"{\"type\":\"api_key_query\",\"name\":\"k\",\"key\":\"\\n\"}", NULL, ERR_INVALID,
     "invalid_characters", "key"},
    {"{\"type\":\"api_key_cookie\",\"name\":\"k\",\"key\":\"\\u0000\"}", NULL, ERR_INVALID,
     "invalid_characters", "key"},
    {"{\"type\":\"basic\",\"username\":\"u\\r\"}", NULL, ERR_INVALID, "invalid_characters",
     "username"},
    {"{\"type\":\"basic\",\"username\":\"u\",\"password\":\"p\\n\"}", NULL, ERR_INVALID,
     "invalid_characters", "password"},
    {"{\"type\":\"basic\",\"username\":\"u\",\"password\":false}", NULL, ERR_INVALID,
     "invalid_type", "password"},
    /* custom: params_schema */
    {"{\"type\":\"custom\",\"inject\":[" RULE("header", "X", "v") "]}", NULL, ERR_INVALID,
     "invalid_schema", "params_schema"},
    {"{\"type\":\"custom\",\"params_schema\":[],\"inject\":[" RULE("header", "X", "v") "]}", NULL,
     ERR_INVALID, "invalid_schema", "params_schema"},
    {"{\"type\":\"custom\",\"params_schema\":{\"properties\":{}},\"inject\":[" RULE("header", "X",
                                                                                    "v") "]}",
     NULL, ERR_INVALID, "invalid_schema", "params_schema"},
    {"{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"1a\":{}}},\"inject\":[" RULE(
         "header", "X", "v") "]}",
     NULL, ERR_INVALID, "invalid_name", "params_schema.properties"},
    {"{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"a-b\":{}}},\"inject\":[" RULE(
         "header", "X", "v") "]}",
     NULL, ERR_INVALID, "invalid_name", "params_schema.properties"},
    {"{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"a\":\"string\"}},\"inject\":[" RULE(
         "header", "X", "v") "]}",
     NULL, ERR_INVALID, "invalid_schema", "params_schema.properties"},
    {"{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"a\":{}},\"required\":\"a\"},"
     "\"inject\":[" RULE("header", "X", "v") "]}",
     NULL, ERR_INVALID, "invalid_type", "params_schema.required"},
    {"{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"a\":{}},\"required\":[\"b\"]},"
     "\"inject\":[" RULE("header", "X", "v") "]}",
     NULL, ERR_INVALID, "invalid_value", "params_schema.required"},
    {"{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"a\":{}},\"required\":[1]},"
     "\"inject\":[" RULE("header", "X", "v") "]}",
     NULL, ERR_INVALID, "invalid_value", "params_schema.required"},
    /* custom: inject rules */
    {"{\"type\":\"custom\"," CS_PROPS "}", NULL, ERR_INVALID, "invalid_type", "inject"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[]}", NULL, ERR_INVALID, "invalid_type",
     "inject"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":{}}", NULL, ERR_INVALID, "invalid_type",
     "inject"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[\"x\"]}", NULL, ERR_INVALID, "invalid_type",
     "inject[0]"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("header", "X", "v") ",{\"in\":\"header"
                                                                               "\",\"name\":\"Y\","
                                                                               "\"value\":\"v\","
                                                                               "\"x\":1}]}",
     NULL, ERR_INVALID, "unknown_field", "inject[1].x"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[{\"name\":\"X\",\"value\":\"v\"}]}", NULL,
     ERR_INVALID, "missing_field", "inject[0].in"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[{\"in\":\"header\",\"value\":\"v\"}]}", NULL,
     ERR_INVALID, "missing_field", "inject[0].name"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[{\"in\":\"header\",\"name\":\"X\"}]}", NULL,
     ERR_INVALID, "missing_field", "inject[0].value"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("path", "X", "v") "]}", NULL,
     ERR_INVALID, "invalid_value", "inject[0]"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("HEADER", "X", "v") "]}", NULL,
     ERR_INVALID, "invalid_value", "inject[0]"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("header", "X:Y", "v") "]}", NULL,
     ERR_INVALID, "invalid_name", "inject[0]"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("cookie", "a=b", "v") "]}", NULL,
     ERR_INVALID, "invalid_name", "inject[0]"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("header", "X\\r\\nY", "v") "]}", NULL,
     ERR_INVALID, "invalid_characters", "inject[0].name"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("header", "X", "v\\r\\nY: 1") "]}", NULL,
     ERR_INVALID, "invalid_characters", "inject[0].value"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("query", "", "v") "]}", NULL,
     ERR_INVALID, "invalid_name", "inject[0]"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("body", "", "v") "]}", NULL, ERR_INVALID,
     "invalid_name", "inject[0]"},
    {"{\"type\":\"custom\"," CS_PROPS
     ",\"inject\":[" RULE("header", "X", "{{a}}") "," RULE("header", "Y", "{{nope}}") "]}",
     NULL, ERR_INVALID, "unknown_placeholder", "inject[1]"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("header", "X", "{{a") "]}", NULL,
     ERR_INVALID, "invalid_template", "inject[0]"},
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("header", "X", "{{ a }}") "]}", NULL,
     ERR_INVALID, "unknown_placeholder", "inject[0]"},
    /* custom: values */
    {"{\"type\":\"custom\"," CS_PROPS ",\"inject\":[" RULE("header", "X", "{{a}}") "],"
                                                                                   "\"values\":[]}",
     NULL, ERR_INVALID, "invalid_type", "values"},
    {"{\"type\":\"custom\"," CS_PROPS
     ",\"inject\":[" RULE("header", "X", "{{a}}") "],"
                                                  "\"values\":{\"b\":\"x\"}}",
     NULL, ERR_INVALID, "unknown_field", "values"},
    {"{\"type\":\"custom\"," CS_PROPS
     ",\"inject\":[" RULE("header", "X", "{{a}}") "],"
                                                  "\"values\":{\"a\":1}}",
     NULL, ERR_INVALID, "invalid_type", "values.a"},
    {"{\"type\":\"custom\"," CS_PROPS
     ",\"inject\":[" RULE("header", "X", "{{a}}") "],"
                                                  "\"values\":{\"a\":\"x\\r\\ny\"}}",
     NULL, ERR_INVALID, "invalid_characters", "values.a"},
    {"{\"type\":\"custom\"," CS_PROPS
     ",\"inject\":[" RULE("header", "X", "{{a}}") "],"
                                                  "\"values\":{\"a\":\"x\\u0000y\"}}",
     NULL, ERR_INVALID, "invalid_characters", "values.a"},
    /* PATCH: a new type does not inherit the old public part. */
    {"{\"type\":\"api_key_query\",\"key\":\"k\"}",
     "{\"type\":\"api_key_header\",\"name\":\"X-Old\"}", ERR_INVALID, "missing_field", "name"},
    {"{\"type\":\"custom\",\"values\":{\"a\":\"x\"}}", "{\"type\":\"bearer\"}", ERR_INVALID,
     "invalid_schema", "params_schema"},
    /* PATCH, same type: the merged result is validated like a new one. */
    {"{\"name\":\"X:Y\"}", "{\"type\":\"api_key_header\",\"name\":\"X-Old\"}", ERR_INVALID,
     "invalid_name", "name"},
    {"{\"params_schema\":{\"properties\":{\"b\":{}}}}", CUSTOM_PUB, ERR_INVALID,
     "unknown_placeholder", "inject[0]"},
    {"{\"oops\":1}", "{\"type\":\"bearer\"}", ERR_INVALID, "unknown_field", "oops"},
};

static void
check_bad(const char *what, size_t i, const json_t *in, const json_t *prev, enum err want_e,
          const char *want_code, const char *want_field)
{
    json_t *pub = (json_t *)0x1;
    struct auth_values vals = {0};
    struct errinfo ei = {0};
    enum err e = auth_parse(in, prev, &pub, &vals, &ei);

    if (e != want_e || strcmp(ei.code, want_code) != 0 || strcmp(ei.field, want_field) != 0)
        fail_msg("%s %zu: got %d %s field=[%s] (%s), want %d %s field=[%s]", what, i, e, ei.code,
                 ei.field, ei.msg, want_e, want_code, want_field);
    assert_null(pub);
    assert_int_equal(vals.n, 0);
}

static void
test_parse_refusals_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        json_t *in = J(c->in), *prev = c->prev ? J(c->prev) : NULL;
        check_bad("bad case", i, in, prev, c->e, c->code, c->field);
        json_decref(in);
        json_decref(prev);
    }
}

/* Secret values never reach the public part, for any type (canaries). */
static void
test_parse_public_part_has_no_secret(void **state)
{
    static const char *const ins[] = {
        "{\"type\":\"api_key_header\",\"name\":\"X\",\"key\":\"CANARY_1\"}",
        "{\"type\":\"api_key_query\",\"name\":\"k\",\"key\":\"CANARY_1\"}",
        "{\"type\":\"api_key_cookie\",\"name\":\"k\",\"key\":\"CANARY_1\"}",
        "{\"type\":\"bearer\",\"token\":\"CANARY_1\"}",
        "{\"type\":\"basic\",\"username\":\"CANARY_1\",\"password\":\"CANARY_2\"}",
        "{\"type\":\"custom\"," CUSTOM_SCHEMA "," CUSTOM_INJECT
        ",\"values\":{\"api_key\":\"CANARY_1\",\"tenant\":\"CANARY_2\"}}",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
        json_t *in = J(ins[i]), *pub = NULL;
        struct auth_values vals = {0};
        struct errinfo ei = {0};
        char *d;
        assert_int_equal(auth_parse(in, NULL, &pub, &vals, &ei), ERR_OK);
        assert_true(vals.n >= 1);
        d = json_dumps(pub, JSON_COMPACT);
        if (strstr(d, "CANARY"))
            fail_msg("case %zu: secret in public part %s", i, d);
        free(d);
        auth_values_release(&vals);
        json_decref(pub);
        json_decref(in);
    }
}

/* Refusal messages never echo the secret value. */
static void
test_parse_refusal_message_has_no_secret(void **state)
{
    json_t *in = J("{\"type\":\"bearer\",\"token\":\"CANARY_9f8e\\r\\n\"}");
    json_t *pub = NULL;
    struct auth_values vals = {0};
    struct errinfo ei = {0};
    (void)state;

    assert_int_equal(auth_parse(in, NULL, &pub, &vals, &ei), ERR_INVALID);
    assert_null(strstr(ei.msg, "CANARY"));
    assert_null(strstr(ei.field, "CANARY"));
    json_decref(in);
}

/* ---- named limits at N and N+1 ---- */

/* MAX_SECRET_LEN for every secret field of every type. */
static void
test_parse_max_secret_len(void **state)
{
    static const struct {
        const char *base; /* object the value is added to */
        const char *field;
        bool in_values; /* custom: under "values" */
        const char *err_field;
    } cases[] = {
        {"{\"type\":\"api_key_header\",\"name\":\"X\"}", "key", false, "key"},
        {"{\"type\":\"api_key_query\",\"name\":\"k\"}", "key", false, "key"},
        {"{\"type\":\"api_key_cookie\",\"name\":\"k\"}", "key", false, "key"},
        {"{\"type\":\"bearer\"}", "token", false, "token"},
        {"{\"type\":\"basic\"}", "username", false, "username"},
        {"{\"type\":\"basic\",\"username\":\"u\"}", "password", false, "password"},
        {CUSTOM_PUB, "api_key", true, "values.api_key"},
    };
    char *at_n = repeat('s', MAX_SECRET_LEN), *over = repeat('s', MAX_SECRET_LEN + 1);
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int k = 0; k < 2; k++) {
            json_t *in = J(cases[i].base), *pub = NULL;
            json_t *dst = in;
            struct auth_values vals = {0};
            struct errinfo ei = {0};
            if (cases[i].in_values) {
                dst = json_object();
                json_object_set_new(in, "values", dst);
            }
            json_object_set_new(dst, cases[i].field, json_string(k == 0 ? at_n : over));
            if (k == 0) {
                const struct secret *s;
                if (auth_parse(in, NULL, &pub, &vals, &ei) != ERR_OK)
                    fail_msg("case %zu at N: %s %s", i, ei.code, ei.field);
                s = auth_values_get(&vals, cases[i].field);
                assert_non_null(s);
                assert_int_equal(s->len, MAX_SECRET_LEN);
                auth_values_release(&vals);
                json_decref(pub);
            } else {
                check_bad("max_secret_len N+1", i, in, NULL, ERR_INVALID, "too_long",
                          cases[i].err_field);
            }
            json_decref(in);
        }
    }
    free(at_n);
    free(over);
}

/* MAX_HEADER_NAME_LEN for the api key name and for an inject rule's name. */
static void
test_parse_max_header_name_len(void **state)
{
    char *at_n = repeat('h', MAX_HEADER_NAME_LEN), *over = repeat('h', MAX_HEADER_NAME_LEN + 1);
    static const char *const types[] = {"api_key_header", "api_key_query", "api_key_cookie"};
    (void)state;

    for (size_t i = 0; i < 3; i++) {
        json_t *in = json_pack("{s:s, s:s, s:s}", "type", types[i], "name", at_n, "key", "k");
        json_t *pub = NULL;
        struct auth_values vals = {0};
        struct errinfo ei = {0};
        assert_int_equal(auth_parse(in, NULL, &pub, &vals, &ei), ERR_OK);
        assert_string_equal(json_string_value(json_object_get(pub, "name")), at_n);
        auth_values_release(&vals);
        json_decref(pub);
        json_decref(in);
        in = json_pack("{s:s, s:s, s:s}", "type", types[i], "name", over, "key", "k");
        check_bad("header name N+1", i, in, NULL, ERR_INVALID, "too_long", "name");
        json_decref(in);
    }
    for (int k = 0; k < 2; k++) {
        json_t *in = J("{\"type\":\"custom\"," CS_PROPS "}");
        json_t *pub = NULL;
        struct auth_values vals = {0};
        struct errinfo ei = {0};
        json_object_set_new(in, "inject",
                            json_pack("[{s:s, s:s, s:s}]", "in", "header", "name",
                                      k == 0 ? at_n : over, "value", "{{a}}"));
        if (k == 0) {
            assert_int_equal(auth_parse(in, NULL, &pub, &vals, &ei), ERR_OK);
            json_decref(pub);
        } else {
            check_bad("inject name N+1", 0, in, NULL, ERR_INVALID, "too_long", "inject[0].name");
        }
        json_decref(in);
    }
    free(at_n);
    free(over);
}

/* MAX_INJECT_RULES; an inject value of 1024 characters at N and N+1. */
static void
test_parse_max_inject_rules(void **state)
{
    char *v_n = repeat('v', 1024), *v_over = repeat('v', 1025);
    (void)state;

    for (int k = 0; k < 2; k++) {
        json_t *in = J("{\"type\":\"custom\"," CS_PROPS "}"), *rules = json_array(), *pub = NULL;
        struct auth_values vals = {0};
        struct errinfo ei = {0};
        size_t n = MAX_INJECT_RULES + (size_t)k;
        for (size_t i = 0; i < n; i++) {
            char name[32];
            snprintf(name, sizeof(name), "X-R%zu", i);
            json_array_append_new(rules, json_pack("{s:s, s:s, s:s}", "in", "header", "name", name,
                                                   "value", "{{a}}"));
        }
        json_object_set_new(in, "inject", rules);
        if (k == 0) {
            assert_int_equal(auth_parse(in, NULL, &pub, &vals, &ei), ERR_OK);
            assert_int_equal(json_array_size(json_object_get(pub, "inject")), MAX_INJECT_RULES);
            json_decref(pub);
        } else {
            check_bad("inject rules N+1", 0, in, NULL, ERR_INVALID, "too_many", "inject");
        }
        json_decref(in);
    }
    for (int k = 0; k < 2; k++) {
        json_t *in = J("{\"type\":\"custom\"," CS_PROPS "}"), *pub = NULL;
        struct auth_values vals = {0};
        struct errinfo ei = {0};
        json_object_set_new(in, "inject",
                            json_pack("[{s:s, s:s, s:s}]", "in", "header", "name", "X", "value",
                                      k == 0 ? v_n : v_over));
        if (k == 0) {
            assert_int_equal(auth_parse(in, NULL, &pub, &vals, &ei), ERR_OK);
            json_decref(pub);
        } else {
            check_bad("inject value N+1", 0, in, NULL, ERR_INVALID, "too_long", "inject[0].value");
        }
        json_decref(in);
    }
    free(v_n);
    free(v_over);
}

/* MAX_CUSTOM_FIELDS: N fields all with values fit in auth_values; N+1 is
 * refused. Field names: identifiers of 64 characters at most. */
static void
test_parse_max_custom_fields(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        json_t *props = json_object(), *values = json_object(), *pub = NULL, *in;
        struct auth_values vals = {0};
        struct errinfo ei = {0};
        size_t n = MAX_CUSTOM_FIELDS + (size_t)k;
        for (size_t i = 0; i < n; i++) {
            char name[32], val[32];
            snprintf(name, sizeof(name), "f%zu", i);
            snprintf(val, sizeof(val), "v%zu", i);
            json_object_set_new(props, name, json_object());
            json_object_set_new(values, name, json_string(val));
        }
        in = json_pack("{s:s, s:{s:o}, s:[{s:s, s:s, s:s}], s:o}", "type", "custom",
                       "params_schema", "properties", props, "inject", "in", "header", "name", "X",
                       "value", "{{f0}}", "values", values);
        if (k == 0) {
            assert_int_equal(auth_parse(in, NULL, &pub, &vals, &ei), ERR_OK);
            assert_int_equal(vals.n, MAX_CUSTOM_FIELDS);
            assert_string_equal(auth_values_get(&vals, "f31")->p, "v31");
            auth_values_release(&vals);
            json_decref(pub);
        } else {
            check_bad("custom fields N+1", 0, in, NULL, ERR_INVALID, "too_many",
                      "params_schema.properties");
        }
        json_decref(in);
    }
    for (int k = 0; k < 2; k++) {
        char *name = repeat('f', 64 + (size_t)k);
        json_t *in =
            json_pack("{s:s, s:{s:{s:{}}}, s:[{s:s, s:s, s:s}]}", "type", "custom", "params_schema",
                      "properties", name, "inject", "in", "header", "name", "X", "value", "v");
        json_t *pub = NULL;
        struct auth_values vals = {0};
        struct errinfo ei = {0};
        if (k == 0) {
            assert_int_equal(auth_parse(in, NULL, &pub, &vals, &ei), ERR_OK);
            json_decref(pub);
        } else {
            check_bad("custom field name N+1", 0, in, NULL, ERR_INVALID, "invalid_name",
                      "params_schema.properties");
        }
        json_decref(in);
        free(name);
    }
}

/* ---- auth_values ---- */

static void
test_auth_values_limits(void **state)
{
    struct auth_values v = {0};
    (void)state;

    for (size_t i = 0; i < AUTH_MAX_SECRETS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "n%zu", i);
        assert_int_equal(auth_values_add(&v, name, "val", 3), ERR_OK);
    }
    assert_int_equal(auth_values_add(&v, "over", "x", 1), ERR_TOO_LARGE);
    assert_int_equal(v.n, AUTH_MAX_SECRETS);
    assert_null(auth_values_get(&v, "over"));
    assert_string_equal(auth_values_get(&v, "n0")->p, "val");
    assert_null(auth_values_get(NULL, "n0"));
    auth_values_release(&v);
    assert_int_equal(v.n, 0);
    auth_values_release(&v);
    assert_non_null(auth_method_find("custom"));
    assert_non_null(auth_method_find("oauth2"));
    assert_null(auth_method_find("magic"));
    assert_null(auth_method_find(NULL));
    assert_non_null(strstr(auth_type_list(), "api_key_cookie"));
}

/* ---- auth_inject ---- */

#define URL "https://api.example.com/v1/items?a=1"

struct inj {
    struct out_request rq;
    json_t *pub;
    struct auth_values vals;
    struct errinfo ei;
};

static void
inj_init(struct inj *t, const char *pub)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(out_request_init(&t->rq, "GET", URL, &t->ei), ERR_OK);
    t->pub = J(pub);
}

static void
inj_set(struct inj *t, const char *name, const char *value)
{
    assert_int_equal(auth_values_add(&t->vals, name, value, strlen(value)), ERR_OK);
}

static void
inj_release(struct inj *t)
{
    out_request_release(&t->rq);
    json_decref(t->pub);
    auth_values_release(&t->vals);
}

static const struct out_header *
hdr(const struct out_request *rq, const char *name)
{
    const struct out_header *found = NULL;
    for (size_t i = 0; i < rq->nheaders; i++)
        if (strcmp(rq->headers[i].name, name) == 0) {
            assert_null(found); /* exactly once */
            found = &rq->headers[i];
        }
    return found;
}

static void
test_inject_none(void **state)
{
    struct inj t;
    (void)state;
    inj_init(&t, "{\"type\":\"none\"}");
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_OK);
    assert_int_equal(t.rq.nheaders, 0);
    assert_string_equal(t.rq.url, URL);
    inj_release(&t);
}

static void
test_inject_api_key_header(void **state)
{
    struct inj t;
    const struct out_header *h;
    (void)state;
    inj_init(&t, "{\"type\":\"api_key_header\",\"name\":\"X-API-Key\"}");
    inj_set(&t, "key", "k-123");
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_OK);
    assert_int_equal(t.rq.nheaders, 1);
    h = hdr(&t.rq, "X-API-Key");
    assert_non_null(h);
    assert_string_equal(h->value, "k-123");
    assert_true(h->credential);
    assert_string_equal(t.rq.url, URL);
    inj_release(&t);
}

static void
test_inject_api_key_query_percent_encoded(void **state)
{
    struct inj t;
    (void)state;
    inj_init(&t, "{\"type\":\"api_key_query\",\"name\":\"api key&x\"}");
    inj_set(&t, "key", "a b&c=d/\xc3\xa9+%");
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_OK);
    assert_string_equal(t.rq.url, URL "&api%20key%26x=a%20b%26c%3Dd%2F%C3%A9%2B%25");
    assert_int_equal(t.rq.nheaders, 0);
    assert_int_equal(t.rq.ncred_query, 1);
    assert_string_equal(t.rq.cred_query[0], "api key&x");
    inj_release(&t);

    /* No query yet: '?' is added; a fragment stays last. */
    memset(&t, 0, sizeof(t));
    assert_int_equal(out_request_init(&t.rq, "GET", "https://h.example/x#frag", &t.ei), ERR_OK);
    t.pub = J("{\"type\":\"api_key_query\",\"name\":\"key\"}");
    inj_set(&t, "key", "v");
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_OK);
    assert_string_equal(t.rq.url, "https://h.example/x?key=v#frag");
    inj_release(&t);
}

static void
test_inject_api_key_cookie(void **state)
{
    struct inj t;
    const struct out_header *h;
    (void)state;
    inj_init(&t, "{\"type\":\"api_key_cookie\",\"name\":\"sid\"}");
    inj_set(&t, "key", "c00kie");
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_OK);
    h = hdr(&t.rq, "Cookie");
    assert_non_null(h);
    assert_string_equal(h->value, "sid=c00kie");
    assert_true(h->credential);
    inj_release(&t);
}

static void
test_inject_bearer(void **state)
{
    struct inj t;
    const struct out_header *h;
    (void)state;
    inj_init(&t, "{\"type\":\"bearer\"}");
    inj_set(&t, "token", "tok.en");
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_OK);
    h = hdr(&t.rq, "Authorization");
    assert_non_null(h);
    assert_string_equal(h->value, "Bearer tok.en");
    assert_true(h->credential);
    inj_release(&t);
}

static void
test_inject_bearer_max_secret_len(void **state)
{
    struct inj t;
    char *tok = repeat('t', MAX_SECRET_LEN);
    const struct out_header *h;
    (void)state;
    inj_init(&t, "{\"type\":\"bearer\"}");
    inj_set(&t, "token", tok);
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_OK);
    h = hdr(&t.rq, "Authorization");
    assert_int_equal(strlen(h->value), MAX_SECRET_LEN + 7);
    inj_release(&t);
    free(tok);
}

static void
test_inject_basic(void **state)
{
    static const struct {
        const char *user, *pass, *want;
    } cases[] = {
        {"Aladdin", "open sesame", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="},
        {"u", NULL, "Basic dTo="}, /* no password: "u:" */
        {"u", "", "Basic dTo="},
        {"u", "p:w", "Basic dTpwOnc="}, /* ':' in a password is fine */
        {"\xc3\xa9", "x", "Basic w6k6eA=="},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct inj t;
        const struct out_header *h;
        inj_init(&t, "{\"type\":\"basic\"}");
        inj_set(&t, "username", cases[i].user);
        if (cases[i].pass)
            inj_set(&t, "password", cases[i].pass);
        assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_OK);
        h = hdr(&t.rq, "Authorization");
        assert_non_null(h);
        assert_string_equal(h->value, cases[i].want);
        assert_true(h->credential);
        inj_release(&t);
    }
}

static void
test_inject_basic_max_lengths(void **state)
{
    struct inj t;
    char *u = repeat('u', MAX_SECRET_LEN), *p = repeat('p', MAX_SECRET_LEN);
    const struct out_header *h;
    (void)state;
    inj_init(&t, "{\"type\":\"basic\"}");
    inj_set(&t, "username", u);
    inj_set(&t, "password", p);
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_OK);
    h = hdr(&t.rq, "Authorization");
    assert_non_null(h);
    assert_int_equal(strlen(h->value), 6 + 4 * ((2 * MAX_SECRET_LEN + 1 + 2) / 3));
    inj_release(&t);
    free(u);
    free(p);
}

static void
test_inject_basic_username_with_colon(void **state)
{
    struct inj t;
    (void)state;
    inj_init(&t, "{\"type\":\"basic\"}");
    inj_set(&t, "username", "a:b");
    inj_set(&t, "password", "p");
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_UNPROCESSABLE);
    assert_string_equal(t.ei.code, "invalid_credential");
    assert_string_equal(t.ei.field, "auth.username");
    assert_int_equal(t.rq.nheaders, 0);
    inj_release(&t);
}

static void
test_inject_custom_every_place(void **state)
{
    struct inj t;
    json_t *body = J("{\"existing\":1}");
    const struct out_header *h;
    (void)state;
    inj_init(&t, "{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"a\":{},\"t\":{}}},"
                 "\"inject\":["
                 "{\"in\":\"header\",\"name\":\"X-A\",\"value\":\"Key {{a}}/{{t}}\"},"
                 "{\"in\":\"query\",\"name\":\"q k\",\"value\":\"{{a}}&\"},"
                 "{\"in\":\"cookie\",\"name\":\"ck\",\"value\":\"{{t}}\"},"
                 "{\"in\":\"body\",\"name\":\"client_secret\",\"value\":\"{{a}}\"},"
                 "{\"in\":\"header\",\"name\":\"X-Fixed\",\"value\":\"literal\"}]}");
    inj_set(&t, "a", "AAA");
    inj_set(&t, "t", "T T");
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, body, &t.ei), ERR_OK);
    h = hdr(&t.rq, "X-A");
    assert_non_null(h);
    assert_string_equal(h->value, "Key AAA/T T");
    assert_true(h->credential);
    h = hdr(&t.rq, "Cookie");
    assert_non_null(h);
    assert_string_equal(h->value, "ck=T T");
    assert_true(h->credential);
    h = hdr(&t.rq, "X-Fixed");
    assert_non_null(h);
    assert_string_equal(h->value, "literal");
    assert_string_equal(t.rq.url, URL "&q%20k=AAA%26");
    assert_int_equal(t.rq.ncred_query, 1);
    assert_string_equal(json_string_value(json_object_get(body, "client_secret")), "AAA");
    assert_int_equal(json_integer_value(json_object_get(body, "existing")), 1);
    assert_int_equal(json_object_size(body), 2);
    inj_release(&t);
    json_decref(body);
}

static void
test_inject_custom_body_without_body(void **state)
{
    struct inj t;
    (void)state;
    inj_init(&t, "{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"a\":{}}},"
                 "\"inject\":[{\"in\":\"body\",\"name\":\"k\",\"value\":\"{{a}}\"}]}");
    inj_set(&t, "a", "x");
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_UNPROCESSABLE);
    assert_string_equal(t.ei.code, "no_body");
    assert_string_equal(t.ei.field, "auth.inject");
    inj_release(&t);
}

/* Missing required secrets: ERR_UNPROCESSABLE "credential_missing", field
 * "auth.<name>", and nothing is added to the request. */
static void
test_inject_credential_missing_table(void **state)
{
    static const struct {
        const char *pub;
        const char *have; /* a value that is set, or NULL */
        const char *field;
    } cases[] = {
        {"{\"type\":\"api_key_header\",\"name\":\"X\"}", NULL, "auth.key"},
        {"{\"type\":\"api_key_query\",\"name\":\"k\"}", NULL, "auth.key"},
        {"{\"type\":\"api_key_cookie\",\"name\":\"k\"}", NULL, "auth.key"},
        {"{\"type\":\"api_key_header\",\"name\":\"X\"}", "token", "auth.key"},
        {"{\"type\":\"bearer\"}", NULL, "auth.token"},
        {"{\"type\":\"bearer\"}", "key", "auth.token"},
        {"{\"type\":\"basic\"}", NULL, "auth.username"},
        {"{\"type\":\"basic\"}", "password", "auth.username"},
        {CUSTOM_PUB, NULL, "auth.api_key"},
        {CUSTOM_PUB, "tenant", "auth.api_key"},
        /* An optional field that a rule uses but that is not set. */
        {"{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"a\":{},\"b\":{}},"
         "\"required\":[\"a\"]},\"inject\":[{\"in\":\"header\",\"name\":\"X\",\"value\":"
         "\"{{a}}:{{b}}\"}]}",
         "a", "auth.b"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct inj t;
        inj_init(&t, cases[i].pub);
        if (cases[i].have)
            inj_set(&t, cases[i].have, "v");
        if (auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei) != ERR_UNPROCESSABLE ||
            strcmp(t.ei.code, "credential_missing") != 0 || strcmp(t.ei.field, cases[i].field) != 0)
            fail_msg("missing case %zu: %s field=%s", i, t.ei.code, t.ei.field);
        assert_int_equal(t.rq.nheaders, 0);
        assert_string_equal(t.rq.url, URL);
        inj_release(&t);
    }
}

static void
test_inject_unknown_stored_type(void **state)
{
    struct inj t;
    (void)state;
    inj_init(&t, "{\"type\":\"oauth9\"}");
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_INTERNAL);
    assert_string_equal(t.ei.code, "unknown_auth_type");
    inj_release(&t);
}

/* A control byte other than CR/LF/NUL passes auth_parse but is never sent:
 * out_request_add_header refuses it at injection (SSRF-169 second line). */
static void
test_inject_control_byte_refused_by_outbound(void **state)
{
    struct inj t;
    (void)state;
    inj_init(&t, "{\"type\":\"bearer\"}");
    inj_set(&t, "token",
            "a\x01"
            "b");
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_INVALID);
    assert_int_equal(t.rq.nheaders, 0);
    assert_null(strstr(t.ei.msg, "a\x01"));
    inj_release(&t);
}

/* A query credential that would make the URL too long fails cleanly. */
static void
test_inject_query_too_long(void **state)
{
    struct inj t;
    char *k = repeat('k', MAX_SECRET_LEN);
    (void)state;
    inj_init(&t, "{\"type\":\"api_key_query\",\"name\":\"key\"}");
    inj_set(&t, "key", k);
    assert_int_equal(auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei), ERR_TOO_LARGE);
    assert_string_equal(t.ei.field, "query");
    assert_string_equal(t.rq.url, URL);
    inj_release(&t);
    free(k);
}

/* A custom rule whose rendered value is longer than its buffer must fail
 * with an errinfo that says what is wrong, like every other refusal (the API
 * shows ei to the caller; an empty one becomes a bare "too_large" or, worse,
 * a stale message of an earlier error). Two paths: the cookie buffer in
 * add_cookie (name=value over MAX_SECRET_LEN + MAX_HEADER_NAME_LEN + 2) and
 * the render buffer in render_value (over 2 * MAX_SECRET_LEN). */
static void
test_inject_custom_too_large_names_field(void **state)
{
    static const struct {
        const char *in;
        const char *tmpl;
        size_t each; /* length of each of a, b, c */
    } cases[] = {
        {"cookie", "{{a}}{{b}}", 40000},
        {"header", "{{a}}{{b}}{{c}}", 50000},
    };
    char bad[128] = "";
    size_t nbad = 0;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct inj t;
        char *v = repeat('v', cases[i].each), pub[512], code[ERRINFO_CODE], field[ERRINFO_FIELD];
        size_t nh;
        enum err e;
        snprintf(pub, sizeof(pub),
                 "{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"a\":{},\"b\":{},"
                 "\"c\":{}}},\"inject\":[{\"in\":\"%s\",\"name\":\"X\",\"value\":\"%s\"}]}",
                 cases[i].in, cases[i].tmpl);
        inj_init(&t, pub);
        inj_set(&t, "a", v);
        inj_set(&t, "b", v);
        inj_set(&t, "c", v);
        e = auth_inject(t.pub, &t.vals, &t.rq, NULL, &t.ei);
        nh = t.rq.nheaders;
        snprintf(code, sizeof(code), "%s", t.ei.code);
        snprintf(field, sizeof(field), "%s", t.ei.field);
        inj_release(&t);
        free(v);
        assert_int_equal(e, ERR_TOO_LARGE);
        assert_int_equal(nh, 0);
        if (code[0] == '\0' || field[0] == '\0')
            nbad += (size_t)snprintf(bad + nbad, sizeof(bad) - nbad, " %s", cases[i].in);
    }
    if (nbad > 0)
        fail_msg("ERR_TOO_LARGE with an empty errinfo (no code, no field) for:%s", bad);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts_table),
        cmocka_unit_test(test_parse_refusals_table),
        cmocka_unit_test(test_parse_public_part_has_no_secret),
        cmocka_unit_test(test_parse_refusal_message_has_no_secret),
        cmocka_unit_test(test_parse_max_secret_len),
        cmocka_unit_test(test_parse_max_header_name_len),
        cmocka_unit_test(test_parse_max_inject_rules),
        cmocka_unit_test(test_parse_max_custom_fields),
        cmocka_unit_test(test_auth_values_limits),
        cmocka_unit_test(test_inject_none),
        cmocka_unit_test(test_inject_api_key_header),
        cmocka_unit_test(test_inject_api_key_query_percent_encoded),
        cmocka_unit_test(test_inject_api_key_cookie),
        cmocka_unit_test(test_inject_bearer),
        cmocka_unit_test(test_inject_bearer_max_secret_len),
        cmocka_unit_test(test_inject_basic),
        cmocka_unit_test(test_inject_basic_max_lengths),
        cmocka_unit_test(test_inject_basic_username_with_colon),
        cmocka_unit_test(test_inject_custom_every_place),
        cmocka_unit_test(test_inject_custom_body_without_body),
        cmocka_unit_test(test_inject_credential_missing_table),
        cmocka_unit_test(test_inject_unknown_stored_type),
        cmocka_unit_test(test_inject_control_byte_refused_by_outbound),
        cmocka_unit_test(test_inject_query_too_long),
        cmocka_unit_test(test_inject_custom_too_large_names_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
