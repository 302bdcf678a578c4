/* conn/accounts: whose credential a call opens by fulfillment (static, the
 * caller's personal account or a per-run value, a participant's), the
 * needs_credential answers, sealed values bound to their holder (a row copied
 * to another user does not open: CRY-009 style), the store's accounts and
 * runs (listing, deletion taking the sealed values along, also when the
 * connection goes; another workspace sees nothing: TEN-001), and the limits of
 * fulfil_parse at N and N+1 (participants, participant ids, per-run
 * credentials). A throwaway store per test (SQLite, and again on PostgreSQL
 * when CONNHUB_TEST_PG is set: tests/support/testdb.h) and a vault from a
 * fixed test key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "conn/accounts.h"
#include "conn/conn.h"
#include "conn/conn_oauth.h"
#include "core/limits.h"
#include "core/util.h"
#include "support/testdb.h"

static const unsigned char K1[32] = {7,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                     23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* The backend under test: NULL for SQLite, else the PostgreSQL base URL. */
static const char *g_pg;

struct fx {
    struct testdb db;
    struct store *st;
    struct vault *v;
    struct principal alice, bob, dave, carol; /* alice admin w1; bob, dave members; carol w2 */
    char st_id[ID_MAX], me_id[ID_MAX], cust_id[ID_MAX];
};

static void
who(struct principal *p, int64_t uid, const char *name, int64_t ws, const char *slug, enum role r)
{
    memset(p, 0, sizeof(*p));
    p->user_id = uid;
    snprintf(p->user_name, sizeof(p->user_name), "%s", name);
    p->workspace_id = ws;
    snprintf(p->workspace_slug, sizeof(p->workspace_slug), "%s", slug);
    p->role = r;
}

static json_t *
J(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    if (j == NULL)
        fail_msg("bad test JSON (%s): %s", je.text, text);
    return j;
}

static void
mk(struct fx *f, const struct principal *p, const char *body, char id[ID_MAX])
{
    json_t *b = J(body), *out = NULL;
    struct errinfo ei = {0};

    if (conn_create(f->st, f->v, p, b, NULL, &out, &ei) != ERR_OK)
        fail_msg("create: %s %s %s", ei.code, ei.field, ei.msg);
    if (id)
        snprintf(id, ID_MAX, "%s", json_string_value(json_object_get(out, "id")));
    json_decref(out);
    json_decref(b);
}

static enum err
put_account(struct fx *f, const struct principal *p, const char *conn, const char *body,
            struct errinfo *ei)
{
    json_t *b = J(body), *out = NULL;
    enum err e = acct_put_key(f->st, f->v, p, conn, b, &out, ei);

    json_decref(out);
    json_decref(b);
    return e;
}

