/* openapi_import: mapping edge cases and hostile specs (PARSE-002, 005,
 * 015-019). Hostile cases are refused by explicit limits, so each returns
 * fast by construction; no timing asserts. */
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
#include "support/upstream.h"

static enum err
imp(const char *text, json_t **p, struct errinfo *ei)
{
    memset(ei, 0, sizeof(*ei));
    return openapi_import(text, strlen(text), NULL, p, ei);
}

static json_t *
ok(const char *text)
{
    struct errinfo ei;
    json_t *p = NULL;
    enum err e = imp(text, &p, &ei);

    if (e != ERR_OK)
        fail_msg("import failed: %d %s %s", e, ei.field, ei.msg);
    return p;
}

static const char *
sget(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static json_t *
op_at(const json_t *p, size_t i)
{
    return json_array_get(json_object_get(p, "operations"), i);
}

static bool
has_warning(const json_t *p, const char *code)
{
    json_t *w;
    size_t i;

    json_array_foreach (json_object_get(p, "warnings"), i, w) {
        if (!strcmp(sget(w, "code"), code))
            return true;
    }
    return false;
}

#define HEAD                                                                                       \
    "openapi: 3.0.3\ninfo: {title: T, version: '1'}\nservers: [{url: 'https://a.example/v1/'}]\n"

static void
test_names(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"createIssue", "create_issue"},
        {"issues/create", "issues_create"},
        {"list-repos-for-user", "list_repos_for_user"},
        {"users.user.ListUser", "users_user_list_user"},
        {"HTTPServerGet", "http_server_get"},
        {"getV2Users", "get_v2_users"},
        {"__x__", "x"},
        {"!!!", ""},
    };
    char out[OA_MAX_NAME + 1], longid[300];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        oa_snake(cases[i].in, out);
        assert_string_equal(out, cases[i].out);
    }
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_int_equal(oa_snake(longid, out), 64);
}

/* PARSE-019: duplicate operationIds get deterministic, unique names. */
static void
test_collisions(void **state)
{
    json_t *p = ok(HEAD "paths:\n"
                        "  /a: {get: {operationId: doThing}, post: {operationId: do_thing},"
                        " put: {operationId: do-thing}}\n"
                        "  /b: {get: {operationId: do_thing_2}}\n"
                        "  /c/{id}: {get: {}}\n"
                        "  /d: {get: {operationId: '日本'}}\n");

    (void)state;
    assert_string_equal(sget(op_at(p, 0), "name"), "do_thing");
    assert_string_equal(sget(op_at(p, 1), "name"), "do_thing_2");
    assert_string_equal(sget(op_at(p, 2), "name"), "do_thing_3");
    assert_string_equal(sget(op_at(p, 3), "name"), "do_thing_2_2");
    assert_string_equal(sget(op_at(p, 4), "name"), "get_c_id");
    assert_string_equal(sget(op_at(p, 5), "name"), "get_d");
    assert_true(has_warning(p, "operation_renamed"));
    json_decref(p);
}

/* PARSE-019: 5,000 operations with one operationId stay linear and unique. */
static void
test_many_collisions(void **state)
{
    size_t cap = 5000 * 48 + 256, n = 0;
    char *s = malloc(cap);
    json_t *p;

    (void)state;
    n += (size_t)snprintf(s + n, cap - n, "%s", HEAD "paths:\n");
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(s + n, cap - n, "  /p%d: {get: {operationId: same}}\n", i);
    p = ok(s);
    assert_string_equal(sget(op_at(p, 4999), "name"), "same_5000");
    json_decref(p);
    free(s);
}

static void
test_long_name(void **state)
{
    char spec[1024], id[201];
    json_t *p;

    (void)state;
    memset(id, 'x', 200);
    id[200] = '\0';
    snprintf(spec, sizeof(spec),
             HEAD "paths:\n  /a: {get: {operationId: %s}}\n"
                  "  /b: {get: {operationId: %s}}\n",
             id, id);
    p = ok(spec);
    assert_int_equal(strlen(sget(op_at(p, 0), "name")), 64);
    assert_int_equal(strlen(sget(op_at(p, 1), "name")), 64);
    assert_string_equal(sget(op_at(p, 1), "name") + 62, "_2");
    json_decref(p);
}

