/* http router: router_match over a route table like api/'s (exact paths,
 * {param} captures, trailing slashes, extra or empty segments, method
 * mismatch = 405, HEAD served by GET, overlong segments), req_param, and the
 * error body shape with the err -> HTTP status table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http/http.h"

static enum err
h_dummy(struct req *rq, struct resp *rs)
{
    (void)rq;
    (void)rs;
    return ERR_OK;
}

static const struct route routes[] = {
    {"GET", "/api/connections", h_dummy, ROLE_MEMBER, 0},                        /* 0 */
    {"POST", "/api/connections", h_dummy, ROLE_MEMBER, 0},                       /* 1 */
    {"GET", "/api/connections/{id}", h_dummy, ROLE_MEMBER, 0},                   /* 2 */
    {"PATCH", "/api/connections/{id}", h_dummy, ROLE_MEMBER, 0},                 /* 3 */
    {"DELETE", "/api/connections/{id}", h_dummy, ROLE_MEMBER, 0},                /* 4 */
    {"POST", "/api/connections/{id}/test", h_dummy, ROLE_MEMBER, 0},             /* 5 */
    {"POST", "/api/connections/{id}/actions/{action}", h_dummy, ROLE_MEMBER, 0}, /* 6 */
    {"GET", "/health", h_dummy, ROLE_NONE, ROUTE_PUBLIC},                        /* 7 */
    {"POST", "/api/import", h_dummy, ROLE_ADMIN, ROUTE_BIG_BODY},                /* 8 */
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static void
test_router_match_table(void **state)
{
    static const struct {
        const char *method, *path;
        enum err e;
        int idx; /* expected route, when ERR_OK */
        const char *id, *action;
    } cases[] = {
        /* exact paths */
        {"GET", "/api/connections", ERR_OK, 0, NULL, NULL},
        {"POST", "/api/connections", ERR_OK, 1, NULL, NULL},
        {"GET", "/health", ERR_OK, 7, NULL, NULL},
        {"POST", "/api/import", ERR_OK, 8, NULL, NULL},
        /* captures */
        {"GET", "/api/connections/conn_abc", ERR_OK, 2, "conn_abc", NULL},
        {"PATCH", "/api/connections/x", ERR_OK, 3, "x", NULL},
        {"DELETE", "/api/connections/conn_1", ERR_OK, 4, "conn_1", NULL},
        {"POST", "/api/connections/c1/test", ERR_OK, 5, "c1", NULL},
        {"POST", "/api/connections/c1/actions/list_repos", ERR_OK, 6, "c1", "list_repos"},
        {"GET", "/api/connections/a%2Fb", ERR_OK, 2, "a%2Fb", NULL}, /* raw, one segment */
        {"GET", "/api/connections/..", ERR_OK, 2, "..", NULL},
        /* HEAD is served by the GET route */
        {"HEAD", "/api/connections", ERR_OK, 0, NULL, NULL},
        {"HEAD", "/api/connections/c9", ERR_OK, 2, "c9", NULL},
        {"HEAD", "/health", ERR_OK, 7, NULL, NULL},
        {"HEAD", "/api/import", ERR_METHOD, -1, NULL, NULL}, /* no GET there */
        /* method mismatch on a known path: 405 */
        {"PUT", "/api/connections", ERR_METHOD, -1, NULL, NULL},
        {"DELETE", "/api/connections", ERR_METHOD, -1, NULL, NULL},
        {"PUT", "/api/connections/c1", ERR_METHOD, -1, NULL, NULL},
        {"GET", "/api/connections/c1/test", ERR_METHOD, -1, NULL, NULL},
        {"POST", "/health", ERR_METHOD, -1, NULL, NULL},
        {"get", "/health", ERR_METHOD, -1, NULL, NULL}, /* methods are case-sensitive */
        {"OPTIONS", "/api/connections", ERR_METHOD, -1, NULL, NULL},
        /* trailing slashes, extra, missing and empty segments: 404 */
        {"GET", "/api/connections/", ERR_NOT_FOUND, -1, NULL, NULL},
        {"GET", "/api/connections/c1/", ERR_NOT_FOUND, -1, NULL, NULL},
        {"GET", "/health/", ERR_NOT_FOUND, -1, NULL, NULL},
        {"GET", "/api/connections/c1/extra", ERR_NOT_FOUND, -1, NULL, NULL},
        {"POST", "/api/connections/c1/test/x", ERR_NOT_FOUND, -1, NULL, NULL},
        {"POST", "/api/connections//test", ERR_NOT_FOUND, -1, NULL, NULL},
        {"POST", "/api/connections/c1/actions/", ERR_NOT_FOUND, -1, NULL, NULL},
        {"POST", "/api/connections/c1/actions", ERR_NOT_FOUND, -1, NULL, NULL},
        {"GET", "//api/connections", ERR_NOT_FOUND, -1, NULL, NULL},
        {"GET", "/api//connections", ERR_NOT_FOUND, -1, NULL, NULL},
        /* unknown */
        {"GET", "/api/connection", ERR_NOT_FOUND, -1, NULL, NULL},
        {"GET", "/api/connectionsX", ERR_NOT_FOUND, -1, NULL, NULL},
        {"GET", "/API/connections", ERR_NOT_FOUND, -1, NULL, NULL},
        {"GET", "/", ERR_NOT_FOUND, -1, NULL, NULL},
        {"GET", "", ERR_NOT_FOUND, -1, NULL, NULL},
        {"GET", "api/connections", ERR_NOT_FOUND, -1, NULL, NULL},
        {"GET", "/api/connections/{id}", ERR_OK, 2, "{id}", NULL},
        {"BREW", "/coffee", ERR_NOT_FOUND, -1, NULL, NULL},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct req *rq = calloc(1, sizeof(*rq));
        const struct route *r = (const struct route *)0x1;
        enum err e = router_match(routes, NROUTES, cases[i].method, cases[i].path, rq, &r);
        const char *id, *action;

        assert_non_null(rq);
        if (e != cases[i].e)
            fail_msg("case %zu (%s %s): got %d, want %d", i, cases[i].method, cases[i].path, e,
                     cases[i].e);
        if (e != ERR_OK) {
            assert_null(r);
            free(rq);
            continue;
        }
        if (r != &routes[cases[i].idx])
            fail_msg("case %zu (%s %s): matched route %td, want %d", i, cases[i].method,
                     cases[i].path, r - routes, cases[i].idx);
        id = req_param(rq, "id");
        action = req_param(rq, "action");
        if (cases[i].id)
            assert_string_equal(id, cases[i].id);
        else
            assert_null(id);
        if (cases[i].action)
            assert_string_equal(action, cases[i].action);
        else
            assert_null(action);
        assert_null(req_param(rq, "nope"));
        free(rq);
    }
}

