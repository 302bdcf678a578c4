/* conn: slugs, create/patch validation (exact field names), read-only fields
 * (TEN-007), sealing (CRY-009/010/011), write-only secrets in every view,
 * PATCH secret semantics, permissions, tenant isolation (TEN-001/002), the
 * one decrypting path (CRY-026). A throwaway store per test (SQLite, and again
 * on PostgreSQL when CONNHUB_TEST_PG is set: tests/support/testdb.h) and a
 * vault built from fixed test keys; principals filled by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "conn/conn.h"
#include "conn/conn_oauth.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "support/testdb.h"

static const unsigned char K1[32] = {11, 2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                     23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* ---- fixture ---- */

/* The backend under test: NULL for SQLite, else the PostgreSQL base URL. */
static const char *g_pg;

struct fx {
    struct testdb db;
    struct store *st;
    struct vault *v;
    struct principal admin;  /* alice, admin of w1 */
    struct principal member; /* bob, member of w1 */
    struct principal other;  /* carol, admin of w2 */
};

static void
mk_principal(struct principal *p, int64_t uid, const char *uname, int64_t ws, const char *wslug,
             enum role r)
{
    memset(p, 0, sizeof(*p));
    p->user_id = uid;
    snprintf(p->user_name, sizeof(p->user_name), "%s", uname);
    p->workspace_id = ws;
    snprintf(p->workspace_slug, sizeof(p->workspace_slug), "%s", wslug);
    p->role = r;
    p->token_id = 1;
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct errinfo ei = {0};
    int64_t w1, w2, a, b, c;

    if (f == NULL)
        return -1;
    *state = f; /* teardown cleans up even when a step below fails */
    if (testdb_create(&f->db, g_pg, "conn") != 0 || store_open(f->db.url, &f->st, &ei) != ERR_OK ||
        vault_new(K1, NULL, 0, &f->v, &ei) != ERR_OK)
        return -1;
    if (store_workspace_add(f->st, "w1", &w1, &ei) || store_workspace_add(f->st, "w2", &w2, &ei) ||
        store_user_add(f->st, "alice", false, &a, &ei) ||
        store_user_add(f->st, "bob", false, &b, &ei) ||
        store_user_add(f->st, "carol", false, &c, &ei) ||
        store_member_set(f->st, w1, a, ROLE_ADMIN, &ei) ||
        store_member_set(f->st, w1, b, ROLE_MEMBER, &ei) ||
        store_member_set(f->st, w2, c, ROLE_ADMIN, &ei))
        return -1;
    mk_principal(&f->admin, a, "alice", w1, "w1", ROLE_ADMIN);
    mk_principal(&f->member, b, "bob", w1, "w1", ROLE_MEMBER);
    mk_principal(&f->other, c, "carol", w2, "w2", ROLE_ADMIN);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    if (f == NULL)
        return 0;
    store_close(f->st);
    vault_free(f->v);
    testdb_destroy(&f->db);
    free(f);
    return 0;
}

static json_t *
J(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (j == NULL)
        fail_msg("bad test JSON (%s): %s", je.text, text);
    return j;
}

#define BASE_BODY                                                                                  \
    "{\"name\":\"GitHub API\",\"base_url\":\"https://api.github.com\","                            \
    "\"auth\":{\"type\":\"bearer\",\"token\":\"CANARY_tok_1\"},"                                   \
    "\"operations\":[{\"name\":\"list\",\"method\":\"GET\",\"path\":\"/repos\"},"                  \
    "{\"name\":\"get\",\"method\":\"get\",\"path\":\"/repos/{{id}}\"},"                            \
    "{\"name\":\"create\",\"method\":\"POST\",\"path\":\"/repos\"}]}"

/* Creates from body text as p; returns the id (static buffer per call site). */
static void
create_ok(struct fx *f, const struct principal *p, const char *body, char id[ID_MAX])
{
    json_t *b = J(body), *out = NULL;
    struct errinfo ei = {0};
    enum err e = conn_create(f->st, f->v, p, b, NULL, &out, &ei);
    if (e != ERR_OK)
        fail_msg("create: %d %s field=%s (%s)", e, ei.code, ei.field, ei.msg);
    snprintf(id, ID_MAX, "%s", json_string_value(json_object_get(out, "id")));
    json_decref(out);
    json_decref(b);
}

static enum err
patch(struct fx *f, const struct principal *p, const char *id, const char *body, struct errinfo *ei)
{
    json_t *b = J(body), *out = NULL;
    enum err e = conn_update(f->st, f->v, p, id, b, &out, ei);
    if (e == ERR_OK) {
        char *d = json_dumps(out, JSON_COMPACT);
        if (strstr(d, "CANARY"))
            fail_msg("PATCH view holds a secret: %s", d);
        free(d);
    } else {
        assert_null(out);
    }
    json_decref(out);
    json_decref(b);
    return e;
}

/* The opened secrets as "name=value;..." (sorted by field, as stored). */
static void
opened(struct fx *f, const char *id, int64_t ws, char *out, size_t outlen)
{
    struct conn c;
    struct auth_values vals = {0};
    struct errinfo ei = {0};
    size_t n = 0;

    assert_int_equal(conn_load(f->st, ws, id, NULL, &c, &ei), ERR_OK);
    assert_int_equal(conn_open_secrets(f->st, f->v, &c, &vals, &ei), ERR_OK);
    out[0] = '\0';
    for (size_t i = 0; i < vals.n; i++)
        n += (size_t)snprintf(out + n, outlen - n, "%s%s=%s", i ? ";" : "", vals.name[i],
                              vals.value[i].p);
    auth_values_release(&vals);
    conn_release(&c);
}

static void
assert_no_canary(json_t *j)
{
    char *d = json_dumps(j, JSON_COMPACT);
    if (strstr(d, "CANARY"))
        fail_msg("view holds a secret: %s", d);
    free(d);
}

/* ---- slugs ---- */