static void
test_params_merge(void **state)
{
    json_t *p = ok(HEAD "paths:\n"
                        "  /r/{id}:\n"
                        "    parameters:\n"
                        "      - {name: id, in: path, required: true, schema: {type: string}}\n"
                        "      - {name: q, in: query, description: level, schema: {type: string}}\n"
                        "    get:\n"
                        "      parameters:\n"
                        "        - {name: q, in: query, required: true, schema: {type: integer}}\n"
                        "        - {name: id, in: query, schema: {type: string}}\n"
                        "        - {name: X-Trace, in: header, schema: {type: string}}\n"
                        "        - {name: 'x y', in: header, schema: {type: string}}\n"
                        "        - {name: session, in: cookie, schema: {type: string}}\n"
                        "        - {name: Accept, in: header, schema: {type: string}}\n");
    json_t *op = op_at(p, 0), *props, *params;

    (void)state;
    props = json_object_get(json_object_get(op, "input_schema"), "properties");
    params = json_object_get(op, "params");
    assert_string_equal(sget(op, "path"), "/r/{{id}}");
    assert_int_equal(json_array_size(params), 6);
    assert_string_equal(sget(json_array_get(params, 0), "name"), "id");
    assert_string_equal(sget(json_array_get(params, 0), "in"), "path");
    assert_string_equal(sget(json_array_get(params, 1), "name"), "q");
    assert_true(json_is_true(json_object_get(json_array_get(params, 1), "required")));
    assert_string_equal(sget(json_object_get(props, "q"), "type"), "integer");
    assert_string_equal(sget(json_array_get(params, 2), "name"), "query_id");
    assert_string_equal(sget(json_array_get(params, 2), "wire_name"), "id");
    assert_string_equal(sget(json_array_get(params, 3), "name"), "X-Trace");
    assert_null(json_object_get(json_array_get(params, 3), "wire_name"));
    assert_string_equal(sget(json_array_get(params, 4), "name"), "x_y");
    assert_string_equal(sget(json_array_get(params, 4), "wire_name"), "x y");
    assert_string_equal(sget(json_array_get(params, 5), "in"), "cookie");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(op, "input_schema"), "required")), 2);
    json_decref(p);
}

/* PARSE-015: a self-referencing schema (Node.next) stays an unresolved $ref
 * with a circular_ref warning; PARSE-016: a ref to a missing target is kept
 * with an unresolved_ref warning. */
static void
test_refs(void **state)
{
    json_t *p =
        ok(HEAD
           "paths:\n"
           "  /a/{x}:\n"
           "    post:\n"
           "      parameters: [{$ref: '#/components/parameters/P2'}]\n"
           "      requestBody: {$ref: '#/components/requestBodies/B'}\n"
           "      responses: {'201': {$ref: '#/components/responses/R'}}\n"
           "components:\n"
           "  parameters:\n"
           "    P2: {$ref: '#/components/parameters/P'}\n"
           "    P: {name: x, in: path, required: true, schema: {$ref: '#/components/schemas/S2'}}\n"
           "  requestBodies:\n"
           "    B: {required: true, content: {application/json: {schema: {$ref: "
           "'#/components/schemas/Node'}}}}\n"
           "  responses:\n"
           "    R: {description: ok, content: {'application/vnd.x+json': {schema: {$ref: "
           "'#/components/schemas/S'}}}}\n"
           "  schemas:\n"
           "    S2: {$ref: '#/components/schemas/S'}\n"
           "    S: {type: string, description: 'a~b/c'}\n"
           "    Node: {type: object, properties: {next: {$ref: '#/components/schemas/Node'},"
           " ext: {$ref: 'other.yaml#/X'}, gone: {$ref: '#/components/schemas/Nope'}}}\n");
    json_t *op = op_at(p, 0);
    json_t *props = json_object_get(json_object_get(op, "input_schema"), "properties");
    json_t *body = json_object_get(props, "body"), *bp = json_object_get(body, "properties");

    (void)state;
    assert_string_equal(sget(json_object_get(props, "x"), "type"), "string");
    assert_string_equal(sget(body, "type"), "object");
    assert_string_equal(sget(json_object_get(bp, "next"), "$ref"), "#/components/schemas/Node");
    assert_string_equal(sget(json_object_get(bp, "ext"), "$ref"), "other.yaml#/X");
    assert_string_equal(sget(json_object_get(bp, "gone"), "$ref"), "#/components/schemas/Nope");
    assert_string_equal(sget(json_object_get(op, "output_schema"), "type"), "string");
    assert_true(has_warning(p, "circular_ref"));
    assert_true(has_warning(p, "external_ref"));
    assert_true(has_warning(p, "unresolved_ref"));
    json_decref(p);
}

/* PARSE-015: a ring of $refs A -> B -> A (parameters; schemas via allOf and
 * items) and a long chain stay bounded. */
