/* index: one flat pass over a JSON spec that checks its syntax and records
 * where the members the importer reads lie (struct oa_span), so that doc.c
 * can parse them one at a time with jansson instead of the whole document.
 *
 * Recorded: the root, each top-level member, each member of a top-level
 * object (path items, definitions/Pet, info/title...) and each member of a
 * components section (components/schemas/Pet). A path item also notes how
 * many of its methods hold objects (operations are counted without parsing),
 * whether one of them has "security", and the values the mapping never reads
 * (struct oa_hole: an operation's tags, externalDocs, x-*..., a response's
 * description and headers, a media type's examples), which doc.c leaves out
 * when it parses the item for the operations.
 *
 * The pass accepts only what json_loadb(JSON_REJECT_DUPLICATES) accepts:
 * the strict grammar, no duplicate key in any object (escapes decoded), no
 * \u0000, no lone surrogate. What it does not vouch for cheaply makes it
 * refuse as well: an integer of more than 18 digits, a real number with an
 * exponent of more than two digits or more than 200 before the point (either
 * might overflow), nesting past the depth limit. A refusal is not an error:
 * the caller then parses the whole text as before, which gives the same tree
 * or the same message (with line and column). The pass is a loop, never
 * recursive. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "openapi/internal.h"

#include "core/util.h"
#include "core/banned.h"

#define SMALL_OBJECT 16     /* keys compared pairwise up to this many, sorted past it */
#define MAX_SCAN_DEPTH 2048 /* jansson's own nesting limit */

enum top { TOP_OTHER, TOP_PATHS, TOP_COMPONENTS };

static const char *const methods[] = {"get",     "put",  "post",  "delete",
                                      "options", "head", "patch", "trace"};

struct kref { /* a key of an open object, for the duplicate check */
    uint64_t h;
    size_t off, len; /* raw bytes between the quotes */
    bool esc;        /* has a backslash */
};

/* Where an object lies in a path item, for the holes. */
enum role { R_NONE, R_ITEM, R_OP, R_RESPONSES, R_RESP, R_BODY, R_CONTENT, R_MEDIA };

struct frame {
    bool obj;
    size_t kbase;   /* its keys: ks[kbase, kn) */
    int owner;      /* span whose value this container is, or -1 */
    int cur;        /* span of the member being read, or -1 */
    long hole;      /* hole of the member being read, or -1 */
    enum role role; /* of this object */
    enum role next; /* of the current member's value, if an object */
};