static void
test_slug_from_name_table(void **state)
{
    static const struct {
        const char *name, *slug;
    } cases[] = {
        {"GitHub API", "github_api"},
        {"github", "github"},
        {"ABC123", "abc123"},
        {"  Hello, World!  ", "hello_world"},
        {"--abc--", "abc"},
        {"a...b", "a_b"},
        {"a_b", "a_b"},
        {"a__b", "a_b"},
        {"_private", "private"},
        {"Stripe (prod) #2", "stripe_prod_2"},
        {"Caf\xc3\xa9 M\xc3\xbcnster", "caf_m_nster"},
        {"\xe6\x97\xa5\xe6\x9c\xac", "connection"},
        {"", "connection"},
        {"!!!", "connection"},
        {"___", "connection"},
        {"9lives", "9lives"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[MAX_SLUG_LEN + 1];
        conn_slug_from_name(cases[i].name, out, sizeof(out));
        if (strcmp(out, cases[i].slug) != 0)
            fail_msg("slug case %zu: [%s] -> [%s], want [%s]", i, cases[i].name, out,
                     cases[i].slug);
        assert_true(str_is_slug(out, MAX_SLUG_LEN));
    }
}

/* MAX_SLUG_LEN: a derived slug is cut at N characters and is still valid. */
static void
test_slug_from_name_cap_max_slug_len(void **state)
{
    char name[200], out[MAX_SLUG_LEN + 1], big[256];
    (void)state;

    memset(name, 'a', MAX_SLUG_LEN);
    name[MAX_SLUG_LEN] = '\0';
    conn_slug_from_name(name, out, sizeof(out));
    assert_int_equal(strlen(out), MAX_SLUG_LEN);
    memset(name, 'a', MAX_SLUG_LEN + 1);
    name[MAX_SLUG_LEN + 1] = '\0';
    conn_slug_from_name(name, out, sizeof(out));
    assert_int_equal(strlen(out), MAX_SLUG_LEN);
    /* A separator right at the cap is not left dangling. */
    memset(name, 'a', MAX_SLUG_LEN - 1);
    snprintf(name + MAX_SLUG_LEN - 1, sizeof(name) - (MAX_SLUG_LEN - 1), " bcd");
    conn_slug_from_name(name, out, sizeof(out));
    assert_int_equal(strlen(out), MAX_SLUG_LEN - 1);
    assert_true(str_is_slug(out, MAX_SLUG_LEN));
    /* A larger buffer does not lift the cap; a smaller one truncates safely. */
    memset(name, 'b', 150);
    name[150] = '\0';
    conn_slug_from_name(name, big, sizeof(big));
    assert_int_equal(strlen(big), MAX_SLUG_LEN);
    conn_slug_from_name("abcdef", out, 4);
    assert_string_equal(out, "abc");
}

/* ---- create: validation ---- */

struct vcase {
    const char *key;   /* top-level key to set or remove */
    const char *value; /* JSON text; NULL removes key */
    enum err e;
    const char *code;
    const char *field;
};

static const struct vcase create_cases[] = {
    {"name", NULL, ERR_INVALID, "missing_field", "name"},
    {"name", "42", ERR_INVALID, "invalid_type", "name"},
    {"name", "\"\"", ERR_INVALID, "invalid_value", "name"},
    {"name", "\"a\\nb\"", ERR_INVALID, "invalid_characters", "name"},
    {"name", "\"a\\u0000b\"", ERR_INVALID, "invalid_characters", "name"},
    {"slug", "\"Bad Slug\"", ERR_INVALID, "invalid_slug", "slug"},
    {"slug", "\"_x\"", ERR_INVALID, "invalid_slug", "slug"},
    {"slug", "\"a-b\"", ERR_INVALID, "invalid_slug", "slug"},
    {"slug", "\"\"", ERR_INVALID, "invalid_slug", "slug"},
    {"slug", "null", ERR_INVALID, "invalid_type", "slug"},
    /* openapi operations come from a spec, never from the body */
    {"service_type", "\"openapi\"", ERR_INVALID, "read_only_field", "operations"},
    {"spec", "\"openapi: 3.0.0\"", ERR_INVALID, "unknown_field", "spec"},
    {"exclude_operations", "[]", ERR_INVALID, "unknown_field", "exclude_operations"},
    /* gmail tools come with the service type, never from the body */
    {"service_type", "\"gmail\"", ERR_INVALID, "read_only_field", "operations"},
    {"service_type", "\"ftp\"", ERR_INVALID, "invalid_value", "service_type"},
    {"service_type", "1", ERR_INVALID, "invalid_type", "service_type"},
    {"base_url", NULL, ERR_INVALID, "missing_field", "base_url"},
    {"base_url", "\"ftp://example.com\"", ERR_INVALID, NULL, "base_url"},
    {"base_url", "\"not a url\"", ERR_INVALID, NULL, "base_url"},
    {"base_url", "\"https://u:p@example.com\"", ERR_INVALID, NULL, "base_url"},
    {"fulfillment", "\"dynamic\"", ERR_INVALID, "invalid_value", "fulfillment"},
    {"description", "7", ERR_INVALID, "invalid_type", "description"},
    {"test_operation", "\"nope\"", ERR_INVALID, "unknown_operation", "test_operation"},
    {"colour", "\"red\"", ERR_INVALID, "unknown_field", "colour"},
    /* auth (errors relative to "auth") */
    {"auth", "[]", ERR_INVALID, "invalid_type", "auth"},
    {"auth", "{\"type\":\"nope\"}", ERR_INVALID, "unknown_auth_type", "auth.type"},
    {"auth", "{\"type\":\"bearer\"}", ERR_INVALID, "missing_field", "auth.token"},
    {"auth", "{\"type\":\"bearer\",\"token\":\"\"}", ERR_INVALID, "missing_field", "auth.token"},
    {"auth", "{\"type\":\"bearer\",\"token\":\"a\\r\\nb\"}", ERR_INVALID, "invalid_characters",
     "auth.token"},
    {"auth", "{\"type\":\"bearer\",\"token\":\"x\",\"extra\":1}", ERR_INVALID, "unknown_field",
     "auth.extra"},
    {"auth", "{\"type\":\"api_key_header\",\"name\":\"X:Y\",\"key\":\"k\"}", ERR_INVALID,
     "invalid_name", "auth.name"},
    {"auth", "{\"type\":\"api_key_header\",\"name\":\"X\"}", ERR_INVALID, "missing_field",
     "auth.key"},
    {"auth", "{\"type\":\"basic\",\"password\":\"p\"}", ERR_INVALID, "missing_field",
     "auth.username"},
    {"auth",
     "{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"k\":{}},\"required\":[\"k\"]},"
     "\"inject\":[{\"in\":\"header\",\"name\":\"X\",\"value\":\"{{k}}\"}]}",
     ERR_INVALID, "missing_field", "auth.values.k"},
    {"auth",
     "{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"k\":{}}},"
     "\"inject\":[{\"in\":\"nowhere\",\"name\":\"X\",\"value\":\"{{k}}\"}]}",
     ERR_INVALID, "invalid_value", "auth.inject[0]"},
    /* operations */
    {"operations", "{}", ERR_INVALID, "invalid_type", "operations"},
    {"operations", "[1]", ERR_INVALID, "invalid_type", "operations[0]"},
    {"operations",
     "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a\"},{\"name\":\"b\",\"method\":\"GET\","
     "\"path\":\"/b\"},{\"name\":\"c\",\"method\":\"GET\"}]",
     ERR_INVALID, "missing_field", "operations[2].path"},
    {"operations",
     "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a\"},{\"name\":\"b\",\"method\":\"GET\","
     "\"path\":\"/b\"},{\"name\":\"c\",\"method\":\"GET\",\"path\":\"no-slash\"}]",
     ERR_INVALID, NULL, "operations[2].path"},
    {"operations", "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a/{{x\"}]", ERR_INVALID, NULL,
     "operations[0].path"},
    {"operations", "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a b\"}]", ERR_INVALID, NULL,
     "operations[0].path"},
    {"operations", "[{\"method\":\"GET\",\"path\":\"/a\"}]", ERR_INVALID, "missing_field",
     "operations[0].name"},
    {"operations", "[{\"name\":\"Bad Name\",\"method\":\"GET\",\"path\":\"/a\"}]", ERR_INVALID,
     "invalid_name", "operations[0].name"},
    {"operations",
     "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a\"},{\"name\":\"a\",\"method\":\"GET\","
     "\"path\":\"/b\"}]",
     ERR_INVALID, "duplicate_name", "operations[1].name"},
    {"operations", "[{\"name\":\"a\",\"path\":\"/a\"}]", ERR_INVALID, "missing_field",
     "operations[0].method"},
    {"operations", "[{\"name\":\"a\",\"method\":\"FETCH\",\"path\":\"/a\"}]", ERR_INVALID,
     "invalid_method", "operations[0].method"},
    {"operations", "[{\"name\":\"a\",\"method\":\"GETX12345\",\"path\":\"/a\"}]", ERR_INVALID,
     "too_long", "operations[0].method"},
    {"operations", "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a\",\"verb\":1}]", ERR_INVALID,
     "unknown_field", "operations[0]"},
    {"operations", "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a\",\"params\":{}}]",
     ERR_INVALID, "invalid_type", "operations[0].params"},
    {"operations", "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a\",\"input_schema\":7}]",
     ERR_INVALID, NULL, "operations[0].input_schema"},
    {"operations",
     "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a\",\"description\":\"x\\u0001y\"}]",
     ERR_INVALID, "invalid_characters", "operations[0].description"},
    /* an operation's tier: a tier name of at most OAUTH_MAX_TIER_NAME_LEN (32) */
    {"operations", "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a\",\"tier\":\"Send\"}]",
     ERR_INVALID, "invalid_name", "operations[0].tier"},
    {"operations", "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a\",\"tier\":7}]", ERR_INVALID,
     "invalid_type", "operations[0].tier"},
    {"operations",
     "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a\",\"tier\":"
     "\"t23456789012345678901234567890123\"}]",
     ERR_INVALID, NULL, "operations[0].tier"},
    /* TEN-007: read-only fields are refused, not ignored */
    {"id", "\"conn_x\"", ERR_INVALID, "read_only_field", "id"},
    {"workspace_id", "2", ERR_INVALID, "read_only_field", "workspace_id"},
    {"workspace", "\"w2\"", ERR_INVALID, "read_only_field", "workspace"},
    {"owner", "{\"name\":\"carol\"}", ERR_INVALID, "read_only_field", "owner"},
    {"owner_id", "3", ERR_INVALID, "read_only_field", "owner_id"},
    {"created_by", "3", ERR_INVALID, "read_only_field", "created_by"},
    {"created_at", "\"2020-01-01T00:00:00Z\"", ERR_INVALID, "read_only_field", "created_at"},
    {"updated_at", "0", ERR_INVALID, "read_only_field", "updated_at"},
    {"version", "99", ERR_INVALID, "read_only_field", "version"},
    {"key_id", "1", ERR_INVALID, "read_only_field", "key_id"},
};

static json_t *
body_with(const char *base, const char *key, const char *value)
{
    json_t *b = J(base);
    if (value == NULL)
        json_object_del(b, key);
    else
        json_object_set_new(b, key, J(value));
    return b;
}

static void
check_refused(const char *what, size_t i, enum err e, const struct errinfo *ei, enum err want,
              const char *code, const char *field)
{
    if (e != want || (code && strcmp(ei->code, code) != 0) || strcmp(ei->field, field) != 0)
        fail_msg("%s %zu: got %d %s field=[%s] (%s); want %d %s field=[%s]", what, i, e, ei->code,
                 ei->field, ei->msg, want, code ? code : "*", field);
}

static void
test_create_validation_table(void **state)
{
    struct fx *f = *state;
    struct conn_row *rows = NULL;
    size_t n = 1;
    struct errinfo ei = {0};

    for (size_t i = 0; i < sizeof(create_cases) / sizeof(create_cases[0]); i++) {
        const struct vcase *c = &create_cases[i];
        json_t *b = body_with(BASE_BODY, c->key, c->value), *out = (json_t *)0x1;
        enum err e;
        memset(&ei, 0, sizeof(ei));
        e = conn_create(f->st, f->v, &f->admin, b, NULL, &out, &ei);
        check_refused("create case", i, e, &ei, c->e, c->code, c->field);
        assert_null(out);
        assert_null(strstr(ei.msg, "CANARY"));
        json_decref(b);
    }
    /* Nothing was stored by any refused create. */
    assert_int_equal(store_conn_list(f->st, f->admin.workspace_id, NULL, &rows, &n, &ei), ERR_OK);
    assert_int_equal(n, 0);
    conn_rows_free(rows, n);
}

static void
test_create_body_not_object(void **state)
{
    struct fx *f = *state;
    static const char *const bodies[] = {"[]", "\"x\"", "null", "1"};
    for (size_t i = 0; i < 4; i++) {
        json_t *b = J(bodies[i]), *out = NULL;
        struct errinfo ei = {0};
        assert_int_equal(conn_create(f->st, f->v, &f->admin, b, NULL, &out, &ei), ERR_INVALID);
        assert_string_equal(ei.code, "invalid_body");
        json_decref(b);
    }
}

/* Named limits at N and N+1: name, slug, description, base_url, operation
 * name and path. */
static void
test_create_limits_table(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *key;
        size_t n;
        const char *prefix; /* text before the repeated 'a's */
        const char *suffix;
        const char *code_over; /* N+1 */
        const char *field;
    } cases[] = {
        {"name", MAX_NAME_LEN, "", "", "too_long", "name"},
        {"slug", MAX_SLUG_LEN, "", "", "invalid_slug", "slug"},
        {"description", 4000, "", "", "too_long", "description"},
        {"base_url", MAX_BASE_URL_LEN, "https://example.com/", "", NULL, "base_url"},
        {"test_operation", MAX_OPERATION_NAME_LEN, "", "", "too_long", "test_operation"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int k = 0; k < 2; k++) {
            size_t total = cases[i].n + (size_t)k;
            size_t pre = strlen(cases[i].prefix);
            char *v = malloc(total + 1);
            json_t *b, *out = NULL;
            struct errinfo ei = {0};
            enum err e;
            memcpy(v, cases[i].prefix, pre);
            memset(v + pre, 'a', total - pre);
            v[total] = '\0';
            b = J(BASE_BODY);
            json_object_set_new(b, cases[i].key, json_string(v));
            if (strcmp(cases[i].key, "test_operation") == 0) {
                /* make an operation of that name exist */
                json_array_append_new(
                    json_object_get(b, "operations"),
                    json_pack("{s:s, s:s, s:s}", "name", v, "method", "GET", "path", "/x"));
            }
            if (strcmp(cases[i].key, "slug") != 0)
                json_object_set_new(b, "slug", json_sprintf("s%zu_%d", i, k));
            e = conn_create(f->st, f->v, &f->admin, b, NULL, &out, &ei);
            if (k == 0 && e != ERR_OK)
                fail_msg("limit %s at N: %d %s %s (%s)", cases[i].key, e, ei.code, ei.field,
                         ei.msg);
            if (k == 1)
                check_refused("limit N+1", i, e, &ei, ERR_INVALID, cases[i].code_over,
                              cases[i].field);
            json_decref(out);
            json_decref(b);
            free(v);
        }
    }
}