static void
test_ref_cycles(void **state)
{
    json_t *p = ok(HEAD "paths:\n"
                        "  /a: {get: {parameters: [{$ref: '#/components/parameters/A'}],"
                        " responses: {'200': {description: x, content: {application/json:"
                        " {schema: {$ref: '#/components/schemas/A'}}}}}}}\n"
                        "components:\n"
                        "  parameters: {A: {$ref: '#/components/parameters/B'}, B: {$ref: "
                        "'#/components/parameters/A'}}\n"
                        "  schemas:\n"
                        "    A: {allOf: [{$ref: '#/components/schemas/B'}], items: {$ref: "
                        "'#/components/schemas/A'}}\n"
                        "    B: {$ref: '#/components/schemas/A'}\n");

    (void)state;
    assert_int_equal(json_array_size(json_object_get(op_at(p, 0), "params")), 0);
    assert_true(has_warning(p, "unresolved_ref"));
    assert_true(has_warning(p, "circular_ref"));
    json_decref(p);
}

/* PARSE-016: 200 schemas each holding the next one twice: 2^200 if expanded
 * naively; the expansion budget truncates it. */
static void
test_ref_explosion(void **state)
{
    size_t cap = 200 * 160 + 1024, n = 0;
    char *s = malloc(cap);
    json_t *p;

    (void)state;
    n += (size_t)snprintf(s + n, cap - n, "%s",
                          HEAD
                          "paths: {/a: {get: {responses: {'200': {description: x, content:"
                          " {application/json: {schema: {$ref: '#/components/schemas/S0'}}}}}}}}\n"
                          "components:\n  schemas:\n");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(s + n, cap - n,
                              "    S%d: {properties: {a: {$ref: '#/components/schemas/S%d'},"
                              " b: {$ref: '#/components/schemas/S%d'}}}\n",
                              i, i + 1, i + 1);
    n += (size_t)snprintf(s + n, cap - n, "    S200: {type: string}\n");
    p = ok(s);
    assert_true(has_warning(p, "schema_truncated"));
    json_decref(p);
    free(s);
}

