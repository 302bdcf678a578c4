/* doc: the spec as the mapping reads it. YAML, and JSON that index.c does not
 * vouch for, is one jansson tree (oa->doc). Other JSON is an index of spans
 * (oa->idx), each parsed with jansson when first read: top-level members stay
 * parsed for the whole import ("pinned"); the rest (components, path items
 * reached by a $ref) are kept until oa_doc_trim() finds more than
 * OA_SPAN_CACHE_BYTES of their text parsed. Path items are parsed one at a
 * time, without the values the mapping never reads (index.c's holes), and
 * freed by the caller. So the peak is the text, the index, one path
 * item, the components it uses and the proposal, not the whole tree. */
#include <stdlib.h>
#include <string.h>

#include "openapi/internal.h"

#include "core/banned.h"

/* Copies checked JSON text without the white space between tokens: jansson
 * reads a byte per call, and a pretty-printed spec is half indentation. */
static size_t
compact(const char *s, size_t n, char *out)
{
    size_t o = 0, i = 0;

    while (i < n) {
        char c = s[i];
        if (c == '"') {
            size_t j = i + 1;
            while (s[j] != '"')
                j += s[j] == '\\' ? 2 : 1;
            memcpy(out + o, s + i, j + 1 - i);
            o += j + 1 - i;
            i = j + 1;
        } else {
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
                out[o++] = c;
            i++;
        }
    }
    return o;
}

/* Parses span p; with holes, each hole's value reads 0 (keys stay, so the
 * text stays valid JSON without duplicates). */
static json_t *
parse(struct oa_index *x, const struct oa_span *p, bool holes)
{
    size_t n = p->end - p->start, at = p->start, o = 0;
    json_error_t je;

    if (n > x->scap) {
        char *s = realloc(x->scratch, n > 2 * x->scap ? n : 2 * x->scap);
        if (s == NULL)
            return NULL;
        x->scratch = s;
        x->scap = n > 2 * x->scap ? n : 2 * x->scap;
    }
    for (size_t h = p->hole0; holes && h < p->hole0 + p->nholes; h++) {
        o += compact(x->text + at, x->holes[h].start - at, x->scratch + o);
        x->scratch[o++] = '0'; /* a value is never shorter than one byte */
        at = x->holes[h].end;
    }
    n = o + compact(x->text + at, p->end - at, x->scratch + o);
    /* index.c checked the text as a whole, so a span parses (or memory ran out) */
    return json_loadb(x->scratch, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
}

json_t *
oa_span_value(struct oa *oa, int s)
{
    struct oa_span *p;

    if (oa->idx == NULL || s < 0)
        return NULL;
    p = &oa->idx->sp[s];
    if (p->val == NULL) {
        p->val = parse(oa->idx, p, false);
        if (p->val != NULL && !p->pinned)
            oa->idx->cached += p->end - p->start;
    }
    return p->val;
}

void
oa_doc_trim(struct oa *oa)
{
    struct oa_index *x = oa->idx;

    if (x == NULL || x->cached <= OA_SPAN_CACHE_BYTES)
        return;
    for (size_t k = 0; k < x->n; k++) {
        if (!x->sp[k].pinned && x->sp[k].val != NULL) {
            json_decref(x->sp[k].val);
            x->sp[k].val = NULL;
        }
    }
    x->cached = 0;
}

static int
top_span(const struct oa *oa, const char *key)
{
    return oa_index_child(oa->idx, 0, key, strlen(key));
}

json_t *
oa_top(struct oa *oa, const char *key)
{
    int s;

    if (oa->idx == NULL)
        return json_object_get(oa->doc, key);
    s = top_span(oa, key);
    if (s < 0)
        return NULL;
    if (!oa->idx->sp[s].pinned && oa->idx->sp[s].val != NULL)
        oa->idx->cached -= oa->idx->sp[s].end - oa->idx->sp[s].start;
    oa->idx->sp[s].pinned = true;
    return oa_span_value(oa, s);
}

int
oa_top_type(struct oa *oa, const char *key)
{
    int s;

    if (oa->idx == NULL) {
        json_t *v = json_object_get(oa->doc, key);
        return v ? (int)json_typeof(v) : -1;
    }
    s = top_span(oa, key);
    if (s < 0)
        return -1;
    switch (oa->idx->text[oa->idx->sp[s].start]) {
    case '{':
        return JSON_OBJECT;
    case '[':
        return JSON_ARRAY;
    case '"':
        return JSON_STRING;
    case 't':
        return JSON_TRUE;
    case 'f':
        return JSON_FALSE;
    case 'n':
        return JSON_NULL;
    default:
        return JSON_REAL; /* a number: integer or real, the caller does not ask */
    }
}

bool
oa_paths_next(struct oa *oa, struct oa_cursor *c, const char **path)
{
    if (oa->idx == NULL) {
        json_t *paths = json_object_get(oa->doc, "paths");
        c->it = c->started ? json_object_iter_next(paths, c->it) : json_object_iter(paths);
        c->started = true;
        *path = c->it ? json_object_iter_key(c->it) : NULL;
        return c->it != NULL;
    }
    if (!c->started) {
        int s = top_span(oa, "paths");
        c->span = s >= 0 && oa->idx->sp[s].kids ? oa->idx->sp[s].first : -1;
    } else if (c->span >= 0) {
        c->span = oa->idx->sp[c->span].next;
    }
    c->started = true;
    *path = c->span >= 0 ? oa->idx->keys.data + oa->idx->sp[c->span].key : NULL;
    return c->span >= 0;
}

json_t *
oa_paths_item(struct oa *oa, const struct oa_cursor *c)
{
    const struct oa_span *p;

    if (oa->idx == NULL)
        return json_incref(json_object_iter_value(c->it));
    p = &oa->idx->sp[c->span];
    return p->val ? json_incref(p->val) : parse(oa->idx, p, true);
}

size_t
oa_paths_nops(struct oa *oa, const struct oa_cursor *c)
{
    static const char *const methods[] = {"get",     "put",  "post",  "delete",
                                          "options", "head", "patch", "trace"};
    json_t *item;
    size_t n = 0;

    if (oa->idx != NULL)
        return oa->idx->sp[c->span].nops;
    item = json_object_iter_value(c->it);
    for (size_t i = 0; i < 8; i++)
        n += json_is_object(json_object_get(item, methods[i])) ? 1 : 0;
    return n;
}

bool
oa_paths_secured(struct oa *oa, const struct oa_cursor *c)
{
    return oa->idx == NULL || oa->idx->sp[c->span].security;
}