/* MAX_OPERATIONS at N and N+1. */
static void
test_create_max_operations(void **state)
{
    struct fx *f = *state;

    for (int k = 0; k < 2; k++) {
        json_t *b = J(BASE_BODY), *ops = json_array(), *out = NULL;
        struct errinfo ei = {0};
        enum err e;
        for (size_t i = 0; i < (size_t)MAX_OPERATIONS + (size_t)k; i++) {
            char name[32];
            snprintf(name, sizeof(name), "op%zu", i);
            json_array_append_new(
                ops, json_pack("{s:s, s:s, s:s}", "name", name, "method", "GET", "path", "/x"));
        }
        json_object_set_new(b, "operations", ops);
        e = conn_create(f->st, f->v, &f->admin, b, NULL, &out, &ei);
        if (k == 0) {
            assert_int_equal(e, ERR_OK);
            assert_int_equal(json_array_size(json_object_get(out, "operations")), MAX_OPERATIONS);
        } else {
            check_refused("max operations N+1", 0, e, &ei, ERR_TOO_LARGE, "too_many", "operations");
        }
        json_decref(out);
        json_decref(b);
    }
}

/* ---- create: result, sealing ---- */

static void
test_create_view_and_defaults(void **state)
{
    struct fx *f = *state;
    json_t *b = J(BASE_BODY), *out = NULL, *ops;
    struct errinfo ei = {0};

    assert_int_equal(conn_create(f->st, f->v, &f->member, b, NULL, &out, &ei), ERR_OK);
    assert_no_canary(out);
    assert_int_equal(strncmp(json_string_value(json_object_get(out, "id")), "conn_", 5), 0);
    assert_string_equal(json_string_value(json_object_get(out, "slug")), "github_api");
    assert_string_equal(json_string_value(json_object_get(out, "service_type")), "http");
    assert_string_equal(json_string_value(json_object_get(out, "fulfillment")), "static");
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "owner"), "name")),
                        "bob");
    assert_int_equal(json_integer_value(json_object_get(out, "version")), 1);
    {
        json_t *want = J("[\"token\"]");
        assert_true(json_equal(json_object_get(json_object_get(out, "auth"), "secrets_set"), want));
        json_decref(want);
    }
    ops = json_object_get(out, "operations");
    assert_int_equal(json_array_size(ops), 3);
    /* method normalised to upper case */
    assert_string_equal(json_string_value(json_object_get(json_array_get(ops, 1), "method")),
                        "GET");
    json_decref(out);

    /* Same name again: the derived slug is taken. */
    assert_int_equal(conn_create(f->st, f->v, &f->member, b, NULL, &out, &ei), ERR_CONFLICT);
    assert_string_equal(ei.field, "slug");
    /* ...but another workspace may use it. */
    assert_int_equal(conn_create(f->st, f->v, &f->other, b, NULL, &out, &ei), ERR_OK);
    json_decref(out);
    json_decref(b);
}

/* CRY-009/010/011: values are sealed, bound to workspace, row and field. */
static void
test_create_seals_secrets_cry009_cry010(void **state)
{
    struct fx *f = *state;
    char id[ID_MAX], id2[ID_MAX];
    struct sealed_set set = {0};
    struct errinfo ei = {0};
    const struct sealed *s;
    struct secret pt = {0};
    int64_t ws = f->admin.workspace_id;

    create_ok(f, &f->admin,
              "{\"name\":\"B\",\"base_url\":\"https://b.example\",\"auth\":{\"type\":\"basic\","
              "\"username\":\"CANARY_user\",\"password\":\"CANARY_pass\"}}",
              id);
    create_ok(f, &f->admin,
              "{\"name\":\"C\",\"base_url\":\"https://c.example\",\"auth\":{\"type\":\"bearer\","
              "\"token\":\"CANARY_other\"}}",
              id2);
    assert_int_equal(store_secrets_get(f->st, ws, "connection", id, &set, &ei), ERR_OK);
    assert_int_equal(set.n, 2);
    s = sealed_set_find(&set, "auth.username");
    assert_non_null(s);
    assert_int_equal(s->len, strlen("CANARY_user") + VAULT_OVERHEAD);
    assert_int_equal(s->data[0], VAULT_FORMAT_V1);
    assert_null(memmem(s->data, s->len, "CANARY", 6));
    assert_null(memmem(sealed_set_find(&set, "auth.password")->data,
                       sealed_set_find(&set, "auth.password")->len, "CANARY", 6));
    {
        struct vault_aad right = {ws, "connection", id, "auth.username"};
        assert_int_equal(vault_open(f->v, &right, s->data, s->len, &pt, &ei), ERR_OK);
        assert_string_equal(pt.p, "CANARY_user");
        secret_release(&pt);
    }
    {
        /* CRY-009: another connection of the same workspace */
        struct vault_aad a = {ws, "connection", id2, "auth.username"};
        assert_int_equal(vault_open(f->v, &a, s->data, s->len, &pt, &ei), ERR_CRYPTO);
        assert_null(pt.p);
    }
    {
        /* CRY-010: the same row id in another workspace */
        struct vault_aad a = {f->other.workspace_id, "connection", id, "auth.username"};
        assert_int_equal(vault_open(f->v, &a, s->data, s->len, &pt, &ei), ERR_CRYPTO);
        assert_string_equal(ei.code, "credential_undecryptable");
    }
    {
        /* CRY-011: another field of the same row */
        struct vault_aad a = {ws, "connection", id, "auth.password"};
        assert_int_equal(vault_open(f->v, &a, s->data, s->len, &pt, &ei), ERR_CRYPTO);
    }
    {
        /* another kind */
        struct vault_aad a = {ws, "oauth_provider", id, "auth.username"};
        assert_int_equal(vault_open(f->v, &a, s->data, s->len, &pt, &ei), ERR_CRYPTO);
    }
    sealed_set_release(&set);
}

/* Copies connection `from`'s sealed auth.token (workspace wsf) into connection `to`'s row
 * (workspace wst) at the store level, as a DB-level attacker would, then opens `to`'s secrets
 * the way a call does. */
