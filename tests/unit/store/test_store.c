/* store, on both backends: open/URL handling, DUR-001 pragmas (SQLite), migrations,
 * identities and tokens, connections CRUD with optimistic locking and secret
 * semantics, tenant isolation (TEN-002/009/012 at the store level), list
 * filters, the secrets scan/CAS used by rekey, key counts.
 *
 * The same tests run twice: on SQLite (each test its own temp directory and
 * database file) and on PostgreSQL (each test its own schema in the database
 * named by $CONNHUB_TEST_PG; `make test` starts a throwaway cluster and sets
 * it; unset, the PostgreSQL group is skipped with a visible line). A second
 * handle ("side", sqlite3 or libpq) reads what the store wrote and plants rows
 * the API cannot make (a newer schema version, a lost membership). IDs from
 * security-catalogue.md parts B, G, H. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "core/log.h"
#include "store/store.h"
#include "support/faultvfs.h"
#include "support/testdb.h"

/* ---- fixture ---- */

/* The backend under test: NULL for SQLite, else the PostgreSQL base URL. */
static const char *g_pg;

struct fx {
    struct testdb db;
    struct store *st;
    int64_t ws1, ws2, u1, u2;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct errinfo ei = {0};

    if (f == NULL)
        return -1;
    if (testdb_create(&f->db, g_pg, "store") != 0) {
        free(f);
        return -1;
    }
    *state = f; /* teardown cleans up even when a step below fails */
    if (store_open(f->db.url, &f->st, &ei) != ERR_OK) {
        fprintf(stderr, "setup: store_open: %s\n", ei.msg);
        return -1;
    }
    if (store_workspace_add(f->st, "w1", &f->ws1, &ei) != ERR_OK ||
        store_workspace_add(f->st, "w2", &f->ws2, &ei) != ERR_OK ||
        store_user_add(f->st, "alice", false, &f->u1, &ei) != ERR_OK ||
        store_user_add(f->st, "bob", false, &f->u2, &ei) != ERR_OK ||
        store_member_set(f->st, f->ws1, f->u1, ROLE_ADMIN, &ei) != ERR_OK ||
        store_member_set(f->st, f->ws2, f->u2, ROLE_MEMBER, &ei) != ERR_OK)
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
    testdb_destroy(&f->db);
    free(f);
    return 0;
}

/* A second handle on the same database (not the store's connection). */
struct side {
    sqlite3 *lite;
    PGconn *pg;
};