static enum err
put_part(struct fx *f, const char *pid, const char *body, struct errinfo *ei)
{
    json_t *b = J(body), *out = NULL;
    enum err e = part_put(f->st, f->v, &f->alice, pid, b, &out, ei);

    json_decref(out);
    json_decref(b);
    return e;
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct errinfo ei = {0};
    int64_t w1, w2, a, b, c, d;

    if (f == NULL)
        return -1;
    *state = f; /* teardown cleans up even when a step below fails */
    if (testdb_create(&f->db, g_pg, "acct") != 0 || store_open(f->db.url, &f->st, &ei) != ERR_OK ||
        vault_new(K1, NULL, 0, &f->v, &ei) != ERR_OK)
        return -1;
    if (store_workspace_add(f->st, "w1", &w1, &ei) || store_workspace_add(f->st, "w2", &w2, &ei) ||
        store_user_add(f->st, "alice", false, &a, &ei) ||
        store_user_add(f->st, "bob", false, &b, &ei) ||
        store_user_add(f->st, "carol", false, &c, &ei) ||
        store_user_add(f->st, "dave", false, &d, &ei) ||
        store_member_set(f->st, w1, a, ROLE_ADMIN, &ei) ||
        store_member_set(f->st, w1, b, ROLE_MEMBER, &ei) ||
        store_member_set(f->st, w1, d, ROLE_MEMBER, &ei) ||
        store_member_set(f->st, w2, c, ROLE_ADMIN, &ei))
        return -1;
    who(&f->alice, a, "alice", w1, "w1", ROLE_ADMIN);
    who(&f->bob, b, "bob", w1, "w1", ROLE_MEMBER);
    who(&f->dave, d, "dave", w1, "w1", ROLE_MEMBER);
    who(&f->carol, c, "carol", w2, "w2", ROLE_ADMIN);
    mk(f, &f->alice,
       "{\"name\":\"st\",\"base_url\":\"https://example.com\",\"auth\":{\"type\":\"bearer\","
       "\"token\":\"STATIC\"}}",
       f->st_id);
    mk(f, &f->alice,
       "{\"name\":\"me\",\"base_url\":\"https://example.com\",\"fulfillment\":\"caller\","
       "\"auth\":{\"type\":\"bearer\"}}",
       f->me_id);
    mk(f, &f->alice,
       "{\"name\":\"cust\",\"base_url\":\"https://example.com\",\"fulfillment\":\"participant\","
       "\"participant_role\":\"customer\",\"auth\":{\"type\":\"api_key_header\",\"name\":\"K\"}}",
       f->cust_id);
    if (put_account(f, &f->alice, "me", "{\"credentials\":{\"token\":\"ALICE\"}}", &ei) ||
        put_account(f, &f->bob, f->me_id, "{\"credentials\":{\"token\":\"BOB\"}}", &ei) ||
        put_part(f, "p1", "{\"connection\":\"cust\",\"credentials\":{\"key\":\"P1\"}}", &ei))
        return -1;
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

/* Runs one statement on a second handle to the test database; rows changed. */
static long
side_exec(const struct fx *f, const char *sql)
{
    long n = -1;

    if (g_pg) {
        PGconn *db = PQconnectdb(f->db.url);
        PGresult *r = PQexec(db, sql);
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            n = strtol(PQcmdTuples(r), NULL, 10);
        else
            fail_msg("%s: %s", sql, PQerrorMessage(db));
        PQclear(r);
        PQfinish(db);
        return n;
    }
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->db.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    n = sqlite3_changes(db);
    sqlite3_close(db);
    return n;
}

/* Opens slug's credential for p with fc; returns the one value (static
 * buffer) or NULL with *e and ei set. */
static const char *
open_as(struct fx *f, const struct principal *p, const char *slug, const struct fulfil_ctx *fc,
        char *holder, enum err *e, struct errinfo *ei)
{
    static char val[64];
    struct conn c = {0};
    struct auth_values vals = {0};

    memset(ei, 0, sizeof(*ei));
    assert_int_equal(conn_load(f->st, p->workspace_id, NULL, slug, &c, ei), ERR_OK);
    *e = acct_open(f->st, f->v, &c, p, fc, &vals, holder, ei);
    conn_release(&c);
    if (*e != ERR_OK)
        return NULL;
    assert_int_equal(vals.n, 1);
    snprintf(val, sizeof(val), "%s", vals.value[0].p);
    auth_values_release(&vals);
    return val;
}

static void
test_open_by_fulfillment(void **state)
{
    struct fx *f = *state;
    struct fulfil_party parties[2] = {{{"p2"}, {"customer"}}, {{"p1"}, {"customer"}}};
    struct fulfil_cred cred = {{"me"}, {{0}}};
    struct fulfil_ctx fc = {0};
    char holder[ACCOUNT_HOLDER_MAX], want[64];
    struct errinfo ei;
    enum err e;

    /* static: the connection's own, whoever calls */
    assert_string_equal(open_as(f, &f->bob, "st", NULL, holder, &e, &ei), "STATIC");
    assert_string_equal(holder, "");
    /* caller: each user's own account */
    assert_string_equal(open_as(f, &f->alice, "me", NULL, holder, &e, &ei), "ALICE");
    snprintf(want, sizeof(want), "user:%lld", (long long)f->alice.user_id);
    assert_string_equal(holder, want);
    assert_string_equal(open_as(f, &f->bob, "me", NULL, holder, &e, &ei), "BOB");
    /* TEN-006: dave has none, and never gets alice's or bob's */
    assert_null(open_as(f, &f->dave, "me", NULL, holder, &e, &ei));
    assert_int_equal(e, ERR_UNPROCESSABLE);
    assert_string_equal(ei.code, "needs_credential");
    assert_non_null(strstr(ei.msg, "user dave must add it with PUT /api/me/accounts/me"));
    /* a per-run value wins over the account */
    assert_int_equal(auth_values_add(&cred.vals, "token", "RUN", 3), ERR_OK);
    fc.creds = &cred;
    fc.ncreds = 1;
    assert_string_equal(open_as(f, &f->dave, "me", &fc, holder, &e, &ei), "RUN");
    assert_string_equal(holder, "run");
    /* participant: the first participant with the role; p2 has none yet */
    fc.parties = &parties[1];
    fc.nparties = 1;
    assert_string_equal(open_as(f, &f->dave, "cust", &fc, holder, &e, &ei), "P1");
    assert_string_equal(holder, "participant:p1");
    fc.parties = parties;
    fc.nparties = 2;
    assert_null(open_as(f, &f->alice, "cust", &fc, holder, &e, &ei));
    assert_string_equal(ei.code, "needs_credential");
    assert_non_null(strstr(ei.msg, "participant p2 (role customer)"));
    assert_non_null(strstr(ei.msg, "POST /api/participants/p2/credentials"));
    snprintf(parties[1].role, sizeof(parties[1].role), "vendor");
    fc.parties = &parties[1];
    fc.nparties = 1;
    assert_null(open_as(f, &f->alice, "cust", &fc, holder, &e, &ei));
    assert_non_null(strstr(ei.msg, "add a participant with role customer"));
    assert_null(open_as(f, &f->alice, "cust", NULL, holder, &e, &ei));
    assert_string_equal(ei.field, "participants");
    auth_values_release(&cred.vals);
    /* a caller or participant connection whose auth takes no secret needs nobody */
    mk(f, &f->alice,
       "{\"name\":\"open\",\"base_url\":\"https://example.com\",\"fulfillment\":\"caller\"}", NULL);
    {
        struct conn c = {0};
        struct auth_values vals = {0};
        assert_int_equal(conn_load(f->st, f->dave.workspace_id, NULL, "open", &c, &ei), ERR_OK);
        assert_int_equal(acct_open(f->st, f->v, &c, &f->dave, NULL, &vals, holder, &ei), ERR_OK);
        assert_int_equal(vals.n, 0);
        conn_release(&c);
    }
}

/* CRY-012, TEN-011: a sealed account value copied in the database onto another user's row
 * does not open. */
static void
test_sealed_values_bound_to_holder(void **state)
{
    struct fx *f = *state;
    char sql[512];
    struct errinfo ei;
    enum err e;

    snprintf(sql, sizeof(sql),
             "INSERT INTO secrets (workspace_id, kind, owner_id, field, key_id, sealed, "
             "updated_at) SELECT workspace_id, kind, '%lld:%s', field, key_id, sealed, updated_at "
             "FROM secrets WHERE kind = 'account' AND owner_id = '%lld:%s'",
             (long long)f->dave.user_id, f->me_id, (long long)f->alice.user_id, f->me_id);
    assert_int_equal(side_exec(f, sql), 1);
    assert_null(open_as(f, &f->dave, "me", NULL, NULL, &e, &ei));
    assert_int_equal(e, ERR_CRYPTO);
}

static void
test_list_delete_and_cascade(void **state)
{
    struct fx *f = *state;
    json_t *out = NULL;
    char **fields = NULL;
    char owner[128];
    size_t n = 0;
    struct errinfo ei = {0};
    enum err e;

    assert_int_equal(acct_list(f->st, &f->alice, &out, &ei), ERR_OK);
    assert_int_equal(json_array_size(json_object_get(out, "accounts")), 1);
    {
        json_t *a = json_array_get(json_object_get(out, "accounts"), 0);
        char *d = json_dumps(out, JSON_COMPACT);
        assert_string_equal(json_string_value(json_object_get(a, "connection")), "me");
        assert_string_equal(json_string_value(json_object_get(a, "method")), "key");
        assert_null(strstr(d, "ALICE"));
        free(d);
    }
    json_decref(out);
    /* TEN-001: carol (w2) sees nothing, can delete nothing */
    assert_int_equal(acct_list(f->st, &f->carol, &out, &ei), ERR_OK);
    assert_int_equal(json_array_size(json_object_get(out, "accounts")), 0);
    json_decref(out);
    assert_int_equal(part_list(f->st, &f->carol, "p1", &out, &ei), ERR_OK);
    assert_int_equal(json_array_size(json_object_get(out, "credentials")), 0);
    json_decref(out);
    assert_int_equal(part_delete(f->st, &f->carol, "p1", f->cust_id, &ei), ERR_NOT_FOUND);
    /* deleting takes the sealed values along */
    assert_int_equal(acct_delete(f->st, f->v, NULL, &f->alice, "me", &ei), ERR_OK);
    snprintf(owner, sizeof(owner), "%lld:%s", (long long)f->alice.user_id, f->me_id);
    assert_int_equal(store_secret_fields(f->st, f->alice.workspace_id, ACCOUNT_KIND_USER, owner,
                                         &fields, &n, &ei),
                     ERR_OK);
    assert_int_equal(n, 0);
    string_list_free(fields, n);
    assert_int_equal(acct_delete(f->st, f->v, NULL, &f->alice, "me", &ei), ERR_NOT_FOUND);
    /* deleting the connection takes bob's account and its values too */
    assert_int_equal(conn_delete(f->st, &f->alice, f->me_id, &ei), ERR_OK);
    snprintf(owner, sizeof(owner), "%lld:%s", (long long)f->bob.user_id, f->me_id);
    assert_int_equal(
        store_secret_fields(f->st, f->bob.workspace_id, ACCOUNT_KIND_USER, owner, &fields, &n, &ei),
        ERR_OK);
    assert_int_equal(n, 0);
    string_list_free(fields, n);
    assert_int_equal(acct_list(f->st, &f->bob, &out, &ei), ERR_OK);
    assert_int_equal(json_array_size(json_object_get(out, "accounts")), 0);
    json_decref(out);
    /* wrong fulfillment, wrong fields */
    e = put_account(f, &f->alice, "st", "{\"credentials\":{\"token\":\"x\"}}", &ei);
    assert_int_equal(e, ERR_INVALID);
    assert_string_equal(ei.code, "wrong_fulfillment");
    e = put_part(f, "p1", "{\"connection\":\"cust\",\"credentials\":{\"token\":\"x\"}}", &ei);
    assert_int_equal(e, ERR_INVALID);
    assert_string_equal(ei.field, "credentials.token");
    e = put_part(f, "p1", "{\"connection\":\"cust\",\"credentials\":{}}", &ei);
    assert_int_equal(e, ERR_INVALID);
    assert_string_equal(ei.code, "missing_field");
    e = put_part(f, "p1", "{\"connection\":\"cust\",\"credentials\":{\"key\":\"a\\nb\"}}", &ei);
    assert_int_equal(e, ERR_INVALID);
    assert_string_equal(ei.field, "credentials.key");
}

static void
test_runs_store_isolated(void **state)
{
    struct fx *f = *state;
    struct run_row r = {0}, got = {0};
    struct errinfo ei = {0};

    assert_int_equal(id_new("run", r.id), ERR_OK);
    r.workspace_id = f->alice.workspace_id;
    r.user_id = f->alice.user_id;
    r.status = (char *)"running";
    r.spec = (char *)"{}";
    r.state = (char *)"{\"input\":{},\"steps\":{}}";
    r.created_at = 1;
    assert_int_equal(store_run_insert(f->st, &r, &ei), ERR_OK);
    r.status = (char *)"succeeded";
    r.finished_at = 5;
    assert_int_equal(store_run_update(f->st, &r, &ei), ERR_OK);
    assert_int_equal(store_run_get(f->st, f->alice.workspace_id, r.id, &got, &ei), ERR_OK);
    assert_string_equal(got.status, "succeeded");
    assert_int_equal(got.finished_at, 5);
    run_row_release(&got);
    assert_int_equal(store_run_get(f->st, f->carol.workspace_id, r.id, &got, &ei), ERR_NOT_FOUND);
    r.workspace_id = f->carol.workspace_id;
    assert_int_equal(store_run_update(f->st, &r, &ei), ERR_NOT_FOUND);
}

static json_t *
parties_json(size_t n, size_t id_len)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++) {
        char id[MAX_PARTICIPANT_ID_LEN + 8];
        int k = snprintf(id, sizeof(id), "p%zu-", i);
        memset(id + k, 'x', id_len > (size_t)k ? id_len - (size_t)k : 0);
        id[id_len > (size_t)k ? id_len : (size_t)k] = '\0';
        json_array_append_new(a, json_pack("{s:s, s:s}", "id", id, "role", "customer"));
    }
    return a;
}

