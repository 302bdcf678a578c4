/* memo: kept results of hot read queries; see memo.h for when a backend may
 * use them. A direct-mapped table keyed by a byte encoding of (statement,
 * parameters); each result is rows of cells whose bytes live in one buffer. */
#include "store/memo.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#include "core/banned.h"

struct cell {
    bool null;
    int64_t i;
    size_t off, n; /* bytes at data + off, NUL after them */
};

struct memo_rows {
    int ncols;
    size_t nrows, cap; /* rows used / allocated in cells */
    struct cell *cells;
    char *data;
    size_t dlen, dcap;
};

struct ent {
    uint64_t h;
    uint64_t used; /* the memo's tick when last put or found */
    size_t klen, bytes;
    unsigned char *key;
    struct memo_rows *rows;
};

_Static_assert(MEMO_SLOTS % MEMO_WAYS == 0, "whole sets");
#define MEMO_SETS (MEMO_SLOTS / MEMO_WAYS)
#define SET_OF(h) ((size_t)((h) % MEMO_SETS)) /* the set of a key's hash */

struct memo {
    struct ent slot[MEMO_SLOTS]; /* set s is slot[s * MEMO_WAYS ...] */
    size_t bytes;
    uint64_t tick;
};

static atomic_uint_fast64_t g_hits, g_misses;

uint64_t
memo_hit_count(void)
{
    return atomic_load(&g_hits);
}

uint64_t
memo_miss_count(void)
{
    return atomic_load(&g_misses);
}

/* ---- results ---- */

struct memo_rows *
memo_rows_new(int ncols)
{
    struct memo_rows *r = xcalloc(1, sizeof(*r));

    r->ncols = ncols > 0 ? ncols : 1;
    return r;
}

void
memo_rows_free(struct memo_rows *r)
{
    if (r == NULL)
        return;
    free(r->cells);
    free(r->data);
    free(r);
}

void
memo_rows_add(struct memo_rows *r)
{
    if (r->nrows == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1;
        r->cells = xrealloc(r->cells, cap * (size_t)r->ncols * sizeof(*r->cells));
        r->cap = cap;
    }
    memset(&r->cells[r->nrows * (size_t)r->ncols], 0, (size_t)r->ncols * sizeof(*r->cells));
    for (int c = 0; c < r->ncols; c++)
        r->cells[r->nrows * (size_t)r->ncols + (size_t)c].null = true;
    r->nrows++;
}

void
memo_rows_set(struct memo_rows *r, int col, bool null, int64_t i, const void *p, size_t n)
{
    struct cell *c;

    if (r->nrows == 0 || col < 0 || col >= r->ncols)
        return;
    c = &r->cells[(r->nrows - 1) * (size_t)r->ncols + (size_t)col];
    c->null = null;
    c->i = i;
    c->off = c->n = 0;
    if (null)
        return;
    if (r->dcap - r->dlen < n + 1) {
        size_t cap = r->dcap ? r->dcap : 256;
        while (cap - r->dlen < n + 1)
            cap *= 2;
        r->data = xrealloc(r->data, cap);
        r->dcap = cap;
    }
    if (n > 0)
        memcpy(r->data + r->dlen, p, n);
    r->data[r->dlen + n] = '\0';
    c->off = r->dlen;
    c->n = n;
    r->dlen += n + 1;
}

size_t
memo_rows_count(const struct memo_rows *r)
{
    return r ? r->nrows : 0;
}

size_t
memo_rows_bytes(const struct memo_rows *r)
{
    return sizeof(*r) + r->nrows * (size_t)r->ncols * sizeof(struct cell) + r->dlen;
}

static const struct cell *
cell_at(const struct cols *c, int i)
{
    const struct memo_rows *r = c->src;

    if (i < 0 || i >= r->ncols || (size_t)c->row >= r->nrows)
        return NULL;
    return &r->cells[(size_t)c->row * (size_t)r->ncols + (size_t)i];
}

static const char *
rd_text(const struct cols *c, int i)
{
    const struct cell *x = cell_at(c, i);
    const struct memo_rows *r = c->src;

    return x == NULL || x->null ? NULL : r->data + x->off;
}

static int64_t
rd_i64(const struct cols *c, int i)
{
    const struct cell *x = cell_at(c, i);

    return x ? x->i : 0;
}

static unsigned char *
rd_blob(const struct cols *c, int i, size_t *len)
{
    const struct cell *x = cell_at(c, i);
    const struct memo_rows *r = c->src;
    size_t n = x && !x->null ? x->n : 0;
    unsigned char *p = xmalloc(n > 0 ? n : 1);

    if (n > 0)
        memcpy(p, r->data + x->off, n);
    *len = n;
    return p;
}

struct cols
memo_rows_cols(const struct memo_rows *r, size_t i)
{
    struct cols c = {(void *)r, (int)i, rd_text, rd_i64, rd_blob};
    return c;
}

/* ---- the table ---- */

struct memo *
memo_new(void)
{
    return xcalloc(1, sizeof(struct memo));
}