static struct side *
side_open(const struct fx *f)
{
    struct side *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    if (g_pg) {
        d->pg = PQconnectdb(f->db.url);
        if (PQstatus(d->pg) != CONNECTION_OK)
            fail_msg("side_open: %s", PQerrorMessage(d->pg));
        return d;
    }
    assert_int_equal(sqlite3_open_v2(f->db.path, &d->lite, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(d->lite, 5000);
    return d;
}

static void
side_close(struct side *d)
{
    if (d->lite)
        sqlite3_close(d->lite);
    PQfinish(d->pg);
    free(d);
}

static void
side_exec(struct side *d, const char *sql)
{
    char *msg = NULL;
    int rc;

    if (d->pg) {
        PGresult *r = PQexec(d->pg, sql);
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQerrorMessage(d->pg));
        return;
    }
    rc = sqlite3_exec(d->lite, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
}

/* Runs sql; true when the database took it, false when it refused it. */
static bool
side_try(struct side *d, const char *sql)
{
    if (d->pg) {
        PGresult *r = PQexec(d->pg, sql);
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    }
    return sqlite3_exec(d->lite, sql, NULL, NULL, NULL) == SQLITE_OK;
}

/* The first column of the one row sql answers, as text. */
static void
side_text(struct side *d, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *q = NULL;

    if (d->pg) {
        PGresult *r = PQexec(d->pg, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
            fail_msg("%s: %s", sql, PQerrorMessage(d->pg));
        snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        return;
    }
    assert_int_equal(sqlite3_prepare_v2(d->lite, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
}

static int64_t
side_int(struct side *d, const char *sql)
{
    char t[64];
    side_text(d, sql, t, sizeof(t));
    return strtoll(t, NULL, 10);
}

/* A sealed-looking value: version byte, 4-byte big-endian key id, payload. */
static unsigned char *
mk_sealed(uint32_t kid, const char *payload, size_t *len)
{
    size_t n = 5 + strlen(payload);
    unsigned char *p = malloc(n);
    assert_non_null(p);
    p[0] = 0x01;
    p[1] = (unsigned char)(kid >> 24);
    p[2] = (unsigned char)(kid >> 16);
    p[3] = (unsigned char)(kid >> 8);
    p[4] = (unsigned char)kid;
    memcpy(p + 5, payload, strlen(payload));
    *len = n;
    return p;
}

static void
set_add(struct sealed_set *s, const char *field, uint32_t kid, const char *payload)
{
    size_t n;
    unsigned char *d = mk_sealed(kid, payload, &n);
    assert_int_equal(sealed_set_add(s, field, d, n), ERR_OK);
}

/* The payload of field in set, or NULL. */
static const char *
payload_of(const struct sealed_set *s, const char *field, char *buf, size_t buflen)
{
    const struct sealed *v = sealed_set_find(s, field);
    if (v == NULL)
        return NULL;
    assert_true(v->len >= 5);
    snprintf(buf, buflen, "%.*s", (int)(v->len - 5), (const char *)v->data + 5);
    return buf;
}

static uint32_t
sealed_key_of(const struct sealed_set *s, const char *field)
{
    const struct sealed *v = sealed_set_find(s, field);
    assert_non_null(v);
    assert_true(v->len >= 5);
    return (uint32_t)v->data[1] << 24 | (uint32_t)v->data[2] << 16 | (uint32_t)v->data[3] << 8 |
           v->data[4];
}

static void
mk_row(struct conn_row *r, const char *id, int64_t ws, int64_t owner, const char *name,
       const char *slug, const char *service_type)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->workspace_id = ws;
    r->owner_id = owner;
    r->name = (char *)name;
    r->slug = (char *)slug;
    r->service_type = (char *)service_type;
    r->auth_type = (char *)"bearer";
    r->base_url = (char *)"https://api.example.com";
    r->fulfillment = (char *)"static";
    r->config = (char *)"{\"auth\":{\"type\":\"bearer\"}}";
    r->created_at = r->updated_at = 1700000000000;
    r->version = 1;
}

static void
insert(struct fx *f, const char *id, int64_t ws, const char *name, const char *slug,
       const char *service_type, const struct sealed_set *secrets)
{
    struct conn_row r;
    struct errinfo ei = {0};
    mk_row(&r, id, ws, ws == f->ws1 ? f->u1 : f->u2, name, slug, service_type);
    assert_int_equal(store_conn_insert(f->st, &r, NULL, 0, NULL, secrets, &ei), ERR_OK);
}

static size_t
nsecrets(struct fx *f, int64_t ws, const char *owner)
{
    struct sealed_set s = {0};
    struct errinfo ei = {0};
    size_t n;
    assert_int_equal(store_secrets_get(f->st, ws, "connection", owner, &s, &ei), ERR_OK);
    n = s.n;
    sealed_set_release(&s);
    return n;
}

/* ---- open, URLs ---- */

static void
test_open_url_table(void **state)
{
    static const struct {
        const char *url;
        enum err e;
        const char *code;
    } cases[] = {
        {NULL, ERR_INVALID, "invalid_db_url"},
        {"", ERR_INVALID, "invalid_db_url"},
        {"sqlite:", ERR_INVALID, "invalid_db_url"},
        /* nothing listens on port 1: a clear failure, the password nowhere in it */
        {"postgres://u:pw-canary-1@127.0.0.1:1/x", ERR_STORE, "db_open_failed"},
        {"postgresql://u:pw-canary-1@127.0.0.1:1/x", ERR_STORE, "db_open_failed"},
        {"host=127.0.0.1 port=1 dbname=x password=pw-canary-1", ERR_STORE, "db_open_failed"},
        {"mysql://localhost/x", ERR_INVALID, "invalid_db_url"},
        {"./plain/path.db", ERR_INVALID, "invalid_db_url"},
        {"sqlite:/nonexistent-dir-connhub-ut/x/y.db", ERR_STORE, "db_open_failed"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct store *st = (struct store *)0x1;
        struct errinfo ei = {0};
        enum err e = store_open(cases[i].url, &st, &ei);
        if (e != cases[i].e || strcmp(ei.code, cases[i].code) != 0)
            fail_msg("case %zu (%s): got %d %s", i, cases[i].url ? cases[i].url : "NULL", e,
                     ei.code);
        assert_null(st);
        assert_string_equal(ei.field, "--db");
        assert_null(strstr(ei.msg, "pw-canary"));
    }
    store_close(NULL); /* NULL is fine */
}

static void
test_url_redact_table(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"sqlite:./data/c.db", "sqlite:./data/c.db"},
        {"postgres://u:secret@db.internal:5432/connhub",
         "postgres://u:***@db.internal:5432/connhub"},
        {"postgresql://u:s%40x@h/db?sslmode=require", "postgresql://u:***@h/db?sslmode=require"},
        {"postgres://u@h/db", "postgres://u@h/db"},
        {"postgres://h/db", "postgres://h/db"},
        {"postgres://u:p@h/db?password=q&sslmode=require",
         "postgres://u:***@h/db?password=***&sslmode=require"},
        {"host=h dbname=d password=secret user=u", "host=h dbname=d password=*** user=u"},
        {"password='sec ret\\' x' host=h", "password=*** host=h"},
        {"host=h xpassword=notone", "host=h xpassword=notone"},
        {"", ""},
    };
    char out[128];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        store_url_redact(cases[i].in, out, sizeof(out));
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("case %zu: %s -> %s", i, cases[i].in, out);
    }
    /* a short buffer truncates, never overflows, and still hides the password */
    store_url_redact("postgres://u:secret@h/db", out, 16);
    assert_string_equal(out, "postgres://u:**");
    store_url_redact(NULL, out, sizeof(out));
    assert_string_equal(out, "");
}

static void
test_data_dir_table(void **state)
{
    static const struct {
        const char *url;
        enum err e;
        const char *dir;
    } cases[] = {
        {"sqlite:./data/connhub.db", ERR_OK, "./data"},
        {"sqlite:connhub.db", ERR_OK, "."},
        {"sqlite:/connhub.db", ERR_OK, "/"},
        {"sqlite:/var/lib/connhub/x.db", ERR_OK, "/var/lib/connhub"},
        {"postgres://localhost/x", ERR_INVALID, NULL},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256] = "";
        struct errinfo ei = {0};
        assert_int_equal(store_data_dir(cases[i].url, out, sizeof(out), &ei), cases[i].e);
        if (cases[i].dir)
            assert_string_equal(out, cases[i].dir);
        else
            assert_string_equal(ei.code, "no_data_dir");
    }
}

static void
test_backend_name_and_file_mode(void **state)
{
    struct fx *f = *state;
    struct stat sb;

    if (g_pg) {
        assert_string_equal(store_backend_name(f->st), "postgres");
        return;
    }
    assert_string_equal(store_backend_name(f->st), "sqlite");
    assert_int_equal(stat(f->db.path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

/* ---- DUR-001 (and OAUTH-025, SQLite half): pragmas ---- */

static void
test_pragmas_dur001(void **state)
{
    struct fx *f = *state;
    struct side *db;
    char mode[32];
    int v = -1;

    /* journal_mode=WAL is persistent in the file: a separate handle sees it. */
    db = side_open(f);
    side_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
    assert_string_equal(mode, "wal");
    side_close(db);

    /* synchronous, foreign_keys, secure_delete and busy_timeout are settings
     * of one connection: another handle reads its own defaults, so they are
     * read on the store's connection through the CONNHUB_TEST hook. */
    assert_int_equal(store_sqlite_pragma_int(f->st, "synchronous", &v), ERR_OK);
    assert_int_equal(v, 2); /* FULL */
    assert_int_equal(store_sqlite_pragma_int(f->st, "foreign_keys", &v), ERR_OK);
    assert_int_equal(v, 1);
    assert_int_equal(store_sqlite_pragma_int(f->st, "secure_delete", &v), ERR_OK);
    assert_int_equal(v, 1);
    assert_int_equal(store_sqlite_pragma_int(f->st, "busy_timeout", &v), ERR_OK);
    assert_true(v > 0);
    assert_int_equal(store_sqlite_pragma_int(f->st, "trusted_schema", &v), ERR_OK);
    assert_int_equal(v, 0);
}

/* A writer on a new (rollback-journal) database holds its write lock for a while: turning
 * the file into WAL then fails with SQLITE_BUSY at once, without the busy handler (waiting
 * could deadlock). store_open tries again until the writer is done, so servers opening a new
 * database together all succeed. Without the retry this open fails in milliseconds. */
struct held_writer {
    const char *path;
    int hold_ms;
    pthread_barrier_t locked;
    atomic_bool committed;
    int rc;
};

static void *
hold_write_lock(void *arg)
{
    struct held_writer *h = arg;
    sqlite3 *db = NULL;

    h->rc = sqlite3_open(h->path, &db);
    if (h->rc == SQLITE_OK)
        h->rc = sqlite3_exec(db, "CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)",
                             NULL, NULL, NULL);
    pthread_barrier_wait(&h->locked);
    usleep((useconds_t)h->hold_ms * 1000);
    if (h->rc == SQLITE_OK)
        h->rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    atomic_store(&h->committed, true);
    sqlite3_close(db);
    return NULL;
}

/* Opens d while a writer holds the lock for hold_ms; the open's result. */
static enum err
open_past_writer(struct testdb *d, int hold_ms, struct held_writer *h, struct errinfo *ei)
{
    struct store *st = NULL;
    pthread_t t;
    enum err e;

    h->path = d->path;
    h->hold_ms = hold_ms;
    h->rc = SQLITE_OK;
    atomic_init(&h->committed, false);
    pthread_barrier_init(&h->locked, NULL, 2);
    assert_int_equal(pthread_create(&t, NULL, hold_write_lock, h), 0);
    pthread_barrier_wait(&h->locked);
    e = store_open(d->url, &st, ei);
    if (e != ERR_OK) /* refused while the writer still held the lock */
        assert_false(atomic_load(&h->committed));
    pthread_join(t, NULL);
    pthread_barrier_destroy(&h->locked);
    assert_int_equal(h->rc, SQLITE_OK); /* the writer committed: nothing was lost either */
    store_close(st);
    return e;
}

static void
test_open_waits_out_a_writer_on_a_new_database(void **state)
{
    struct testdb d;
    struct held_writer h;
    struct errinfo ei = {0};

    (void)state;
    assert_int_equal(testdb_create(&d, NULL, "walbusy"), 0);
    assert_int_equal(open_past_writer(&d, 300, &h, &ei), ERR_OK);
    testdb_destroy(&d);
}

/* The retries end after the busy timeout (a short one here): a writer that holds the lock
 * longer makes the open fail with 503 store_busy, after that time and not before. */
static void
test_open_busy_retries_end_at_the_busy_timeout(void **state)
{
    struct testdb d;
    struct held_writer h;
    struct errinfo ei = {0};
    struct timespec a, b;
    int64_t ms;

    (void)state;
    assert_int_equal(testdb_create(&d, NULL, "walbusy2"), 0);
    store_sqlite_set_open_busy_ms(200);
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(open_past_writer(&d, 1500, &h, &ei), ERR_UNAVAILABLE);
    clock_gettime(CLOCK_MONOTONIC, &b);
    store_sqlite_set_open_busy_ms(0);
    assert_string_equal(ei.code, "store_busy");
    ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    assert_true(ms >= 200);
    testdb_destroy(&d);
}

static void
test_pragma_hook_refuses_non_identifiers(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {"", "synchronous; DROP TABLE users", "Synchronous",
                                      "journal_mode = DELETE", "a(1)"};
    int v = 42;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(store_sqlite_pragma_int(f->st, bad[i], &v), ERR_INVALID);
    assert_int_equal(v, 42);
    assert_int_equal(store_sqlite_pragma_int(f->st, NULL, &v), ERR_INVALID);
}

/* foreign_keys=1 is not only set but in force: a membership in a workspace
 * that does not exist is refused by the database. */
static void
test_foreign_keys_enforced_dur001(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct conn_row r;

    assert_int_equal(store_member_set(f->st, 999999, f->u1, ROLE_MEMBER, &ei), ERR_STORE);
    mk_row(&r, "conn_fk", 999999, f->u1, "X", "x", "http");
    assert_int_equal(store_conn_insert(f->st, &r, NULL, 0, NULL, NULL, &ei), ERR_STORE);
    mk_row(&r, "conn_fk", f->ws1, 999999, "X", "x", "http");
    assert_int_equal(store_conn_insert(f->st, &r, NULL, 0, NULL, NULL, &ei), ERR_STORE);
}

/* ---- migrations ---- */

static void
test_migrations_applied_once(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct side *db = side_open(f);
    int64_t n, max, applied;
    int64_t users;

    n = side_int(db, "SELECT count(*) FROM schema_migrations");
    max = side_int(db, "SELECT max(version) FROM schema_migrations");
    applied = side_int(db, "SELECT sum(applied_at) FROM schema_migrations");
    assert_true(n >= 1);
    assert_int_equal(n, max); /* 1..max, each once */
    assert_int_equal(side_int(db, "SELECT min(version) FROM schema_migrations"), 1);
    side_close(db);

    /* Reopen twice: nothing runs again (a rerun of migration 1 would fail on
     * CREATE TABLE users, and would add rows). Data survives. */
    for (int i = 0; i < 2; i++) {
        store_close(f->st);
        f->st = NULL;
        assert_int_equal(store_open(f->db.url, &f->st, &ei), ERR_OK);
    }
    assert_int_equal(store_user_count(f->st, &users, &ei), ERR_OK);
    assert_int_equal(users, 2);
    db = side_open(f);
    assert_int_equal(side_int(db, "SELECT count(*) FROM schema_migrations"), n);
    assert_int_equal(side_int(db, "SELECT sum(applied_at) FROM schema_migrations"), applied);
    side_close(db);
}

static void
test_schema_too_new_refused(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct store *st2 = (struct store *)0x1;
    struct side *db;
    int64_t max;

    store_close(f->st);
    f->st = NULL;
    db = side_open(f);
    max = side_int(db, "SELECT max(version) FROM schema_migrations");
    side_exec(db, "INSERT INTO schema_migrations VALUES (9999, 1)");
    side_close(db);

    assert_int_equal(store_open(f->db.url, &st2, &ei), ERR_UNAVAILABLE);
    assert_null(st2);
    assert_string_equal(ei.code, "schema_too_new");
    assert_string_equal(ei.field, "--db");

    /* Nothing was changed by the refused open. */
    db = side_open(f);
    assert_int_equal(side_int(db, "SELECT count(*) FROM schema_migrations"), max + 1);
    assert_int_equal(side_int(db, "SELECT count(*) FROM users"), 2);
    side_exec(db, "DELETE FROM schema_migrations WHERE version = 9999");
    side_close(db);
    assert_int_equal(store_open(f->db.url, &f->st, &ei), ERR_OK);
}

/* ---- identities ---- */

static void
test_role_name_parse_table(void **state)
{
    static const struct {
        const char *s;
        bool ok;
        enum role r;
    } cases[] = {
        {"admin", true, ROLE_ADMIN}, {"member", true, ROLE_MEMBER}, {"none", false, ROLE_NONE},
        {"Admin", false, ROLE_NONE}, {"", false, ROLE_NONE},        {"admin ", false, ROLE_NONE},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum role r = ROLE_NONE;
        assert_int_equal(role_parse(cases[i].s, &r), cases[i].ok);
        assert_int_equal(r, cases[i].r);
    }
    assert_string_equal(role_name(ROLE_ADMIN), "admin");
    assert_string_equal(role_name(ROLE_MEMBER), "member");
    assert_string_equal(role_name(ROLE_NONE), "none");
}

static void
test_users(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct user_row u = {0};
    int64_t id = 0, n = 0;

    assert_int_equal(store_user_add(f->st, "root", true, &id, &ei), ERR_OK);
    assert_true(id > 0);
    assert_int_equal(store_user_get(f->st, "root", &u, &ei), ERR_OK);
    assert_int_equal(u.id, id);
    assert_string_equal(u.name, "root");
    assert_true(u.platform_admin);
    assert_int_equal(store_user_get(f->st, "alice", &u, &ei), ERR_OK);
    assert_false(u.platform_admin);

    assert_int_equal(store_user_add(f->st, "root", false, NULL, &ei), ERR_CONFLICT);
    assert_string_equal(ei.code, "user_exists");
    assert_string_equal(ei.field, "name");

    assert_int_equal(store_user_get(f->st, "nobody", &u, &ei), ERR_NOT_FOUND);
    assert_string_equal(ei.code, "user_not_found");
    assert_int_equal(store_user_count(f->st, &n, &ei), ERR_OK);
    assert_int_equal(n, 3);
}

static void
test_workspaces_and_members(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    int64_t id = 0;
    enum role r = ROLE_ADMIN;

    assert_int_equal(store_workspace_get(f->st, "w1", &id, &ei), ERR_OK);
    assert_int_equal(id, f->ws1);
    assert_int_equal(store_workspace_add(f->st, "w1", NULL, &ei), ERR_CONFLICT);
    assert_string_equal(ei.code, "workspace_exists");
    assert_string_equal(ei.field, "slug");
    assert_int_equal(store_workspace_get(f->st, "w9", &id, &ei), ERR_NOT_FOUND);
    assert_string_equal(ei.code, "workspace_not_found");

    assert_int_equal(store_member_role(f->st, f->ws1, f->u1, &r, &ei), ERR_OK);
    assert_int_equal(r, ROLE_ADMIN);
    /* Setting again updates the role (no conflict). */
    assert_int_equal(store_member_set(f->st, f->ws1, f->u1, ROLE_MEMBER, &ei), ERR_OK);
    assert_int_equal(store_member_role(f->st, f->ws1, f->u1, &r, &ei), ERR_OK);
    assert_int_equal(r, ROLE_MEMBER);
    /* Membership is per workspace. */
    assert_int_equal(store_member_role(f->st, f->ws2, f->u1, &r, &ei), ERR_NOT_FOUND);
    assert_string_equal(ei.code, "not_a_member");
    assert_int_equal(r, ROLE_NONE);
}

static void
fill_hash(unsigned char h[32], unsigned char seed)
{
    for (int i = 0; i < 32; i++)
        h[i] = (unsigned char)(seed + i * 7);
}

static void
test_tokens(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    unsigned char h1[32], h2[32], h3[32];
    struct principal p;
    int64_t tid = 0;

    fill_hash(h1, 1);
    fill_hash(h2, 2);
    fill_hash(h3, 3);
    assert_int_equal(store_token_add(f->st, h1, f->u1, f->ws1, "ci", &tid, &ei), ERR_OK);
    assert_true(tid > 0);
    assert_int_equal(store_token_add(f->st, h2, f->u2, f->ws2, NULL, NULL, &ei), ERR_OK);

    memset(&p, 0xa5, sizeof(p));
    assert_int_equal(store_token_lookup(f->st, h1, &p, &ei), ERR_OK);
    assert_int_equal(p.token_id, tid);
    assert_int_equal(p.user_id, f->u1);
    assert_string_equal(p.user_name, "alice");
    assert_false(p.platform_admin);
    assert_int_equal(p.workspace_id, f->ws1);
    assert_string_equal(p.workspace_slug, "w1");
    assert_int_equal(p.role, ROLE_ADMIN);

    assert_int_equal(store_token_lookup(f->st, h2, &p, &ei), ERR_OK);
    assert_int_equal(p.workspace_id, f->ws2);
    assert_int_equal(p.role, ROLE_MEMBER);

    /* Only the exact hash matches. */
    assert_int_equal(store_token_lookup(f->st, h3, &p, &ei), ERR_UNAUTHORIZED);
    assert_string_equal(ei.code, "invalid_token");
    memcpy(h3, h1, 31);
    assert_int_equal(store_token_lookup(f->st, h3, &p, &ei), ERR_UNAUTHORIZED);

    /* The same hash twice is a conflict. */
    assert_int_equal(store_token_add(f->st, h1, f->u1, f->ws1, "dup", NULL, &ei), ERR_CONFLICT);

    /* The role is read at lookup time. */
    assert_int_equal(store_member_set(f->st, f->ws1, f->u1, ROLE_MEMBER, &ei), ERR_OK);
    assert_int_equal(store_token_lookup(f->st, h1, &p, &ei), ERR_OK);
    assert_int_equal(p.role, ROLE_MEMBER);
}

/* TEN-016: a token whose user was removed from its workspace stops working. */
static void
test_token_of_removed_member_ten016(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    unsigned char h[32];
    struct principal p;
    struct side *db;

    fill_hash(h, 9);
    assert_int_equal(store_token_add(f->st, h, f->u2, f->ws2, "t", NULL, &ei), ERR_OK);
    assert_int_equal(store_token_lookup(f->st, h, &p, &ei), ERR_OK);

    /* The store has no "remove member" call yet: remove the row directly. */
    db = side_open(f);
    side_exec(db, "DELETE FROM memberships WHERE user_id = (SELECT id FROM users WHERE name = "
                  "'bob')");
    side_close(db);
    assert_int_equal(store_token_lookup(f->st, h, &p, &ei), ERR_UNAUTHORIZED);
    assert_string_equal(ei.code, "invalid_token");

    /* Membership elsewhere does not revive a token bound to ws2. */
    assert_int_equal(store_member_set(f->st, f->ws1, f->u2, ROLE_ADMIN, &ei), ERR_OK);
    assert_int_equal(store_token_lookup(f->st, h, &p, &ei), ERR_UNAUTHORIZED);
}

/* ---- connections ---- */

static void
test_conn_insert_get(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct conn_row r = {0};
    struct sealed_set s = {0};
    char buf[64];

    set_add(&s, "auth.token", 0x01020304, "tok-1");
    insert(f, "conn_a", f->ws1, "GitHub API", "github_api", "http", &s);
    sealed_set_release(&s);

    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_a", &r, &ei), ERR_OK);
    assert_string_equal(r.id, "conn_a");
    assert_int_equal(r.workspace_id, f->ws1);
    assert_int_equal(r.owner_id, f->u1);
    assert_string_equal(r.owner_name, "alice");
    assert_string_equal(r.name, "GitHub API");
    assert_string_equal(r.slug, "github_api");
    assert_string_equal(r.service_type, "http");
    assert_string_equal(r.auth_type, "bearer");
    assert_string_equal(r.base_url, "https://api.example.com");
    assert_string_equal(r.fulfillment, "static");
    assert_non_null(strstr(r.config, "bearer"));
    assert_int_equal(r.op_count, -1); /* single reads do not count operations */
    assert_int_equal(r.created_at, 1700000000000);
    assert_int_equal(r.updated_at, 1700000000000);
    assert_int_equal(r.version, 1);
    conn_row_release(&r);
    conn_row_release(&r); /* released twice is fine */

    assert_int_equal(store_conn_get_by_slug(f->st, f->ws1, "github_api", &r, &ei), ERR_OK);
    assert_string_equal(r.id, "conn_a");
    conn_row_release(&r);

    assert_int_equal(store_secrets_get(f->st, f->ws1, "connection", "conn_a", &s, &ei), ERR_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(payload_of(&s, "auth.token", buf, sizeof(buf)), "tok-1");
    sealed_set_release(&s);

    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_missing", &r, &ei), ERR_NOT_FOUND);
    assert_string_equal(ei.code, "connection_not_found");
    assert_string_equal(ei.field, "id");
    assert_int_equal(store_conn_get_by_slug(f->st, f->ws1, "nope", &r, &ei), ERR_NOT_FOUND);
    assert_string_equal(ei.field, "slug");
}

/* A NULL base_url is stored as NULL and read back as NULL. */
static void
test_conn_null_base_url(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct conn_row r;

    mk_row(&r, "conn_n", f->ws1, f->u1, "N", "n", "http");
    r.base_url = NULL;
    assert_int_equal(store_conn_insert(f->st, &r, NULL, 0, NULL, NULL, &ei), ERR_OK);
    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_n", &r, &ei), ERR_OK);
    assert_null(r.base_url);
    conn_row_release(&r);
}

/* DUR-005: a refused insert writes neither the row nor its secrets. */
static void
test_conn_slug_conflict_is_atomic_dur005(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct conn_row r;
    struct sealed_set s = {0};

    insert(f, "conn_a", f->ws1, "A", "same", "http", NULL);
    set_add(&s, "auth.token", 1, "tok-b");
    mk_row(&r, "conn_b", f->ws1, f->u1, "B", "same", "http");
    assert_int_equal(store_conn_insert(f->st, &r, NULL, 0, NULL, &s, &ei), ERR_CONFLICT);
    assert_string_equal(ei.code, "slug_taken");
    assert_string_equal(ei.field, "slug");
    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_b", &r, &ei), ERR_NOT_FOUND);
    assert_int_equal(nsecrets(f, f->ws1, "conn_b"), 0);

    /* The same slug in another workspace is fine (slugs are per workspace). */
    mk_row(&r, "conn_c", f->ws2, f->u2, "C", "same", "http");
    assert_int_equal(store_conn_insert(f->st, &r, NULL, 0, NULL, &s, &ei), ERR_OK);
    assert_int_equal(nsecrets(f, f->ws2, "conn_c"), 1);
    sealed_set_release(&s);
}

static void
test_conn_update_version_check(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct conn_row r = {0}, u;

    insert(f, "conn_a", f->ws1, "A", "a", "http", NULL);
    insert(f, "conn_b", f->ws1, "B", "b", "http", NULL);

    mk_row(&u, "conn_a", f->ws1, f->u1, "A2", "a2", "http");
    u.version = 1;
    assert_int_equal(store_conn_update(f->st, &u, NULL, 0, false, NULL, NULL, NULL, 0, &ei),
                     ERR_OK);
    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_a", &r, &ei), ERR_OK);
    assert_int_equal(r.version, 2);
    assert_string_equal(r.name, "A2");
    assert_string_equal(r.slug, "a2");
    assert_true(r.updated_at > r.created_at);
    assert_int_equal(r.created_at, 1700000000000);
    conn_row_release(&r);

    /* Stale version (1, now 2): refused, row unchanged. */
    mk_row(&u, "conn_a", f->ws1, f->u1, "A3", "a3", "http");
    u.version = 1;
    assert_int_equal(store_conn_update(f->st, &u, NULL, 0, false, NULL, NULL, NULL, 0, &ei),
                     ERR_CONFLICT);
    assert_string_equal(ei.code, "concurrent_update");
    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_a", &r, &ei), ERR_OK);
    assert_string_equal(r.name, "A2");
    assert_int_equal(r.version, 2);
    conn_row_release(&r);

    /* A version from the future is just as stale. */
    u.version = 3;
    assert_int_equal(store_conn_update(f->st, &u, NULL, 0, false, NULL, NULL, NULL, 0, &ei),
                     ERR_CONFLICT);
    assert_string_equal(ei.code, "concurrent_update");

    /* Renaming onto another connection's slug. */
    mk_row(&u, "conn_a", f->ws1, f->u1, "A", "b", "http");
    u.version = 2;
    assert_int_equal(store_conn_update(f->st, &u, NULL, 0, false, NULL, NULL, NULL, 0, &ei),
                     ERR_CONFLICT);
    assert_string_equal(ei.code, "slug_taken");
    assert_string_equal(ei.field, "slug");
    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_a", &r, &ei), ERR_OK);
    assert_string_equal(r.slug, "a2");
    assert_int_equal(r.version, 2);
    conn_row_release(&r);
}

/* After an update the secrets are exactly: put, plus the kept stored ones. */
static void
test_conn_update_secret_semantics(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct sealed_set s = {0}, put = {0}, got = {0};
    struct conn_row u;
    static const char *const keep[] = {"auth.a", "auth.not_stored"};
    char buf[64];
    char **fields = NULL;
    size_t nf = 0;

    set_add(&s, "auth.a", 1, "a-old");
    set_add(&s, "auth.b", 1, "b-old");
    set_add(&s, "auth.c", 1, "c-old");
    insert(f, "conn_a", f->ws1, "A", "a", "http", &s);
    sealed_set_release(&s);

    set_add(&put, "auth.b", 2, "b-new");
    set_add(&put, "auth.d", 2, "d-new");
    mk_row(&u, "conn_a", f->ws1, f->u1, "A", "a", "http");
    assert_int_equal(store_conn_update(f->st, &u, NULL, 0, false, NULL, &put, keep, 2, &ei),
                     ERR_OK);
    sealed_set_release(&put);

    assert_int_equal(store_secrets_get(f->st, f->ws1, "connection", "conn_a", &got, &ei), ERR_OK);
    assert_int_equal(got.n, 3);
    assert_string_equal(payload_of(&got, "auth.a", buf, sizeof(buf)), "a-old");
    assert_string_equal(payload_of(&got, "auth.b", buf, sizeof(buf)), "b-new");
    assert_string_equal(payload_of(&got, "auth.d", buf, sizeof(buf)), "d-new");
    assert_null(sealed_set_find(&got, "auth.c"));
    assert_null(sealed_set_find(&got, "auth.not_stored"));
    sealed_set_release(&got);

    assert_int_equal(store_secret_fields(f->st, f->ws1, "connection", "conn_a", &fields, &nf, &ei),
                     ERR_OK);
    assert_int_equal(nf, 3);
    assert_string_equal(fields[0], "auth.a"); /* ordered by field */
    assert_string_equal(fields[1], "auth.b");
    assert_string_equal(fields[2], "auth.d");
    string_list_free(fields, nf);

    /* Keep nothing, put nothing: every secret goes. */
    mk_row(&u, "conn_a", f->ws1, f->u1, "A", "a", "http");
    u.version = 2;
    assert_int_equal(store_conn_update(f->st, &u, NULL, 0, false, NULL, NULL, NULL, 0, &ei),
                     ERR_OK);
    assert_int_equal(nsecrets(f, f->ws1, "conn_a"), 0);
}

/* A refused update (stale version) leaves the secrets alone. */
static void
test_conn_update_refused_keeps_secrets(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct sealed_set s = {0}, got = {0};
    struct conn_row u;
    char buf[64];

    set_add(&s, "auth.a", 1, "a-old");
    insert(f, "conn_a", f->ws1, "A", "a", "http", &s);
    sealed_set_release(&s);
    set_add(&s, "auth.a", 1, "a-new");
    mk_row(&u, "conn_a", f->ws1, f->u1, "A", "a", "http");
    u.version = 7;
    assert_int_equal(store_conn_update(f->st, &u, NULL, 0, false, NULL, &s, NULL, 0, &ei),
                     ERR_CONFLICT);
    sealed_set_release(&s);
    assert_int_equal(store_secrets_get(f->st, f->ws1, "connection", "conn_a", &got, &ei), ERR_OK);
    assert_string_equal(payload_of(&got, "auth.a", buf, sizeof(buf)), "a-old");
    sealed_set_release(&got);
}

static void
test_conn_delete_removes_secrets(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct sealed_set s = {0};
    struct conn_row r;
    struct side *db;

    set_add(&s, "auth.a", 1, "a");
    set_add(&s, "auth.b", 1, "b");
    insert(f, "conn_a", f->ws1, "A", "a", "http", &s);
    insert(f, "conn_b", f->ws1, "B", "b", "http", &s);
    sealed_set_release(&s);

    assert_int_equal(store_conn_delete(f->st, f->ws1, "conn_a", &ei), ERR_OK);
    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_a", &r, &ei), ERR_NOT_FOUND);
    assert_int_equal(nsecrets(f, f->ws1, "conn_a"), 0);
    assert_int_equal(nsecrets(f, f->ws1, "conn_b"), 2); /* the other one is untouched */
    db = side_open(f);
    assert_int_equal(side_int(db, "SELECT count(*) FROM secrets WHERE owner_id = 'conn_a'"), 0);
    side_close(db);

    assert_int_equal(store_conn_delete(f->st, f->ws1, "conn_a", &ei), ERR_NOT_FOUND);
    assert_string_equal(ei.code, "connection_not_found");
}

/* TEN-001/002: another workspace's row is exactly like a missing one, and
 * nothing done from the other workspace changes it. */
static void
test_other_workspace_is_not_found_ten002(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0}, ei_missing = {0};
    struct sealed_set s = {0}, got = {0};
    struct conn_row r, u;
    char buf[64];
    char **fields = NULL;
    size_t nf = 7;

    set_add(&s, "auth.token", 1, "w1-secret");
    insert(f, "conn_w1", f->ws1, "One", "one", "http", &s);
    sealed_set_release(&s);

    assert_int_equal(store_conn_get(f->st, f->ws2, "conn_w1", &r, &ei), ERR_NOT_FOUND);
    assert_int_equal(store_conn_get(f->st, f->ws2, "conn_nope", &r, &ei_missing), ERR_NOT_FOUND);
    assert_string_equal(ei.code, ei_missing.code);
    assert_string_equal(ei.field, ei_missing.field);
    assert_string_equal(ei.msg, ei_missing.msg);

    assert_int_equal(store_conn_get_by_slug(f->st, f->ws2, "one", &r, &ei), ERR_NOT_FOUND);
    assert_int_equal(store_conn_delete(f->st, f->ws2, "conn_w1", &ei), ERR_NOT_FOUND);
    assert_string_equal(ei.code, "connection_not_found");

    /* Update from ws2, even with the right version, changes nothing and
     * answers as for a missing row. (The store reports a vanished row as
     * ERR_CONFLICT "concurrent_update"; conn_update looks the row up first,
     * so the API says 404.) */
    set_add(&s, "auth.token", 1, "stolen");
    mk_row(&u, "conn_w1", f->ws2, f->u2, "Hijack", "hijack", "http");
    u.version = 1;
    assert_int_not_equal(store_conn_update(f->st, &u, NULL, 0, false, NULL, &s, NULL, 0, &ei),
                         ERR_OK);
    snprintf(u.id, sizeof(u.id), "conn_nope");
    assert_int_not_equal(
        store_conn_update(f->st, &u, NULL, 0, false, NULL, &s, NULL, 0, &ei_missing), ERR_OK);
    assert_string_equal(ei.code, ei_missing.code);
    sealed_set_release(&s);

    /* Secrets: another workspace sees none, like an owner that has none. */
    assert_int_equal(store_secrets_get(f->st, f->ws2, "connection", "conn_w1", &got, &ei), ERR_OK);
    assert_int_equal(got.n, 0);
    assert_int_equal(store_secret_fields(f->st, f->ws2, "connection", "conn_w1", &fields, &nf, &ei),
                     ERR_OK);
    assert_int_equal(nf, 0);
    string_list_free(fields, nf);

    /* ws1's row and secret are intact. */
    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_w1", &r, &ei), ERR_OK);
    assert_string_equal(r.name, "One");
    assert_int_equal(r.version, 1);
    assert_int_equal(r.workspace_id, f->ws1);
    conn_row_release(&r);
    assert_int_equal(store_secrets_get(f->st, f->ws1, "connection", "conn_w1", &got, &ei), ERR_OK);
    assert_int_equal(got.n, 1);
    assert_string_equal(payload_of(&got, "auth.token", buf, sizeof(buf)), "w1-secret");
    sealed_set_release(&got);
    /* No stray secret rows for ws2 were written. */
    assert_int_equal(nsecrets(f, f->ws2, "conn_w1"), 0);
}

/* ---- list ---- */

struct list_case {
    const char *service_type, *search, *after_id;
    size_t limit;
    const char *want; /* ids, comma-separated, in order */
};

static void
check_list(struct fx *f, int64_t ws, const struct list_case *c, size_t idx)
{
    struct conn_filter flt = {c->service_type, c->search, c->after_id, c->limit};
    struct conn_row *rows = NULL;
    size_t n = 0;
    struct errinfo ei = {0};
    char got[512] = "";
    size_t len = 0;

    assert_int_equal(store_conn_list(f->st, ws, &flt, &rows, &n, &ei), ERR_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rows[i].workspace_id, ws);
        len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", i ? "," : "", rows[i].id);
    }
    conn_rows_free(rows, n);
    if (strcmp(got, c->want) != 0)
        fail_msg("list case %zu: got [%s], want [%s]", idx, got, c->want);
}

static void
test_list_filters_ten009(void **state)
{
    struct fx *f = *state;
    /* ws1: c1..c5; ws2: c0, c3x, c9 (ids interleave with ws1's on purpose). */
    static const struct list_case cases[] = {
        {NULL, NULL, NULL, 0, "c1,c2,c3,c4,c5"},
        {"http", NULL, NULL, 0, "c1,c2,c4,c5"},
        {"openapi", NULL, NULL, 0, "c3"},
        {"mcp", NULL, NULL, 0, ""},
        {NULL, "github", NULL, 0, "c1,c2"}, /* name, case-insensitive */
        {NULL, "GITHUB", NULL, 0, "c1,c2"},
        {NULL, "stripe_pay", NULL, 0, "c4"}, /* slug */
        {NULL, "_", NULL, 0, "c1,c2,c4"},    /* literal _, not a LIKE wildcard */
        {NULL, "%", NULL, 0, ""},            /* literal %, not a LIKE wildcard */
        {NULL, "'; --", NULL, 0, ""},
        {NULL, "secret_w2", NULL, 0, ""}, /* ws2's name: never from ws1 */
        {"http", "git", NULL, 0, "c1,c2"},
        {NULL, NULL, NULL, 2, "c1,c2"},
        {NULL, NULL, "c2", 2, "c3,c4"},
        {NULL, NULL, "c4", 2, "c5"},
        {NULL, NULL, "c5", 2, ""},
        {NULL, NULL, "c3x", 0, "c4,c5"}, /* a cursor from ws2 still lists ws1 only */
        {NULL, NULL, "c0", 1, "c1"},
        {"http", NULL, "c1", 1, "c2"},
    };

    insert(f, "c1", f->ws1, "GitHub API", "github_api", "http", NULL);
    insert(f, "c2", f->ws1, "github enterprise", "github_ent", "http", NULL);
    insert(f, "c3", f->ws1, "Petstore", "petstore", "openapi", NULL);
    insert(f, "c4", f->ws1, "Stripe", "stripe_pay", "http", NULL);
    insert(f, "c5", f->ws1, "Slack", "slack", "http", NULL);
    insert(f, "c0", f->ws2, "GitHub secret_w2", "github", "http", NULL);
    insert(f, "c3x", f->ws2, "Other", "other", "openapi", NULL);
    insert(f, "c9", f->ws2, "Nine", "nine", "http", NULL);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_list(f, f->ws1, &cases[i], i);

    {
        static const struct list_case w2[] = {
            {NULL, NULL, NULL, 0, "c0,c3x,c9"},
            {NULL, "github", NULL, 0, "c0"},
            {NULL, NULL, "c1", 0, "c3x,c9"},
        };
        for (size_t i = 0; i < sizeof(w2) / sizeof(w2[0]); i++)
            check_list(f, f->ws2, &w2[i], 100 + i);
    }
    {
        /* NULL filter = everything of the workspace; an empty workspace. */
        struct conn_row *rows = NULL;
        size_t n = 9;
        struct errinfo ei = {0};
        int64_t ws3 = 0;
        assert_int_equal(store_conn_list(f->st, f->ws1, NULL, &rows, &n, &ei), ERR_OK);
        assert_int_equal(n, 5);
        conn_rows_free(rows, n);
        assert_int_equal(store_workspace_add(f->st, "w3", &ws3, &ei), ERR_OK);
        assert_int_equal(store_conn_list(f->st, ws3, NULL, &rows, &n, &ei), ERR_OK);
        assert_int_equal(n, 0);
        conn_rows_free(rows, n);
    }
}

/* MAX_LIST_PAGE: limit 0 means the default page, which holds N rows. */
static void
test_list_default_page_max_list_page(void **state)
{
    struct fx *f = *state;
    struct side *db = side_open(f);
    char sql[256];
    struct conn_filter flt = {0};
    struct conn_row *rows = NULL;
    size_t n = 0;
    struct errinfo ei = {0};

    side_exec(db, "BEGIN");
    for (int i = 0; i < MAX_LIST_PAGE + 1; i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO connections (id, workspace_id, owner_id, name, slug, service_type, "
                 "auth_type, fulfillment, config, created_at, updated_at) VALUES ('c%04d', %lld, "
                 "%lld, 'n', 's%04d', 'http', 'none', 'static', '{}', 1, 1)",
                 i, (long long)f->ws1, (long long)f->u1, i);
        side_exec(db, sql);
    }
    side_exec(db, "COMMIT");
    side_close(db);

    assert_int_equal(store_conn_list(f->st, f->ws1, &flt, &rows, &n, &ei), ERR_OK);
    assert_int_equal(n, MAX_LIST_PAGE);
    assert_string_equal(rows[n - 1].id, "c0499");
    conn_rows_free(rows, n);
    flt.after_id = "c0499";
    assert_int_equal(store_conn_list(f->st, f->ws1, &flt, &rows, &n, &ei), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, "c0500");
    conn_rows_free(rows, n);
}

/* ---- operations and specs (migration 2) ---- */

static void
test_ops_insert_list_get_replace(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct conn_row r;
    struct op_row ops[3] = {{(char *)"b", (char *)"{\"name\":\"b\"}"},
                            {(char *)"a", (char *)"{\"name\":\"a\"}"},
                            {(char *)"c", (char *)"{\"name\":\"c\"}"}};
    struct op_row one[1] = {{(char *)"z", (char *)"{\"name\":\"z\"}"}};
    struct op_row *got = NULL;
    size_t n = 0;
    char *def = NULL, *spec = NULL;

    mk_row(&r, "conn_o", f->ws1, f->u1, "O", "o", "openapi");
    assert_int_equal(store_conn_insert(f->st, &r, ops, 3, "SPEC-1", NULL, &ei), ERR_OK);
    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_o", &r, &ei), ERR_OK);
    assert_int_equal(r.op_count, -1); /* single reads do not count operations */
    conn_row_release(&r);
    {
        struct conn_row *rows = NULL;
        size_t nrows = 0;
        assert_int_equal(store_conn_list(f->st, f->ws1, NULL, &rows, &nrows, &ei), ERR_OK);
        for (size_t k = 0; k < nrows; k++)
            if (strcmp(rows[k].id, "conn_o") == 0)
                assert_int_equal(rows[k].op_count, 3); /* lists do */
        conn_rows_free(rows, nrows);
    }
    assert_int_equal(store_ops_list(f->st, f->ws1, "conn_o", &got, &n, &ei), ERR_OK);
    assert_int_equal(n, 3);
    assert_string_equal(got[0].name, "b"); /* saved order, not name order */
    assert_string_equal(got[1].name, "a");
    assert_string_equal(got[2].def, "{\"name\":\"c\"}");
    op_rows_free(got, n);
    assert_int_equal(store_op_get(f->st, f->ws1, "conn_o", "a", &def, &ei), ERR_OK);
    assert_string_equal(def, "{\"name\":\"a\"}");
    free(def);
    assert_int_equal(store_op_get(f->st, f->ws1, "conn_o", "zz", &def, &ei), ERR_NOT_FOUND);
    assert_null(def);
    assert_int_equal(store_spec_get(f->st, f->ws1, "conn_o", &spec, &ei), ERR_OK);
    assert_string_equal(spec, "SPEC-1");
    free(spec);

    /* replace_ops false, spec NULL: both unchanged. */
    mk_row(&r, "conn_o", f->ws1, f->u1, "O", "o", "openapi");
    assert_int_equal(store_conn_update(f->st, &r, one, 1, false, NULL, NULL, NULL, 0, &ei), ERR_OK);
    assert_int_equal(store_ops_list(f->st, f->ws1, "conn_o", &got, &n, &ei), ERR_OK);
    assert_int_equal(n, 3);
    op_rows_free(got, n);
    assert_int_equal(store_spec_get(f->st, f->ws1, "conn_o", &spec, &ei), ERR_OK);
    assert_string_equal(spec, "SPEC-1");
    free(spec);
    /* replace_ops true: exactly the new list; a new spec replaces the old. */
    r.version = 2;
    assert_int_equal(store_conn_update(f->st, &r, one, 1, true, "SPEC-2", NULL, NULL, 0, &ei),
                     ERR_OK);
    assert_int_equal(store_ops_list(f->st, f->ws1, "conn_o", &got, &n, &ei), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].name, "z");
    op_rows_free(got, n);
    assert_int_equal(store_spec_get(f->st, f->ws1, "conn_o", &spec, &ei), ERR_OK);
    assert_string_equal(spec, "SPEC-2");
    free(spec);
    /* replace with none */
    r.version = 3;
    assert_int_equal(store_conn_update(f->st, &r, NULL, 0, true, NULL, NULL, NULL, 0, &ei), ERR_OK);
    assert_int_equal(store_ops_list(f->st, f->ws1, "conn_o", &got, &n, &ei), ERR_OK);
    assert_int_equal(n, 0);
    op_rows_free(got, n);
    /* no spec stored: NOT_FOUND */
    insert(f, "conn_p", f->ws1, "P", "p", "http", NULL);
    assert_int_equal(store_spec_get(f->st, f->ws1, "conn_p", &spec, &ei), ERR_NOT_FOUND);
    assert_null(spec);
}

/* Two operations of one name: refused, and nothing of the row is written. */
static void
test_ops_duplicate_name_is_atomic(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct conn_row r;
    struct sealed_set s = {0};
    struct op_row ops[2] = {{(char *)"a", (char *)"{}"}, {(char *)"a", (char *)"{}"}};

    set_add(&s, "auth.token", 1, "t");
    mk_row(&r, "conn_d", f->ws1, f->u1, "D", "d", "http");
    assert_int_equal(store_conn_insert(f->st, &r, ops, 2, "SPEC", &s, &ei), ERR_INVALID);
    assert_string_equal(ei.code, "duplicate_name");
    assert_string_equal(ei.field, "operations");
    sealed_set_release(&s);
    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_d", &r, &ei), ERR_NOT_FOUND);
    assert_int_equal(nsecrets(f, f->ws1, "conn_d"), 0);
}

/* TEN-018: operations and specs are per workspace; delete takes them along. */
static void
test_ops_other_workspace_ten018(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct conn_row r;
    struct op_row ops[1] = {{(char *)"a", (char *)"{\"name\":\"a\"}"}};
    struct op_row evil[1] = {{(char *)"evil", (char *)"{}"}};
    struct op_row *got = NULL;
    size_t n = 9;
    char *def = NULL, *spec = NULL;
    struct side *db;

    mk_row(&r, "conn_o", f->ws1, f->u1, "O", "o", "openapi");
    assert_int_equal(store_conn_insert(f->st, &r, ops, 1, "SPEC", NULL, &ei), ERR_OK);
    assert_int_equal(store_op_get(f->st, f->ws2, "conn_o", "a", &def, &ei), ERR_NOT_FOUND);
    assert_null(def);
    assert_int_equal(store_spec_get(f->st, f->ws2, "conn_o", &spec, &ei), ERR_NOT_FOUND);
    assert_null(spec);
    assert_int_equal(store_ops_list(f->st, f->ws2, "conn_o", &got, &n, &ei), ERR_OK);
    assert_int_equal(n, 0);
    op_rows_free(got, n);
    /* An update from ws2 replaces nothing. */
    mk_row(&r, "conn_o", f->ws2, f->u2, "O", "o", "openapi");
    assert_int_not_equal(store_conn_update(f->st, &r, evil, 1, true, "EVIL", NULL, NULL, 0, &ei),
                         ERR_OK);
    assert_int_equal(store_ops_list(f->st, f->ws1, "conn_o", &got, &n, &ei), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].name, "a");
    op_rows_free(got, n);
    assert_int_equal(store_spec_get(f->st, f->ws1, "conn_o", &spec, &ei), ERR_OK);
    assert_string_equal(spec, "SPEC");
    free(spec);

    assert_int_equal(store_conn_delete(f->st, f->ws1, "conn_o", &ei), ERR_OK);
    db = side_open(f);
    assert_int_equal(side_int(db, "SELECT count(*) FROM connection_operations"), 0);
    assert_int_equal(side_int(db, "SELECT count(*) FROM connection_specs"), 0);
    side_close(db);
}

/* Closes the store and takes its database back to schema 1 (what migrations 2 on added,
 * dropped); returns a side handle on it. */
static struct side *
rewind_to_schema1(struct fx *f)
{
    struct side *db;

    store_close(f->st);
    f->st = NULL;
    db = side_open(f);
    side_exec(db, "DROP TABLE idempotency_keys; DROP TABLE login_failures; DROP TABLE sessions; "
                  "DROP TABLE user_passwords; ");
    side_exec(db, "DROP TABLE participant_invites; DROP TABLE runs; DROP TABLE accounts; "
                  "DROP TABLE oauth_revocations; DROP TABLE oauth_tokens; DROP TABLE oauth_states; "
                  "DROP TABLE oauth_providers; "
                  "DROP TABLE connection_specs; DROP TABLE connection_operations; "
                  "DELETE FROM schema_migrations WHERE version >= 2");
    if (g_pg) /* migration 7's key on a table of migration 1 */
        side_exec(db, "ALTER TABLE connections DROP CONSTRAINT connections_ws_id");
    return db;
}

static bool
side_has_table(struct side *db, const char *name)
{
    char sql[256];

    if (g_pg)
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                 "current_schema() AND table_name = '%s'",
                 name);
    else
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", name);
    return side_int(db, sql) == 1;
}

