/*
 * memo: the rows of a few hot read queries (an API token's principal, a
 * connection, one operation, a connection's sealed secrets), kept per store
 * connection between requests, so that an action call does not run four
 * SQL statements to learn what it learnt for the previous call.
 *
 * A backend uses it only when it can tell cheaply, at the start of each read
 * scope, that nothing in the database changed since the rows were kept
 * (SQLite: PRAGMA data_version for other connections and processes, plus
 * the connection's own sqlite3_total_changes64; or, in a quick scope, the
 * WAL index header unchanged: store_sqlite.c); on any change it clears the
 * whole memo. So a memo hit returns exactly what the query would return in
 * that snapshot. Only rows read inside a read scope (no write in it) are
 * kept. Sealed values stay sealed: the memo holds ciphertext, never a
 * plaintext secret.
 *
 * Store-internal (src/store/ only).
 */
#ifndef CONNHUB_STORE_MEMO_H
#define CONNHUB_STORE_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_int.h"

/* Entries of the table, in sets of MEMO_WAYS: a key goes to one set (by its
 * hash), and a new entry in a full set replaces the set's least recently
 * used one. With one way per set, two of a call's four keys that hashed to
 * one slot evicted each other on every call (half the reads missed, for as
 * long as the server ran). */
#define MEMO_SLOTS 256
#define MEMO_WAYS 4
/* Largest entry kept (key + all rows); a larger result is read, not kept. */
#define MEMO_MAX_ENTRY_BYTES ((size_t)64 * 1024)
/* All entries of one memo together; past it the memo starts empty again. */
#define MEMO_MAX_BYTES ((size_t)4 * 1024 * 1024)
/* Rows of one result kept (the queries memoized return one row, or a
 * connection's few secrets). */
#define MEMO_MAX_ROWS 64
/* Parameters of one query, and the bytes of its key. */
#define MEMO_MAX_ARGS 4
#define MEMO_MAX_KEY_BYTES 1024

/* One query parameter: an integer, or bytes (text or blob). */
struct memo_arg {
    bool is_int;
    bool blob; /* bytes bound as a blob, not text */
    int64_t i;
    const void *p; /* NULL: SQL NULL */
    size_t n;
};

/* The query a result belongs to: statement id and parameters. */
struct memo_key {
    enum stmt_id id;
    const struct memo_arg *args;
    int nargs;
};

struct memo;
/* A result: rows of cells, each with its integer and text/blob forms. */
struct memo_rows;

struct memo *memo_new(void);
void memo_free(struct memo *m);
void memo_clear(struct memo *m);

/* The kept result of k (borrowed until the next memo_put or memo_clear), or NULL. */
const struct memo_rows *memo_get(struct memo *m, const struct memo_key *k);
/* Keeps r under k (taking it) and returns it (borrowed as above); returns
 * NULL and leaves r with the caller when r or k is too large. */
const struct memo_rows *memo_put(struct memo *m, const struct memo_key *k, struct memo_rows *r);
/* The set k goes to (tests: keys that share a set). */
size_t memo_set_of(const struct memo_key *k);
/* Bytes kept: each entry counts its key's bytes plus memo_rows_bytes. */
size_t memo_bytes(const struct memo *m);
/* The bytes of k's encoding (0: over MEMO_MAX_KEY_BYTES or MEMO_MAX_ARGS). */
size_t memo_key_bytes(const struct memo_key *k);
/* What r counts against the limits: its header, cells and bytes. */
size_t memo_rows_bytes(const struct memo_rows *r);

/* Building a result: a new one with ncols columns, then one row at a time
 * (memo_put refuses a result of more than MEMO_MAX_ROWS rows). */
struct memo_rows *memo_rows_new(int ncols);
void memo_rows_free(struct memo_rows *r);
void memo_rows_add(struct memo_rows *r);
/* Sets cell (last row, col): null, its integer value, and its bytes (text
 * or blob; ignored when null). */
void memo_rows_set(struct memo_rows *r, int col, bool null, int64_t i, const void *p, size_t n);
size_t memo_rows_count(const struct memo_rows *r);
/* Row i as the readers of the rows_* decoders. */
struct cols memo_rows_cols(const struct memo_rows *r, size_t i);

/* Process-wide counts for /metrics. */
uint64_t memo_hit_count(void);
uint64_t memo_miss_count(void);

#endif