static enum err
swap_and_open(struct fx *f, int64_t wsf, const char *from, int64_t wst, const char *to)
{
    struct sealed_set sa = {0}, put = {0};
    struct errinfo ei = {0};
    struct conn_row r = {0};
    struct conn c;
    struct auth_values vals = {0};
    const struct sealed *s;
    unsigned char *copy;
    static const char *const none[] = {NULL};
    enum err e;

    assert_int_equal(store_secrets_get(f->st, wsf, "connection", from, &sa, &ei), ERR_OK);
    s = sealed_set_find(&sa, "auth.token");
    copy = malloc(s->len);
    memcpy(copy, s->data, s->len);
    assert_int_equal(sealed_set_add(&put, "auth.token", copy, s->len), ERR_OK);
    assert_int_equal(store_conn_get(f->st, wst, to, &r, &ei), ERR_OK);
    assert_int_equal(store_conn_update(f->st, &r, NULL, 0, false, NULL, &put, none, 0, &ei),
                     ERR_OK);
    conn_row_release(&r);
    sealed_set_release(&put);
    sealed_set_release(&sa);

    assert_int_equal(conn_load(f->st, wst, to, NULL, &c, &ei), ERR_OK);
    e = conn_open_secrets(f->st, f->v, &c, &vals, &ei);
    if (e != ERR_OK)
        assert_string_equal(ei.code, "credential_undecryptable");
    assert_int_equal(vals.n, e == ERR_OK ? 1 : 0);
    auth_values_release(&vals);
    conn_release(&c);
    return e;
}

/* CRY-009 end to end, TEN-011: a ciphertext copied in the database into another connection's
 * row of the same workspace (CRY-009), or of another workspace (CRY-010), does not open through
 * conn_open_secrets; the row's own value does. */
static void
test_swapped_ciphertext_fails_to_open_cry009(void **state)
{
    struct fx *f = *state;
    char a[ID_MAX], b[ID_MAX], w2[ID_MAX];
    int64_t ws = f->admin.workspace_id;
    static const char body[] = "{\"name\":\"%s\",\"base_url\":\"https://a.example\",\"auth\":{"
                               "\"type\":\"bearer\",\"token\":\"CANARY_%s\"}}";
    char text[256];

    snprintf(text, sizeof(text), body, "A", "a");
    create_ok(f, &f->admin, text, a);
    snprintf(text, sizeof(text), body, "B", "b");
    create_ok(f, &f->admin, text, b);
    snprintf(text, sizeof(text), body, "W2", "w2");
    create_ok(f, &f->other, text, w2);

    assert_int_equal(swap_and_open(f, ws, a, ws, a), ERR_OK); /* the harness itself works */
    assert_int_equal(swap_and_open(f, ws, a, ws, b), ERR_CRYPTO);
    assert_int_equal(swap_and_open(f, ws, a, f->other.workspace_id, w2), ERR_CRYPTO);
}

/* ---- parsed rows shared on the call path ---- */

/* conn_load_shared / conn_operation hand out one parsed object per stored
 * text on a thread: the same row twice shares it, a PATCH (new text) is seen
 * at once, another workspace still gets nothing (TEN-002), and the cache is
 * emptied on request (and at thread exit). */
static void
test_shared_parse_follows_the_row(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    char id[ID_MAX];
    struct conn c1, c2;
    json_t *op1 = NULL, *op2 = NULL;

    create_ok(f, &f->admin, BASE_BODY, id);
    assert_int_equal(conn_load_shared(f->st, f->admin.workspace_id, id, NULL, &c1, &ei), ERR_OK);
    assert_int_equal(conn_load_shared(f->st, f->admin.workspace_id, NULL, "github_api", &c2, &ei),
                     ERR_OK);
    assert_ptr_equal(c1.config, c2.config);
    assert_string_equal(json_string_value(json_object_get(c1.auth, "type")), "bearer");
    assert_int_equal(conn_operation(f->st, &c1, "get", &op1, &ei), ERR_OK);
    assert_int_equal(conn_operation(f->st, &c2, "get", &op2, &ei), ERR_OK);
    assert_ptr_equal(op1, op2);
    assert_string_equal(json_string_value(json_object_get(op1, "path")), "/repos/{{id}}");
    json_decref(op2);
    conn_release(&c2);

    assert_int_equal(patch(f, &f->admin, id,
                           "{\"base_url\":\"https://api2.github.com\",\"operations\":[{\"name\":"
                           "\"get\",\"method\":\"GET\",\"path\":\"/v2/{{id}}\"}]}",
                           &ei),
                     ERR_OK);
    assert_int_equal(conn_load_shared(f->st, f->admin.workspace_id, id, NULL, &c2, &ei), ERR_OK);
    assert_string_equal(c2.row.base_url, "https://api2.github.com");
    assert_int_equal(conn_operation(f->st, &c2, "get", &op2, &ei), ERR_OK);
    assert_string_equal(json_string_value(json_object_get(op2, "path")), "/v2/{{id}}");
    /* what an earlier call holds is not changed under it */
    assert_string_equal(json_string_value(json_object_get(op1, "path")), "/repos/{{id}}");
    json_decref(op2);
    assert_int_equal(conn_operation(f->st, &c2, "list", &op2, &ei), ERR_NOT_FOUND);
    assert_null(op2);
    json_decref(op1);
    conn_release(&c1);
    conn_release(&c2);

    assert_int_equal(conn_load_shared(f->st, f->other.workspace_id, id, NULL, &c1, &ei),
                     ERR_NOT_FOUND);
    conn_json_cache_clear();
    conn_json_cache_clear(); /* idempotent */
    assert_int_equal(conn_load_shared(f->st, f->admin.workspace_id, id, NULL, &c1, &ei), ERR_OK);
    conn_release(&c1);
}

/* TEN-015: the per-thread parse cache of connection rows is keyed by the stored text, never
 * by a name: two workspaces each with a connection of the same slug get their own config
 * and operations, whichever was loaded first, and the answers stay apart when asked again. */
static void
test_shared_parse_per_workspace_ten015(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    char id1[ID_MAX], id2[ID_MAX];
    const struct principal *who[2] = {&f->admin, &f->other};
    static const char *const want_url[2] = {"https://api.github.com", "https://w2.example"};
    static const char *const want_path[2] = {"/repos/{{id}}", "/w2/{{id}}"};

    create_ok(f, &f->admin, BASE_BODY, id1);
    create_ok(f, &f->other,
              "{\"name\":\"GitHub API\",\"base_url\":\"https://w2.example\","
              "\"auth\":{\"type\":\"bearer\",\"token\":\"CANARY_tok_2\"},"
              "\"operations\":[{\"name\":\"get\",\"method\":\"GET\",\"path\":\"/w2/{{id}}\"}]}",
              id2);
    conn_json_cache_clear();
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2; i++) {
            struct conn c;
            json_t *op = NULL;
            assert_int_equal(
                conn_load_shared(f->st, who[i]->workspace_id, NULL, "github_api", &c, &ei), ERR_OK);
            assert_string_equal(c.row.id, i == 0 ? id1 : id2);
            assert_string_equal(c.row.base_url, want_url[i]);
            assert_int_equal(conn_operation(f->st, &c, "get", &op, &ei), ERR_OK);
            assert_string_equal(json_string_value(json_object_get(op, "path")), want_path[i]);
            /* the first workspace's other operations are not the second one's */
            if (i == 1) {
                json_decref(op);
                op = NULL;
                assert_int_equal(conn_operation(f->st, &c, "list", &op, &ei), ERR_NOT_FOUND);
            }
            json_decref(op);
            conn_release(&c);
        }
    }
}

/* ---- views are write-only for secrets ---- */

static void
test_views_never_hold_secrets(void **state)
{
    struct fx *f = *state;
    char id[ID_MAX];
    json_t *out = NULL;
    struct errinfo ei = {0};
    struct conn_filter flt = {0};

    create_ok(f, &f->admin,
              "{\"name\":\"Cust\",\"base_url\":\"https://c.example\",\"description\":\"d\","
              "\"auth\":{\"type\":\"custom\",\"params_schema\":{\"properties\":{\"k\":{},"
              "\"t\":{}},\"required\":[\"k\"]},\"inject\":[{\"in\":\"header\",\"name\":\"X-K\","
              "\"value\":\"{{k}}\"},{\"in\":\"query\",\"name\":\"t\",\"value\":\"{{t}}\"}],"
              "\"values\":{\"k\":\"CANARY_k\",\"t\":\"CANARY_t\"}}}",
              id);
    assert_int_equal(conn_get_view(f->st, &f->member, id, &out, &ei), ERR_OK);
    assert_no_canary(out);
    {
        json_t *want = J("[\"k\",\"t\"]");
        assert_true(json_equal(json_object_get(json_object_get(out, "auth"), "secrets_set"), want));
        json_decref(want);
    }
    assert_null(json_object_get(json_object_get(out, "auth"), "values"));
    assert_string_equal(json_string_value(json_object_get(out, "description")), "d");
    json_decref(out);
    assert_int_equal(conn_list_view(f->st, &f->member, &flt, &out, &ei), ERR_OK);
    assert_no_canary(out);
    assert_int_equal(json_array_size(json_object_get(out, "connections")), 1);
    json_decref(out);
    assert_int_equal(patch(f, &f->admin, id, "{\"name\":\"Cust2\"}", &ei), ERR_OK);
    assert_int_equal(patch(f, &f->admin, id, "{\"auth\":{\"values\":{\"t\":\"CANARY_t2\"}}}", &ei),
                     ERR_OK);
}