/* DUR-010: a migration that dies part-way (here: the last statement of migration 6 fails on a
 * planted table, as a kill -9 would stop it anywhere) leaves no half-migrated schema: the
 * earlier statements of that migration are rolled back with it, schema_migrations records
 * exactly the migrations whose tables all exist (SQLite: all of 2..6 in one transaction, so
 * none; PostgreSQL: one transaction each, so 2..5), and the next start completes them. */
static void
test_interrupted_migration_rolls_back_dur010(void **state)
{
    static const char *const marker[] = {
        NULL,   "connections", "connection_operations", "oauth_states", "oauth_revocations",
        "runs", "sessions"};
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct store *st2 = NULL;
    struct side *db;
    int64_t max;

    db = rewind_to_schema1(f);
    side_exec(db, "CREATE TABLE login_failures (planted INTEGER)");
    side_close(db);
    assert_int_not_equal(store_open(f->db.url, &st2, &ei), ERR_OK);
    assert_null(st2);

    db = side_open(f);
    max = side_int(db, "SELECT max(version) FROM schema_migrations");
    assert_int_equal(max, g_pg ? 5 : 1);
    for (int64_t v = 1; v <= 6; v++)
        if (side_has_table(db, marker[v]) != (v <= max))
            fail_msg("DUR-010: migration %lld recorded=%d but its table %s exists=%d", (long long)v,
                     v <= max, marker[v], side_has_table(db, marker[v]));
    assert_false(side_has_table(db, "user_passwords")); /* migration 6's first statement */
    side_exec(db, "DROP TABLE login_failures");
    side_close(db);

    assert_int_equal(store_open(f->db.url, &f->st, &ei), ERR_OK);
    db = side_open(f);
    assert_int_equal(side_int(db, "SELECT max(version) FROM schema_migrations"), 8);
    for (int64_t v = 1; v <= 6; v++)
        assert_true(side_has_table(db, marker[v]));
    assert_int_equal(side_int(db, "SELECT count(*) FROM login_failures WHERE window_start = 0"), 0);
    side_close(db);
}