struct scan {
    const char *s;
    size_t n, i;
    struct frame *fr;
    int depth, maxd;
    struct kref *ks;
    size_t kn, kcap;
    enum top top;
    struct buf t1, t2; /* decoded keys */
    struct oa_index *idx;
};

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static long
hex4(const char *p)
{
    long v = 0;

    for (int k = 0; k < 4; k++) {
        int d = hex_digit(p[k]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static void
skip_ws(struct scan *sc)
{
    while (sc->i < sc->n) {
        char c = sc->s[sc->i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            break;
        sc->i++;
    }
}

/* A string at s[i] == '"'; i ends past the closing quote. */
static bool
scan_string(struct scan *sc, bool *esc)
{
    const char *s = sc->s;
    size_t i = sc->i + 1, n = sc->n;

    *esc = false;
    for (;;) {
        unsigned char c;
        while (i < n && (c = (unsigned char)s[i]) != '"' && c != '\\' && c >= 0x20)
            i++;
        if (i >= n || (unsigned char)s[i] < 0x20)
            return false;
        if (s[i] == '"')
            break;
        *esc = true;
        if (i + 1 >= n)
            return false;
        if (s[i + 1] != 'u') {
            if (strchr("\"\\/bfnrt", s[i + 1]) == NULL || s[i + 1] == '\0')
                return false;
            i += 2;
            continue;
        }
        long u = i + 6 <= n ? hex4(s + i + 2) : -1;
        if (u <= 0 || (u >= 0xdc00 && u <= 0xdfff))
            return false; /* \u0000 or a lone low surrogate */
        i += 6;
        if (u >= 0xd800 && u <= 0xdbff) {
            long lo = i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' ? hex4(s + i + 2) : -1;
            if (lo < 0xdc00 || lo > 0xdfff)
                return false;
            i += 6;
        }
    }
    sc->i = i + 1;
    return true;
}

static bool
scan_number(struct scan *sc)
{
    const char *s = sc->s;
    size_t i = sc->i, n = sc->n, intd = 0, fracd = 0, expd = 0;
    bool real = false;

    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++, intd = 1;
    } else {
        while (i < n && is_digit(s[i]))
            i++, intd++;
        if (intd == 0)
            return false;
    }
    if (i < n && s[i] == '.') {
        real = true;
        for (i++; i < n && is_digit(s[i]); i++)
            fracd++;
        if (fracd == 0)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        real = true;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < n && is_digit(s[i]); i++)
            expd++;
        if (expd == 0)
            return false;
    }
    sc->i = i;
    /* below 10^(200 + 99): no overflow; jansson takes any underflow */
    return real ? expd <= 2 && intd <= 200 && fracd <= 1000 : intd <= 18;
}

static bool
scan_literal(struct scan *sc)
{
    static const char *const lits[] = {"true", "false", "null"};

    for (size_t k = 0; k < 3; k++) {
        size_t l = strlen(lits[k]);
        if (sc->n - sc->i >= l && memcmp(sc->s + sc->i, lits[k], l) == 0) {
            sc->i += l;
            return true;
        }
    }
    return false;
}

static bool
put_utf8(struct buf *b, unsigned long u)
{
    char o[4];
    size_t k;

    if (u < 0x80) {
        o[0] = (char)u, k = 1;
    } else if (u < 0x800) {
        o[0] = (char)(0xc0 | (u >> 6)), o[1] = (char)(0x80 | (u & 0x3f)), k = 2;
    } else if (u < 0x10000) {
        o[0] = (char)(0xe0 | (u >> 12)), o[1] = (char)(0x80 | ((u >> 6) & 0x3f));
        o[2] = (char)(0x80 | (u & 0x3f)), k = 3;
    } else {
        o[0] = (char)(0xf0 | (u >> 18)), o[1] = (char)(0x80 | ((u >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((u >> 6) & 0x3f)), o[3] = (char)(0x80 | (u & 0x3f)), k = 4;
    }
    return buf_append(b, o, k) == ERR_OK;
}

/* Decodes the escapes of a checked string's raw bytes into b; false when out
 * of memory (b is capped at the text's size, which a key never exceeds). */
static bool
decode(const char *s, size_t len, struct buf *b)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";

    buf_reset(b);
    for (size_t i = 0; i < len; i++) {
        unsigned long u;
        if (s[i] != '\\') {
            if (buf_putc(b, s[i]) != ERR_OK)
                return false;
            continue;
        }
        if (s[i + 1] != 'u') {
            if (buf_putc(b, to[strchr(from, s[i + 1]) - from]) != ERR_OK)
                return false;
            i++;
            continue;
        }
        u = (unsigned long)hex4(s + i + 2);
        i += 5;
        if (u >= 0xd800 && u <= 0xdbff) {
            u = 0x10000 + ((u - 0xd800) << 10) + ((unsigned long)hex4(s + i + 3) - 0xdc00);
            i += 6;
        }
        if (!put_utf8(b, u))
            return false;
    }
    return true;
}

static uint64_t
hash(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

static bool
key_equal(struct scan *sc, const struct kref *a, const struct kref *b)
{
    if (!a->esc && !b->esc)
        return a->len == b->len && memcmp(sc->s + a->off, sc->s + b->off, a->len) == 0;
    if (!decode(sc->s + a->off, a->len, &sc->t1) || !decode(sc->s + b->off, b->len, &sc->t2))
        return true; /* out of memory: refuse, the caller parses the text whole */
    return sc->t1.len == sc->t2.len && memcmp(sc->t1.data, sc->t2.data, sc->t1.len) == 0;
}

static int
by_hash(const void *a, const void *b)
{
    uint64_t x = ((const struct kref *)a)->h, y = ((const struct kref *)b)->h;

    return x < y ? -1 : x > y;
}

/* false when the keys ks[base, kn) of a closing object hold a duplicate. */
static bool
no_dups(struct scan *sc, size_t base)
{
    size_t n = sc->kn - base;
    struct kref *k;

    if (n < 2)
        return true; /* sc->ks may still be NULL */
    k = sc->ks + base;
    if (n <= SMALL_OBJECT) {
        for (size_t a = 1; a < n; a++)
            for (size_t b = 0; b < a; b++)
                if (k[a].h == k[b].h && key_equal(sc, &k[a], &k[b]))
                    return false;
        return true;
    }
    qsort(k, n, sizeof(*k), by_hash);
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b-- > 0 && k[b].h == k[a].h;)
            if (key_equal(sc, &k[a], &k[b]))
                return false;
    return true;
}

/* A new span for member key (raw bytes) of span parent; its value starts at i. */
static int
add_span(struct scan *sc, int parent, const struct kref *key, int depth)
{
    struct oa_index *x = sc->idx;
    struct oa_span *p;
    size_t off = x->keys.len;

    if (x->n >= INT_MAX - 1)
        return -2;
    if (x->n == x->cap) {
        struct oa_span *ns = array_grow(x->sp, &x->cap, sizeof(*ns), 256);
        if (ns == NULL)
            return -2;
        x->sp = ns;
    }
    if (key->esc) {
        if (!decode(sc->s + key->off, key->len, &sc->t1) ||
            buf_append(&x->keys, sc->t1.data ? sc->t1.data : "", sc->t1.len + 1) != ERR_OK)
            return -2;
    } else if (buf_append(&x->keys, sc->s + key->off, key->len) != ERR_OK ||
               buf_putc(&x->keys, '\0') != ERR_OK) {
        return -2;
    }
    p = &x->sp[x->n];
    memset(p, 0, sizeof(*p));
    p->start = sc->i;
    p->key = off;
    p->klen = x->keys.len - off - 1;
    p->parent = parent;
    p->depth = depth;
    p->first = p->last = p->next = -1;
    if (x->sp[parent].first < 0)
        x->sp[parent].first = (int)x->n;
    else
        x->sp[x->sp[parent].last].next = (int)x->n;
    x->sp[parent].last = (int)x->n;
    return (int)x->n++;
}

static bool
key_is(const char *key, size_t klen, const char *want)
{
    return strlen(want) == klen && memcmp(key, want, klen) == 0;
}

static bool
one_of(const char *s, size_t n, const char *const *set, size_t m)
{
    for (size_t k = 0; k < m; k++)
        if (strlen(set[k]) == n && memcmp(set[k], s, n) == 0)
            return true;
    return false;
}

#define ONE_OF(s, n, set) one_of((s), (n), (set), sizeof(set) / sizeof((set)[0]))

/* The value of this member is a hole: it starts at i. */
static bool
add_hole(struct scan *sc, struct frame *f, int item)
{
    struct oa_index *x = sc->idx;

    if (x->nh == x->hcap) {
        struct oa_hole *nh = array_grow(x->holes, &x->hcap, sizeof(*nh), 256);
        if (nh == NULL)
            return false;
        x->holes = nh;
    }
    if (x->sp[item].nholes++ == 0)
        x->sp[item].hole0 = x->nh;
    x->holes[x->nh].start = x->holes[x->nh].end = sc->i;
    f->hole = (long)x->nh++;
    return true;
}

/* A member of an object inside a path item: its value's role, and whether
 * the mapping never reads it (op.c, params.c, body.c, security.c). */
static bool
item_member(struct scan *sc, struct frame *f, const char *key, size_t klen)
{
    static const char *const op_read[] = {"operationId", "summary",   "description", "parameters",
                                          "requestBody", "responses", "security",    "consumes"};
    static const char *const resp_unread[] = {"description", "headers", "links", "examples"};
    static const char *const media_unread[] = {"example", "examples", "encoding"};
    int item = sc->fr[2].owner;
    bool hole = false;

    switch (f->role) {
    case R_ITEM:
        if (ONE_OF(key, klen, methods)) {
            f->next = R_OP;
            if (sc->s[sc->i] == '{')
                sc->idx->sp[item].nops++;
        }
        break;
    case R_OP:
        f->next = key_is(key, klen, "responses")     ? R_RESPONSES
                  : key_is(key, klen, "requestBody") ? R_BODY
                                                     : R_NONE;
        if (key_is(key, klen, "security"))
            sc->idx->sp[item].security = true;
        hole = !ONE_OF(key, klen, op_read);
        break;
    case R_RESPONSES:
        f->next = R_RESP;
        break;
    case R_RESP:
    case R_BODY:
        f->next = key_is(key, klen, "content") ? R_CONTENT : R_NONE;
        hole = f->role == R_RESP && ONE_OF(key, klen, resp_unread);
        break;
    case R_CONTENT:
        f->next = R_MEDIA;
        break;
    case R_MEDIA:
        hole = ONE_OF(key, klen, media_unread);
        break;
    case R_NONE:
        break;
    }
    return !hole || add_hole(sc, f, item);
}

/* Key k of the innermost object was read; the value starts at i. */
static bool
member(struct scan *sc, const struct kref *k)
{
    struct frame *f = &sc->fr[sc->depth - 1];
    const char *key = sc->s + k->off;
    size_t klen = k->len;
    int d = sc->depth;

    if (k->esc && (d <= 2 || f->role != R_NONE)) { /* "pa\u0074hs" is "paths" */
        if (!decode(key, klen, &sc->t2))
            return false;
        key = sc->t2.data ? sc->t2.data : "";
        klen = sc->t2.len;
    }
    f->cur = -1;
    f->next = R_NONE;
    if (d == 1)
        sc->top = key_is(key, klen, "paths")        ? TOP_PATHS
                  : key_is(key, klen, "components") ? TOP_COMPONENTS
                                                    : TOP_OTHER;
    if (f->owner >= 0 && (d <= 2 || (d == 3 && sc->top == TOP_COMPONENTS))) {
        f->cur = add_span(sc, f->owner, k, d);
        if (f->cur == -2)
            return false;
    } else if (f->role != R_NONE) {
        return item_member(sc, f, key, klen);
    }
    return true;
}

static bool
push(struct scan *sc, bool obj)
{
    struct frame *f;
    int owner = sc->depth == 0 ? 0 : sc->fr[sc->depth - 1].cur;

    if (sc->depth >= sc->maxd)
        return false;
    f = &sc->fr[sc->depth++];
    f->obj = obj;
    f->kbase = sc->kn;
    f->owner = sc->depth <= 3 ? owner : -1;
    f->cur = -1;
    f->hole = -1;
    f->role = f->next = R_NONE;
    if (obj && sc->depth == 3 && sc->top == TOP_PATHS && owner >= 0)
        f->role = R_ITEM;
    else if (obj && sc->depth > 3)
        f->role = sc->fr[sc->depth - 2].next;
    if (obj && owner >= 0 && sc->depth <= 3 && (sc->depth <= 2 || sc->idx->sp[owner].depth == 2))
        sc->idx->sp[owner].kids = sc->depth <= 2 || sc->top == TOP_COMPONENTS;
    sc->i++;
    return true;
}

static bool
read_key(struct scan *sc)
{
    struct kref k;

    if (sc->i >= sc->n || sc->s[sc->i] != '"')
        return false;
    k.off = sc->i + 1;
    if (!scan_string(sc, &k.esc))
        return false;
    k.len = sc->i - 1 - k.off;
    if (k.esc) {
        if (!decode(sc->s + k.off, k.len, &sc->t1))
            return false;
        k.h = hash(sc->t1.data ? sc->t1.data : "", sc->t1.len, 0xcbf29ce484222325ull);
    } else {
        k.h = hash(sc->s + k.off, k.len, 0xcbf29ce484222325ull);
    }
    if (sc->kn == sc->kcap) {
        struct kref *nk = array_grow(sc->ks, &sc->kcap, sizeof(*nk), 1024);
        if (nk == NULL)
            return false;
        sc->ks = nk;
    }
    sc->ks[sc->kn++] = k;
    skip_ws(sc);
    if (sc->i >= sc->n || sc->s[sc->i] != ':')
        return false;
    sc->i++;
    skip_ws(sc);
    return sc->i < sc->n && member(sc, &k);
}

/* The value of the innermost object's current member ended at i. */
static void
value_done(struct scan *sc)
{
    struct frame *f = sc->depth > 0 ? &sc->fr[sc->depth - 1] : NULL;

    if (f == NULL)
        return;
    if (f->cur >= 0)
        sc->idx->sp[f->cur].end = sc->i;
    if (f->hole >= 0) {
        sc->idx->holes[f->hole].end = sc->i;
        f->hole = -1;
    }
}

/* A value ended at i: closes what it closes. 1: a value is expected next,
 * 0: the text ended well, -1: refused. */
static int
after_value(struct scan *sc)
{
    for (;;) {
        struct frame *f;
        char c;
        skip_ws(sc);
        if (sc->depth == 0)
            return sc->i == sc->n ? 0 : -1;
        f = &sc->fr[sc->depth - 1];
        if (sc->i >= sc->n)
            return -1;
        c = sc->s[sc->i++];
        if (c == ',') {
            if (!f->obj)
                return 1;
            skip_ws(sc);
            return read_key(sc) ? 1 : -1;
        }
        if (c != (f->obj ? '}' : ']') || (f->obj && !no_dups(sc, f->kbase)))
            return -1;
        sc->kn = f->kbase;
        sc->depth--;
        value_done(sc);
    }
}

/* Reads one value at i (after white space); 1 when a container opened and
 * its first member or element is expected, 0 for a scalar, -1 refused. */
static int
value(struct scan *sc)
{
    char c;
    bool esc;

    if (sc->i >= sc->n)
        return -1;
    c = sc->s[sc->i];
    if (c == '{' || c == '[') {
        if (!push(sc, c == '{'))
            return -1;
        skip_ws(sc);
        if (sc->i < sc->n && sc->s[sc->i] == (c == '{' ? '}' : ']'))
            return 0; /* empty: after_value closes it */
        if (c == '{')
            return read_key(sc) ? 1 : -1;
        return 1;
    }
    if (c == '"')
        return scan_string(sc, &esc) ? 0 : -1;
    if (c == '-' || is_digit(c))
        return scan_number(sc) ? 0 : -1;
    return scan_literal(sc) ? 0 : -1;
}

static bool
run(struct scan *sc)
{
    int r;

    skip_ws(sc);
    for (;;) {
        skip_ws(sc);
        r = value(sc);
        if (r < 0)
            return false;
        if (r == 1)
            continue;
        value_done(sc);
        r = after_value(sc);
        if (r <= 0)
            return r == 0;
    }
}

static size_t
slot(const struct oa_index *x, int parent, const char *key, size_t klen)
{
    return (size_t)hash(key, klen, 0xcbf29ce484222325ull ^ (uint64_t)parent) & (x->tabn - 1);
}

static bool
build_table(struct oa_index *x)
{
    x->tabn = 64;
    while (x->tabn < x->n * 2)
        x->tabn *= 2;
    x->tab = calloc(x->tabn, sizeof(*x->tab));
    if (x->tab == NULL)
        return false;
    for (size_t k = 1; k < x->n; k++) {
        const struct oa_span *p = &x->sp[k];
        size_t h = slot(x, p->parent, x->keys.data + p->key, p->klen);
        while (x->tab[h] != 0)
            h = (h + 1) & (x->tabn - 1);
        x->tab[h] = (int)k + 1;
    }
    return true;
}

int
oa_index_child(const struct oa_index *x, int parent, const char *key, size_t klen)
{
    size_t h = slot(x, parent, key, klen);

    for (; x->tab[h] != 0; h = (h + 1) & (x->tabn - 1)) {
        const struct oa_span *p = &x->sp[x->tab[h] - 1];
        if (p->parent == parent && p->klen == klen && memcmp(x->keys.data + p->key, key, klen) == 0)
            return x->tab[h] - 1;
    }
    return -1;
}

struct oa_index *
oa_index_build(const char *text, size_t len, int max_depth)
{
    struct scan sc = {0};
    struct oa_index *x = calloc(1, sizeof(*x));
    bool ok = false;

    sc.s = text;
    sc.n = len;
    sc.maxd = max_depth < MAX_SCAN_DEPTH ? max_depth : MAX_SCAN_DEPTH;
    sc.fr = calloc((size_t)sc.maxd + 1, sizeof(*sc.fr));
    sc.idx = x;
    buf_init(&sc.t1, len + 1);
    buf_init(&sc.t2, len + 1);
    if (x == NULL || sc.fr == NULL)
        goto out;
    x->text = text;
    x->len = len;
    buf_init(&x->keys, len + 16);
    x->sp = calloc(256, sizeof(*x->sp));
    if (x->sp == NULL || buf_putc(&x->keys, '\0') != ERR_OK)
        goto out;
    x->cap = 256;
    x->n = 1; /* the root */
    x->sp[0].parent = x->sp[0].first = x->sp[0].last = x->sp[0].next = -1;
    skip_ws(&sc);
    x->sp[0].start = sc.i;
    ok = run(&sc) && build_table(x);
    x->sp[0].end = len;
    while (x->sp[0].end > x->sp[0].start && strchr(" \t\r\n", text[x->sp[0].end - 1]) != NULL)
        x->sp[0].end--;
out:
    free(sc.fr);
    free(sc.ks);
    buf_release(&sc.t1);
    buf_release(&sc.t2);
    if (!ok) {
        oa_index_free(x);
        x = NULL;
    }
    return x;
}

void
oa_index_free(struct oa_index *x)
{
    if (x == NULL)
        return;
    for (size_t k = 0; x->sp != NULL && k < x->n; k++)
        json_decref(x->sp[k].val);
    free(x->sp);
    free(x->tab);
    free(x->holes);
    buf_release(&x->keys);
    free(x->scratch);
    free(x);
}