/* A capture must fit param_val (256 bytes with its NUL): a segment of 255
 * bytes matches, 256 is refused (404), never truncated to a wrong id. */
static void
test_router_overlong_segment(void **state)
{
    char path[600], seg[300];
    struct req *rq = calloc(1, sizeof(*rq));
    const struct route *r = NULL;
    size_t max = sizeof(rq->param_val[0]) - 1;
    (void)state;

    for (int k = 0; k < 2; k++) {
        memset(seg, 'a', max + (size_t)k);
        seg[max + (size_t)k] = '\0';
        snprintf(path, sizeof(path), "/api/connections/%s", seg);
        if (k == 0) {
            assert_int_equal(router_match(routes, NROUTES, "GET", path, rq, &r), ERR_OK);
            assert_int_equal(strlen(req_param(rq, "id")), max);
        } else {
            assert_int_equal(router_match(routes, NROUTES, "GET", path, rq, &r), ERR_NOT_FOUND);
            assert_null(r);
            snprintf(path, sizeof(path), "/api/connections/%s/test", seg);
            assert_int_equal(router_match(routes, NROUTES, "POST", path, rq, &r), ERR_NOT_FOUND);
        }
    }
    /* MAX_URL_PATH-long path of one segment: refused, no overflow. */
    {
        char *big = malloc(MAX_URL_PATH + 1);
        memset(big, 'b', MAX_URL_PATH);
        big[0] = '/';
        big[MAX_URL_PATH] = '\0';
        assert_int_equal(router_match(routes, NROUTES, "GET", big, rq, &r), ERR_NOT_FOUND);
        free(big);
    }
    free(rq);
}

/* Captures: rq may be NULL; more captures than REQ_MAX_PARAMS still match
 * (the extra ones are not recorded); a second match replaces the first's. */
static void
test_router_params(void **state)
{
    static const struct route many[] = {
        {"GET", "/{a}/{b}/{c}/{d}/{e}", h_dummy, ROLE_MEMBER, 0},
        {"GET", "/x/{long_parameter_name_over_thirty_one_chars}", h_dummy, ROLE_MEMBER, 0},
    };
    struct req *rq = calloc(1, sizeof(*rq));
    const struct route *r = NULL;
    (void)state;

    assert_int_equal(router_match(routes, NROUTES, "GET", "/api/connections/c1", NULL, &r), ERR_OK);
    assert_ptr_equal(r, &routes[2]);

    assert_int_equal(router_match(many, 2, "GET", "/1/2/3/4/5", rq, &r), ERR_OK);
    assert_int_equal(rq->nparams, REQ_MAX_PARAMS);
    assert_string_equal(req_param(rq, "a"), "1");
    assert_string_equal(req_param(rq, "d"), "4");
    assert_null(req_param(rq, "e"));

    assert_int_equal(
        router_match(routes, NROUTES, "POST", "/api/connections/c2/actions/go", rq, &r), ERR_OK);
    assert_int_equal(rq->nparams, 2);
    assert_string_equal(req_param(rq, "id"), "c2");
    assert_null(req_param(rq, "a"));

    /* A parameter name longer than param_name is cut, not overflowed. */
    assert_int_equal(router_match(many, 2, "GET", "/x/v", rq, &r), ERR_OK);
    assert_int_equal(rq->nparams, 1);
    assert_int_equal(strlen(rq->param_name[0]), sizeof(rq->param_name[0]) - 1);

    /* Empty table. */
    assert_int_equal(router_match(routes, 0, "GET", "/health", rq, &r), ERR_NOT_FOUND);
    assert_null(r);
    free(rq);
}