/* DUR-004: the disk fills up (SQLITE_FULL, as ENOSPC) or a write fails (SQLITE_IOERR_WRITE, as
 * EIO) while a connection and its secrets are written: the write fails as a store error (a
 * 5xx), nothing of it is left (no row, no secret), and once writing works again so does the
 * store, on the same connection, with an intact database. SQLite only (the faulty layer is a
 * SQLite VFS). */
static void
test_failed_writes_leave_nothing_dur004(void **state)
{
    static const struct {
        int rc;
        const char *id;
    } cases[] = {{SQLITE_FULL, "conn_full"}, {SQLITE_IOERR_WRITE, "conn_eio"}};
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct sealed_set sec = {0};
    struct conn_row r;
    struct side *db;
    char text[32];

    store_close(f->st);
    f->st = NULL;
    assert_int_equal(faultvfs_install(), 0);
    assert_int_equal(store_open(f->db.url, &f->st, &ei), ERR_OK); /* on the faulty layer */
    set_add(&sec, "auth.username", 0x01020304, "u");
    set_add(&sec, "auth.password", 0x01020304, "p");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned before = faultvfs_refused();
        enum err e;

        mk_row(&r, cases[i].id, f->ws1, f->u1, cases[i].id, cases[i].id, "http");
        faultvfs_fail(cases[i].rc);
        e = store_conn_insert(f->st, &r, NULL, 0, NULL, &sec, &ei);
        faultvfs_fail(0);
        assert_int_equal(e, ERR_STORE);
        assert_int_equal(err_http_status(e), 500);
        if (cases[i].rc == SQLITE_FULL)
            assert_string_equal(ei.code, "store_full");
        assert_true(faultvfs_refused() > before);
        /* no partial row */
        assert_int_equal(store_conn_get(f->st, f->ws1, cases[i].id, &r, &ei), ERR_NOT_FOUND);
        assert_int_equal(nsecrets(f, f->ws1, cases[i].id), 0);
        /* space is back: the same write succeeds on the same store */
        mk_row(&r, cases[i].id, f->ws1, f->u1, cases[i].id, cases[i].id, "http");
        assert_int_equal(store_conn_insert(f->st, &r, NULL, 0, NULL, &sec, &ei), ERR_OK);
        assert_int_equal(nsecrets(f, f->ws1, cases[i].id), 2);
    }
    sealed_set_release(&sec);
    store_close(f->st);
    f->st = NULL;
    faultvfs_uninstall();

    db = side_open(f);
    side_text(db, "PRAGMA integrity_check", text, sizeof(text));
    assert_string_equal(text, "ok");
    assert_int_equal(side_int(db, "SELECT count(*) FROM connections"), 2);
    assert_int_equal(side_int(db, "SELECT count(*) FROM secrets"), 4);
    side_close(db);
    assert_int_equal(store_open(f->db.url, &f->st, &ei), ERR_OK);
}

/* TEN-013: the database itself refuses a row of workspace 1 that names a connection of
 * workspace 2 (accounts, participant invites), on insert and on update; the same row naming
 * its own workspace's connection is taken (PostgreSQL: composite foreign keys; SQLite:
 * triggers of migration 7). */
static void
test_cross_workspace_reference_refused_ten013(void **state)
{
    struct fx *f = *state;
    struct side *db;
    char sql[512];

    insert(f, "conn_w1", f->ws1, "One", "one", "http", NULL);
    insert(f, "conn_w2", f->ws2, "Two", "two", "http", NULL);
    db = side_open(f);
    for (int ok = 0; ok < 2; ok++) {
        const char *conn = ok ? "conn_w1" : "conn_w2";
        snprintf(sql, sizeof(sql),
                 "INSERT INTO accounts (workspace_id, kind, holder, connection_id, method, "
                 "created_at, updated_at) VALUES (%lld, 'account', 'u1', '%s', 'bearer', 1, 1)",
                 (long long)f->ws1, conn);
        if (side_try(db, sql) != (ok == 1))
            fail_msg("TEN-013: %s was %s", sql, ok ? "refused" : "taken");
        snprintf(sql, sizeof(sql),
                 "INSERT INTO participant_invites (token_hash, workspace_id, participant_id, "
                 "connection_id, created_by, expires_at) VALUES ('h-%s', %lld, 'p', '%s', 1, 1)",
                 conn, (long long)f->ws1, conn);
        if (side_try(db, sql) != (ok == 1))
            fail_msg("TEN-013: %s was %s", sql, ok ? "refused" : "taken");
    }
    /* an existing row moved onto the other workspace's connection, or to the other workspace */
    assert_false(side_try(db, "UPDATE accounts SET connection_id = 'conn_w2'"));
    assert_false(side_try(db, "UPDATE participant_invites SET connection_id = 'conn_w2'"));
    snprintf(sql, sizeof(sql), "UPDATE accounts SET workspace_id = %lld", (long long)f->ws2);
    assert_false(side_try(db, sql));
    assert_int_equal(side_int(db, "SELECT count(*) FROM accounts WHERE connection_id = 'conn_w1'"),
                     1);
    side_close(db);
}

/* Migration 2 moves operations kept in config (schema 1) into their rows. */
static void
test_migration2_moves_operations_dur010(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct op_row *got = NULL;
    struct conn_row r = {0};
    size_t n = 0;
    struct side *db;
    char sql[512];

    db = rewind_to_schema1(f);
    snprintf(sql, sizeof(sql),
             "INSERT INTO connections (id, workspace_id, owner_id, name, slug, service_type, "
             "auth_type, fulfillment, config, created_at, updated_at) VALUES ('conn_m', %lld, "
             "%lld, 'M', 'm', 'http', 'none', 'static', '{\"auth\":{\"type\":\"none\"},"
             "\"operations\":[{\"name\":\"y\",\"method\":\"GET\"},{\"name\":\"x\"}]}', 1, 1)",
             (long long)f->ws1, (long long)f->u1);
    side_exec(db, sql);
    side_close(db);

    assert_int_equal(store_open(f->db.url, &f->st, &ei), ERR_OK);
    assert_int_equal(store_ops_list(f->st, f->ws1, "conn_m", &got, &n, &ei), ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(got[0].name, "y");
    assert_string_equal(got[0].def, "{\"name\":\"y\",\"method\":\"GET\"}");
    assert_string_equal(got[1].name, "x");
    op_rows_free(got, n);
    assert_int_equal(store_conn_get(f->st, f->ws1, "conn_m", &r, &ei), ERR_OK);
    assert_null(strstr(r.config, "operations"));
    assert_non_null(strstr(r.config, "\"auth\""));
    assert_int_equal(r.op_count, -1);
    conn_row_release(&r);
}

/* ---- secrets: scan, CAS, key counts (rekey) ---- */

static void
test_secrets_scan(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct sealed_set s = {0};
    struct secret_row *rows = NULL;
    size_t n = 0;
    int64_t last;

    set_add(&s, "auth.a", 1, "1a");
    set_add(&s, "auth.b", 1, "1b");
    insert(f, "conn_1", f->ws1, "1", "one", "http", &s);
    sealed_set_release(&s);
    set_add(&s, "auth.z", 2, "2z");
    insert(f, "conn_2", f->ws2, "2", "two", "http", &s);
    sealed_set_release(&s);

    /* The scan is for rekey: it walks every workspace, in id order. */
    assert_int_equal(store_secrets_scan(f->st, 0, 2, &rows, &n, &ei), ERR_OK);
    assert_int_equal(n, 2);
    assert_true(rows[0].id < rows[1].id);
    assert_int_equal(rows[0].workspace_id, f->ws1);
    assert_string_equal(rows[0].kind, "connection");
    assert_string_equal(rows[0].owner_id, "conn_1");
    assert_string_equal(rows[0].field, "auth.a");
    assert_int_equal(rows[0].len, 7);
    assert_memory_equal(rows[0].data + 5, "1a", 2);
    last = rows[1].id;
    secret_rows_free(rows, n);

    assert_int_equal(store_secrets_scan(f->st, last, 2, &rows, &n, &ei), ERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].workspace_id, f->ws2);
    assert_string_equal(rows[0].field, "auth.z");
    last = rows[0].id;
    secret_rows_free(rows, n);

    assert_int_equal(store_secrets_scan(f->st, last, 2, &rows, &n, &ei), ERR_OK);
    assert_int_equal(n, 0);
    secret_rows_free(rows, n);

    /* limit 0: nothing, and no crash. */
    assert_int_equal(store_secrets_scan(f->st, 0, 0, &rows, &n, &ei), ERR_OK);
    assert_int_equal(n, 0);
    secret_rows_free(rows, n);
}