static void
test_servers(void **state)
{
    struct errinfo ei;
    json_t *p = ok("openapi: 3.0.0\ninfo: {title: T, version: 1.0}\n"
                   "servers: [{url: '{scheme}://{host}/base', variables: {scheme: {default: https},"
                   " host: {default: h.example}}}]\npaths: {}\n");
    struct openapi_opts o = {.base_url_override = "https://over.example/x/"};
    const char *rel = "openapi: 3.0.0\ninfo: {title: T, version: '1'}\nservers: [{url: /v1}]\n"
                      "paths: {}\n";

    (void)state;
    assert_string_equal(sget(p, "base_url"), "https://h.example/base");
    assert_string_equal(sget(p, "version"), "1.0");
    json_decref(p);
    assert_int_equal(imp(rel, &p, &ei), ERR_UNPROCESSABLE);
    assert_string_equal(ei.code, "base_url_required");
    assert_null(p);
    assert_int_equal(openapi_import(rel, strlen(rel), &o, &p, &ei), ERR_OK);
    assert_string_equal(sget(p, "base_url"), "https://over.example/x");
    json_decref(p);
    o.base_url_override = "ftp://x";
    assert_int_equal(openapi_import(rel, strlen(rel), &o, &p, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "base_url_override");
    assert_int_equal(imp("openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths: {}\n", &p, &ei),
                     ERR_UNPROCESSABLE);
}

static void
test_swagger(void **state)
{
    json_t *p =
        ok("swagger: '2.0'\ninfo: {title: T, version: '1'}\nhost: api.example\n"
           "basePath: /v2\nschemes: [https, http]\n"
           "securityDefinitions: {k: {type: apiKey, in: query, name: key},"
           " b: {type: basic}, o: {type: oauth2, flow: accessCode,"
           " authorizationUrl: 'https://a/auth', tokenUrl: 'https://a/token', scopes: {r: read}}}\n"
           "security: [{k: []}]\n"
           "parameters: {Lim: {name: limit, in: query, type: integer}}\n"
           "definitions: {Pet: {type: object, properties: {id: {type: integer}}}}\n"
           "paths:\n"
           "  /pets:\n"
           "    post:\n"
           "      parameters: [{$ref: '#/parameters/Lim'},"
           " {name: pet, in: body, required: true, schema: {$ref: '#/definitions/Pet'}}]\n"
           "      responses: {'200': {description: ok, schema: {$ref: '#/definitions/Pet'}}}\n"
           "  /upload:\n"
           "    post:\n"
           "      security: [{o: [r]}]\n"
           "      parameters: [{name: f, in: formData, type: file, required: true}]\n");
    json_t *op0 = op_at(p, 0), *op1 = op_at(p, 1), *params1;

    (void)state;
    assert_string_equal(sget(p, "base_url"), "https://api.example/v2");
    assert_string_equal(sget(p, "spec_version"), "2.0");
    assert_string_equal(sget(json_object_get(p, "auth"), "type"), "api_key_query");
    assert_string_equal(sget(json_object_get(p, "auth"), "name"), "key");
    assert_string_equal(sget(json_array_get(json_object_get(op0, "params"), 1), "content_type"),
                        "application/json");
    assert_string_equal(sget(json_object_get(op0, "output_schema"), "type"), "object");
    params1 = json_object_get(op1, "params");
    assert_string_equal(sget(json_array_get(params1, 0), "content_type"), "multipart/form-data");
    assert_string_equal(json_string_value(json_array_get(json_object_get(op1, "security"), 0)),
                        "o");
    assert_true(has_warning(p, "unsupported_body"));
    json_decref(p);
}

static const json_t *
scheme(const json_t *p, const char *name)
{
    json_t *o;
    size_t i;

    json_array_foreach (json_object_get(p, "auth_options"), i, o) {
        if (!strcmp(sget(o, "scheme"), name))
            return o;
    }
    fail_msg("no scheme %s", name);
    return NULL;
}

/* PARSE-018: apiKey header names with CR/LF, with ':' or empty are not RFC
 * 9110 tokens: the scheme is "unsupported" and its name is dropped. */
static void
test_security_kinds(void **state)
{
    json_t *p = ok(
        HEAD "paths: {}\nsecurity: [{bh: []}]\ncomponents:\n  securitySchemes:\n"
             "    h: {type: apiKey, in: header, name: X-Key}\n"
             "    q: {type: apiKey, in: query, name: k}\n"
             "    c: {type: apiKey, in: cookie, name: sid}\n"
             "    crlf: {type: apiKey, in: header, name: \"X-Key\\r\\nX-Evil: 1\"}\n"
             "    colon: {type: apiKey, in: header, name: 'a:b'}\n"
             "    empty: {type: apiKey, in: header, name: ''}\n"
             "    bh: {type: http, scheme: Bearer}\n"
             "    ba: {type: http, scheme: basic}\n"
             "    dg: {type: http, scheme: digest}\n"
             "    o: {type: oauth2, flows: {implicit: {authorizationUrl: 'https://i', scopes: {}},"
             " clientCredentials: {tokenUrl: 'https://t', scopes: {a: b}}}}\n"
             "    oidc: {type: openIdConnect, openIdConnectUrl: 'https://o'}\n"
             "    ref: {$ref: '#/components/securitySchemes/h'}\n");
    static const struct {
        const char *name, *type;
    } want[] = {{"h", "api_key_header"}, {"q", "api_key_query"},   {"c", "api_key_cookie"},
                {"crlf", "unsupported"}, {"colon", "unsupported"}, {"empty", "unsupported"},
                {"bh", "bearer"},        {"ba", "basic"},          {"dg", "unsupported"},
                {"o", "oauth2"},         {"oidc", "unsupported"},  {"ref", "api_key_header"}};

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_string_equal(sget(scheme(p, want[i].name), "type"), want[i].type);
    assert_string_equal(sget(scheme(p, "h"), "name"), "X-Key");
    assert_null(json_object_get(scheme(p, "crlf"), "name"));
    assert_string_equal(sget(scheme(p, "o"), "token_url"),
                        "https://t"); /* clientCredentials first */
    assert_non_null(json_object_get(json_object_get(scheme(p, "o"), "flows"), "implicit"));
    assert_string_equal(sget(json_object_get(p, "auth"), "type"), "bearer");
    assert_true(has_warning(p, "unsupported_auth"));
    json_decref(p);
}

/* PARSE-019: a path template with an unbalanced brace and an undeclared
 * {param}: deterministic paths and warnings, no crash. */
static void
test_bodies_and_paths(void **state)
{
    json_t *p = ok(HEAD "paths:\n"
                        "  /f/{a}/{b:\n"
                        "    post:\n"
                        "      parameters: [{name: body, in: query, schema: {type: string}}]\n"
                        "      requestBody: {content: {text/plain: {schema: {type: string}}}}\n"
                        "  /g/{undeclared}/x y#%zz:\n"
                        "    get: {}\n");
    json_t *op0 = op_at(p, 0), *op1 = op_at(p, 1), *params = json_object_get(op0, "params");

    (void)state;
    assert_string_equal(sget(op0, "path"), "/f/{{a}}/%7Bb");
    /* query "body" is renamed; then the body; then undeclared {a} */
    assert_string_equal(sget(json_array_get(params, 0), "name"), "query_body");
    assert_string_equal(sget(json_array_get(params, 0), "wire_name"), "body");
    assert_string_equal(sget(json_array_get(params, 1), "name"), "body");
    assert_string_equal(sget(json_array_get(params, 1), "content_type"), "text/plain");
    assert_string_equal(sget(json_array_get(params, 2), "name"), "a");
    assert_string_equal(sget(op1, "path"), "/g/{{undeclared}}/x%20y%23%25zz");
    assert_true(has_warning(p, "undeclared_path_param"));
    assert_true(has_warning(p, "invalid_path_template"));
    assert_true(has_warning(p, "unsupported_body"));
    json_decref(p);
}

struct bad {
    const char *spec;
    enum err e;
    const char *field;
    const char *msg_part;
};

static void
check_bad(const char *spec, size_t len, const struct openapi_opts *o, enum err want,
          const char *field, const char *msg_part)
{
    struct errinfo ei = {0};
    json_t *p = NULL;
    enum err e = openapi_import(spec, len, o, &p, &ei);

    if (e != want)
        fail_msg("%.40s: got %d (%s), want %d", spec, e, ei.msg, want);
    assert_null(p);
    assert_string_equal(ei.field, field);
    if (strstr(ei.msg, msg_part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", ei.msg, msg_part);
}

static void
test_bad_small(void **state)
{
    static const struct bad cases[] = {
        /* PARSE-005: duplicate keys */
        {"{\"openapi\": \"3.0.0\", \"openapi\": \"3.0.1\"}", ERR_INVALID, "spec", "duplicate"},
        {"{\"a\": }", ERR_INVALID, "spec", "line 1 column"},
        /* PARSE-004: \u0000 (more in test_bad_strings) */
        {"{\"a\": \"\\u0000\"}", ERR_INVALID, "spec", "JSON"},
        {"{\"a\": 1} x", ERR_INVALID, "spec", "JSON"},
        {"   ", ERR_INVALID, "spec", "empty"},
        /* PARSE-004: 0xFF byte, surrogate ED A0 80, overlong C0 80 */
        {"a: \xff\n", ERR_INVALID, "spec", "UTF-8"},
        {"{\"a\": \"\xed\xa0\x80\"}", ERR_INVALID, "spec", "UTF-8"},
        {"{\"a\": \"\xc0\x80\"}", ERR_INVALID, "spec", "UTF-8"},
        {"[1, 2]", ERR_UNPROCESSABLE, "spec", "not an object"},
        {"{\"openapi\": \"2.5\"}", ERR_UNPROCESSABLE, "spec", "OpenAPI"},
        {"openapi: 3.0\n", ERR_UNPROCESSABLE, "spec", "string"},
        {"a: 1\n---\nb: 2\n", ERR_INVALID, "spec", "one document"},
        {"&a [*a]\n", ERR_INVALID, "spec", "cycle"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_bad(cases[i].spec, strlen(cases[i].spec), NULL, cases[i].e, cases[i].field,
                  cases[i].msg_part);
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
test_deep_nesting(void **state)
{
    char *j = repeat("", "[", 100000, "");
    char *jo = repeat("", "{\"a\":", 100000, "");
    char *yf = repeat("x: ", "[", 100000, "");
    char *yb = repeat("", "- ", 100000, "x\n");
    char *ok257 = repeat("", "[", 257, "");

    (void)state;
    check_bad(j, strlen(j), NULL, ERR_TOO_LARGE, "max_depth", "line 1 column 257");
    check_bad(jo, strlen(jo), NULL, ERR_TOO_LARGE, "max_depth", "nesting");
    check_bad(yf, strlen(yf), NULL, ERR_TOO_LARGE, "max_depth", "nesting");
    check_bad(yb, strlen(yb), NULL, ERR_TOO_LARGE, "max_depth", "nesting");
    /* N = 256 passes the depth check (and is then not a spec); N + 1 fails */
    check_bad(ok257, 256, NULL, ERR_INVALID, "spec", "JSON");
    check_bad(ok257, 257, NULL, ERR_TOO_LARGE, "max_depth", "256");
    free(j);
    free(jo);
    free(yf);
    free(yb);
    free(ok257);
}

/* PARSE-017: spec bytes and operation count (100,000 paths are refused by
 * max_operations) at N and N + 1. */
static void
test_size_limits(void **state)
{
    size_t big = 10u * 1024 * 1024;
    char *s = malloc(big + 64);
    struct openapi_opts o = {.max_spec_bytes = 1000};
    struct errinfo ei;
    json_t *p = NULL;

    (void)state;
    /* a 10 MB string is fine as data but over a 1000-byte limit */
    memcpy(s, "{\"openapi\": \"", 13);
    memset(s + 13, 'a', big);
    memcpy(s + 13 + big, "\"}", 3);
    check_bad(s, strlen(s), &o, ERR_TOO_LARGE, "spec", "larger than 1000");
    check_bad(s, strlen(s), NULL, ERR_UNPROCESSABLE, "spec", "OpenAPI");
    o.max_spec_bytes = 13;
    check_bad("{\"a\":1,\"b\":2}", 13, &o, ERR_UNPROCESSABLE, "spec", "OpenAPI");
    check_bad("{\"a\":1,\"b\":22}", 14, &o, ERR_TOO_LARGE, "spec", "larger");
    free(s);
    /* max_operations at N and N + 1 */
    o = (struct openapi_opts){.max_operations = 2};
    {
        const char *two = HEAD "paths: {/a: {get: {}, put: {}}}\n";
        const char *three = HEAD "paths: {/a: {get: {}, put: {}, post: {}}}\n";
        assert_int_equal(openapi_import(two, strlen(two), &o, &p, &ei), ERR_OK);
        json_decref(p);
        check_bad(three, strlen(three), &o, ERR_TOO_LARGE, "max_operations", "more than 2");
    }
}

/* PARSE-017: 10,000 params on one op are refused by max_parameters (1000). */
static void
test_too_many_params(void **state)
{
    char *s = repeat(HEAD "paths: {/a: {get: {parameters: [", "{name: p, in: query},", 1001,
                     "{name: z, in: query}]}}}\n");

    (void)state;
    check_bad(s, strlen(s), NULL, ERR_TOO_LARGE, "max_parameters", "more than 1000");
    free(s);
}

/* PARSE-017: a 1 MB operationId is bounded by the name limit (64 bytes), not
 * carried into the tool name. */
static void
test_huge_operation_id(void **state)
{
    char *s = repeat(HEAD "paths: {/a: {get: {operationId: ", "ab", 500000, "}}}\n");
    json_t *p = ok(s);

    (void)state;
    assert_int_equal(strlen(sget(op_at(p, 0), "name")), 64);
    json_decref(p);
    free(s);
}

static void
test_billion_laughs_spec(void **state)
{
    char doc[4096];
    size_t n = 0;

    (void)state;
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, HEAD "x0: &a0 [lol]\n");
    for (int l = 1; l <= 9; l++) {
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "x%d: &a%d [", l, l);
        for (int k = 0; k < 9; k++)
            n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s*a%d", k ? "," : "", l - 1);
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "]\n");
    }
    check_bad(doc, n, NULL, ERR_TOO_LARGE, "max_alias_nodes", "too many values");
}

/* One component schema used by four parameters (two operations): the
 * expansions are shared between uses (ref.c), so each parameter's own
 * description must land on its own copy, never on the shared schema. */
static void
test_shared_ref_schema_descriptions(void **state)
{
    json_t *p = ok(HEAD "paths:\n"
                        "  /a: {get: {operationId: a, parameters: [\n"
                        "    {name: x, in: query, description: first, schema: {$ref: "
                        "'#/components/schemas/Id'}},\n"
                        "    {name: y, in: query, schema: {$ref: '#/components/schemas/Id'}}]}}\n"
                        "  /b: {get: {operationId: b, parameters: [\n"
                        "    {name: x, in: query, description: second, schema: {$ref: "
                        "'#/components/schemas/Id'}},\n"
                        "    {name: y, in: query, schema: {$ref: '#/components/schemas/Id'}}]}}\n"
                        "components: {schemas: {Id: {type: string, maxLength: 9}}}\n");
    const char *want[2][2] = {{"first", ""}, {"second", ""}};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        json_t *props = json_object_get(json_object_get(op_at(p, i), "input_schema"), "properties");
        assert_string_equal(sget(json_object_get(props, "x"), "description"), want[i][0]);
        assert_string_equal(sget(json_object_get(props, "y"), "description"), want[i][1]);
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(props, "y"), "maxLength")), 9);
    }
    json_decref(p);
}

