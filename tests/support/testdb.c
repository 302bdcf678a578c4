/* testdb: see testdb.h. */
#include "support/testdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

const char *
testdb_pg_base(void)
{
    const char *pg = getenv("CONNHUB_TEST_PG");
    return pg && pg[0] ? pg : NULL;
}

int
testdb_pg_admin(const char *pg, const char *sql)
{
    PGconn *c = PQconnectdb(pg);
    PGresult *r = PQexec(c, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;

    if (rc != 0)
        fprintf(stderr, "testdb: %s: %s\n", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return rc;
}

int
testdb_create(struct testdb *d, const char *pg, const char *tag)
{
    static unsigned seq;
    char sql[128];

    memset(d, 0, sizeof(*d));
    d->pg = pg;
    if (pg) {
        snprintf(d->schema, sizeof(d->schema), "ut_%.20s_%d_%u", tag, (int)getpid(), ++seq);
        snprintf(d->url, sizeof(d->url), "%s%soptions=-csearch_path%%3D%s", pg,
                 strchr(pg, '?') ? "&" : "?", d->schema);
        snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", d->schema);
        return testdb_pg_admin(pg, sql);
    }
    snprintf(d->dir, sizeof(d->dir), "/tmp/connhub-ut-%.20s-XXXXXX", tag);
    if (mkdtemp(d->dir) == NULL) {
        perror("testdb: mkdtemp");
        return -1;
    }
    snprintf(d->path, sizeof(d->path), "%s/t.db", d->dir);
    snprintf(d->url, sizeof(d->url), "sqlite:%s", d->path);
    return 0;
}

void
testdb_destroy(struct testdb *d)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[192];

    if (d->pg) {
        if (d->schema[0]) {
            snprintf(p, sizeof(p), "DROP SCHEMA %s CASCADE", d->schema);
            (void)testdb_pg_admin(d->pg, p);
        }
    } else if (d->dir[0]) {
        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
            snprintf(p, sizeof(p), "%s%s", d->path, suffixes[i]);
            unlink(p);
        }
        rmdir(d->dir);
    }
    memset(d, 0, sizeof(*d));
}