static void
test_secret_cas(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct sealed_set s = {0}, got = {0};
    struct secret_row *rows = NULL;
    size_t n = 0, oldn, newn, stalen;
    unsigned char *old, *neu, *stale;
    bool swapped = true;
    char buf[64];
    int64_t id;

    set_add(&s, "auth.a", 0x11111111, "value-k1");
    insert(f, "conn_1", f->ws1, "1", "one", "http", &s);
    sealed_set_release(&s);
    assert_int_equal(store_secrets_scan(f->st, 0, 10, &rows, &n, &ei), ERR_OK);
    assert_int_equal(n, 1);
    id = rows[0].id;
    secret_rows_free(rows, n);

    old = mk_sealed(0x11111111, "value-k1", &oldn);
    neu = mk_sealed(0x22222222, "value-k2", &newn);
    stale = mk_sealed(0x11111111, "value-xx", &stalen);

    /* Stale old value: no swap, value unchanged. */
    assert_int_equal(
        store_secret_cas(f->st, id, stale, stalen, 0x33333333, neu, newn, &swapped, &ei), ERR_OK);
    assert_false(swapped);
    /* Unknown row id: no swap. */
    swapped = true;
    assert_int_equal(
        store_secret_cas(f->st, id + 1000, old, oldn, 0x22222222, neu, newn, &swapped, &ei),
        ERR_OK);
    assert_false(swapped);
    assert_int_equal(store_secrets_get(f->st, f->ws1, "connection", "conn_1", &got, &ei), ERR_OK);
    assert_string_equal(payload_of(&got, "auth.a", buf, sizeof(buf)), "value-k1");
    sealed_set_release(&got);

    /* Current old value: swapped. */
    assert_int_equal(store_secret_cas(f->st, id, old, oldn, 0x22222222, neu, newn, &swapped, &ei),
                     ERR_OK);
    assert_true(swapped);
    assert_int_equal(store_secrets_get(f->st, f->ws1, "connection", "conn_1", &got, &ei), ERR_OK);
    assert_string_equal(payload_of(&got, "auth.a", buf, sizeof(buf)), "value-k2");
    sealed_set_release(&got);

    /* CRY-022: replaying the same CAS (old is now stale) does not swap back. */
    assert_int_equal(store_secret_cas(f->st, id, old, oldn, 0x11111111, old, oldn, &swapped, &ei),
                     ERR_OK);
    assert_false(swapped);
    free(old);
    free(neu);
    free(stale);
}

static void
test_secret_key_counts(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct sealed_set s = {0};
    struct key_count *kc = NULL;
    size_t n = 9;
    struct secret_row *rows = NULL;
    size_t nr = 0;
    bool swapped = false;

    assert_int_equal(store_secret_key_counts(f->st, &kc, &n, &ei), ERR_OK);
    assert_int_equal(n, 0);
    free(kc);

    set_add(&s, "auth.a", 0x01020304, "x");
    set_add(&s, "auth.b", 0x01020304, "y");
    set_add(&s, "auth.c", 0xA0B0C0D0, "z"); /* above INT32_MAX: must not go negative */
    insert(f, "conn_1", f->ws1, "1", "one", "http", &s);
    sealed_set_release(&s);
    set_add(&s, "auth.a", 0x01020304, "w");
    insert(f, "conn_2", f->ws2, "2", "two", "http", &s);
    sealed_set_release(&s);

    assert_int_equal(store_secret_key_counts(f->st, &kc, &n, &ei), ERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(kc[0].key_id, 0x01020304u);
    assert_int_equal(kc[0].count, 3);
    assert_int_equal(kc[1].key_id, 0xA0B0C0D0u);
    assert_int_equal(kc[1].count, 1);
    free(kc);

    /* A CAS moves a row to the new key id. */
    assert_int_equal(store_secrets_scan(f->st, 0, 1, &rows, &nr, &ei), ERR_OK);
    assert_int_equal(nr, 1);
    {
        size_t nn;
        unsigned char *neu = mk_sealed(0x0000beef, "x2", &nn);
        assert_int_equal(store_secret_cas(f->st, rows[0].id, rows[0].data, rows[0].len, 0x0000beef,
                                          neu, nn, &swapped, &ei),
                         ERR_OK);
        free(neu);
    }
    secret_rows_free(rows, nr);
    assert_true(swapped);
    assert_int_equal(store_secret_key_counts(f->st, &kc, &n, &ei), ERR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(kc[0].key_id, 0x0000beefu);
    assert_int_equal(kc[0].count, 1);
    assert_int_equal(kc[1].key_id, 0x01020304u);
    assert_int_equal(kc[1].count, 2);
    free(kc);

    /* Deleting a connection drops its rows from the counts. */
    assert_int_equal(store_conn_delete(f->st, f->ws2, "conn_2", &ei), ERR_OK);
    assert_int_equal(store_secret_key_counts(f->st, &kc, &n, &ei), ERR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(kc[1].count, 1);
    free(kc);
}

/* sealed_set helpers: find, add copies the field and takes the data. */
static void
test_sealed_set_helpers(void **state)
{
    struct sealed_set s = {0};
    char field[16] = "auth.x";
    (void)state;

    set_add(&s, field, 1, "p");
    field[5] = 'y'; /* the set holds its own copy */
    assert_non_null(sealed_set_find(&s, "auth.x"));
    assert_null(sealed_set_find(&s, "auth.y"));
    assert_null(sealed_set_find(&s, "auth"));
    sealed_set_release(&s);
    assert_null(s.v);
    assert_int_equal(s.n, 0);
    sealed_set_release(&s); /* twice is fine */
    conn_rows_free(NULL, 0);
    secret_rows_free(NULL, 0);
    string_list_free(NULL, 0);
}

/* ---- OAuth: states, token metadata, leases, providers ---- */

static void
test_oauth_state_single_use(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    unsigned char verifier[5] = {'v', 0, 'x', 0xff, 0};
    struct oauth_state_row in = {0}, out = {0};

    snprintf(in.state_hash, sizeof(in.state_hash), "%064d", 7);
    in.provider_id = (char *)"peer";
    in.workspace_id = f->ws1;
    in.user_id = f->u1;
    in.connection_id = (char *)"conn_s";
    in.tiers = (char *)"user,repo";
    in.redirect_uri = (char *)"http://127.0.0.1/cb";
    in.verifier = verifier;
    in.verifier_len = sizeof(verifier);
    in.expires_at = 1234;
    assert_int_equal(store_oauth_state_put(f->st, &in, &ei), ERR_OK);
    assert_int_equal(store_oauth_state_put(f->st, &in, &ei), ERR_CONFLICT);

    assert_int_equal(store_oauth_state_take(f->st, in.state_hash, &out, &ei), ERR_OK);
    assert_string_equal(out.state_hash, in.state_hash);
    assert_string_equal(out.provider_id, "peer");
    assert_int_equal(out.workspace_id, f->ws1);
    assert_int_equal(out.user_id, f->u1);
    assert_string_equal(out.connection_id, "conn_s");
    assert_string_equal(out.tiers, "user,repo");
    assert_string_equal(out.redirect_uri, "http://127.0.0.1/cb");
    assert_int_equal(out.verifier_len, sizeof(verifier)); /* binary, NULs included */
    assert_memory_equal(out.verifier, verifier, sizeof(verifier));
    assert_int_equal(out.expires_at, 1234);
    oauth_state_row_release(&out);
    /* single use */
    assert_int_equal(store_oauth_state_take(f->st, in.state_hash, &out, &ei), ERR_NOT_FOUND);
    assert_string_equal(ei.code, "unknown_state");
    assert_null(out.provider_id);
}

static void
oauth_conn(struct fx *f)
{
    insert(f, "conn_o", f->ws1, "O", "o", "http", NULL);
}

static void
tokens_v(struct sealed_set *s, const char *access)
{
    set_add(s, "oauth.access_token", 1, access);
    set_add(s, "oauth.refresh_token", 1, "refresh");
}

static void
test_oauth_commit_and_lease(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct oauth_meta m = {0}, in = {0};
    struct sealed_set tok = {0}, got = {0};
    bool ok = true;
    char buf[64];

    oauth_conn(f);
    assert_int_equal(store_oauth_meta_get(f->st, f->ws1, "conn_o", &m, &ei), ERR_NOT_FOUND);
    assert_string_equal(ei.code, "not_connected");
    in.provider_id = (char *)"peer";
    in.scopes = (char *)"a b";
    in.tiers = (char *)"user";
    in.obtained_at = 1000;
    in.expires_at = 5000;
    tokens_v(&tok, "at-1");
    assert_int_equal(store_oauth_commit(f->st, f->ws1, "conn_o", &in, &tok, -1, &ok, &ei), ERR_OK);
    assert_true(ok);
    sealed_set_release(&tok);
    assert_int_equal(store_oauth_meta_get(f->st, f->ws1, "conn_o", &m, &ei), ERR_OK);
    assert_int_equal(m.version, 1);
    assert_string_equal(m.health, "healthy");
    assert_string_equal(m.scopes, "a b");
    assert_null(m.lease_owner);
    assert_int_equal(m.last_success_at, 1000);
    oauth_meta_release(&m);
    /* TEN-002: another workspace sees no tokens */
    assert_int_equal(store_oauth_meta_get(f->st, f->ws2, "conn_o", &m, &ei), ERR_NOT_FOUND);

    /* the lease: one owner at a time, only at the current version */
    assert_int_equal(store_oauth_lease(f->st, f->ws1, "conn_o", "A", 0, 2000, 3000, &ok, &ei),
                     ERR_OK);
    assert_false(ok); /* stale version */
    assert_int_equal(store_oauth_lease(f->st, f->ws1, "conn_o", "A", 1, 2000, 3000, &ok, &ei),
                     ERR_OK);
    assert_true(ok);
    assert_int_equal(store_oauth_lease(f->st, f->ws1, "conn_o", "B", 1, 2500, 3500, &ok, &ei),
                     ERR_OK);
    assert_false(ok); /* held by A until 3000 */
    assert_int_equal(store_oauth_lease(f->st, f->ws1, "conn_o", "A", 1, 2600, 3600, &ok, &ei),
                     ERR_OK);
    assert_true(ok); /* the holder renews */
    assert_int_equal(store_oauth_lease(f->st, f->ws2, "conn_o", "B", 1, 9000, 9900, &ok, &ei),
                     ERR_OK);
    assert_false(ok); /* another workspace never */
    assert_int_equal(store_oauth_lease(f->st, f->ws1, "conn_o", "B", 1, 3601, 4000, &ok, &ei),
                     ERR_OK);
    assert_true(ok); /* expired: B takes it */

    /* commit at a stale version: refused, nothing written */
    tokens_v(&tok, "at-stale");
    assert_int_equal(store_oauth_commit(f->st, f->ws1, "conn_o", &in, &tok, 0, &ok, &ei),
                     ERR_CONFLICT);
    assert_false(ok);
    sealed_set_release(&tok);
    /* commit at the version seen: version 2, lease cleared, refreshes added */
    in.refreshes = 1;
    tokens_v(&tok, "at-2");
    assert_int_equal(store_oauth_commit(f->st, f->ws1, "conn_o", &in, &tok, 1, &ok, &ei), ERR_OK);
    assert_true(ok);
    sealed_set_release(&tok);
    assert_int_equal(store_oauth_meta_get(f->st, f->ws1, "conn_o", &m, &ei), ERR_OK);
    assert_int_equal(m.version, 2);
    assert_int_equal(m.refreshes, 1);
    assert_null(m.lease_owner);
    assert_int_equal(m.lease_until, 0);
    oauth_meta_release(&m);
    assert_int_equal(store_secrets_get(f->st, f->ws1, "connection", "conn_o", &got, &ei), ERR_OK);
    assert_string_equal(payload_of(&got, "oauth.access_token", buf, sizeof(buf)), "at-2");
    sealed_set_release(&got);

    assert_int_equal(
        store_oauth_health(f->st, f->ws1, "conn_o", "needs_reauth", "invalid_grant", &ei), ERR_OK);
    assert_int_equal(store_oauth_meta_get(f->st, f->ws1, "conn_o", &m, &ei), ERR_OK);
    assert_string_equal(m.health, "needs_reauth");
    assert_string_equal(m.last_error, "invalid_grant");
    oauth_meta_release(&m);
    /* deleting the connection takes its token metadata along */
    assert_int_equal(store_conn_delete(f->st, f->ws1, "conn_o", &ei), ERR_OK);
    assert_int_equal(store_oauth_meta_get(f->st, f->ws1, "conn_o", &m, &ei), ERR_NOT_FOUND);
}

static void
test_oauth_providers(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    char *def = NULL, *cid = NULL;
    struct op_row *rows = NULL;
    size_t n = 0;

    assert_int_equal(store_oauth_provider_get(f->st, "zz", &def, &cid, &ei), ERR_NOT_FOUND);
    assert_string_equal(ei.code, "provider_not_found");
    assert_int_equal(store_oauth_provider_put(f->st, "zz", "{\"v\":1}", "client-1", &ei), ERR_OK);
    assert_int_equal(store_oauth_provider_put(f->st, "aa", "{\"v\":2}", NULL, &ei), ERR_OK);
    /* a put without client_id keeps the one stored */
    assert_int_equal(store_oauth_provider_put(f->st, "zz", "{\"v\":3}", NULL, &ei), ERR_OK);
    assert_int_equal(store_oauth_provider_get(f->st, "zz", &def, &cid, &ei), ERR_OK);
    assert_string_equal(def, "{\"v\":3}");
    assert_string_equal(cid, "client-1");
    free(def);
    free(cid);
    assert_int_equal(store_oauth_provider_get(f->st, "aa", &def, NULL, &ei), ERR_OK);
    free(def);
    assert_int_equal(store_oauth_provider_list(f->st, &rows, &n, &ei), ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].name, "aa");
    assert_string_equal(rows[1].name, "zz");
    op_rows_free(rows, n);
    assert_int_equal(store_oauth_provider_delete(f->st, "aa", &ei), ERR_OK);
    assert_int_equal(store_oauth_provider_delete(f->st, "aa", &ei), ERR_NOT_FOUND);
    assert_int_equal(store_oauth_provider_list(f->st, &rows, &n, &ei), ERR_OK);
    assert_int_equal(n, 1);
    op_rows_free(rows, n);
}

/* LEAK-012: a secret write the database refuses (a constraint planted
 * through the side handle; on PostgreSQL its DETAIL would quote the failing
 * row) fails with an error and a log line that hold no bound value. */
static void
test_secret_write_error_leak012(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct side *db = side_open(f);
    static const char canary[] = "CANARY_leak012_6f1d2c0e9b8a47d3a5e4f0c1b2d3e4f5";
    char hex[2 * sizeof(canary) + 1], logged[8192];
    char path[] = "/tmp/leak012-XXXXXX";
    int fd = mkstemp(path);
    size_t len;
    unsigned char *d = mk_sealed(7, canary, &len);
    ssize_t n;

    assert_true(fd >= 0);
    unlink(path);
    if (g_pg)
        side_exec(db, "ALTER TABLE secrets ADD CONSTRAINT forced CHECK (length(sealed) < 5)");
    else
        side_exec(db, "CREATE TRIGGER forced BEFORE INSERT ON secrets "
                      "BEGIN SELECT RAISE(ABORT, 'forced'); END");
    log_set_fd(fd);
    assert_int_not_equal(
        store_secret_put(f->st, f->ws1, "connection", "conn_leak", "token", d, len, &ei), ERR_OK);
    log_set_fd(2);
    n = pread(fd, logged, sizeof(logged) - 1, 0);
    close(fd);
    logged[n > 0 ? n : 0] = '\0';
    assert_non_null(strstr(logged, "store."));      /* the failure was logged */
    for (size_t i = 0; i < sizeof(canary) - 1; i++) /* hex of the payload (PG bytea text) */
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)canary[i]);
    assert_null(strstr(ei.msg, canary));
    assert_null(strstr(ei.msg, hex));
    assert_null(strstr(logged, canary));
    assert_null(strstr(logged, hex));
    assert_null(strstr(logged, "conn_leak"));
    free(d);
    side_close(db);
}