/* PARSE-016: pointer escapes (~0 is '~', ~1 is '/', percent-encoding), an
 * invalid escape, and the $ref chain limit at N and N + 1. */
static void
test_ref_pointers(void **state)
{
    json_t *p =
        ok(HEAD "paths:\n"
                "  /a:\n"
                "    get:\n"
                "      parameters:\n"
                "        - {name: s, in: query, schema: {$ref: '#/components/schemas/a~1b'}}\n"
                "        - {name: t, in: query, schema: {$ref: '#/components/schemas/c~0d'}}\n"
                "        - {name: u, in: query, schema: {$ref: '#/components/schemas/e%20f'}}\n"
                "        - {name: v, in: query, schema: {$ref: '#/components/schemas/c~2d'}}\n"
                "components:\n"
                "  schemas:\n"
                "    a/b: {type: integer}\n"
                "    c~d: {type: boolean}\n"
                "    e f: {type: number}\n");
    json_t *props = json_object_get(json_object_get(op_at(p, 0), "input_schema"), "properties");
    /* P0 -> P1 -> P2 -> P3: the operation's $ref plus three more */
    const char *chain =
        HEAD "paths: {/a: {get: {parameters: [{$ref: '#/components/parameters/P0'}]}}}\n"
             "components:\n"
             "  parameters:\n"
             "    P0: {$ref: '#/components/parameters/P1'}\n"
             "    P1: {$ref: '#/components/parameters/P2'}\n"
             "    P2: {$ref: '#/components/parameters/P3'}\n"
             "    P3: {name: deep, in: query, schema: {type: string}}\n";
    struct openapi_opts o = {.max_ref_depth = 4};
    struct errinfo ei;

    (void)state;
    assert_string_equal(sget(json_object_get(props, "s"), "type"), "integer");
    assert_string_equal(sget(json_object_get(props, "t"), "type"), "boolean");
    assert_string_equal(sget(json_object_get(props, "u"), "type"), "number");
    assert_string_equal(sget(json_object_get(props, "v"), "$ref"), "#/components/schemas/c~2d");
    assert_true(has_warning(p, "unresolved_ref"));
    json_decref(p);
    /* four $refs in the chain: resolved with max_ref_depth 4, not with 3 */
    assert_int_equal(openapi_import(chain, strlen(chain), &o, &p, &ei), ERR_OK);
    assert_string_equal(sget(json_array_get(json_object_get(op_at(p, 0), "params"), 0), "name"),
                        "deep");
    assert_false(has_warning(p, "unresolved_ref"));
    json_decref(p);
    o.max_ref_depth = 3;
    assert_int_equal(openapi_import(chain, strlen(chain), &o, &p, &ei), ERR_OK);
    assert_int_equal(json_array_size(json_object_get(op_at(p, 0), "params")), 0);
    assert_true(has_warning(p, "unresolved_ref"));
    json_decref(p);
}

