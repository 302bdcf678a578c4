#include "openapi/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/util.h"

#include "core/banned.h"

struct frame {
    json_t *node;   /* the open object or array (owned here until attached) */
    char *key;      /* a mapping's pending key, or NULL */
    bool merge;     /* the pending key is a plain "<<" */
    json_t *merges; /* merge sources (array), applied at the end, or NULL */
    size_t anchor;  /* index + 1 of this node's anchor, or 0 */
    size_t nodes0;  /* y->nodes when the node opened */
};

struct anchor {
    json_t *node; /* borrowed from the tree */
    size_t size;  /* values in it, aliases expanded */
    bool open;
};

struct yconv {
    yaml_parser_t p;
    const struct yaml_limits *lim;
    struct errinfo *ei;
    struct frame *st;
    int depth;
    struct anchor *an;
    size_t nan, can;
    json_t *anames; /* anchor name -> index */
    size_t nodes, aliases, alias_nodes;
    json_t *root;
    int docs;
    yaml_mark_t mark; /* of the event being handled */
};

static enum err
yerr(struct yconv *y, const char *what)
{
    return err_set(y->ei, ERR_INVALID, "invalid_spec", "spec", "YAML: %s at line %zu column %zu",
                   what, y->mark.line + 1, y->mark.column + 1);
}

static enum err
ylimit(struct yconv *y, const char *field, const char *what, size_t lim)
{
    return err_set(y->ei, ERR_TOO_LARGE, "limit_exceeded", field,
                   "YAML: %s (limit %zu) at line %zu column %zu", what, lim, y->mark.line + 1,
                   y->mark.column + 1);
}

static bool
all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool
is_float(const char *s, size_t n)
{
    size_t i = 0, d = 0;

    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, d++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, d++;
    }
    if (d == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        if (!all_digits(s + i, n - i))
            return false;
        i = n;
    }
    return i == n;
}

static json_t *
plain_number(const char *s, size_t n)
{
    size_t sign = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    char *end;
    double d;

    if (n > 64 || !is_float(s, n))
        return NULL;
    errno = 0;
    if (all_digits(s + sign, n - sign)) {
        long long v = strtoll(s, &end, 10);
        if (errno == 0 && end == s + n)
            return json_integer(v);
        errno = 0;
    }
    d = strtod(s, &end);
    if (errno != 0 || end != s + n || !isfinite(d))
        return NULL;
    return json_real(d);
}