static void
test_secret_put_delete_ten002(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct sealed_set got = {0};
    size_t len;
    unsigned char *d = mk_sealed(5, "svc-key", &len);
    bool deleted = false;
    char buf[32];

    assert_int_equal(store_secret_put(f->st, f->ws1, "service", "openai", "key", d, len, &ei),
                     ERR_OK);
    free(d);
    d = mk_sealed(6, "svc-key-2", &len);
    assert_int_equal(store_secret_put(f->st, f->ws1, "service", "openai", "key", d, len, &ei),
                     ERR_OK);
    free(d);
    assert_int_equal(store_secrets_get(f->st, f->ws1, "service", "openai", &got, &ei), ERR_OK);
    assert_int_equal(got.n, 1);
    assert_string_equal(payload_of(&got, "key", buf, sizeof(buf)), "svc-key-2");
    sealed_set_release(&got);
    assert_int_equal(store_secrets_get(f->st, f->ws2, "service", "openai", &got, &ei), ERR_OK);
    assert_int_equal(got.n, 0);
    assert_int_equal(store_secret_delete(f->st, f->ws2, "service", "openai", "key", &deleted, &ei),
                     ERR_OK);
    assert_false(deleted);
    assert_int_equal(store_secret_delete(f->st, f->ws1, "service", "openai", "key", &deleted, &ei),
                     ERR_OK);
    assert_true(deleted);
    assert_int_equal(store_secret_delete(f->st, f->ws1, "service", "openai", "key", &deleted, &ei),
                     ERR_OK);
    assert_false(deleted);
}

/* ---- concurrency: separate connections, as separate servers have ---- */

#define RACERS 6

struct racer {
    const char *url;
    pthread_barrier_t *go;
    int64_t ws;
    int what; /* 0 open, 1 lease, 2 commit, 3 take state */
    enum err e;
    bool won;
};

static void *
race(void *arg)
{
    struct racer *r = arg;
    struct store *st = NULL;
    struct errinfo ei = {0};
    char owner[16];

    if (r->what != 0 && store_open(r->url, &st, &ei) != ERR_OK) {
        r->e = ERR_STORE;
        pthread_barrier_wait(r->go);
        return NULL;
    }
    snprintf(owner, sizeof(owner), "w%p", arg);
    pthread_barrier_wait(r->go);
    if (r->what == 0) {
        r->e = store_open(r->url, &st, &ei);
        r->won = r->e == ERR_OK;
    } else if (r->what == 1) {
        r->e = store_oauth_lease(st, r->ws, "conn_o", owner, 1, 1000, 60000, &r->won, &ei);
    } else if (r->what == 2) {
        struct oauth_meta m = {(char *)"peer"};
        struct sealed_set tok = {0};
        tokens_v(&tok, owner);
        r->e = store_oauth_commit(st, r->ws, "conn_o", &m, &tok, 1, &r->won, &ei);
        if (r->e == ERR_CONFLICT)
            r->e = ERR_OK; /* the loser's answer */
        sealed_set_release(&tok);
    } else {
        struct oauth_state_row out = {0};
        r->e = store_oauth_state_take(st, "race", &out, &ei);
        r->won = r->e == ERR_OK;
        if (r->e == ERR_NOT_FOUND)
            r->e = ERR_OK;
        oauth_state_row_release(&out);
    }
    store_close(st);
    return NULL;
}

/* Starts RACERS threads doing `what` at once on url; returns how many won. */
static int
run_race(const char *url, int64_t ws, int what)
{
    pthread_t t[RACERS];
    struct racer r[RACERS];
    pthread_barrier_t go;
    int won = 0;

    pthread_barrier_init(&go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        r[i] = (struct racer){url, &go, ws, what, ERR_OK, false};
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].e, ERR_OK);
        won += r[i].won;
    }
    pthread_barrier_destroy(&go);
    return won;
}

/* OAU-style races across connections: one lease, one commit, one state take. */
static void
test_races_have_one_winner(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct oauth_meta in = {(char *)"peer"};
    struct sealed_set tok = {0};
    struct oauth_state_row st = {"race"};
    unsigned char v[1] = {1};
    bool ok = false;

    oauth_conn(f);
    tokens_v(&tok, "at-1");
    assert_int_equal(store_oauth_commit(f->st, f->ws1, "conn_o", &in, &tok, -1, &ok, &ei), ERR_OK);
    sealed_set_release(&tok);
    assert_int_equal(run_race(f->db.url, f->ws1, 1), 1);
    assert_int_equal(run_race(f->db.url, f->ws1, 2), 1);
    st.provider_id = st.connection_id = st.tiers = st.redirect_uri = (char *)"x";
    st.verifier = v;
    st.verifier_len = 1;
    assert_int_equal(store_oauth_state_put(f->st, &st, &ei), ERR_OK);
    assert_int_equal(run_race(f->db.url, f->ws1, 3), 1);
}

/* Servers starting together on an empty database: every open succeeds and
 * each migration is applied once (PostgreSQL: the advisory lock). */
static void
test_concurrent_open_migrates_once(void **state)
{
    struct fx *f = *state;
    struct fx g = *f;
    struct side *db;

    assert_int_equal(testdb_create(&g.db, g_pg, "fresh"), 0);
    assert_int_equal(run_race(g.db.url, 0, 0), RACERS);
    db = side_open(&g);
    assert_int_equal(side_int(db, "SELECT count(*) FROM schema_migrations"),
                     side_int(db, "SELECT max(version) FROM schema_migrations"));
    assert_int_equal(side_int(db, "SELECT count(DISTINCT version) FROM schema_migrations"),
                     side_int(db, "SELECT count(*) FROM schema_migrations"));
    side_close(db);
    testdb_destroy(&g.db);
}

/* ---- PostgreSQL only ---- */

/* The server drops the store's connection (restart, failover): a read
 * reconnects and succeeds at once; a write that meets a dropped connection
 * fails with ERR_UNAVAILABLE (503: it may or may not have been applied), and
 * the next call works. */
static int64_t
kill_store_connections(struct fx *f)
{
    struct side *db = side_open(f);
    int64_t n = side_int(db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             "WHERE application_name = 'connhub' AND pid <> pg_backend_pid()");
    side_close(db);
    return n;
}

static void
test_pg_reconnects(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    int64_t n = 0, id = 0;
    enum err e;

    assert_int_equal(store_user_count(f->st, &n, &ei), ERR_OK);
    assert_true(kill_store_connections(f) >= 1);
    n = 0;
    assert_int_equal(store_user_count(f->st, &n, &ei), ERR_OK); /* a read: retried */
    assert_int_equal(n, 2);

    assert_true(kill_store_connections(f) >= 1);
    e = store_user_add(f->st, "erin", false, &id, &ei);
    if (e != ERR_OK) {
        assert_int_equal(e, ERR_UNAVAILABLE);
        assert_string_equal(ei.code, "store_unavailable");
        assert_int_equal(store_user_add(f->st, "erin", false, &id, &ei), ERR_OK);
    }
    assert_int_equal(store_user_count(f->st, &n, &ei), ERR_OK);
    assert_int_equal(n, 3);
}

/* OAUTH-025, DUR-007 (PostgreSQL): the transaction that commits new OAuth tokens runs with
 * synchronous_commit = on even when the connection string (or the role, or the database) turns
 * it off, and still after a reconnect. A trigger records the setting inside that transaction. */
static void
test_pg_token_commit_is_synchronous_oauth025(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct oauth_meta in = {0};
    struct sealed_set tok = {0};
    struct store *st2 = NULL;
    struct side *db = side_open(f);
    char url[600], seen[64];
    bool ok = false;

    side_exec(db, "CREATE TABLE sc_seen (n SERIAL, v TEXT);"
                  "CREATE FUNCTION sc_rec() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  "INSERT INTO sc_seen (v) VALUES (current_setting('synchronous_commit')); "
                  "RETURN NEW; END $$;"
                  "CREATE TRIGGER sc_tokens AFTER INSERT OR UPDATE ON oauth_tokens FOR EACH ROW "
                  "EXECUTE FUNCTION sc_rec()");
    /* the session asks for asynchronous commits (testdb's URL ends in its options) */
    snprintf(url, sizeof(url), "%s%%20-csynchronous_commit%%3Doff", f->db.url);
    {
        PGconn *plain = PQconnectdb(url); /* the default really is off on such a session */
        PGresult *r;
        assert_int_equal(PQstatus(plain), CONNECTION_OK);
        r = PQexec(plain, "SHOW synchronous_commit");
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(r, 0, 0), "off");
        PQclear(r);
        PQfinish(plain);
    }
    assert_int_equal(store_open(url, &st2, &ei), ERR_OK);
    oauth_conn(f);
    in.provider_id = (char *)"peer";
    in.scopes = (char *)"a";
    in.tiers = (char *)"user";
    in.obtained_at = 1000;
    in.expires_at = 5000;
    tokens_v(&tok, "at-1");
    assert_int_equal(store_oauth_commit(st2, f->ws1, "conn_o", &in, &tok, -1, &ok, &ei), ERR_OK);
    assert_true(ok);
    side_text(db, "SELECT v FROM sc_seen ORDER BY n DESC LIMIT 1", seen, sizeof(seen));
    assert_string_equal(seen, "on");
    /* after the connection is lost and opened again */
    assert_true(kill_store_connections(f) >= 1);
    in.refreshes = 1;
    if (store_oauth_commit(st2, f->ws1, "conn_o", &in, &tok, 1, &ok, &ei) != ERR_OK)
        assert_int_equal(store_oauth_commit(st2, f->ws1, "conn_o", &in, &tok, 1, &ok, &ei), ERR_OK);
    assert_true(ok);
    assert_int_equal(side_int(db, "SELECT count(*) FROM sc_seen"), 2);
    side_text(db, "SELECT v FROM sc_seen ORDER BY n DESC LIMIT 1", seen, sizeof(seen));
    assert_string_equal(seen, "on");
    sealed_set_release(&tok);
    store_close(st2);
    side_close(db);
}

/* A wrong password: refused, and the password is in no message. */
static void
test_pg_wrong_password_not_echoed(void **state)
{
    char url[512];
    const char *at = strchr(g_pg + 13, '@');
    const char *colon = strchr(g_pg + 13, ':');
    struct store *st = NULL;
    struct errinfo ei = {0};
    (void)state;

    assert_non_null(at);
    assert_non_null(colon);
    snprintf(url, sizeof(url), "%.*s:wrong-pw-canary%s", (int)(colon - g_pg), g_pg, at);
    assert_int_equal(store_open(url, &st, &ei), ERR_STORE);
    assert_null(st);
    assert_string_equal(ei.code, "db_open_failed");
    assert_null(strstr(ei.msg, "wrong-pw-canary"));
    assert_non_null(strstr(ei.msg, "password authentication failed"));
}

/* connhub migrate's copy: every row and sealed byte, ids kept, sequences moved
 * past them, a non-empty target refused unless truncated. */
static void
test_pg_copy_from_sqlite(void **state)
{
    struct fx *f = *state;
    char dir[64] = "/tmp/connhub-ut-copy-XXXXXX", lite[128], p[160];
    struct store *src = NULL;
    struct errinfo ei = {0};
    struct copy_opts o = {0};
    struct copy_count *cc = NULL;
    struct sealed_set s = {0}, got = {0};
    struct conn_row r = {0};
    struct op_row ops[1] = {{(char *)"a", (char *)"{\"name\":\"a\"}"}};
    int64_t ws = 0, u = 0, u2 = 0;
    size_t n = 0;
    char buf[32];
    struct oauth_meta m = {0}, h = {0};
    struct account_row acct = {0};
    struct run_row run = {0};
    struct invite_row inv = {0};
    struct principal who = {0};
    const unsigned char sess[32] = {1, 2, 3};
    char *hash = NULL, token[65];
    int64_t t1 = 0, t2 = 0;
    struct side *db;
    bool ok = false;

    assert_non_null(mkdtemp(dir));
    snprintf(lite, sizeof(lite), "sqlite:%s/src.db", dir);
    assert_int_equal(store_open(lite, &src, &ei), ERR_OK);
    assert_int_equal(store_workspace_add(src, "w7", &ws, &ei), ERR_OK);
    assert_int_equal(store_user_add(src, "carol", false, &u, &ei), ERR_OK);
    assert_int_equal(store_member_set(src, ws, u, ROLE_ADMIN, &ei), ERR_OK);
    set_add(&s, "auth.token", 0xA0B0C0D0, "sealed-bytes");
    mk_row(&r, "conn_c", ws, u, "C", "c", "http");
    assert_int_equal(store_conn_insert(src, &r, ops, 1, "SPEC", &s, &ei), ERR_OK);
    sealed_set_release(&s);
    /* migration 4's columns and table travel too */
    m.provider_id = (char *)"peer";
    m.obtained_at = 1000;
    assert_int_equal(store_oauth_commit(src, ws, "conn_c", &m, NULL, -1, &ok, &ei), ERR_OK);
    h.health = (char *)"degraded";
    h.last_error_code = (char *)"temporarily_unavailable";
    h.total_failures = 7;
    h.health_changed_at = 4242;
    assert_int_equal(store_oauth_health_set(src, ws, "conn_c", &h, true, &ei), ERR_OK);
    assert_int_equal(store_oauth_revocation_add(src, ws, "conn_gone", "peer", "{}", &ei), ERR_OK);
    /* migrations 5 and 6: a personal account with its sealed value, a run, an onboarding
     * link, a password and a session */
    acct.workspace_id = ws;
    acct.kind = (char *)ACCOUNT_KIND_USER;
    acct.holder = (char *)"7";
    acct.connection_id = (char *)"conn_c";
    acct.method = (char *)"key";
    acct.tiers = (char *)"read";
    set_add(&s, "auth.token", 0xA0B0C0D1, "acct-sealed");
    assert_int_equal(store_account_put(src, &acct, &s, &ei), ERR_OK);
    sealed_set_release(&s);
    snprintf(run.id, sizeof(run.id), "run_1");
    run.workspace_id = ws;
    run.user_id = u;
    run.status = (char *)"succeeded";
    run.spec = (char *)"{}";
    run.state = (char *)"{\"steps\":{}}";
    run.created_at = 5;
    assert_int_equal(store_run_insert(src, &run, &ei), ERR_OK);
    snprintf(inv.token_hash, sizeof(inv.token_hash), "%064d", 3);
    inv.workspace_id = ws;
    inv.participant_id = (char *)"p1";
    inv.connection_id = (char *)"conn_c";
    inv.created_by = u;
    inv.expires_at = 99;
    assert_int_equal(store_invite_put(src, &inv, &ei), ERR_OK);
    assert_int_equal(store_password_set(src, u, "scrypt$hash", &ei), ERR_OK);
    assert_int_equal(store_session_add(src, sess, u, ws, 6, &ei), ERR_OK);
    store_close(src);

    /* the fixture's rows make the target non-empty: refused, then truncated */
    assert_int_equal(store_copy(lite, f->db.url, &o, &cc, &n, &ei), ERR_CONFLICT);
    assert_string_equal(ei.code, "target_not_empty");
    o.truncate = true;
    assert_int_equal(store_copy(lite, f->db.url, &o, &cc, &n, &ei), ERR_OK);
    assert_true(n >= 8);
    for (size_t i = 0; i < n; i++)
        if (cc[i].src != cc[i].dst)
            fail_msg("%s: %lld != %lld", cc[i].table, (long long)cc[i].src, (long long)cc[i].dst);
    free(cc);

    assert_int_equal(store_conn_get(f->st, ws, "conn_c", &r, &ei), ERR_OK);
    assert_string_equal(r.owner_name, "carol");
    conn_row_release(&r);
    assert_int_equal(store_secrets_get(f->st, ws, "connection", "conn_c", &got, &ei), ERR_OK);
    assert_string_equal(payload_of(&got, "auth.token", buf, sizeof(buf)), "sealed-bytes");
    assert_int_equal(sealed_key_of(&got, "auth.token"), 0xA0B0C0D0u);
    sealed_set_release(&got);
    assert_int_equal(store_user_add(f->st, "dave", false, &u2, &ei), ERR_OK);
    assert_true(u2 > u); /* the sequence continues after the copied ids */
    assert_int_equal(store_oauth_meta_get(f->st, ws, "conn_c", &m, &ei), ERR_OK);
    assert_string_equal(m.health, "degraded");
    assert_string_equal(m.last_error_code, "temporarily_unavailable");
    assert_int_equal(m.total_failures, 7);
    assert_int_equal(m.health_changed_at, 4242);
    oauth_meta_release(&m);
    db = side_open(f);
    assert_int_equal(side_int(db, "SELECT count(*) FROM oauth_revocations WHERE connection_id = "
                                  "'conn_gone'"),
                     1);
    side_close(db);
    assert_int_equal(store_oauth_revocation_add(f->st, ws, "conn_gone", "peer", "{}", &ei),
                     ERR_OK); /* its identity continues too */
    assert_int_equal(store_account_get(f->st, ws, ACCOUNT_KIND_USER, "7", "conn_c", &acct, &ei),
                     ERR_OK);
    assert_string_equal(acct.tiers, "read");
    account_row_release(&acct);
    assert_int_equal(store_secrets_get(f->st, ws, ACCOUNT_KIND_USER, "7:conn_c", &got, &ei),
                     ERR_OK);
    assert_string_equal(payload_of(&got, "auth.token", buf, sizeof(buf)), "acct-sealed");
    sealed_set_release(&got);
    assert_int_equal(store_run_get(f->st, ws, "run_1", &run, &ei), ERR_OK);
    assert_string_equal(run.status, "succeeded");
    run_row_release(&run);
    snprintf(token, sizeof(token), "%s", inv.token_hash); /* inv is also the output */
    assert_int_equal(store_invite_get(f->st, token, true, &inv, &ei), ERR_OK);
    assert_string_equal(inv.participant_id, "p1");
    invite_row_release(&inv);
    assert_int_equal(store_password_get(f->st, "carol", &u2, &hash, &ei), ERR_OK);
    assert_string_equal(hash, "scrypt$hash");
    free(hash);
    assert_int_equal(store_session_get(f->st, sess, &who, &t1, &t2, &ei), ERR_OK);
    assert_string_equal(who.user_name, "carol");
    assert_int_equal(t1, 6);

    snprintf(p, sizeof(p), "%s/src.db", dir);
    unlink(p);
    rmdir(dir);
}