static void
ent_release(struct memo *m, struct ent *e)
{
    m->bytes -= e->bytes;
    free(e->key);
    memo_rows_free(e->rows);
    memset(e, 0, sizeof(*e));
}

void
memo_clear(struct memo *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < MEMO_SLOTS; i++)
        if (m->slot[i].rows)
            ent_release(m, &m->slot[i]);
    m->bytes = 0;
}

void
memo_free(struct memo *m)
{
    memo_clear(m);
    free(m);
}

size_t
memo_bytes(const struct memo *m)
{
    return m ? m->bytes : 0;
}

static bool
put_bytes(unsigned char *kb, size_t *len, const void *p, size_t n)
{
    if (MEMO_MAX_KEY_BYTES - *len < n)
        return false;
    if (n > 0)
        memcpy(kb + *len, p, n);
    *len += n;
    return true;
}

/* k's bytes into kb[MEMO_MAX_KEY_BYTES]; false when they do not fit. */
static bool
encode(const struct memo_key *k, unsigned char *kb, size_t *len)
{
    uint32_t id = (uint32_t)k->id;
    bool ok;

    *len = 0;
    ok = k->nargs >= 0 && k->nargs <= MEMO_MAX_ARGS && put_bytes(kb, len, &id, sizeof(id));
    for (int a = 0; ok && a < k->nargs; a++) {
        const struct memo_arg *x = &k->args[a];
        unsigned char tag = x->is_int ? 'i' : x->p == NULL ? 'n' : 'b';
        uint64_t n = x->n;
        ok = put_bytes(kb, len, &tag, 1);
        if (ok && x->is_int)
            ok = put_bytes(kb, len, &x->i, sizeof(x->i));
        else if (ok && x->p != NULL)
            ok = put_bytes(kb, len, &n, sizeof(n)) && put_bytes(kb, len, x->p, x->n);
    }
    return ok;
}

static uint64_t
fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

size_t
memo_key_bytes(const struct memo_key *k)
{
    unsigned char kb[MEMO_MAX_KEY_BYTES];
    size_t len;

    return encode(k, kb, &len) ? len : 0;
}

size_t
memo_set_of(const struct memo_key *k)
{
    unsigned char kb[MEMO_MAX_KEY_BYTES];
    size_t len;

    return encode(k, kb, &len) ? SET_OF(fnv(kb, len)) : 0;
}

/* The entry of key kb (hash h) in its set, or NULL. */
static struct ent *
find(struct memo *m, uint64_t h, const unsigned char *kb, size_t len)
{
    struct ent *set = &m->slot[SET_OF(h) * MEMO_WAYS];

    for (size_t w = 0; w < MEMO_WAYS; w++) {
        struct ent *e = &set[w];
        if (e->rows != NULL && e->h == h && e->klen == len && memcmp(e->key, kb, len) == 0)
            return e;
    }
    return NULL;
}

const struct memo_rows *
memo_get(struct memo *m, const struct memo_key *k)
{
    unsigned char kb[MEMO_MAX_KEY_BYTES];
    size_t len;
    struct ent *e;

    if (m == NULL || !encode(k, kb, &len))
        return NULL;
    e = find(m, fnv(kb, len), kb, len);
    if (e != NULL) {
        e->used = ++m->tick;
        atomic_fetch_add(&g_hits, 1);
        return e->rows;
    }
    atomic_fetch_add(&g_misses, 1);
    return NULL;
}

/* Where a new entry for hash h goes: the key's own entry, a free way, or
 * the set's least recently used entry (released). */
static struct ent *
place(struct memo *m, uint64_t h, const unsigned char *kb, size_t len)
{
    struct ent *set = &m->slot[SET_OF(h) * MEMO_WAYS], *e = find(m, h, kb, len);

    for (size_t w = 0; e == NULL && w < MEMO_WAYS; w++)
        if (set[w].rows == NULL)
            e = &set[w];
    if (e != NULL)
        return e;
    e = &set[0]; /* full: the least recently used goes */
    for (size_t w = 1; w < MEMO_WAYS; w++)
        if (set[w].used < e->used)
            e = &set[w];
    return e;
}

const struct memo_rows *
memo_put(struct memo *m, const struct memo_key *k, struct memo_rows *r)
{
    unsigned char kb[MEMO_MAX_KEY_BYTES];
    size_t len, bytes;
    uint64_t h;
    struct ent *e;

    if (m == NULL || r == NULL || !encode(k, kb, &len))
        return NULL;
    bytes = memo_rows_bytes(r) + len;
    if (bytes > MEMO_MAX_ENTRY_BYTES || r->nrows > MEMO_MAX_ROWS)
        return NULL;
    h = fnv(kb, len);
    e = place(m, h, kb, len);
    if (e->rows != NULL)
        ent_release(m, e);
    if (m->bytes + bytes > MEMO_MAX_BYTES)
        memo_clear(m);
    e->used = ++m->tick;
    e->h = h;
    e->klen = len;
    e->key = xmalloc(len);
    memcpy(e->key, kb, len);
    e->rows = r;
    e->bytes = bytes;
    m->bytes += bytes;
    return r;
}