/* ---- PATCH ---- */

static void
test_patch_secret_semantics(void **state)
{
    struct fx *f = *state;
    char id[ID_MAX], got[256];
    struct errinfo ei = {0};
    int64_t ws = f->admin.workspace_id;
    json_t *view = NULL;

    create_ok(f, &f->admin,
              "{\"name\":\"B\",\"base_url\":\"https://b.example\",\"auth\":{\"type\":\"basic\","
              "\"username\":\"CANARY_u1\",\"password\":\"CANARY_p1\"}}",
              id);
    opened(f, id, ws, got, sizeof(got));
    assert_string_equal(got, "password=CANARY_p1;username=CANARY_u1");

    /* absent keeps */
    assert_int_equal(patch(f, &f->admin, id, "{\"name\":\"B2\"}", &ei), ERR_OK);
    opened(f, id, ws, got, sizeof(got));
    assert_string_equal(got, "password=CANARY_p1;username=CANARY_u1");
    /* auth object without the secret fields keeps them */
    assert_int_equal(patch(f, &f->admin, id, "{\"auth\":{\"type\":\"basic\"}}", &ei), ERR_OK);
    opened(f, id, ws, got, sizeof(got));
    assert_string_equal(got, "password=CANARY_p1;username=CANARY_u1");
    /* blank keeps, null keeps */
    assert_int_equal(
        patch(f, &f->admin, id, "{\"auth\":{\"username\":\"\",\"password\":null}}", &ei), ERR_OK);
    opened(f, id, ws, got, sizeof(got));
    assert_string_equal(got, "password=CANARY_p1;username=CANARY_u1");
    /* a new value replaces only that field */
    assert_int_equal(patch(f, &f->admin, id, "{\"auth\":{\"password\":\"CANARY_p2\"}}", &ei),
                     ERR_OK);
    opened(f, id, ws, got, sizeof(got));
    assert_string_equal(got, "password=CANARY_p2;username=CANARY_u1");
    /* a bad value changes nothing */
    assert_int_equal(patch(f, &f->admin, id, "{\"auth\":{\"password\":\"x\\ny\"}}", &ei),
                     ERR_INVALID);
    assert_string_equal(ei.field, "auth.password");
    opened(f, id, ws, got, sizeof(got));
    assert_string_equal(got, "password=CANARY_p2;username=CANARY_u1");

    /* type change: the old secrets do not count, new ones are required */
    assert_int_equal(patch(f, &f->admin, id, "{\"auth\":{\"type\":\"bearer\"}}", &ei), ERR_INVALID);
    assert_string_equal(ei.code, "missing_field");
    assert_string_equal(ei.field, "auth.token");
    assert_int_equal(
        patch(f, &f->admin, id, "{\"auth\":{\"type\":\"api_key_header\",\"name\":\"X-K\"}}", &ei),
        ERR_INVALID);
    assert_string_equal(ei.field, "auth.key");
    opened(f, id, ws, got, sizeof(got));
    assert_string_equal(got, "password=CANARY_p2;username=CANARY_u1");
    assert_int_equal(
        patch(f, &f->admin, id, "{\"auth\":{\"type\":\"bearer\",\"token\":\"CANARY_t\"}}", &ei),
        ERR_OK);
    opened(f, id, ws, got, sizeof(got));
    assert_string_equal(got, "token=CANARY_t"); /* username/password are gone */

    assert_int_equal(conn_get_view(f->st, &f->admin, id, &view, &ei), ERR_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(view, "auth"), "type")),
                        "bearer");
    assert_int_equal(json_integer_value(json_object_get(view, "version")), 6);
    assert_string_equal(json_string_value(json_object_get(view, "name")), "B2");
    json_decref(view);

    /* same type, public field change: the secret is kept */
    assert_int_equal(patch(f, &f->admin, id,
                           "{\"auth\":{\"type\":\"api_key_header\",\"name\":\"X-A\","
                           "\"key\":\"CANARY_k\"}}",
                           &ei),
                     ERR_OK);
    assert_int_equal(patch(f, &f->admin, id, "{\"auth\":{\"name\":\"X-B\"}}", &ei), ERR_OK);
    opened(f, id, ws, got, sizeof(got));
    assert_string_equal(got, "key=CANARY_k");
    assert_int_equal(conn_get_view(f->st, &f->admin, id, &view, &ei), ERR_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(view, "auth"), "name")),
                        "X-B");
    json_decref(view);
    /* ...even a type change to a type with the same field name starts empty */
    assert_int_equal(
        patch(f, &f->admin, id, "{\"auth\":{\"type\":\"api_key_query\",\"name\":\"k\"}}", &ei),
        ERR_INVALID);
    assert_string_equal(ei.field, "auth.key");
    /* to none: no secrets at all */
    assert_int_equal(patch(f, &f->admin, id, "{\"auth\":{\"type\":\"none\"}}", &ei), ERR_OK);
    opened(f, id, ws, got, sizeof(got));
    assert_string_equal(got, "");
}

struct pcase {
    const char *body;
    enum err e;
    const char *code;
    const char *field;
};

static void
test_patch_validation_table(void **state)
{
    struct fx *f = *state;
    static const struct pcase cases[] = {
        {"[]", ERR_INVALID, "invalid_body", ""},
        {"{\"id\":\"conn_x\"}", ERR_INVALID, "read_only_field", "id"},
        {"{\"workspace_id\":2}", ERR_INVALID, "read_only_field", "workspace_id"},
        {"{\"owner_id\":3}", ERR_INVALID, "read_only_field", "owner_id"},
        {"{\"version\":1}", ERR_INVALID, "read_only_field", "version"},
        {"{\"key_id\":1}", ERR_INVALID, "read_only_field", "key_id"},
        {"{\"created_at\":1}", ERR_INVALID, "read_only_field", "created_at"},
        {"{\"bogus\":1}", ERR_INVALID, "unknown_field", "bogus"},
        {"{\"service_type\":\"openapi\"}", ERR_INVALID, "immutable_field", "service_type"},
        {"{\"name\":\"\"}", ERR_INVALID, "invalid_value", "name"},
        {"{\"slug\":\"Bad\"}", ERR_INVALID, "invalid_slug", "slug"},
        {"{\"slug\":\"taken\"}", ERR_CONFLICT, "slug_taken", "slug"},
        {"{\"base_url\":\"file:///etc/passwd\"}", ERR_INVALID, NULL, "base_url"},
        {"{\"fulfillment\":\"x\"}", ERR_INVALID, "invalid_value", "fulfillment"},
        {"{\"test_operation\":\"nope\"}", ERR_INVALID, "unknown_operation", "test_operation"},
        {"{\"operations\":[{\"name\":\"a\",\"method\":\"GET\"}]}", ERR_INVALID, "missing_field",
         "operations[0].path"},
        {"{\"auth\":{\"type\":\"magic\"}}", ERR_INVALID, "unknown_auth_type", "auth.type"},
        {"{\"auth\":{\"token\":\"a\\u0000b\"}}", ERR_INVALID, "invalid_characters", "auth.token"},
    };
    char id[ID_MAX], other[ID_MAX];
    json_t *view = NULL;
    struct errinfo ei = {0};

    create_ok(f, &f->admin, BASE_BODY, id);
    create_ok(f, &f->admin,
              "{\"name\":\"T\",\"slug\":\"taken\",\"base_url\":\"https://t.example\"}", other);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&ei, 0, sizeof(ei));
        check_refused("patch case", i, patch(f, &f->admin, id, cases[i].body, &ei), &ei, cases[i].e,
                      cases[i].code, cases[i].field);
    }
    /* Nothing changed. */
    assert_int_equal(conn_get_view(f->st, &f->admin, id, &view, &ei), ERR_OK);
    assert_int_equal(json_integer_value(json_object_get(view, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(view, "slug")), "github_api");
    json_decref(view);

    /* Accepted PATCHes: fields not named keep their values. */
    assert_int_equal(
        patch(f, &f->admin, id, "{\"description\":\"hello\",\"test_operation\":\"list\"}", &ei),
        ERR_OK);
    assert_int_equal(patch(f, &f->admin, id, "{\"service_type\":\"http\",\"slug\":\"gh\"}", &ei),
                     ERR_OK);
    assert_int_equal(conn_get_view(f->st, &f->admin, id, &view, &ei), ERR_OK);
    assert_string_equal(json_string_value(json_object_get(view, "description")), "hello");
    assert_string_equal(json_string_value(json_object_get(view, "test_operation")), "list");
    assert_string_equal(json_string_value(json_object_get(view, "slug")), "gh");
    assert_string_equal(json_string_value(json_object_get(view, "name")), "GitHub API");
    assert_int_equal(json_array_size(json_object_get(view, "operations")), 3);
    assert_int_equal(json_integer_value(json_object_get(view, "version")), 3);
    json_decref(view);
    /* Replacing operations drops a test_operation that no longer exists? No:
     * it is refused. */
    assert_int_equal(patch(f, &f->admin, id,
                           "{\"operations\":[{\"name\":\"x\",\"method\":\"GET\",\"path\":\"/x\"}]}",
                           &ei),
                     ERR_INVALID);
    assert_string_equal(ei.field, "test_operation");
}