/* store_read_begin/end: the reads of a scope share one snapshot (a row
 * another handle adds meanwhile is not seen), a write inside the scope ends
 * it and works (single statement, and a BEGIN IMMEDIATE transaction), reads
 * after the write are fresh, end is idempotent, and nothing stays open. */
static void
test_read_scope_snapshot_and_writes(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct user_row u;
    struct conn_row r;
    struct side *side = side_open(f);
    int64_t id = 0;

    store_read_begin(f->st);
    assert_int_equal(store_user_get(f->st, "alice", &u, &ei), ERR_OK);
    side_exec(side, "INSERT INTO users (name, platform_admin, created_at) VALUES ('carol', 0, 1)");
    assert_int_equal(store_user_get(f->st, "carol", &u, &ei), ERR_NOT_FOUND); /* one snapshot */
    assert_int_equal(store_user_add(f->st, "dave", false, &id, &ei), ERR_OK); /* ends it */
    assert_true(id > 0);
    assert_int_equal(store_user_get(f->st, "carol", &u, &ei), ERR_OK); /* fresh after the write */
    store_read_end(f->st);
    store_read_end(f->st); /* idempotent */

    store_read_begin(f->st);
    assert_int_equal(store_conn_get(f->st, f->ws1, "c_none", &r, &ei), ERR_NOT_FOUND);
    insert(f, "c_scope", f->ws1, "Scoped", "scoped", "custom", NULL); /* BEGIN IMMEDIATE inside */
    assert_int_equal(store_conn_get(f->st, f->ws1, "c_scope", &r, &ei), ERR_OK);
    conn_row_release(&r);
    store_read_end(f->st);

    /* no transaction left open: another handle can write at once */
    sqlite3_busy_timeout(side->lite, 0);
    side_exec(side, "INSERT INTO users (name, platform_admin, created_at) VALUES ('erin', 0, 1)");
    store_read_begin(f->st);
    assert_int_equal(store_user_get(f->st, "erin", &u, &ei), ERR_OK);
    store_read_end(f->st);
    store_read_begin(NULL); /* no-ops */
    store_read_end(NULL);
    side_close(side);
}

/* The memo (store/memo.h): inside read scopes the four hot reads (token,
 * connection, operation, sealed secrets) are answered from kept rows, and
 * every change is seen at the next scope: another connection's commit
 * (data_version), this connection's own write (total_changes), a deletion.
 * Reads outside a scope neither use nor fill it; the workspace is part of
 * every key (TEN-002). A scope after one that filled the memo, with no
 * commit since, is quick (no transaction, on SQLite); any commit (another
 * connection's, this one's) makes the next one a full one; a quick scope's
 * first miss opens the transaction and reads what is committed by then. */
static uint64_t
memo_hits(void)
{
    uint64_t h, m, q;
    store_memo_counts(&h, &m, &q);
    return h;
}

static uint64_t
quick_scopes(void)
{
    uint64_t h, m, q;
    store_memo_counts(&h, &m, &q);
    return q;
}

static void
scope_lookup(struct fx *f, const unsigned char *h, enum err want, struct principal *p)
{
    struct errinfo ei = {0};
    store_read_begin(f->st);
    assert_int_equal(store_token_lookup(f->st, h, p, &ei), want);
    store_read_end(f->st);
}

static void
test_memo_hot_reads_see_every_change(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct sealed_set sec = {0}, got = {0};
    struct op_row ops[1] = {{(char *)"get", (char *)"{\"v\":1}"}};
    struct conn_row r;
    struct principal p;
    struct side *side = side_open(f);
    unsigned char h[32];
    char buf[64], *def = NULL;
    uint64_t h0, q0;
    bool sqlite = strcmp(store_backend_name(f->st), "sqlite") == 0;

    fill_hash(h, 41);
    assert_int_equal(store_token_add(f->st, h, f->u1, f->ws1, "m", NULL, &ei), ERR_OK);
    set_add(&sec, "auth.token", 7, "one");
    mk_row(&r, "c_memo", f->ws1, f->u1, "Memo", "memo", "http");
    assert_int_equal(store_conn_insert(f->st, &r, ops, 1, NULL, &sec, &ei), ERR_OK);
    sealed_set_release(&sec);

    /* first scope reads, second is answered from the memo, without a transaction */
    scope_lookup(f, h, ERR_OK, &p);
    h0 = memo_hits();
    q0 = quick_scopes();
    scope_lookup(f, h, ERR_OK, &p);
    assert_int_equal(memo_hits(), h0 + 1);
    assert_int_equal(quick_scopes(), q0 + (sqlite ? 1 : 0));
    assert_int_equal(p.role, ROLE_ADMIN);

    /* outside a scope: no memo */
    h0 = memo_hits();
    assert_int_equal(store_token_lookup(f->st, h, &p, &ei), ERR_OK);
    assert_int_equal(memo_hits(), h0);

    /* another connection's commit: seen at once, by a full scope */
    side_exec(side, "UPDATE memberships SET role = 'member' WHERE user_id = (SELECT id FROM "
                    "users WHERE name = 'alice') AND workspace_id = (SELECT id FROM workspaces "
                    "WHERE slug = 'w1')");
    q0 = quick_scopes();
    scope_lookup(f, h, ERR_OK, &p);
    assert_int_equal(p.role, ROLE_MEMBER);
    assert_int_equal(quick_scopes(), q0);
    /* this connection's own write, between scopes */
    scope_lookup(f, h, ERR_OK, &p);
    assert_int_equal(store_member_set(f->st, f->ws1, f->u1, ROLE_ADMIN, &ei), ERR_OK);
    q0 = quick_scopes();
    scope_lookup(f, h, ERR_OK, &p);
    assert_int_equal(p.role, ROLE_ADMIN);
    assert_int_equal(quick_scopes(), q0);
    /* a quick scope whose next read misses: that read opens the transaction,
     * after another connection's commit inside the scope, and sees it */
    scope_lookup(f, h, ERR_OK, &p);
    q0 = quick_scopes();
    store_read_begin(f->st);
    assert_int_equal(store_token_lookup(f->st, h, &p, &ei), ERR_OK);
    assert_int_equal(quick_scopes(), q0 + (sqlite ? 1 : 0));
    side_exec(side, "INSERT INTO workspaces (slug, created_at) VALUES ('seen', 1)");
    {
        int64_t wid = 0;
        assert_int_equal(store_workspace_get(f->st, "seen", &wid, &ei), ERR_OK);
        assert_true(wid > 0);
    }
    store_read_end(f->st);
    /* a revoked token stops at the next request */
    side_exec(side, "DELETE FROM api_tokens WHERE label = 'm'");
    scope_lookup(f, h, ERR_UNAUTHORIZED, &p);

    /* connection, operation and secrets: kept, then changed elsewhere */
    for (int round = 0; round < 2; round++) {
        store_read_begin(f->st);
        h0 = memo_hits();
        assert_int_equal(store_conn_get(f->st, f->ws1, "c_memo", &r, &ei), ERR_OK);
        assert_string_equal(r.name, round == 0 ? "Memo" : "Renamed");
        conn_row_release(&r);
        assert_int_equal(store_conn_get_by_slug(f->st, f->ws1, "memo", &r, &ei), ERR_OK);
        conn_row_release(&r);
        assert_int_equal(store_op_get(f->st, f->ws1, "c_memo", "get", &def, &ei), ERR_OK);
        assert_string_equal(def, round == 0 ? "{\"v\":1}" : "{\"v\":2}");
        free(def);
        assert_int_equal(store_secrets_get(f->st, f->ws1, "connection", "c_memo", &got, &ei),
                         ERR_OK);
        assert_int_equal(got.n, 1);
        assert_string_equal(payload_of(&got, "auth.token", buf, sizeof(buf)),
                            round == 0 ? "one" : "two");
        sealed_set_release(&got);
        /* TEN-002: the same id in another workspace is not found, memo or not */
        assert_int_equal(store_conn_get(f->st, f->ws2, "c_memo", &r, &ei), ERR_NOT_FOUND);
        assert_int_equal(store_op_get(f->st, f->ws2, "c_memo", "get", &def, &ei), ERR_NOT_FOUND);
        store_read_end(f->st);
        if (round == 0) {
            /* the same reads again come from the memo */
            store_read_begin(f->st);
            h0 = memo_hits();
            assert_int_equal(store_conn_get(f->st, f->ws1, "c_memo", &r, &ei), ERR_OK);
            conn_row_release(&r);
            assert_int_equal(store_op_get(f->st, f->ws1, "c_memo", "get", &def, &ei), ERR_OK);
            free(def);
            assert_int_equal(store_secrets_get(f->st, f->ws1, "connection", "c_memo", &got, &ei),
                             ERR_OK);
            sealed_set_release(&got);
            assert_int_equal(memo_hits(), h0 + 3);
            store_read_end(f->st);
            side_exec(side, "UPDATE connections SET name = 'Renamed' WHERE id = 'c_memo'");
            side_exec(side, "UPDATE connection_operations SET def = '{\"v\":2}' WHERE "
                            "connection_id = 'c_memo'");
            side_exec(side, "UPDATE secrets SET sealed = X'010000000774776F' WHERE owner_id = "
                            "'c_memo'");
        }
    }
    /* a deleted connection is gone at the next scope */
    side_exec(side, "DELETE FROM secrets WHERE owner_id = 'c_memo'");
    side_exec(side, "DELETE FROM connection_operations WHERE connection_id = 'c_memo'");
    side_exec(side, "DELETE FROM connections WHERE id = 'c_memo'");
    store_read_begin(f->st);
    assert_int_equal(store_conn_get(f->st, f->ws1, "c_memo", &r, &ei), ERR_NOT_FOUND);
    assert_int_equal(store_secrets_get(f->st, f->ws1, "connection", "c_memo", &got, &ei), ERR_OK);
    assert_int_equal(got.n, 0);
    store_read_end(f->st);
    side_close(side);
}

/* DUR-008 at the store: a key is claimed once per (workspace, user); a second
 * claim gets the first one's request hash and connection id, and sees it done
 * once marked; another user or workspace has keys of its own (TEN-002); a
 * claim made before not_before is replaced (and pruned, whoever made it). */
static void
test_idempotency_keys_dur008(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    unsigned char k1[32], k2[32], r1[32], r2[32];
    struct idem_row prior;
    bool claimed = false;

    fill_hash(k1, 11);
    fill_hash(k2, 12);
    fill_hash(r1, 21);
    fill_hash(r2, 22);
    assert_int_equal(
        store_idem_claim(f->st, f->ws1, f->u1, k1, r1, "conn_a", 1000, 0, &claimed, &prior, &ei),
        ERR_OK);
    assert_true(claimed);
    assert_int_equal(
        store_idem_claim(f->st, f->ws1, f->u1, k1, r2, "conn_b", 2000, 0, &claimed, &prior, &ei),
        ERR_OK);
    assert_false(claimed);
    assert_memory_equal(prior.request_hash, r1, 32);
    assert_string_equal(prior.connection_id, "conn_a");
    assert_false(prior.done);
    assert_int_equal(store_idem_done(f->st, f->ws1, f->u1, k1, &ei), ERR_OK);
    assert_int_equal(
        store_idem_claim(f->st, f->ws1, f->u1, k1, r1, "conn_c", 3000, 0, &claimed, &prior, &ei),
        ERR_OK);
    assert_false(claimed);
    assert_true(prior.done);
    assert_string_equal(prior.connection_id, "conn_a");

    /* the same key of another user, or in another workspace, is another key */
    assert_int_equal(
        store_idem_claim(f->st, f->ws1, f->u2, k1, r1, "conn_d", 3000, 0, &claimed, &prior, &ei),
        ERR_OK);
    assert_true(claimed);
    assert_int_equal(
        store_idem_claim(f->st, f->ws2, f->u1, k1, r1, "conn_e", 3000, 0, &claimed, &prior, &ei),
        ERR_OK);
    assert_true(claimed);

    /* expired: a claim older than not_before is replaced, and others that old are pruned */
    assert_int_equal(
        store_idem_claim(f->st, f->ws1, f->u1, k2, r2, "conn_f", 5000, 0, &claimed, &prior, &ei),
        ERR_OK);
    assert_true(claimed);
    assert_int_equal(
        store_idem_claim(f->st, f->ws1, f->u1, k1, r2, "conn_g", 9000, 1001, &claimed, &prior, &ei),
        ERR_OK);
    assert_true(claimed); /* made at 1000 < 1001 */
    assert_int_equal(
        store_idem_claim(f->st, f->ws1, f->u1, k2, r1, "conn_h", 9000, 5000, &claimed, &prior, &ei),
        ERR_OK);
    assert_false(claimed); /* made at 5000, not before 5000: still held */
    assert_string_equal(prior.connection_id, "conn_f");
    {
        /* that last claim pruned the other user's and workspace's claims made at 3000 too */
        struct side *db = side_open(f);
        assert_int_equal(side_int(db, "SELECT count(*) FROM idempotency_keys"), 2);
        side_close(db);
    }
}