/* SSRF-162, SSRF-163: external $refs (a metadata URL, a loopback canary,
 * file:// and a relative path) are never fetched or read: each is kept as
 * {"$ref"} with an external_ref warning, and nothing of their targets shows
 * up in the proposal. */
static void
test_external_refs_not_fetched(void **state)
{
    struct canary *c = canary_start("127.0.0.1");
    char spec[2048];
    json_t *p, *props;
    char *dump;

    (void)state;
    assert_non_null(c);
    setenv("CONNHUB_TEST_ENV_CANARY", "ENVCANARY7f3a", 1);
    snprintf(spec, sizeof(spec),
             HEAD
             "paths:\n"
             "  /a:\n"
             "    get:\n"
             "      parameters:\n"
             "        - {name: m, in: query, schema: {$ref: "
             "'http://169.254.169.254/latest/meta-data/'}}\n"
             "        - {name: c, in: query, schema: {$ref: 'http://127.0.0.1:%d/s.json#/S'}}\n"
             "        - {name: e, in: query, schema: {$ref: 'file:///proc/self/environ'}}\n"
             "        - {name: f, in: query, schema: {$ref: '../../../etc/passwd'}}\n"
             "        - {$ref: 'http://127.0.0.1:%d/p.yaml#/P'}\n",
             canary_port(c), canary_port(c));
    p = ok(spec);
    props = json_object_get(json_object_get(op_at(p, 0), "input_schema"), "properties");
    assert_string_equal(sget(json_object_get(props, "m"), "$ref"),
                        "http://169.254.169.254/latest/meta-data/");
    assert_string_equal(sget(json_object_get(props, "e"), "$ref"), "file:///proc/self/environ");
    assert_string_equal(sget(json_object_get(props, "f"), "$ref"), "../../../etc/passwd");
    assert_int_equal(json_array_size(json_object_get(op_at(p, 0), "params")), 4);
    assert_true(has_warning(p, "external_ref"));
    dump = json_dumps(p, 0);
    assert_null(strstr(dump, "ENVCANARY7f3a"));
    assert_null(strstr(dump, "root:"));
    free(dump);
    json_decref(p);
    assert_int_equal(canary_hits(c), 0);
    canary_stop(c);
    unsetenv("CONNHUB_TEST_ENV_CANARY");
}