static void
test_fulfil_parse_limits(void **state)
{
    struct fx *f = *state;
    struct fulfil_set fs = {0};
    struct errinfo ei = {0};
    json_t *p, *creds;

    p = parties_json(MAX_RUN_PARTICIPANTS, 8);
    assert_int_equal(fulfil_parse(f->st, f->alice.workspace_id, p, NULL, &fs, &ei), ERR_OK);
    assert_int_equal(fs.ctx.nparties, MAX_RUN_PARTICIPANTS);
    fulfil_set_release(&fs);
    json_decref(p);
    p = parties_json(MAX_RUN_PARTICIPANTS + 1, 8);
    assert_int_equal(fulfil_parse(f->st, f->alice.workspace_id, p, NULL, &fs, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.field, "participants");
    json_decref(p);
    p = parties_json(1, MAX_PARTICIPANT_ID_LEN);
    assert_int_equal(fulfil_parse(f->st, f->alice.workspace_id, p, NULL, &fs, &ei), ERR_OK);
    fulfil_set_release(&fs);
    json_decref(p);
    p = parties_json(1, MAX_PARTICIPANT_ID_LEN + 1);
    assert_int_equal(fulfil_parse(f->st, f->alice.workspace_id, p, NULL, &fs, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "participants[0].id");
    json_decref(p);

    /* per-run credentials: MAX_RUN_CREDENTIALS caller connections, then one more */
    creds = json_object();
    for (int i = 0; i <= MAX_RUN_CREDENTIALS; i++) {
        char body[256], slug[16];
        snprintf(slug, sizeof(slug), "c%d", i);
        snprintf(body, sizeof(body),
                 "{\"name\":\"%s\",\"base_url\":\"https://example.com\",\"fulfillment\":"
                 "\"caller\",\"auth\":{\"type\":\"bearer\"}}",
                 slug);
        mk(f, &f->alice, body, NULL);
        if (i < MAX_RUN_CREDENTIALS)
            json_object_set_new(creds, slug, json_pack("{s:s}", "token", "t"));
    }
    assert_int_equal(fulfil_parse(f->st, f->alice.workspace_id, NULL, creds, &fs, &ei), ERR_OK);
    assert_int_equal(fs.ctx.ncreds, MAX_RUN_CREDENTIALS);
    fulfil_set_release(&fs);
    json_object_set_new(creds, "c16", json_pack("{s:s}", "token", "t"));
    assert_int_equal(fulfil_parse(f->st, f->alice.workspace_id, NULL, creds, &fs, &ei),
                     ERR_TOO_LARGE);
    assert_string_equal(ei.field, "credentials");
    json_decref(creds);
    /* another workspace's slug is unknown here (TEN-004) */
    creds = J("{\"me\":{\"token\":\"t\"}}");
    assert_int_equal(fulfil_parse(f->st, f->carol.workspace_id, NULL, creds, &fs, &ei),
                     ERR_INVALID);
    assert_string_equal(ei.code, "unknown_connection");
    json_decref(creds);
}

/* store_account_list_conn: every holder's account on one connection (kind,
 * workspace and max respected); conn_oauth_personal_revoke_all revokes at
 * most MAX_ACCOUNTS_REVOKED (N) accounts and stops there at N+1. */
static void
test_list_conn_and_revoke_cap(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct account_row *rows = NULL;
    struct sealed_set none = {0};
    struct conn c = {0};
    size_t n = 0;
    char a[32], b[32];

    snprintf(a, sizeof(a), "%lld", (long long)f->alice.user_id);
    snprintf(b, sizeof(b), "%lld", (long long)f->bob.user_id);
    assert_int_equal(store_account_list_conn(f->st, f->alice.workspace_id, ACCOUNT_KIND_USER,
                                             f->me_id, 10, &rows, &n, &ei),
                     ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].holder, a);
    assert_string_equal(rows[1].holder, b);
    assert_string_equal(rows[0].conn_slug, "me");
    account_rows_free(rows, n);
    assert_int_equal(store_account_list_conn(f->st, f->alice.workspace_id, ACCOUNT_KIND_USER,
                                             f->me_id, 1, &rows, &n, &ei),
                     ERR_OK);
    assert_int_equal(n, 1);
    account_rows_free(rows, n);
    /* the participant's is another kind; another workspace sees none (TEN-001) */
    assert_int_equal(store_account_list_conn(f->st, f->alice.workspace_id, ACCOUNT_KIND_USER,
                                             f->cust_id, 10, &rows, &n, &ei),
                     ERR_OK);
    assert_int_equal(n, 0);
    account_rows_free(rows, n);
    assert_int_equal(store_account_list_conn(f->st, f->carol.workspace_id, ACCOUNT_KIND_USER,
                                             f->me_id, 10, &rows, &n, &ei),
                     ERR_OK);
    assert_int_equal(n, 0);
    account_rows_free(rows, n);

    /* N and N+1 personal OAuth accounts (no provider: each revocation is
     * skipped and logged, but counted) */
    assert_int_equal(
        store_account_delete(f->st, f->alice.workspace_id, ACCOUNT_KIND_USER, a, f->me_id, &ei),
        ERR_OK);
    assert_int_equal(
        store_account_delete(f->st, f->alice.workspace_id, ACCOUNT_KIND_USER, b, f->me_id, &ei),
        ERR_OK);
    for (int i = 0; i <= MAX_ACCOUNTS_REVOKED; i++) {
        struct account_row r = {0};
        char h[32];
        if (i == MAX_ACCOUNTS_REVOKED) {
            assert_int_equal(conn_load(f->st, f->alice.workspace_id, f->me_id, NULL, &c, &ei),
                             ERR_OK);
            assert_int_equal(conn_oauth_personal_revoke_all(f->st, f->v, NULL, &c),
                             MAX_ACCOUNTS_REVOKED);
        }
        snprintf(h, sizeof(h), "%d", 100000 + i);
        r.workspace_id = f->alice.workspace_id;
        r.kind = (char *)ACCOUNT_KIND_USER;
        r.holder = h;
        r.connection_id = f->me_id;
        r.method = (char *)"oauth";
        r.provider_id = (char *)"nowhere";
        assert_int_equal(store_account_put(f->st, &r, &none, &ei), ERR_OK);
    }
    assert_int_equal(conn_oauth_personal_revoke_all(f->st, f->v, NULL, &c), MAX_ACCOUNTS_REVOKED);
    conn_release(&c);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_by_fulfillment),     T(test_sealed_values_bound_to_holder),
        T(test_list_delete_and_cascade), T(test_runs_store_isolated),
        T(test_fulfil_parse_limits),     T(test_list_conn_and_revoke_cap),
    };
    int rc = cmocka_run_group_tests_name("accounts/sqlite", tests, NULL, NULL);

    g_pg = testdb_pg_base();
    if (g_pg == NULL) {
        printf("[  SKIPPED ] accounts/postgres: CONNHUB_TEST_PG is not set (make test sets it; "
               "or run under tools/with-pg)\n");
        return rc;
    }
    rc |= cmocka_run_group_tests_name("accounts/postgres", tests, NULL, NULL);
    return rc;
}