/* A plain scalar's JSON value (YAML 1.2 core schema, loosely). */
static json_t *
plain_value(const char *s, size_t n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    static const char *const trues[] = {"true", "True", "TRUE"};
    static const char *const falses[] = {"false", "False", "FALSE"};
    json_t *v;

    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (strlen(nulls[i]) == n && memcmp(s, nulls[i], n) == 0)
            return json_null();
    for (size_t i = 0; i < 3; i++) {
        if (strlen(trues[i]) == n && memcmp(s, trues[i], n) == 0)
            return json_true();
        if (strlen(falses[i]) == n && memcmp(s, falses[i], n) == 0)
            return json_false();
    }
    if (n > 0 && ((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+' || s[0] == '.')) {
        v = plain_number(s, n);
        if (v != NULL)
            return v;
    }
    return json_stringn(s, n);
}

/* Applies a value to a pending "<<" key: a mapping or a list of mappings. */
static enum err
add_merge(struct yconv *y, struct frame *f, json_t *v)
{
    size_t i;
    json_t *m;

    if (f->merges == NULL && (f->merges = json_array()) == NULL)
        return ERR_NOMEM;
    if (json_is_object(v))
        return json_array_append(f->merges, v) == 0 ? ERR_OK : ERR_NOMEM;
    if (!json_is_array(v))
        return yerr(y, "merge key << needs a mapping or a list of mappings");
    json_array_foreach (v, i, m) {
        if (!json_is_object(m))
            return yerr(y, "merge key << needs a mapping or a list of mappings");
        if (++y->aliases > y->lim->max_aliases)
            return ylimit(y, "max_aliases", "too many aliases", y->lim->max_aliases);
        if (json_array_append(f->merges, m) != 0)
            return ERR_NOMEM;
    }
    return ERR_OK;
}

/* Attaches v (a new reference, consumed) to the open container or makes it
 * the root. */
static enum err
attach(struct yconv *y, json_t *v)
{
    struct frame *f;
    enum err e = ERR_OK;

    if (v == NULL)
        return ERR_NOMEM;
    if (y->depth == 0) {
        y->root = v;
        return ERR_OK;
    }
    f = &y->st[y->depth - 1];
    if (json_is_array(f->node)) {
        e = json_array_append_new(f->node, v) == 0 ? ERR_OK : ERR_NOMEM;
    } else if (f->merge) {
        e = add_merge(y, f, v);
        json_decref(v);
    } else {
        e = json_object_set_new(f->node, f->key, v) == 0 ? ERR_OK : ERR_NOMEM;
    }
    free(f->key);
    f->key = NULL;
    f->merge = false;
    return e;
}

static bool
expecting_key(const struct yconv *y)
{
    const struct frame *f;

    if (y->depth == 0)
        return false;
    f = &y->st[y->depth - 1];
    return json_is_object(f->node) && f->key == NULL && !f->merge;
}

static enum err
set_key(struct yconv *y, const char *s, size_t n, bool plain)
{
    struct frame *f = &y->st[y->depth - 1];

    if (plain && n == 2 && memcmp(s, "<<", 2) == 0) {
        if (f->merges != NULL)
            return yerr(y, "duplicate merge key <<");
        f->merge = true;
        return ERR_OK;
    }
    if (json_object_getn(f->node, s, n) != NULL)
        return yerr(y, "duplicate mapping key");
    f->key = strndup(s, n);
    return f->key == NULL ? ERR_NOMEM : ERR_OK;
}

static enum err
new_anchor(struct yconv *y, const yaml_char_t *name, json_t *node, bool open, size_t *idx)
{
    const char *nm = (const char *)name;

    *idx = 0;
    if (name == NULL)
        return ERR_OK;
    if (json_object_get(y->anames, nm) != NULL)
        return yerr(y, "duplicate anchor");
    if (y->nan == y->can) {
        struct anchor *na = array_grow(y->an, &y->can, sizeof(*na), 16);
        if (na == NULL)
            return ERR_NOMEM;
        y->an = na;
    }
    y->an[y->nan] = (struct anchor){node, 1, open};
    if (json_object_set_new(y->anames, nm, json_integer((json_int_t)y->nan)) != 0)
        return ERR_NOMEM;
    *idx = ++y->nan;
    return ERR_OK;
}

static enum err
on_scalar(struct yconv *y, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length, idx;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    json_t *v;
    enum err e;

    if (memchr(s, '\0', n) != NULL)
        return yerr(y, "NUL character in a scalar");
    if (expecting_key(y)) {
        if (ev->data.scalar.anchor != NULL)
            return yerr(y, "anchors on mapping keys are not supported");
        return set_key(y, s, n, plain);
    }
    v = plain ? plain_value(s, n) : json_stringn(s, n);
    if (v == NULL)
        return yerr(y, "scalar is not valid UTF-8");
    e = new_anchor(y, ev->data.scalar.anchor, v, false, &idx);
    if (e != ERR_OK) {
        json_decref(v);
        return e;
    }
    y->nodes++;
    return attach(y, v);
}

static enum err
on_alias(struct yconv *y, const yaml_event_t *ev)
{
    json_t *ix = json_object_get(y->anames, (const char *)ev->data.alias.anchor);
    struct anchor *a;

    if (expecting_key(y))
        return yerr(y, "an alias cannot be a mapping key");
    if (ix == NULL)
        return yerr(y, "undefined alias");
    a = &y->an[json_integer_value(ix)];
    if (a->open)
        return yerr(y, "alias refers to a node that contains it (cycle)");
    if (++y->aliases > y->lim->max_aliases)
        return ylimit(y, "max_aliases", "too many aliases", y->lim->max_aliases);
    if (a->size > y->lim->max_alias_nodes - y->alias_nodes)
        return ylimit(y, "max_alias_nodes", "aliases expand to too many values",
                      y->lim->max_alias_nodes);
    y->alias_nodes += a->size;
    y->nodes += a->size;
    return attach(y, json_incref(a->node));
}

static enum err
on_start(struct yconv *y, const yaml_event_t *ev, bool map)
{
    const yaml_char_t *anchor =
        map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    struct frame *f;
    enum err e;

    if (expecting_key(y))
        return yerr(y, "mapping keys must be scalars");
    if (y->depth >= y->lim->max_depth)
        return ylimit(y, "max_depth", "nesting too deep", (size_t)y->lim->max_depth);
    f = &y->st[y->depth];
    *f = (struct frame){0};
    f->node = map ? json_object() : json_array();
    if (f->node == NULL)
        return ERR_NOMEM;
    f->nodes0 = y->nodes;
    y->depth++;
    y->nodes++;
    e = new_anchor(y, anchor, f->node, true, &f->anchor);
    return e;
}

static enum err
apply_merges(struct yconv *y, struct frame *f)
{
    size_t i;
    json_t *m;

    json_array_foreach (f->merges, i, m) {
        size_t n = json_object_size(m);
        if (n > y->lim->max_alias_nodes - y->alias_nodes)
            return ylimit(y, "max_alias_nodes", "merge keys expand to too many values",
                          y->lim->max_alias_nodes);
        y->alias_nodes += n;
        if (json_object_update_missing(f->node, m) != 0)
            return ERR_NOMEM;
    }
    return ERR_OK;
}

static enum err
on_end(struct yconv *y)
{
    struct frame *f = &y->st[y->depth - 1];
    json_t *node = f->node;
    enum err e = ERR_OK;

    if (f->merges != NULL)
        e = apply_merges(y, f);
    if (f->anchor != 0) {
        y->an[f->anchor - 1].open = false;
        y->an[f->anchor - 1].size = y->nodes - f->nodes0;
    }
    json_decref(f->merges);
    free(f->key);
    *f = (struct frame){0};
    y->depth--;
    if (e != ERR_OK) {
        json_decref(node);
        return e;
    }
    return attach(y, node);
}

static enum err
on_event(struct yconv *y, const yaml_event_t *ev)
{
    y->mark = ev->start_mark;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++y->docs > 1)
            return yerr(y, "only one document is allowed");
        return ERR_OK;
    case YAML_SCALAR_EVENT:
        return on_scalar(y, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(y, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(y, ev, false);
    case YAML_MAPPING_START_EVENT:
        return on_start(y, ev, true);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(y);
    default:
        return ERR_OK;
    }
}

static enum err
parser_error(struct yconv *y)
{
    const char *what = y->p.problem ? y->p.problem : "syntax error";

    if (y->p.error == YAML_MEMORY_ERROR)
        return ERR_NOMEM;
    if (y->p.context != NULL)
        return err_set(y->ei, ERR_INVALID, "invalid_spec", "spec",
                       "YAML: %s %s at line %zu column %zu", y->p.context, what,
                       y->p.problem_mark.line + 1, y->p.problem_mark.column + 1);
    return err_set(y->ei, ERR_INVALID, "invalid_spec", "spec", "YAML: %s at line %zu column %zu",
                   what, y->p.problem_mark.line + 1, y->p.problem_mark.column + 1);
}

static enum err
run(struct yconv *y)
{
    yaml_event_t ev;
    yaml_event_type_t type;
    enum err e;

    do {
        if (!yaml_parser_parse(&y->p, &ev))
            return parser_error(y);
        e = on_event(y, &ev);
        type = ev.type;
        yaml_event_delete(&ev);
        if (e != ERR_OK)
            return e;
    } while (type != YAML_STREAM_END_EVENT);
    return ERR_OK;
}

enum err
yaml_to_json(const char *text, size_t len, const struct yaml_limits *lim, json_t **out,
             struct errinfo *ei)
{
    struct yconv y = {0};
    enum err e;

    *out = NULL;
    y.lim = lim;
    y.ei = ei;
    y.st = calloc((size_t)(lim->max_depth > 0 ? lim->max_depth : 1), sizeof(*y.st));
    y.anames = json_object();
    if (y.st == NULL || y.anames == NULL || !yaml_parser_initialize(&y.p)) {
        e = ERR_NOMEM;
        goto out;
    }
    yaml_parser_set_input_string(&y.p, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&y.p, YAML_UTF8_ENCODING);
    e = run(&y);
    if (e == ERR_OK && y.root == NULL)
        e = err_set(ei, ERR_INVALID, "invalid_spec", "spec", "YAML: the document is empty");
out:
    if (e == ERR_OK) {
        *out = y.root;
        y.root = NULL;
    }
    while (y.depth > 0) {
        struct frame *f = &y.st[--y.depth];
        json_decref(f->node);
        json_decref(f->merges);
        free(f->key);
    }
    json_decref(y.root);
    yaml_parser_delete(&y.p);
    json_decref(y.anames);
    free(y.an);
    free(y.st);
    return e;
}