/* PARSE-003: JSON numbers out of range (+-inf, a 1,000,000-digit integer,
 * 2^63) are refused by the parser; underflow and -0 are ordinary numbers. In
 * YAML an out-of-range plain scalar stays a string, never +-inf. */
static void
test_numbers(void **state)
{
    static const char *const bad[] = {"1e999999", "-1e999999", "9223372036854775808",
                                      "-9223372036854775809"};
    static const char *const good[] = {"1e-999999", "-0", "-0.0", "9223372036854775807"};
    char spec[256];
    char *huge = repeat("{\"openapi\": \"3.0.0\", \"x\": ", "9", 1000000, "}");
    char *yhuge = repeat(HEAD "paths: {/a: {get: {parameters: [{name: q, in: query, schema: "
                              "{type: integer, maximum: ",
                         "9", 1000000, "}}]}}}\n");
    json_t *p, *q;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(spec, sizeof(spec), "{\"openapi\": \"3.0.0\", \"x\": %s}", bad[i]);
        check_bad(spec, strlen(spec), NULL, ERR_INVALID, "spec", "JSON");
    }
    check_bad(huge, strlen(huge), NULL, ERR_INVALID, "spec", "JSON");
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct errinfo ei = {0};
        snprintf(spec, sizeof(spec), "{\"openapi\": \"3.0.0\", \"x\": %s}", good[i]);
        p = NULL;
        /* parsed, then refused for what it is: not a number error */
        assert_int_equal(openapi_import(spec, strlen(spec), NULL, &p, &ei), ERR_UNPROCESSABLE);
        assert_null(strstr(ei.msg, "JSON"));
    }
    p = ok(HEAD "paths: {/a: {get: {parameters: [{name: q, in: query, schema: "
                "{type: number, maximum: 1e999999, minimum: -1e999999}}]}}}\n");
    q = json_object_get(json_object_get(json_object_get(op_at(p, 0), "input_schema"), "properties"),
                        "q");
    assert_string_equal(sget(q, "maximum"), "1e999999");
    assert_string_equal(sget(q, "minimum"), "-1e999999");
    json_decref(p);
    p = ok(yhuge);
    q = json_object_get(json_object_get(json_object_get(op_at(p, 0), "input_schema"), "properties"),
                        "q");
    assert_true(json_is_string(json_object_get(q, "maximum")));
    json_decref(p);
    free(huge);
    free(yhuge);
}