/* ---- error bodies ---- */

static void
test_error_body_shape(void **state)
{
    struct errinfo ei = {0};
    json_t *b, *err;
    (void)state;

    /* Full errinfo: code, message, field. */
    (void)err_set(&ei, ERR_INVALID, "invalid_characters", "auth.token",
                  "must not contain CR, LF or NUL");
    b = http_error_body(ERR_INVALID, &ei);
    assert_int_equal(json_object_size(b), 1);
    err = json_object_get(b, "error");
    assert_true(json_is_object(err));
    assert_int_equal(json_object_size(err), 3);
    assert_string_equal(json_string_value(json_object_get(err, "code")), "invalid_characters");
    assert_string_equal(json_string_value(json_object_get(err, "message")),
                        "must not contain CR, LF or NUL");
    assert_string_equal(json_string_value(json_object_get(err, "field")), "auth.token");
    json_decref(b);

    /* No field: the key is absent (not null, not ""). */
    (void)err_set(&ei, ERR_NOT_FOUND, "connection_not_found", NULL, "no such connection");
    b = http_error_body(ERR_NOT_FOUND, &ei);
    err = json_object_get(b, "error");
    assert_int_equal(json_object_size(err), 2);
    assert_null(json_object_get(err, "field"));
    json_decref(b);

    /* NULL or empty errinfo: the kind's default code, as message too. */
    b = http_error_body(ERR_CONFLICT, NULL);
    err = json_object_get(b, "error");
    assert_string_equal(json_string_value(json_object_get(err, "code")), "conflict");
    assert_string_equal(json_string_value(json_object_get(err, "message")), "conflict");
    assert_null(json_object_get(err, "field"));
    json_decref(b);
    memset(&ei, 0, sizeof(ei));
    b = http_error_body(ERR_TOO_LARGE, &ei);
    err = json_object_get(b, "error");
    assert_string_equal(json_string_value(json_object_get(err, "code")), "too_large");
    json_decref(b);

    /* Out of range: internal_error. */
    b = http_error_body((enum err)999, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(b, "error"), "code")),
                        "internal_error");
    json_decref(b);
}

/* The one table from err to HTTP status, and each kind's default code. */
static void
test_error_status_table(void **state)
{
    static const struct {
        enum err e;
        int status;
        const char *code;
    } cases[] = {
        {ERR_OK, 200, "ok"},
        {ERR_INVALID, 400, "invalid_request"},
        {ERR_UNAUTHORIZED, 401, "unauthorized"},
        {ERR_FORBIDDEN, 403, "forbidden"},
        {ERR_NOT_FOUND, 404, "not_found"},
        {ERR_METHOD, 405, "method_not_allowed"},
        {ERR_CONFLICT, 409, "conflict"},
        {ERR_TOO_LARGE, 413, "too_large"},
        {ERR_MEDIA_TYPE, 415, "unsupported_media_type"},
        {ERR_UNPROCESSABLE, 422, "unprocessable"},
        {ERR_RATE_LIMITED, 429, "rate_limited"},
        {ERR_CRYPTO, 500, "credential_undecryptable"},
        {ERR_STORE, 500, "store_error"},
        {ERR_NOMEM, 500, "out_of_memory"},
        {ERR_INTERNAL, 500, "internal_error"},
        {ERR_UPSTREAM, 502, "upstream_error"},
        {ERR_UNAVAILABLE, 503, "unavailable"},
        {ERR_TIMEOUT, 504, "timeout"},
    };
    (void)state;

    assert_int_equal(sizeof(cases) / sizeof(cases[0]), ERR__COUNT);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *b;
        assert_int_equal(err_http_status(cases[i].e), cases[i].status);
        assert_string_equal(err_default_code(cases[i].e), cases[i].code);
        b = http_error_body(cases[i].e, NULL);
        assert_string_equal(json_string_value(json_object_get(json_object_get(b, "error"), "code")),
                            cases[i].code);
        json_decref(b);
    }
    assert_int_equal(err_http_status(ERR__COUNT), 500);
    assert_int_equal(err_http_status((enum err) - 1), 500);
    assert_string_equal(err_default_code(ERR__COUNT), "internal_error");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_match_table), cmocka_unit_test(test_router_overlong_segment),
        cmocka_unit_test(test_router_params),      cmocka_unit_test(test_error_body_shape),
        cmocka_unit_test(test_error_status_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