/* ---- permissions and tenancy ---- */

static void
test_permissions_member_vs_admin(void **state)
{
    struct fx *f = *state;
    char alices[ID_MAX], bobs[ID_MAX];
    struct errinfo ei = {0};
    json_t *view = NULL;

    create_ok(f, &f->admin, BASE_BODY, alices);
    create_ok(f, &f->member,
              "{\"name\":\"Bob's\",\"base_url\":\"https://b.example\",\"auth\":{\"type\":"
              "\"bearer\",\"token\":\"CANARY_bob\"}}",
              bobs);

    /* Any member reads. */
    assert_int_equal(conn_get_view(f->st, &f->member, alices, &view, &ei), ERR_OK);
    json_decref(view);
    /* A member changes only what they own. */
    assert_int_equal(patch(f, &f->member, alices, "{\"name\":\"mine now\"}", &ei), ERR_FORBIDDEN);
    assert_string_equal(ei.code, "not_owner");
    assert_int_equal(patch(f, &f->member, alices, "{\"auth\":{\"token\":\"CANARY_x\"}}", &ei),
                     ERR_FORBIDDEN);
    assert_int_equal(conn_delete(f->st, &f->member, alices, &ei), ERR_FORBIDDEN);
    assert_int_equal(patch(f, &f->member, bobs, "{\"name\":\"Bob 2\"}", &ei), ERR_OK);
    /* The admin changes everything. */
    assert_int_equal(patch(f, &f->admin, bobs, "{\"name\":\"Bob 3\"}", &ei), ERR_OK);
    assert_int_equal(conn_delete(f->st, &f->admin, bobs, &ei), ERR_OK);
    assert_int_equal(conn_get_view(f->st, &f->admin, bobs, &view, &ei), ERR_NOT_FOUND);
    /* The refused PATCH did not change the secret or the name. */
    {
        char got[128];
        opened(f, alices, f->admin.workspace_id, got, sizeof(got));
        assert_string_equal(got, "token=CANARY_tok_1");
        assert_int_equal(conn_get_view(f->st, &f->admin, alices, &view, &ei), ERR_OK);
        assert_string_equal(json_string_value(json_object_get(view, "name")), "GitHub API");
        json_decref(view);
    }
    /* The owner's own delete. */
    assert_int_equal(conn_delete(f->st, &f->admin, alices, &ei), ERR_OK);
}

/* TEN-001/002/008: another workspace's principal (even its admin) sees 404
 * for every call, exactly as for a missing id, and changes nothing. */
static void
test_other_workspace_is_not_found_ten001(void **state)
{
    struct fx *f = *state;
    char id[ID_MAX], got[128];
    struct errinfo ei = {0}, ei_missing = {0};
    json_t *view = NULL;
    struct conn c;
    struct conn_filter flt = {0};

    create_ok(f, &f->admin, BASE_BODY, id);
    assert_int_equal(conn_get_view(f->st, &f->other, id, &view, &ei), ERR_NOT_FOUND);
    assert_int_equal(conn_get_view(f->st, &f->other, "conn_missing", &view, &ei_missing),
                     ERR_NOT_FOUND);
    assert_string_equal(ei.code, ei_missing.code);
    assert_string_equal(ei.msg, ei_missing.msg);
    assert_int_equal(patch(f, &f->other, id, "{\"name\":\"pwn\"}", &ei), ERR_NOT_FOUND);
    assert_int_equal(patch(f, &f->other, id, "{\"auth\":{\"token\":\"CANARY_pwn\"}}", &ei),
                     ERR_NOT_FOUND);
    assert_int_equal(patch(f, &f->other, "conn_missing", "{\"name\":\"pwn\"}", &ei_missing),
                     ERR_NOT_FOUND);
    assert_string_equal(ei.code, ei_missing.code);
    assert_int_equal(conn_delete(f->st, &f->other, id, &ei), ERR_NOT_FOUND);
    assert_int_equal(conn_load(f->st, f->other.workspace_id, id, NULL, &c, &ei), ERR_NOT_FOUND);
    assert_int_equal(conn_load(f->st, f->other.workspace_id, NULL, "github_api", &c, &ei),
                     ERR_NOT_FOUND);
    assert_int_equal(conn_list_view(f->st, &f->other, &flt, &view, &ei), ERR_OK);
    assert_int_equal(json_array_size(json_object_get(view, "connections")), 0);
    json_decref(view);

    /* Untouched in w1. */
    opened(f, id, f->admin.workspace_id, got, sizeof(got));
    assert_string_equal(got, "token=CANARY_tok_1");
    assert_int_equal(conn_get_view(f->st, &f->admin, id, &view, &ei), ERR_OK);
    assert_string_equal(json_string_value(json_object_get(view, "name")), "GitHub API");
    assert_int_equal(json_integer_value(json_object_get(view, "version")), 1);
    json_decref(view);
}

/* TEN-007: created in the principal's workspace, owned by the principal,
 * whatever the body says (the body cannot say it: refused above). */
static void
test_create_binds_workspace_and_owner_ten007(void **state)
{
    struct fx *f = *state;
    char id[ID_MAX];
    struct conn_row r = {0};
    struct errinfo ei = {0};

    create_ok(f, &f->member, BASE_BODY, id);
    assert_int_equal(store_conn_get(f->st, f->member.workspace_id, id, &r, &ei), ERR_OK);
    assert_int_equal(r.workspace_id, f->member.workspace_id);
    assert_int_equal(r.owner_id, f->member.user_id);
    conn_row_release(&r);
}

/* ---- the call engine's path ---- */

static void
test_open_secrets_returns_stored_values(void **state)
{
    struct fx *f = *state;
    char id[ID_MAX], id2[ID_MAX], got[256];
    struct conn c;
    struct errinfo ei = {0};

    create_ok(
        f, &f->admin,
        "{\"name\":\"Cust\",\"base_url\":\"https://c.example\",\"auth\":{\"type\":\"custom\","
        "\"params_schema\":{\"properties\":{\"k\":{},\"t\":{},\"u\":{}},\"required\":[\"k\"]},"
        "\"inject\":[{\"in\":\"header\",\"name\":\"X-K\",\"value\":\"{{k}}{{t}}\"}],"
        "\"values\":{\"k\":\"CANARY k \\u00e9\",\"t\":\"CANARY_t\",\"u\":\"\"}}}",
        id);
    opened(f, id, f->admin.workspace_id, got, sizeof(got));
    assert_string_equal(got, "k=CANARY k \xc3\xa9;t=CANARY_t");
    create_ok(f, &f->admin, "{\"name\":\"None\",\"base_url\":\"https://n.example\"}", id2);
    opened(f, id2, f->admin.workspace_id, got, sizeof(got));
    assert_string_equal(got, "");

    /* conn_load by slug, and conn_operation. */
    assert_int_equal(conn_load(f->st, f->admin.workspace_id, NULL, "cust", &c, &ei), ERR_OK);
    assert_string_equal(c.row.id, id);
    assert_string_equal(json_string_value(json_object_get(c.auth, "type")), "custom");
    {
        json_t *op = (json_t *)0x1;
        assert_int_equal(conn_operation(f->st, &c, "nope", &op, &ei), ERR_NOT_FOUND);
        assert_null(op);
    }
    conn_release(&c);
    conn_release(&c);
    assert_int_equal(conn_load(f->st, f->admin.workspace_id, id, NULL, &c, &ei), ERR_OK);
    conn_release(&c);
    {
        char gh[ID_MAX];
        create_ok(f, &f->admin, BASE_BODY, gh);
        assert_int_equal(conn_load(f->st, f->admin.workspace_id, gh, NULL, &c, &ei), ERR_OK);
        json_t *op = NULL;
        assert_int_equal(conn_operation(f->st, &c, "create", &op, &ei), ERR_OK);
        assert_string_equal(json_string_value(json_object_get(op, "method")), "POST");
        json_decref(op);
        conn_release(&c);
    }
}

/* CRY-026: only conn_open_secrets decrypts. */
static void
test_only_open_secrets_decrypts_cry026(void **state)
{
    struct fx *f = *state;
    char id[ID_MAX], got[256];
    uint64_t before = vault_open_count();
    struct errinfo ei = {0};
    json_t *view = NULL;
    struct conn_filter flt = {0};

    create_ok(f, &f->admin,
              "{\"name\":\"B\",\"base_url\":\"https://b.example\",\"auth\":{\"type\":\"basic\","
              "\"username\":\"CANARY_u\",\"password\":\"CANARY_p\"}}",
              id);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(conn_get_view(f->st, &f->member, id, &view, &ei), ERR_OK);
        json_decref(view);
        assert_int_equal(conn_list_view(f->st, &f->member, &flt, &view, &ei), ERR_OK);
        json_decref(view);
    }
    assert_int_equal(patch(f, &f->admin, id, "{\"name\":\"B2\"}", &ei), ERR_OK);
    assert_int_equal(patch(f, &f->admin, id, "{\"auth\":{\"password\":\"CANARY_p2\"}}", &ei),
                     ERR_OK);
    assert_int_equal(patch(f, &f->member, id, "{\"name\":\"B3\"}", &ei), ERR_FORBIDDEN);
    assert_int_equal(vault_open_count(), before);

    opened(f, id, f->admin.workspace_id, got, sizeof(got));
    assert_string_equal(got, "password=CANARY_p2;username=CANARY_u");
    assert_int_equal(vault_open_count(), before + 2);

    assert_int_equal(conn_delete(f->st, &f->admin, id, &ei), ERR_OK);
    assert_int_equal(vault_open_count(), before + 2);
}