/* PARSE-004: invalid UTF-8 anywhere (F5..FF lead bytes, truncated sequences),
 * a lone surrogate escape and a NUL escape are refused; one leading BOM is
 * skipped (parse.c), one inside a JSON document is refused. */
static void
test_bad_strings(void **state)
{
    static const struct bad cases[] = {
        {"{\"a\": \"\xf5\x80\x80\x80\"}", ERR_INVALID, "spec", "UTF-8"},
        {"{\"a\": \"\xfe\"}", ERR_INVALID, "spec", "UTF-8"},
        {"{\"a\": \"\xe2\x82\"}", ERR_INVALID, "spec", "UTF-8"},
        {"a: \"\xf0\x9f\x98\"\n", ERR_INVALID, "spec", "UTF-8"},
        {"{\"a\": \"x\xe2\x82", ERR_INVALID, "spec", "UTF-8"},
        {"{\"a\": \"\\ud800\"}", ERR_INVALID, "spec", "JSON"},
        {"{\"a\": \"\\udc00x\"}", ERR_INVALID, "spec", "JSON"},
        {"{\"a\": \"b\\u0000c\"}", ERR_INVALID, "spec", "JSON"},
        {"a: \"\\0\"\n", ERR_INVALID, "spec", "NUL"},
        {"{\xef\xbb\xbf\"a\": 1}", ERR_INVALID, "spec", "JSON"}, /* a BOM inside JSON */
    };
    json_t *p;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_bad(cases[i].spec, strlen(cases[i].spec), NULL, cases[i].e, cases[i].field,
                  cases[i].msg_part);
    p = ok("\xef\xbb\xbf" HEAD "paths: {}\n");
    assert_string_equal(sget(p, "base_url"), "https://a.example/v1");
    json_decref(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_collisions),
        cmocka_unit_test(test_many_collisions),
        cmocka_unit_test(test_long_name),
        cmocka_unit_test(test_params_merge),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_ref_cycles),
        cmocka_unit_test(test_ref_explosion),
        cmocka_unit_test(test_servers),
        cmocka_unit_test(test_swagger),
        cmocka_unit_test(test_security_kinds),
        cmocka_unit_test(test_bodies_and_paths),
        cmocka_unit_test(test_bad_small),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_too_many_params),
        cmocka_unit_test(test_huge_operation_id),
        cmocka_unit_test(test_billion_laughs_spec),
        cmocka_unit_test(test_shared_ref_schema_descriptions),
        cmocka_unit_test(test_ref_pointers),
        cmocka_unit_test(test_external_refs_not_fetched),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_bad_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
