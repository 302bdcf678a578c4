/* ref: local $ref resolution and schema inlining.
 *
 * Inlining a $ref the first time builds its expansion with a fresh budget of
 * OPENAPI_MAX_REF_SCHEMA_NODES values and caches it with its size; later
 * uses share the cached value (json_incref) when the operation's budget
 * allows, and keep the {"$ref"} otherwise. A $ref already being inlined (a
 * cycle) is kept as {"$ref"}. So the work of a whole import is bounded by
 * (distinct $refs x ref budget) + (operations x operation budget), and a
 * schema oa_schema() returns may be shared with other operations: copy it
 * before changing it. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "openapi/internal.h"

#include "core/util.h"
#include "core/banned.h"

/* Decodes one pointer token (percent and ~ escapes) of [s, e) into b. */
static bool
token(const char *s, const char *e, struct buf *b)
{
    buf_reset(b);
    for (; s < e; s++) {
        char c = *s;
        if (c == '%' && e - s >= 3 && hex_digit(s[1]) >= 0 && hex_digit(s[2]) >= 0) {
            c = (char)(hex_digit(s[1]) * 16 + hex_digit(s[2]));
            s += 2;
        } else if (c == '~' && e - s >= 2 && (s[1] == '0' || s[1] == '1')) {
            c = s[1] == '0' ? '~' : '/';
            s++;
        } else if (c == '~') {
            return false;
        }
        if (buf_putc(b, c) != ERR_OK)
            return false;
    }
    return true;
}

static json_t *
step(json_t *cur, const struct buf *t)
{
    if (json_is_object(cur))
        return json_object_getn(cur, t->data ? t->data : "", t->len);
    if (json_is_array(cur)) {
        size_t i = 0;
        if (t->len == 0 || t->len > 9 || (t->len > 1 && t->data[0] == '0'))
            return NULL;
        for (size_t k = 0; k < t->len; k++) {
            if (t->data[k] < '0' || t->data[k] > '9')
                return NULL;
            i = i * 10 + (size_t)(t->data[k] - '0');
        }
        return json_array_get(cur, i);
    }
    return NULL;
}

/* With an index, the walk goes down the spans while their members are
 * spans, parses the one it stops at (doc.c) and goes on in that tree. */
json_t *
oa_pointer(struct oa *oa, const char *ref)
{
    json_t *cur = oa->doc; /* indexed: NULL until a span is parsed */
    int span = 0;          /* indexed: where the walk is, the root first */
    bool ok = true;
    struct buf t;
    const char *p;

    if (ref == NULL || ref[0] != '#')
        return NULL;
    p = ref + 1;
    if (*p != '\0' && *p != '/')
        return NULL; /* "#anchor": plain-name fragments are not supported */
    buf_init(&t, 4096);
    while (ok && *p == '/') {
        const char *e = strchr(p + 1, '/');
        if (e == NULL)
            e = p + strlen(p);
        ok = token(p + 1, e, &t);
        if (ok && cur == NULL && oa->idx != NULL && oa->idx->sp[span].kids) {
            span = oa_index_child(oa->idx, span, t.data ? t.data : "", t.len);
            ok = span >= 0;
        } else if (ok) {
            if (cur == NULL)
                cur = oa_span_value(oa, span);
            cur = step(cur, &t);
            ok = cur != NULL;
        }
        p = e;
    }
    buf_release(&t);
    if (ok && cur == NULL)
        cur = oa_span_value(oa, span);
    return ok ? cur : NULL;
}

static bool
is_local(const char *ref)
{
    return ref[0] == '#';
}

json_t *
oa_resolve(struct oa *oa, json_t *node, const char *loc)
{
    for (int i = 0; json_is_object(node); i++) {
        const char *ref = oa_str(node, "$ref");
        json_t *t;
        if (ref == NULL)
            return node;
        if (i >= oa->o.max_ref_depth) {
            oa_warn_once(oa, "unresolved_ref", ref, loc,
                         "$ref chain longer than %d (or circular) at %s", oa->o.max_ref_depth, ref);
            return NULL;
        }
        if (!is_local(ref)) {
            oa_warn_once(oa, "external_ref", ref, loc, "external $ref not fetched: %s", ref);
            return NULL;
        }
        t = oa_pointer(oa, ref);
        if (t == NULL) {
            oa_warn_once(oa, "unresolved_ref", ref, loc, "$ref target not found: %s", ref);
            return NULL;
        }
        node = t;
    }
    return node;
}

void
oa_xstate_init(struct oa *oa, struct xstate *x, const char *loc)
{
    size_t share = oa->nodes_left / (oa->ops_left ? oa->ops_left : 1);

    memset(x, 0, sizeof(*x));
    if (share > OPENAPI_MAX_OP_SCHEMA_NODES)
        share = OPENAPI_MAX_OP_SCHEMA_NODES;
    if (share < OPENAPI_MIN_OP_SCHEMA_NODES)
        share = OPENAPI_MIN_OP_SCHEMA_NODES;
    x->budget = x->budget0 = share;
    x->loc = loc;
}

void
oa_xstate_done(struct oa *oa, struct xstate *x)
{
    size_t used = x->budget0 - x->budget;

    oa->nodes_left -= used < oa->nodes_left ? used : oa->nodes_left;
    if (oa->ops_left > 0)
        oa->ops_left--;
}

/* literal: data (example, default, enum...), never a $ref. map: node maps names
 * to schemas (properties...), so its keys are not keywords. */
struct how {
    bool literal, map;
};
static json_t *expand(struct oa *oa, struct xstate *x, json_t *node, int depth, struct how h);
static const struct how SCHEMA = {false, false};

static json_t *
keep_ref(struct xstate *x, const char *ref)
{
    if (x->budget > 0)
        x->budget--;
    return json_pack("{s:s}", "$ref", ref);
}

