/*
 * testdb: a throwaway database for one unit test, on the backend under test.
 *
 * SQLite: a file t.db in a fresh folder under /tmp. PostgreSQL (pg is the
 * base URL CONNHUB_TEST_PG that tools/with-pg sets): a fresh schema on that
 * database, reached through a URL whose search_path is it, so every test has
 * empty tables without a CREATE DATABASE each time.
 *
 *   struct testdb d;
 *   if (testdb_create(&d, testdb_pg_base(), "conn") != 0) ...   // d.url for store_open
 *   ...
 *   testdb_destroy(&d);   // unlinks the file(s) and folder, or drops the schema
 */
#ifndef CONNHUB_TESTS_TESTDB_H
#define CONNHUB_TESTS_TESTDB_H

struct testdb {
    const char *pg;  /* NULL for SQLite */
    char dir[64];    /* SQLite: the folder */
    char path[128];  /* SQLite: the file */
    char schema[64]; /* PostgreSQL: the schema */
    char url[512];   /* the --db URL */
};

/* CONNHUB_TEST_PG, or NULL when it is unset or empty. */
const char *testdb_pg_base(void);
/* A new database on pg (NULL: SQLite); tag names it (letters, digits, _).
 * 0, or -1 with the reason on stderr. */
int testdb_create(struct testdb *d, const char *pg, const char *tag);
/* Removes what testdb_create made (the store must be closed). */
void testdb_destroy(struct testdb *d);
/* Runs one statement on the base PostgreSQL database; 0 or -1. */
int testdb_pg_admin(const char *pg, const char *sql);

#endif
