/* store (SQLite backend): open/URL handling, DUR-001 pragmas, migrations,
 * identities and tokens, connections CRUD with optimistic locking and secret
 * semantics, tenant isolation (TEN-002/009/012 at the store level), list
 * filters, the secrets scan/CAS used by rekey, key counts.
 *
 * Each test gets its own temp directory (mkdtemp) and database file; a second
 * sqlite3 handle is used to read what the store wrote and to plant rows the
 * API cannot make (a newer schema version, a lost membership). IDs from
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

#include <sqlite3.h>

#include "store/store.h"

/* ---- fixture ---- */

struct fx {
    char dir[64];
    char path[128];
    char url[160];
    struct store *st;
    int64_t ws1, ws2, u1, u2;
};

static void
fx_path(const struct fx *f, const char *suffix, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s%s", f->path, suffix);
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct errinfo ei = {0};

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/connhub-ut-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
    if (store_open(f->url, &f->st, &ei) != ERR_OK)
        return -1;
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
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[192];

    if (f == NULL)
        return 0;
    store_close(f->st);
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        fx_path(f, suffixes[i], p, sizeof(p));
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* A second handle on the same file (not the store's connection). */
static sqlite3 *
side_open(const struct fx *f)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void
side_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
}

static int64_t
side_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    int64_t v;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

static void
side_text(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
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
        {"postgres://localhost/x", ERR_INVALID, "backend_unavailable"},
        {"postgresql://localhost/x", ERR_INVALID, "backend_unavailable"},
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
    }
    store_close(NULL); /* NULL is fine */
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

    assert_string_equal(store_backend_name(f->st), "sqlite");
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

/* ---- DUR-001: pragmas ---- */

static void
test_pragmas_dur001(void **state)
{
    struct fx *f = *state;
    sqlite3 *db;
    char mode[32];
    int v = -1;

    /* journal_mode=WAL is persistent in the file: a separate handle sees it. */
    db = side_open(f);
    side_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
    assert_string_equal(mode, "wal");
    sqlite3_close(db);

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
    sqlite3 *db = side_open(f);
    int64_t n, max, applied;
    int64_t users;

    n = side_int(db, "SELECT count(*) FROM schema_migrations");
    max = side_int(db, "SELECT max(version) FROM schema_migrations");
    applied = side_int(db, "SELECT sum(applied_at) FROM schema_migrations");
    assert_true(n >= 1);
    assert_int_equal(n, max); /* 1..max, each once */
    assert_int_equal(side_int(db, "SELECT min(version) FROM schema_migrations"), 1);
    sqlite3_close(db);

    /* Reopen twice: nothing runs again (a rerun of migration 1 would fail on
     * CREATE TABLE users, and would add rows). Data survives. */
    for (int i = 0; i < 2; i++) {
        store_close(f->st);
        f->st = NULL;
        assert_int_equal(store_open(f->url, &f->st, &ei), ERR_OK);
    }
    assert_int_equal(store_user_count(f->st, &users, &ei), ERR_OK);
    assert_int_equal(users, 2);
    db = side_open(f);
    assert_int_equal(side_int(db, "SELECT count(*) FROM schema_migrations"), n);
    assert_int_equal(side_int(db, "SELECT sum(applied_at) FROM schema_migrations"), applied);
    sqlite3_close(db);
}

static void
test_schema_too_new_refused(void **state)
{
    struct fx *f = *state;
    struct errinfo ei = {0};
    struct store *st2 = (struct store *)0x1;
    sqlite3 *db;
    int64_t max;

    store_close(f->st);
    f->st = NULL;
    db = side_open(f);
    max = side_int(db, "SELECT max(version) FROM schema_migrations");
    side_exec(db, "INSERT INTO schema_migrations VALUES (9999, 1)");
    sqlite3_close(db);

    assert_int_equal(store_open(f->url, &st2, &ei), ERR_UNAVAILABLE);
    assert_null(st2);
    assert_string_equal(ei.code, "schema_too_new");
    assert_string_equal(ei.field, "--db");

    /* Nothing was changed by the refused open. */
    db = side_open(f);
    assert_int_equal(side_int(db, "SELECT count(*) FROM schema_migrations"), max + 1);
    assert_int_equal(side_int(db, "SELECT count(*) FROM users"), 2);
    side_exec(db, "DELETE FROM schema_migrations WHERE version = 9999");
    sqlite3_close(db);
    assert_int_equal(store_open(f->url, &f->st, &ei), ERR_OK);
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
    sqlite3 *db;

    fill_hash(h, 9);
    assert_int_equal(store_token_add(f->st, h, f->u2, f->ws2, "t", NULL, &ei), ERR_OK);
    assert_int_equal(store_token_lookup(f->st, h, &p, &ei), ERR_OK);

    /* The store has no "remove member" call yet: remove the row directly. */
    db = side_open(f);
    side_exec(db, "DELETE FROM memberships WHERE user_id = (SELECT id FROM users WHERE name = "
                  "'bob')");
    sqlite3_close(db);
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
    sqlite3 *db;

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
    sqlite3_close(db);

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
    sqlite3 *db = side_open(f);
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
    sqlite3_close(db);

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
    sqlite3 *db;

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
    sqlite3_close(db);
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
    sqlite3 *db;
    char sql[512];

    store_close(f->st);
    f->st = NULL;
    db = side_open(f);
    side_exec(db, "DROP TABLE login_failures; DROP TABLE sessions; DROP TABLE user_passwords; ");
    side_exec(db, "DROP TABLE oauth_revocations; DROP TABLE oauth_tokens; DROP TABLE oauth_states; "
                  "DROP TABLE oauth_providers; "
                  "DROP TABLE connection_specs; DROP TABLE connection_operations; "
                  "DELETE FROM schema_migrations WHERE version >= 2");
    snprintf(sql, sizeof(sql),
             "INSERT INTO connections (id, workspace_id, owner_id, name, slug, service_type, "
             "auth_type, fulfillment, config, created_at, updated_at) VALUES ('conn_m', %lld, "
             "%lld, 'M', 'm', 'http', 'none', 'static', '{\"auth\":{\"type\":\"none\"},"
             "\"operations\":[{\"name\":\"y\",\"method\":\"GET\"},{\"name\":\"x\"}]}', 1, 1)",
             (long long)f->ws1, (long long)f->u1);
    side_exec(db, sql);
    sqlite3_close(db);

    assert_int_equal(store_open(f->url, &f->st, &ei), ERR_OK);
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
    sqlite3 *db;

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
                                                "{\"refresh_token\":{\"outcome\":\"revoked\"}}", &ei),
                     ERR_OK);
    assert_int_equal(store_conn_delete(f->st, f->ws1, "conn_oa", &ei), ERR_OK);
    db = side_open(f);
    assert_int_equal(side_int(db, "SELECT count(*) FROM oauth_revocations WHERE connection_id = "
                                  "'conn_oa' AND provider_id = 'peer' AND outcome LIKE '%revoked%'"),
                     1);
    assert_int_equal(side_int(db, "SELECT count(*) FROM oauth_tokens WHERE connection_id = "
                                  "'conn_oa'"),
                     0);
    sqlite3_close(db);
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
    sqlite3 *db;

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
    sqlite3_close(db);
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_url_table),
        cmocka_unit_test(test_data_dir_table),
        T(test_backend_name_and_file_mode),
        T(test_pragmas_dur001),
        T(test_pragma_hook_refuses_non_identifiers),
        T(test_foreign_keys_enforced_dur001),
        T(test_migrations_applied_once),
        T(test_schema_too_new_refused),
        cmocka_unit_test(test_role_name_parse_table),
        T(test_users),
        T(test_workspaces_and_members),
        T(test_tokens),
        T(test_token_of_removed_member_ten016),
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
        T(test_secrets_scan),
        T(test_secret_cas),
        T(test_secret_key_counts),
        T(test_oauth_health_revocations_provider_users),
        T(test_sessions_and_passwords),
        T(test_login_failures_window),
        cmocka_unit_test(test_sealed_set_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