static json_t *
from_cache(struct oa *oa, struct xstate *x, const char *ref, json_t *ent)
{
    size_t n = (size_t)json_integer_value(json_array_get(ent, 1));

    if (n > x->budget) {
        x->truncated = true;
        return keep_ref(x, ref);
    }
    x->budget -= n;
    (void)oa;
    /* Shared, not copied: an expansion is never changed after it is built
     * (callers that add to a schema copy it first), and copying each use
     * was most of an import's memory and a fifth of its time. */
    return json_incref(json_array_get(ent, 0));
}

/* Inlines the target of ref with a fresh budget, caching the result. */
static json_t *
inline_ref(struct oa *oa, struct xstate *x, const char *ref, int depth)
{
    json_t *t = oa_pointer(oa, ref), *v;
    size_t saved = x->budget, used;
    bool trunc = x->truncated;

    if (t == NULL) {
        oa_warn_once(oa, "unresolved_ref", ref, x->loc, "$ref target not found: %s", ref);
        return keep_ref(x, ref);
    }
    x->budget = OPENAPI_MAX_REF_SCHEMA_NODES;
    x->stack[x->sp++] = ref;
    v = expand(oa, x, t, depth + 1, SCHEMA);
    x->sp--;
    used = OPENAPI_MAX_REF_SCHEMA_NODES - x->budget;
    /* Cached even when cut by a cycle or depth: where a cut lands depends on
     * the first context, but any cut is a valid {"$ref"}, and caching keeps
     * the work linear (200 schemas that each hold the next twice). */
    if (v != NULL)
        json_object_set_new(oa->cache, ref, json_pack("[O,I]", v, (json_int_t)used));
    x->truncated = x->truncated || trunc;
    x->budget = saved;
    if (v == NULL)
        return NULL;
    if (used > x->budget) {
        json_decref(v);
        x->truncated = true;
        return keep_ref(x, ref);
    }
    x->budget -= used;
    return v;
}

/* siblings of a $ref (3.1 allows them: description, nullable...) go on top. */
static json_t *
with_siblings(struct oa *oa, struct xstate *x, json_t *node, json_t *v, int depth)
{
    const char *k;
    json_t *s, *c;

    if (json_object_size(node) < 2 || !json_is_object(v) || json_object_get(v, "$ref"))
        return v;
    c = json_copy(v);
    json_decref(v);
    if (c == NULL)
        return NULL;
    json_object_foreach (node, k, s) {
        if (strcmp(k, "$ref") != 0)
            json_object_set_new(c, k, expand(oa, x, s, depth + 1, SCHEMA));
    }
    return c;
}

static json_t *
expand_ref(struct oa *oa, struct xstate *x, json_t *node, const char *ref, int depth)
{
    json_t *ent, *v;

    if (!is_local(ref)) {
        oa_warn_once(oa, "external_ref", ref, x->loc, "external $ref not fetched: %s", ref);
        return keep_ref(x, ref);
    }
    for (int i = 0; i < x->sp; i++) {
        if (strcmp(x->stack[i], ref) == 0) {
            oa_warn_once(oa, "circular_ref", ref, x->loc, "circular $ref kept as a reference: %s",
                         ref);
            return keep_ref(x, ref);
        }
    }
    ent = json_object_get(oa->cache, ref);
    if (ent != NULL)
        v = from_cache(oa, x, ref, ent);
    else if (x->sp >= oa->o.max_ref_depth || depth >= OPENAPI_MAX_SCHEMA_DEPTH) {
        x->truncated = true;
        v = keep_ref(x, ref);
    } else
        v = inline_ref(oa, x, ref, depth);
    return with_siblings(oa, x, node, v, depth);
}

static struct how
child_how(struct how h, const char *k)
{
    struct how c = {h.literal, false};

    if (h.literal || h.map)
        return c;
    c.literal = strcmp(k, "example") == 0 || strcmp(k, "examples") == 0 ||
                strcmp(k, "default") == 0 || strcmp(k, "enum") == 0 || strcmp(k, "const") == 0;
    c.map = strcmp(k, "properties") == 0 || strcmp(k, "patternProperties") == 0 ||
            strcmp(k, "$defs") == 0 || strcmp(k, "definitions") == 0 ||
            strcmp(k, "dependentSchemas") == 0;
    return c;
}

static json_t *
expand(struct oa *oa, struct xstate *x, json_t *node, int depth, struct how h)
{
    const char *k, *ref;
    json_t *v, *out;
    size_t i;

    if (x->budget == 0 || (depth >= OPENAPI_MAX_SCHEMA_DEPTH && json_is_object(node))) {
        x->truncated = true;
        return json_object();
    }
    if (!h.literal && !h.map && json_is_object(node) && (ref = oa_str(node, "$ref")) != NULL)
        return expand_ref(oa, x, node, ref, depth);
    x->budget--;
    if (json_is_object(node)) {
        out = json_object();
        json_object_foreach (node, k, v) {
            json_object_set_new(out, k, expand(oa, x, v, depth + 1, child_how(h, k)));
        }
    } else if (json_is_array(node)) {
        out = json_array();
        json_array_foreach (node, i, v) {
            json_array_append_new(out, expand(oa, x, v, depth + 1, (struct how){h.literal, false}));
        }
    } else {
        out = json_copy(node);
    }
    return out;
}

json_t *
oa_schema(struct oa *oa, struct xstate *x, json_t *schema)
{
    json_t *v = expand(oa, x, schema, 0, SCHEMA);

    if (x->truncated)
        oa_warn_once(oa, "schema_truncated", x->loc, x->loc,
                     "schemas were cut at their size or depth limit; some $refs are kept");
    return v;
}