/* Deleting a connection removes its sealed secrets. */
static void
test_delete_removes_secrets(void **state)
{
    struct fx *f = *state;
    char id[ID_MAX];
    struct sealed_set set = {0};
    struct errinfo ei = {0};

    create_ok(f, &f->admin, BASE_BODY, id);
    assert_int_equal(conn_delete(f->st, &f->admin, id, &ei), ERR_OK);
    assert_int_equal(store_secrets_get(f->st, f->admin.workspace_id, "connection", id, &set, &ei),
                     ERR_OK);
    assert_int_equal(set.n, 0);
    sealed_set_release(&set);
    assert_int_equal(conn_delete(f->st, &f->admin, id, &ei), ERR_NOT_FOUND);
}

/* List: next_cursor when a page is full; limit and cursor. */
static void
test_list_view_paging(void **state)
{
    struct fx *f = *state;
    char ids[3][ID_MAX];
    struct conn_filter flt = {0};
    json_t *out = NULL;
    struct errinfo ei = {0};
    const char *cur;

    for (int i = 0; i < 3; i++) {
        char body[160];
        snprintf(body, sizeof(body), "{\"name\":\"c%d\",\"base_url\":\"https://x.example\"}", i);
        create_ok(f, &f->admin, body, ids[i]);
    }
    flt.limit = 2;
    assert_int_equal(conn_list_view(f->st, &f->admin, &flt, &out, &ei), ERR_OK);
    assert_int_equal(json_array_size(json_object_get(out, "connections")), 2);
    cur = json_string_value(json_object_get(out, "next_cursor"));
    assert_non_null(cur);
    flt.after_id = cur;
    {
        json_t *out2 = NULL;
        assert_int_equal(conn_list_view(f->st, &f->admin, &flt, &out2, &ei), ERR_OK);
        assert_int_equal(json_array_size(json_object_get(out2, "connections")), 1);
        assert_null(json_string_value(json_object_get(out2, "next_cursor")));
        json_decref(out2);
    }
    json_decref(out);
}

/* A method of exactly 8 characters (text_field's cap for "method") must be
 * refused as invalid_method, without touching memory outside the 8-byte
 * upper-case buffer in check_operation (src/conn/conn.c). Runs in a child
 * process: under ASan/UBSan the overflow aborts, and the parent reports it
 * as this test's failure instead of losing the whole binary. */
static void
test_create_method_of_8_chars(void **state)
{
    struct fx *f = *state;
    int status = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        json_t *b = body_with(BASE_BODY, "operations",
                              "[{\"name\":\"a\",\"method\":\"ABCDEFGH\",\"path\":\"/a\"}]");
        json_t *out = NULL;
        struct errinfo ei = {0};
        enum err e = conn_create(f->st, f->v, &f->admin, b, NULL, &out, &ei);
        bool ok = e == ERR_INVALID && strcmp(ei.code, "invalid_method") == 0 &&
                  strcmp(ei.field, "operations[0].method") == 0;
        json_decref(out);
        json_decref(b); /* valgrind checks the child's leaks too */
        _exit(ok ? 0 : 3);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("an 8-character method: child %s %d (3 = wrong error; other = crashed in "
                 "check_operation: char up[8] gets 9 bytes)",
                 WIFEXITED(status) ? "exited" : "killed by signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/* Fulfillment: static | caller | participant; participant needs participant_role
 * (1..MAX_PARTICIPANT_ROLE_LEN, tested at N and N+1); the role is refused on
 * other modes; a PATCH keeps the stored role and checks the result. */
static void
test_fulfillment_modes(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    json_t *b, *out = NULL;
    char role[MAX_PARTICIPANT_ROLE_LEN + 2];
    char id[ID_MAX];
    static const struct {
        const char *fulfillment, *role;
        enum err e;
        const char *code, *field;
    } cases[] = {
        {"static", NULL, ERR_OK, NULL, NULL},
        {"caller", NULL, ERR_OK, NULL, NULL},
        {"participant", "customer", ERR_OK, NULL, NULL},
        {"participant", NULL, ERR_INVALID, "missing_field", "participant_role"},
        {"participant", "", ERR_INVALID, "missing_field", "participant_role"},
        {"participant", "Not A Slug", ERR_INVALID, "invalid_value", "participant_role"},
        {"caller", "customer", ERR_INVALID, "invalid_value", "participant_role"},
        {"static", "customer", ERR_INVALID, "invalid_value", "participant_role"},
        {"personal", NULL, ERR_INVALID, "invalid_value", "fulfillment"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[32];
        b = J(BASE_BODY);
        snprintf(name, sizeof(name), "ful%zu", i);
        json_object_set_new(b, "name", json_string(name));
        json_object_set_new(b, "fulfillment", json_string(cases[i].fulfillment));
        if (cases[i].role)
            json_object_set_new(b, "participant_role", json_string(cases[i].role));
        memset(&ei, 0, sizeof(ei));
        out = NULL;
        assert_int_equal(conn_create(f->st, f->v, &f->member, b, NULL, &out, &ei), cases[i].e);
        if (cases[i].e == ERR_OK) {
            assert_string_equal(json_string_value(json_object_get(out, "fulfillment")),
                                cases[i].fulfillment);
            if (cases[i].role)
                assert_string_equal(json_string_value(json_object_get(out, "participant_role")),
                                    cases[i].role);
        } else {
            assert_string_equal(ei.code, cases[i].code);
            assert_string_equal(ei.field, cases[i].field);
        }
        json_decref(out);
        json_decref(b);
    }
    /* the role at N and N+1 */
    memset(role, 'r', sizeof(role));
    role[MAX_PARTICIPANT_ROLE_LEN] = '\0';
    b = J(BASE_BODY);
    json_object_set_new(b, "name", json_string("roleN"));
    json_object_set_new(b, "fulfillment", json_string("participant"));
    json_object_set_new(b, "participant_role", json_string(role));
    assert_int_equal(conn_create(f->st, f->v, &f->member, b, NULL, &out, &ei), ERR_OK);
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(out, "id")));
    json_decref(out);
    role[MAX_PARTICIPANT_ROLE_LEN] = 'r';
    role[MAX_PARTICIPANT_ROLE_LEN + 1] = '\0';
    json_object_set_new(b, "name", json_string("roleN1"));
    json_object_set_new(b, "participant_role", json_string(role));
    assert_int_equal(conn_create(f->st, f->v, &f->member, b, NULL, &out, &ei), ERR_INVALID);
    assert_string_equal(ei.code, "too_long");
    assert_string_equal(ei.field, "participant_role");
    json_decref(b);

    /* PATCH: the stored role is kept; switching to caller needs the role dropped */
    b = J("{\"name\":\"renamed\"}");
    assert_int_equal(conn_update(f->st, f->v, &f->member, id, b, &out, &ei), ERR_OK);
    assert_non_null(json_object_get(out, "participant_role"));
    json_decref(out);
    json_decref(b);
    b = J("{\"fulfillment\":\"caller\"}");
    assert_int_equal(conn_update(f->st, f->v, &f->member, id, b, &out, &ei), ERR_OK);
    assert_string_equal(json_string_value(json_object_get(out, "fulfillment")), "caller");
    assert_null(json_object_get(out, "participant_role"));
    json_decref(out);
    json_decref(b);
    b = J("{\"fulfillment\":\"participant\"}");
    assert_int_equal(conn_update(f->st, f->v, &f->member, id, b, &out, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "participant_role");
    json_decref(b);
}

/* An operation's tier at OAUTH_MAX_TIER_NAME_LEN is kept (N+1: the table above). */
static void
test_create_operation_tier_at_max(void **state)
{
    struct fx *f = *state;
    json_t *b = body_with(BASE_BODY, "operations",
                          "[{\"name\":\"a\",\"method\":\"GET\",\"path\":\"/a\",\"tier\":"
                          "\"t2345678901234567890123456789012\"}]");
    json_t *out = NULL;
    struct errinfo ei = {0};

    assert_int_equal(strlen("t2345678901234567890123456789012"), OAUTH_MAX_TIER_NAME_LEN);
    assert_int_equal(conn_create(f->st, f->v, &f->admin, b, NULL, &out, &ei), ERR_OK);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(out, "operations"), 0), "tier")),
                        "t2345678901234567890123456789012");
    json_decref(out);
    json_decref(b);
}

/* Tiers: granted by name, or through a granted tier that includes it; the
 * refusal names the tier and the reconnect URL with granted + needed. */
