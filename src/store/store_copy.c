/*
 * store_copy: moves a SQLite database into PostgreSQL (connhub migrate).
 *
 * Both ends are first opened as stores, which brings each to this build's
 * schema (the same migration numbers on both sides), then every table of the
 * SQLite file is copied row by row, in creation order (a table that others
 * reference is created, and so filled, first), values as they are: sealed
 * secrets are bytes and stay the bytes they were, ids stay the ids they were
 * (sealing binds a secret to its workspace and owner ids, so they must).
 * The copy is one PostgreSQL transaction: a failure leaves the target as it
 * was. Identity sequences then continue after the highest id copied.
 *
 * Tables are discovered, not listed, so a table a later migration adds is
 * copied too, as long as both dialects' migrations create it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store.h"
#include "store/store_int.h"
#include "core/banned.h"

#define MAX_COPY_COLUMNS 64

/* Every table of the SQLite file but the bookkeeping ones, in creation order. */
static enum err
list_tables(sqlite3 *db, char ***names, size_t *n, struct errinfo *ei)
{
    sqlite3_stmt *q = NULL;
    enum err e = ERR_OK;

    *names = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                           "'sqlite_%' AND name <> 'schema_migrations' ORDER BY rowid",
                           -1, &q, NULL) != SQLITE_OK)
        return err_set(ei, ERR_STORE, "copy_failed", "--from", "cannot read the tables: %s",
                       sqlite3_errmsg(db));
    while (sqlite3_step(q) == SQLITE_ROW) {
        char **nv = realloc(*names, (*n + 1) * sizeof(*nv));
        if (nv == NULL)
            abort();
        *names = nv;
        (*names)[(*n)++] = xstrdup((const char *)sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
    return e;
}

static bool
pg_ok(PGconn *pg, PGresult *r, const char *what, struct errinfo *ei, enum err *e)
{
    ExecStatusType st = PQresultStatus(r);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return true;
    *e = err_set(ei, ERR_STORE, "copy_failed", "--to", "%s: %s", what,
                 r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(pg));
    return false;
}

static int64_t
pg_count(PGconn *pg, const char *table, struct errinfo *ei, enum err *e)
{
    char q[160];
    PGresult *r;
    int64_t n = -1;

    snprintf(q, sizeof(q), "SELECT count(*) FROM \"%s\"", table);
    r = PQexec(pg, q);
    if (pg_ok(pg, r, table, ei, e))
        n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

static int64_t
lite_count(sqlite3 *db, const char *table)
{
    char q[160];
    sqlite3_stmt *s = NULL;
    int64_t n = -1;

    snprintf(q, sizeof(q), "SELECT count(*) FROM \"%s\"", table);
    if (sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* INSERT INTO table (c1, ...) VALUES ($1, ...) for the SELECT's columns. */
static void
insert_sql(sqlite3_stmt *sel, const char *table, char *out, size_t outlen)
{
    int ncol = sqlite3_column_count(sel);
    size_t o = (size_t)snprintf(out, outlen, "INSERT INTO \"%s\" (", table);

    for (int i = 0; i < ncol && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "%s\"%s\"", i ? ", " : "",
                              sqlite3_column_name(sel, i));
    o += (size_t)snprintf(out + o, o < outlen ? outlen - o : 0, ") VALUES (");
    for (int i = 0; i < ncol && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "%s$%d", i ? ", " : "", i + 1);
    if (o < outlen)
        snprintf(out + o, outlen - o, ")");
}

/* Copies one table; *rows counts what was copied. */
static enum err
copy_table(sqlite3 *db, PGconn *pg, const char *table, const struct copy_opts *o, int64_t *rows,
           struct errinfo *ei)
{
    sqlite3_stmt *sel = NULL;
    char q[160], ins[4096];
    int64_t total = lite_count(db, table);
    enum err e = ERR_OK;
    PGresult *r;
    int ncol;

    *rows = 0;
    snprintf(q, sizeof(q), "SELECT * FROM \"%s\" ORDER BY rowid", table);
    if (sqlite3_prepare_v2(db, q, -1, &sel, NULL) != SQLITE_OK) {
        /* WITHOUT ROWID tables have no rowid: their primary key order will do */
        snprintf(q, sizeof(q), "SELECT * FROM \"%s\"", table);
        if (sqlite3_prepare_v2(db, q, -1, &sel, NULL) != SQLITE_OK)
            return err_set(ei, ERR_STORE, "copy_failed", "--from", "%s: %s", table,
                           sqlite3_errmsg(db));
    }
    ncol = sqlite3_column_count(sel);
    if (ncol > MAX_COPY_COLUMNS) {
        sqlite3_finalize(sel);
        return err_set(ei, ERR_STORE, "copy_failed", "--from", "%s has more than %d columns", table,
                       MAX_COPY_COLUMNS);
    }
    insert_sql(sel, table, ins, sizeof(ins));
    r = PQprepare(pg, "copy_row", ins, 0, NULL);
    if (!pg_ok(pg, r, table, ei, &e)) {
        PQclear(r);
        sqlite3_finalize(sel);
        return e;
    }
    PQclear(r);
    if (o->progress)
        o->progress(o->arg, table, 0, total);
    while (e == ERR_OK && sqlite3_step(sel) == SQLITE_ROW) {
        const char *v[MAX_COPY_COLUMNS];
        int len[MAX_COPY_COLUMNS], fmt[MAX_COPY_COLUMNS];
        for (int i = 0; i < ncol; i++) {
            int t = sqlite3_column_type(sel, i);
            fmt[i] = t == SQLITE_BLOB;
            v[i] = t == SQLITE_NULL   ? NULL
                   : t == SQLITE_BLOB ? (const char *)sqlite3_column_blob(sel, i)
                                      : (const char *)sqlite3_column_text(sel, i);
            len[i] = sqlite3_column_bytes(sel, i);
            if (t == SQLITE_BLOB && v[i] == NULL)
                v[i] = ""; /* an empty blob is not NULL */
        }
        r = PQexecPrepared(pg, "copy_row", ncol, v, len, fmt, 0);
        if (pg_ok(pg, r, table, ei, &e))
            (*rows)++;
        PQclear(r);
        if (o->progress && *rows % 1000 == 0)
            o->progress(o->arg, table, *rows, total);
    }
    sqlite3_finalize(sel);
    r = PQexec(pg, "DEALLOCATE copy_row");
    PQclear(r);
    if (e == ERR_OK && o->progress && *rows % 1000 != 0)
        o->progress(o->arg, table, *rows, total);
    return e;
}

/* Identity sequences (columns named id) continue after the highest id copied. */
static enum err
bump_sequences(PGconn *pg, struct errinfo *ei)
{
    PGresult *r = PQexec(pg, "SELECT table_name, pg_get_serial_sequence(quote_ident(table_name), "
                             "'id') FROM information_schema.columns WHERE table_schema = "
                             "current_schema() AND column_name = 'id' AND is_identity = 'YES'");
    enum err e = ERR_OK;

    if (!pg_ok(pg, r, "sequences", ei, &e)) {
        PQclear(r);
        return e;
    }
    for (int i = 0; e == ERR_OK && i < PQntuples(r); i++) {
        char q[256];
        const char *seq[1] = {PQgetvalue(r, i, 1)};
        PGresult *s;
        snprintf(q, sizeof(q),
                 "SELECT setval($1::regclass, (SELECT coalesce(max(id), 0) + 1 FROM \"%s\"), "
                 "false)",
                 PQgetvalue(r, i, 0));
        s = PQexecParams(pg, q, 1, NULL, seq, NULL, NULL, 0);
        (void)pg_ok(pg, s, "sequences", ei, &e);
        PQclear(s);
    }
    PQclear(r);
    return e;
}

static enum err
exec_pg(PGconn *pg, const char *sql, struct errinfo *ei)
{
    PGresult *r = PQexec(pg, sql);
    enum err e = ERR_OK;

    (void)pg_ok(pg, r, sql, ei, &e);
    PQclear(r);
    return e;
}

/* Refuses a target holding any row (unless o->truncate, which empties it). */
static enum err
check_empty(PGconn *pg, char **tables, size_t n, const struct copy_opts *o, struct errinfo *ei)
{
    enum err e = ERR_OK;

    for (size_t i = 0; e == ERR_OK && i < n; i++) {
        int64_t c = pg_count(pg, tables[i], ei, &e);
        char q[160];
        if (e != ERR_OK || c == 0)
            continue;
        if (!o->truncate)
            return err_set(ei, ERR_CONFLICT, "target_not_empty", "--to",
                           "the target database already has data (%lld rows in %s); migrate "
                           "into an empty database, or add --truncate-target to empty it first",
                           (long long)c, tables[i]);
        snprintf(q, sizeof(q), "TRUNCATE \"%s\" CASCADE", tables[i]);
        e = exec_pg(pg, q, ei);
    }
    return e;
}

static enum err
open_ends(const char *from, const char *to, sqlite3 **db, PGconn **pg, struct errinfo *ei)
{
    struct store *st = NULL;
    enum err e;

    if (strncmp(from, "sqlite:", 7) != 0 || from[7] == '\0')
        return err_set(ei, ERR_INVALID, "invalid_db_url", "--from",
                       "the source must be sqlite:PATH");
    if (!store_pg_url(to))
        return err_set(ei, ERR_INVALID, "invalid_db_url", "--to",
                       "the target must be a PostgreSQL URL (postgres://...) or keyword string");
    /* opening each as a store brings both to this build's schema */
    e = store_open(from, &st, ei);
    store_close(st);
    if (e != ERR_OK)
        return e;
    e = store_open(to, &st, ei);
    store_close(st);
    if (e != ERR_OK)
        return e;
    if (sqlite3_open_v2(from + 7, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return err_set(ei, ERR_STORE, "db_open_failed", "--from", "cannot open %s", from + 7);
    *pg = PQconnectdb(to);
    if (PQstatus(*pg) != CONNECTION_OK)
        return err_set(ei, ERR_STORE, "db_open_failed", "--to", "cannot connect to PostgreSQL");
    return ERR_OK;
}

enum err
store_copy(const char *from, const char *to, const struct copy_opts *o, struct copy_count **counts,
           size_t *ncounts, struct errinfo *ei)
{
    sqlite3 *db = NULL;
    PGconn *pg = NULL;
    char **tables = NULL;
    size_t n = 0;
    enum err e;

    *counts = NULL;
    *ncounts = 0;
    e = open_ends(from, to, &db, &pg, ei);
    if (e == ERR_OK)
        e = list_tables(db, &tables, &n, ei);
    if (e == ERR_OK)
        e = exec_pg(pg, "BEGIN", ei);
    if (e == ERR_OK)
        e = check_empty(pg, tables, n, o, ei);
    for (size_t i = 0; e == ERR_OK && i < n; i++) {
        int64_t rows = 0;
        e = copy_table(db, pg, tables[i], o, &rows, ei);
    }
    if (e == ERR_OK)
        e = bump_sequences(pg, ei);
    if (e == ERR_OK)
        e = exec_pg(pg, "COMMIT", ei);
    else if (pg)
        PQclear(PQexec(pg, "ROLLBACK"));
    if (e == ERR_OK) {
        *counts = xcalloc(n ? n : 1, sizeof(**counts));
        for (size_t i = 0; e == ERR_OK && i < n; i++) {
            snprintf((*counts)[i].table, sizeof((*counts)[i].table), "%s", tables[i]);
            (*counts)[i].src = lite_count(db, tables[i]);
            (*counts)[i].dst = pg_count(pg, tables[i], ei, &e);
        }
        *ncounts = n;
    }
    string_list_free(tables, n);
    sqlite3_close(db);
    PQfinish(pg);
    return e;
}