/* OAuth health columns (migration 4): written by store_oauth_health_set,
 * read back by store_oauth_meta_get, reset by a commit; the lease is released
 * only when asked; other workspaces see nothing (TEN-002). */
static void
test_oauth_health_revocations_provider_users(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct oauth_meta m = {0}, h = {0}, got = {0};
    struct conn_row r;
    bool ok = false;
    int64_t users = -1;
    struct side *db;

    mk_row(&r, "conn_oa", f->ws1, f->u1, "OA", "oa", "http");
    r.auth_type = (char *)"oauth2";
    r.config = (char *)"{\"auth\":{\"type\":\"oauth2\",\"provider\":\"peer\",\"tiers\":[]}}";
    assert_int_equal(store_conn_insert(f->st, &r, NULL, 0, NULL, NULL, &ei), ERR_OK);
    m.provider_id = (char *)"peer";
    m.tiers = (char *)"user";
    m.obtained_at = 1000;
    m.expires_at = 4000;
    assert_int_equal(store_oauth_commit(f->st, f->ws1, "conn_oa", &m, NULL, -1, &ok, &ei), ERR_OK);
    assert_true(ok);
    assert_int_equal(store_oauth_lease(f->st, f->ws1, "conn_oa", "me", 1, 2000, 9000, &ok, &ei),
                     ERR_OK);
    assert_true(ok);

    h.health = (char *)"degraded";
    h.last_error_code = (char *)"temporarily_unavailable";
    h.last_error = (char *)"try later";
    h.consecutive_failures = 2;
    h.total_failures = 5;
    h.last_success_at = 1000;
    h.last_failure_at = 3000;
    h.next_retry_at = 5000;
    h.health_changed_at = 3000;
    assert_int_equal(store_oauth_health_set(f->st, f->ws1, "conn_oa", &h, false, &ei), ERR_OK);
    assert_int_equal(store_oauth_meta_get(f->st, f->ws1, "conn_oa", &got, &ei), ERR_OK);
    assert_string_equal(got.health, "degraded");
    assert_string_equal(got.last_error_code, "temporarily_unavailable");
    assert_string_equal(got.last_error, "try later");
    assert_int_equal(got.consecutive_failures, 2);
    assert_int_equal(got.total_failures, 5);
    assert_int_equal(got.last_failure_at, 3000);
    assert_int_equal(got.next_retry_at, 5000);
    assert_int_equal(got.health_changed_at, 3000);
    assert_string_equal(got.lease_owner, "me"); /* not released */
    oauth_meta_release(&got);
    /* the same state again keeps the time of the change; the lease goes when asked */
    h.health_changed_at = 3500;
    assert_int_equal(store_oauth_health_set(f->st, f->ws1, "conn_oa", &h, true, &ei), ERR_OK);
    assert_int_equal(store_oauth_meta_get(f->st, f->ws1, "conn_oa", &got, &ei), ERR_OK);
    assert_int_equal(got.health_changed_at, 3000);
    assert_null(got.lease_owner);
    oauth_meta_release(&got);
    /* another workspace: nothing to read, nothing written */
    assert_int_equal(store_oauth_meta_get(f->st, f->ws2, "conn_oa", &got, &ei), ERR_NOT_FOUND);
    oauth_meta_release(&got);
    h.health = (char *)"needs_reauth";
    assert_int_equal(store_oauth_health_set(f->st, f->ws2, "conn_oa", &h, true, &ei), ERR_OK);
    /* a forced refresh's commit: counters reset, forced_refreshes counted, healthy again */
    m.forced_refreshes = 1;
    m.refreshes = 1;
    assert_int_equal(store_oauth_commit(f->st, f->ws1, "conn_oa", &m, NULL, 1, &ok, &ei), ERR_OK);
    assert_int_equal(store_oauth_meta_get(f->st, f->ws1, "conn_oa", &got, &ei), ERR_OK);
    assert_string_equal(got.health, "healthy");
    assert_null(got.last_error_code);
    assert_int_equal(got.consecutive_failures, 0);
    assert_int_equal(got.total_failures, 5);
    assert_int_equal(got.next_retry_at, 0);
    assert_int_equal(got.forced_refreshes, 1);
    assert_int_equal(got.refreshes, 1);
    assert_int_equal(got.health_changed_at, 1000);
    oauth_meta_release(&got);

    /* provider users: every workspace, oauth2 connections naming it */
    assert_int_equal(store_oauth_provider_users(f->st, "peer", &users, &ei), ERR_OK);
    assert_int_equal(users, 1);
    mk_row(&r, "conn_ob", f->ws2, f->u2, "OB", "ob", "http");
    r.auth_type = (char *)"oauth2";
    r.config = (char *)"{\"auth\":{\"type\":\"oauth2\",\"provider\":\"peer\",\"tiers\":[]}}";
    assert_int_equal(store_conn_insert(f->st, &r, NULL, 0, NULL, NULL, &ei), ERR_OK);
    assert_int_equal(store_oauth_provider_users(f->st, "peer", &users, &ei), ERR_OK);
    assert_int_equal(users, 2);
    assert_int_equal(store_oauth_provider_users(f->st, "other", &users, &ei), ERR_OK);
    assert_int_equal(users, 0);

    /* revocation outcomes outlive the connection */
    assert_int_equal(store_oauth_revocation_add(f->st, f->ws1, "conn_oa", "peer",
                                                "{\"refresh_token\":{\"outcome\":\"revoked\"}}",
                                                &ei),
                     ERR_OK);
    assert_int_equal(store_conn_delete(f->st, f->ws1, "conn_oa", &ei), ERR_OK);
    db = side_open(f);
    assert_int_equal(side_int(db,
                              "SELECT count(*) FROM oauth_revocations WHERE connection_id = "
                              "'conn_oa' AND provider_id = 'peer' AND outcome LIKE '%revoked%'"),
                     1);
    assert_int_equal(side_int(db, "SELECT count(*) FROM oauth_tokens WHERE connection_id = "
                                  "'conn_oa'"),
                     0);
    side_close(db);
}

/* ---- web sign-in: passwords, sessions, login failures ---- */

static void
test_sessions_and_passwords(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct principal who;
    unsigned char h1[32], h2[32], h3[32], h4[32];
    int64_t user = 0, ws = 0, created = 0, seen = 0;
    char *hash = (char *)1;
    struct side *db;

    memset(h1, 1, sizeof(h1));
    memset(h2, 2, sizeof(h2));
    memset(h3, 3, sizeof(h3));
    memset(h4, 4, sizeof(h4));
    assert_int_equal(store_password_get(f->st, "alice", &user, &hash, &ei), ERR_OK);
    assert_int_equal(user, f->u1);
    assert_null(hash); /* no password yet */
    assert_int_equal(store_password_get(f->st, "nobody", &user, &hash, &ei), ERR_NOT_FOUND);
    assert_int_equal(store_member_first(f->st, f->u1, &ws, &ei), ERR_OK);
    assert_int_equal(ws, f->ws1);

    assert_int_equal(store_session_add(f->st, h1, f->u1, f->ws1, 1000, &ei), ERR_OK);
    assert_int_equal(store_session_add(f->st, h2, f->u1, f->ws1, 2000, &ei), ERR_OK);
    assert_int_equal(store_session_add(f->st, h3, f->u2, f->ws2, 3000, &ei), ERR_OK);
    assert_int_equal(store_session_get(f->st, h1, &who, &created, &seen, &ei), ERR_OK);
    assert_int_equal(who.user_id, f->u1);
    assert_string_equal(who.user_name, "alice");
    assert_string_equal(who.workspace_slug, "w1");
    assert_int_equal(who.role, ROLE_ADMIN);
    assert_int_equal(created, 1000);
    assert_int_equal(seen, 1000);
    assert_int_equal(store_session_touch(f->st, h1, 1500, &ei), ERR_OK);
    assert_int_equal(store_session_get(f->st, h1, &who, &created, &seen, &ei), ERR_OK);
    assert_int_equal(created, 1000);
    assert_int_equal(seen, 1500);
    /* only the hash is kept: the table holds 32-byte blobs */
    db = side_open(f);
    assert_int_equal(side_int(db, "SELECT count(*) FROM sessions WHERE length(id_hash) = 32"), 3);
    /* the role is read at each lookup: a changed role shows, a removed member has no session */
    side_exec(db, "UPDATE memberships SET role = 'member' WHERE user_id = (SELECT id FROM users "
                  "WHERE name = 'alice')");
    assert_int_equal(store_session_get(f->st, h1, &who, &created, &seen, &ei), ERR_OK);
    assert_int_equal(who.role, ROLE_MEMBER);
    side_exec(db, "DELETE FROM memberships WHERE user_id = (SELECT id FROM users WHERE name = "
                  "'bob')");
    assert_int_equal(store_session_get(f->st, h3, &who, &created, &seen, &ei), ERR_UNAUTHORIZED);

    /* a password change ends every session of that user, and only of that user */
    assert_int_equal(store_member_set(f->st, f->ws1, f->u2, ROLE_MEMBER, &ei), ERR_OK);
    assert_int_equal(store_session_add(f->st, h4, f->u2, f->ws1, 3000, &ei), ERR_OK);
    assert_int_equal(store_password_set(f->st, f->u1, "$scrypt$x", &ei), ERR_OK);
    assert_int_equal(store_session_get(f->st, h1, &who, &created, &seen, &ei), ERR_UNAUTHORIZED);
    assert_int_equal(store_session_get(f->st, h2, &who, &created, &seen, &ei), ERR_UNAUTHORIZED);
    assert_int_equal(store_session_get(f->st, h4, &who, &created, &seen, &ei), ERR_OK);
    assert_string_equal(who.user_name, "bob");
    assert_int_equal(side_int(db, "SELECT count(*) FROM sessions WHERE user_id = (SELECT id FROM "
                                  "users WHERE name = 'alice')"),
                     0);
    assert_int_equal(store_password_get(f->st, "alice", &user, &hash, &ei), ERR_OK);
    assert_string_equal(hash, "$scrypt$x");
    free(hash);
    assert_int_equal(store_session_add(f->st, h2, f->u1, f->ws1, 4000, &ei), ERR_OK);
    assert_int_equal(store_session_delete(f->st, h2, &ei), ERR_OK);
    assert_int_equal(store_session_get(f->st, h2, &who, &created, &seen, &ei), ERR_UNAUTHORIZED);
    side_close(db);
}

static void
test_login_failures_window(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    int64_t n = -1;

    assert_int_equal(store_login_failures(f->st, "alice", 0, &n, &ei), ERR_OK);
    assert_int_equal(n, 0);
    for (int64_t i = 1; i <= 3; i++) {
        assert_int_equal(store_login_failure_add(f->st, "alice", 1000 + i, 0, &n, &ei), ERR_OK);
        assert_int_equal(n, i);
    }
    assert_int_equal(store_login_failure_add(f->st, "ghost", 1000, 0, &n, &ei), ERR_OK);
    assert_int_equal(n, 1);
    /* the window began at 1001: counted while since <= 1001, not after */
    assert_int_equal(store_login_failures(f->st, "alice", 1001, &n, &ei), ERR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(store_login_failures(f->st, "alice", 1002, &n, &ei), ERR_OK);
    assert_int_equal(n, 0);
    /* a failure after the window restarts at 1; old windows of other names are pruned */
    assert_int_equal(store_login_failure_add(f->st, "alice", 5000, 1002, &n, &ei), ERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_login_failures(f->st, "ghost", 0, &n, &ei), ERR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_login_failures_clear(f->st, "alice", &ei), ERR_OK);
    assert_int_equal(store_login_failures(f->st, "alice", 0, &n, &ei), ERR_OK);
    assert_int_equal(n, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest nodb[] = {
        cmocka_unit_test(test_open_url_table),     cmocka_unit_test(test_url_redact_table),
        cmocka_unit_test(test_data_dir_table),     cmocka_unit_test(test_role_name_parse_table),
        cmocka_unit_test(test_sealed_set_helpers),
    };
    const struct CMUnitTest sqlite_only[] = {
        T(test_pragmas_dur001),
        T(test_pragma_hook_refuses_non_identifiers),
        cmocka_unit_test(test_open_waits_out_a_writer_on_a_new_database),
        cmocka_unit_test(test_open_busy_retries_end_at_the_busy_timeout),
        T(test_read_scope_snapshot_and_writes),
        T(test_memo_hot_reads_see_every_change),
        T(test_failed_writes_leave_nothing_dur004),
    };
    /* Every backend. */
    const struct CMUnitTest both[] = {
        T(test_backend_name_and_file_mode),
        T(test_foreign_keys_enforced_dur001),
        T(test_migrations_applied_once),
        T(test_schema_too_new_refused),
        T(test_users),
        T(test_workspaces_and_members),
        T(test_tokens),
        T(test_token_of_removed_member_ten016),
        T(test_idempotency_keys_dur008),
        T(test_conn_insert_get),
        T(test_conn_null_base_url),
        T(test_conn_slug_conflict_is_atomic_dur005),
        T(test_conn_update_version_check),
        T(test_conn_update_secret_semantics),
        T(test_conn_update_refused_keeps_secrets),
        T(test_conn_delete_removes_secrets),
        T(test_other_workspace_is_not_found_ten002),
        T(test_list_filters_ten009),
        T(test_list_default_page_max_list_page),
        T(test_ops_insert_list_get_replace),
        T(test_ops_duplicate_name_is_atomic),
        T(test_ops_other_workspace_ten018),
        T(test_migration2_moves_operations_dur010),
        T(test_interrupted_migration_rolls_back_dur010),
        T(test_cross_workspace_reference_refused_ten013),
        T(test_secrets_scan),
        T(test_secret_cas),
        T(test_secret_key_counts),
        T(test_oauth_state_single_use),
        T(test_oauth_commit_and_lease),
        T(test_oauth_providers),
        T(test_secret_put_delete_ten002),
        T(test_secret_write_error_leak012),
        T(test_races_have_one_winner),
        T(test_concurrent_open_migrates_once),
        T(test_oauth_health_revocations_provider_users),
        T(test_sessions_and_passwords),
        T(test_login_failures_window),
    };
    const struct CMUnitTest pg_only[] = {
        T(test_pg_reconnects),
        T(test_pg_token_commit_is_synchronous_oauth025),
        cmocka_unit_test(test_pg_wrong_password_not_echoed),
        T(test_pg_copy_from_sqlite),
    };
    int rc = 0;

    rc |= cmocka_run_group_tests_name("store (no database)", nodb, NULL, NULL);
    rc |= cmocka_run_group_tests_name("store/sqlite", both, NULL, NULL);
    rc |= cmocka_run_group_tests_name("store/sqlite only", sqlite_only, NULL, NULL);
    g_pg = testdb_pg_base();
    if (g_pg == NULL) {
        printf("[  SKIPPED ] store/postgres: CONNHUB_TEST_PG is not set (make test sets it; "
               "or run under tools/with-pg)\n");
        return rc;
    }
    rc |= cmocka_run_group_tests_name("store/postgres", both, NULL, NULL);
    rc |= cmocka_run_group_tests_name("store/postgres only", pg_only, NULL, NULL);
    return rc;
}