static void
test_oauth_tier_check_table(void **state)
{
    static const struct {
        const char *granted, *need;
        enum err want;
        const char *url; /* in the message, when refused */
    } cases[] = {
        {"read", NULL, ERR_OK, NULL},
        {"read", "read", ERR_OK, NULL},
        {"read,send", "send", ERR_OK, NULL},
        {"full", "send", ERR_OK, NULL}, /* full includes send */
        {"read", "send", ERR_FORBIDDEN,
         "/api/auth/connect/gmail/start?tiers=read,send&connection=conn_x"},
        {"", "send", ERR_FORBIDDEN, "/api/auth/connect/gmail/start?tiers=send&connection=conn_x"},
        {NULL, "read", ERR_FORBIDDEN, "/api/auth/connect/gmail/start?tiers=read&connection=conn_x"},
        {"send", "full", ERR_FORBIDDEN, "tiers=send,full&"}, /* no tier implies full */
    };
    struct oauth_provider p = {0};
    struct errinfo ei = {0};

    (void)state;
    assert_int_equal(oauth_provider_builtin("gmail", &p, &ei), ERR_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum err e;
        memset(&ei, 0, sizeof(ei));
        e = conn_oauth_check_tier(&p, "gmail", cases[i].granted, cases[i].need, "conn_x", &ei);
        if (e != cases[i].want)
            fail_msg("case %zu: got %d (%s)", i, e, ei.msg);
        if (e != ERR_OK) {
            assert_string_equal(ei.code, "needs_tier");
            assert_string_equal(ei.field, "tier");
            if (strstr(ei.msg, cases[i].url) == NULL)
                fail_msg("case %zu: %s lacks %s", i, ei.msg, cases[i].url);
        }
    }
    /* without the definition only names count */
    assert_int_equal(conn_oauth_check_tier(NULL, "gmail", "full", "send", "conn_x", &ei),
                     ERR_FORBIDDEN);
    oauth_provider_release(&p);
}

/* An OpenAPI oauth2 scheme as a provider definition. */
static void
test_oauth_provider_from_spec(void **state)
{
    struct errinfo ei = {0};
    json_t *def = NULL, *ent, *scopes = json_object();
    char name[16];

    (void)state;
    ent = J("{\"type\":\"oauth2\",\"flows\":{\"authorizationCode\":{\"authorization_url\":"
            "\"https://Auth.Pets.example/authorize\",\"token_url\":\"https://auth.pets.example/"
            "token\",\"scopes\":{\"pets:read\":\"r\",\"pets:write\":\"w\",\"all\":\"x\"}}}}");
    assert_int_equal(conn_oauth_provider_from_spec(ent, &def, &ei), ERR_OK);
    assert_string_equal(json_string_value(json_object_get(def, "id")), "auth_pets_example");
    assert_non_null(json_object_get(json_object_get(def, "tiers"), "pets_read"));
    assert_non_null(json_object_get(json_object_get(def, "tiers"), "pets_write"));
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(json_object_get(def, "tiers"), "all"), "scopes")),
                     3);
    json_decref(def);
    json_decref(ent);
    /* client credentials only: refused, naming what is missing */
    ent = J("{\"flows\":{\"clientCredentials\":{\"token_url\":\"https://a.example/t\","
            "\"scopes\":{\"x\":\"\"}}}}");
    assert_int_equal(conn_oauth_provider_from_spec(ent, &def, &ei), ERR_INVALID);
    assert_string_equal(ei.code, "unsupported_auth");
    json_decref(ent);
    /* scopes: none refused; OAUTH_MAX_SCOPES accepted (only "all" then), one more refused */
    for (int i = 0; i <= OAUTH_MAX_SCOPES; i++) {
        ent =
            json_pack("{s:{s:{s:s, s:s, s:O}}}", "flows", "authorizationCode", "authorization_url",
                      "https://a.example/a", "token_url", "https://a.example/t", "scopes", scopes);
        if (i == 0 || i == OAUTH_MAX_SCOPES) {
            enum err e = conn_oauth_provider_from_spec(ent, &def, &ei);
            assert_int_equal(e, i == 0 ? ERR_INVALID : ERR_OK);
            if (e == ERR_OK)
                assert_int_equal(json_object_size(json_object_get(def, "tiers")), 1);
            json_decref(def);
            def = NULL;
        }
        json_decref(ent);
        snprintf(name, sizeof(name), "s%d", i);
        json_object_set_new(scopes, name, json_string(""));
    }
    ent = json_pack("{s:{s:{s:s, s:s, s:O}}}", "flows", "authorizationCode", "authorization_url",
                    "https://a.example/a", "token_url", "https://a.example/t", "scopes", scopes);
    assert_int_equal(conn_oauth_provider_from_spec(ent, &def, &ei), ERR_INVALID);
    json_decref(ent);
    json_decref(scopes);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* DUR-008's request record: the body (here with a weak password in it) is
 * kept as the vault's keyed fingerprint, not as a plain SHA-256 that whoever
 * reads the database could test guesses against; the same body is the same
 * request, also after a key rotation (the old key is a previous one), and
 * another body is refused. */
static void
test_idem_request_kept_as_keyed_fingerprint(void **state)
{
    static const unsigned char K2[32] = {42, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                         11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                         22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct conn_idem a, b;
    struct idem_row prior = {0};
    unsigned char plain[32], zero[32] = {0};
    bool claimed = true;
    json_t *body = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "name", "Weak", "service_type",
                             "http", "base_url", "https://api.example.com", "auth", "type", "basic",
                             "username", "u", "password", "hunter2");
    json_t *other = json_deep_copy(body);
    char *canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    struct vault *rotated = NULL;
    int64_t now = now_ms();

    assert_non_null(canon);
    SHA256((const unsigned char *)canon, strlen(canon), plain);
    free(canon);
    assert_int_equal(conn_idem_begin(f->st, f->v, &f->admin, "fp-key-1", body, &a, &ei), ERR_OK);
    assert_false(a.replay);
    /* what the store keeps for the key: not the body's plain hash */
    assert_int_equal(store_idem_claim(f->st, f->admin.workspace_id, f->admin.user_id, a.key, zero,
                                      "conn_probe", now, now - IDEMPOTENCY_KEY_TTL_MS, &claimed,
                                      &prior, &ei),
                     ERR_OK);
    assert_false(claimed);
    assert_memory_not_equal(prior.request_hash, plain, 32);
    assert_memory_not_equal(prior.request_hash, zero, 32);
    /* the same body: the same request, the same connection id */
    assert_int_equal(conn_idem_begin(f->st, f->v, &f->admin, "fp-key-1", body, &b, &ei), ERR_OK);
    assert_string_equal(b.id, a.id);
    /* ...also once the key that fingerprinted it is a previous one */
    assert_int_equal(vault_new(K2, (const unsigned char(*)[32])K1, 1, &rotated, &ei), ERR_OK);
    assert_int_equal(conn_idem_begin(f->st, rotated, &f->admin, "fp-key-1", body, &b, &ei), ERR_OK);
    assert_string_equal(b.id, a.id);
    /* another password is another request */
    json_object_set_new(json_object_get(other, "auth"), "password", json_string("hunter3"));
    assert_int_equal(conn_idem_begin(f->st, f->v, &f->admin, "fp-key-1", other, &b, &ei),
                     ERR_UNPROCESSABLE);
    assert_string_equal(ei.code, "idempotency_key_reused");
    vault_free(rotated);
    json_decref(body);
    json_decref(other);
}

int
main(void)
{
    const struct CMUnitTest nodb[] = {
        cmocka_unit_test(test_slug_from_name_table),
        cmocka_unit_test(test_slug_from_name_cap_max_slug_len),
        cmocka_unit_test(test_oauth_tier_check_table),
        cmocka_unit_test(test_oauth_provider_from_spec),
    };
    /* Every backend. */
    const struct CMUnitTest tests[] = {
        T(test_create_validation_table),
        T(test_idem_request_kept_as_keyed_fingerprint),
        T(test_shared_parse_follows_the_row),
        T(test_shared_parse_per_workspace_ten015),
        T(test_create_body_not_object),
        T(test_create_limits_table),
        T(test_create_max_operations),
        T(test_create_view_and_defaults),
        T(test_create_seals_secrets_cry009_cry010),
        T(test_swapped_ciphertext_fails_to_open_cry009),
        T(test_views_never_hold_secrets),
        T(test_patch_secret_semantics),
        T(test_patch_validation_table),
        T(test_permissions_member_vs_admin),
        T(test_other_workspace_is_not_found_ten001),
        T(test_create_binds_workspace_and_owner_ten007),
        T(test_open_secrets_returns_stored_values),
        T(test_only_open_secrets_decrypts_cry026),
        T(test_delete_removes_secrets),
        T(test_list_view_paging),
        T(test_create_method_of_8_chars),
        T(test_fulfillment_modes),
        T(test_create_operation_tier_at_max),
    };
    int rc = 0;

    rc |= cmocka_run_group_tests_name("conn (no database)", nodb, NULL, NULL);
    rc |= cmocka_run_group_tests_name("conn/sqlite", tests, NULL, NULL);
    g_pg = testdb_pg_base();
    if (g_pg == NULL) {
        printf("[  SKIPPED ] conn/postgres: CONNHUB_TEST_PG is not set (make test sets it; "
               "or run under tools/with-pg)\n");
        return rc;
    }
    rc |= cmocka_run_group_tests_name("conn/postgres", tests, NULL, NULL);
    return rc;
}
