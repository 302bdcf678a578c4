/*
 * template: a scanner that walks a template once and reports literal runs,
 * placeholders and the '?' to a callback. tmpl_check() and tmpl_render() share
 * it, so a template that passed the check renders with exactly the same
 * reading of its structure.
 */
#include "engine/template.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"

#include "core/banned.h"

enum piece { P_LIT, P_VAR, P_QMARK };

typedef enum err (*piece_cb)(void *arg, enum piece kind, const char *p, size_t n, bool in_query,
                             struct errinfo *ei);

static bool
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static bool
is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

static bool
is_name_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

enum err
pct_encode(struct buf *out, const char *s, size_t n, enum pct_mode mode)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, run = 0;
    enum err e = ERR_OK;

    (void)mode; /* both modes keep only unreserved bytes */
    for (i = 0; i < n && e == ERR_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3];
        if (is_unreserved(c)) {
            run++;
            continue;
        }
        if (run > 0)
            e = buf_append(out, s + i - run, run);
        run = 0;
        esc[0] = '%';
        esc[1] = hex[c >> 4];
        esc[2] = hex[c & 15];
        if (e == ERR_OK)
            e = buf_append(out, esc, 3);
    }
    if (e == ERR_OK && run > 0)
        e = buf_append(out, s + n - run, run);
    return e;
}

/* Reads a placeholder at t + i (t[i] == '{'); on success *name and *namelen
 * *end (the index after "}}"). */
static enum err
scan_var(const char *t, size_t i, const char *field, const char **name, size_t *namelen,
         size_t *end, struct errinfo *ei)
{
    size_t j = i + 2, k;

    if (t[i + 1] != '{')
        return err_set(ei, ERR_INVALID, "invalid_field", field,
                       "unbalanced '{' at offset %zu; placeholders are written {{name}}", i);
    if (!is_name_start((unsigned char)t[j]))
        return err_set(ei, ERR_INVALID, "invalid_field", field,
                       "placeholder at offset %zu: a name must start with a letter or '_'", i);
    for (k = j; is_name_char((unsigned char)t[k]); k++)
        ;
    if (k - j > TMPL_MAX_NAME)
        return err_set(ei, ERR_INVALID, "invalid_field", field,
                       "placeholder at offset %zu: name longer than %d characters", i,
                       TMPL_MAX_NAME);
    if (t[k] != '}' || t[k + 1] != '}')
        return err_set(ei, ERR_INVALID, "invalid_field", field,
                       "placeholder at offset %zu: expected '}}' after the name (names are "
                       "[A-Za-z_][A-Za-z0-9_]*)",
                       i);
    if (t[k + 2] == '}')
        return err_set(ei, ERR_INVALID, "invalid_field", field, "unbalanced '}' at offset %zu",
                       k + 2);
    *name = t + j;
    *namelen = k - j;
    *end = k + 2;
    return ERR_OK;
}

/* Checks one literal byte at offset i. */
static enum err
scan_byte(const char *t, size_t i, const char *field, struct errinfo *ei)
{
    unsigned char c = (unsigned char)t[i];

    if (c == '\r' || c == '\n')
        return err_set(ei, ERR_INVALID, "invalid_field", field,
                       "must not contain CR or LF (offset %zu)", i);
    if (c == ' ')
        return err_set(ei, ERR_INVALID, "invalid_field", field,
                       "must not contain a space (offset %zu); write %%20", i);
    if (c < 0x20 || c == 0x7f)
        return err_set(ei, ERR_INVALID, "invalid_field", field,
                       "must not contain control characters (offset %zu)", i);
    if (c >= 0x80)
        return err_set(ei, ERR_INVALID, "invalid_field", field,
                       "must be ASCII (offset %zu); percent-encode other characters", i);
    if (c == '#')
        return err_set(ei, ERR_INVALID, "invalid_field", field,
                       "must not contain '#' (offset %zu): fragments are never sent", i);
    if (c == '}')
        return err_set(ei, ERR_INVALID, "invalid_field", field, "unbalanced '}' at offset %zu", i);
    if (c == '%' && (!is_hex((unsigned char)t[i + 1]) || !is_hex((unsigned char)t[i + 2])))
        return err_set(ei, ERR_INVALID, "invalid_field", field,
                       "'%%' at offset %zu must start a %%XX escape", i);
    return ERR_OK;
}

static enum err
scan(const char *t, const char *field, piece_cb cb, void *arg, struct errinfo *ei)
{
    size_t i = 0, lit = 0, n;
    bool in_query = false;
    enum err e = ERR_OK;

    if (t == NULL || t[0] != '/')
        return err_set(ei, ERR_INVALID, "invalid_field", field, "must start with '/'");
    n = strnlen(t, (size_t)MAX_OP_PATH_LEN + 1);
    if (n > MAX_OP_PATH_LEN)
        return err_set(ei, ERR_INVALID, "invalid_field", field, "must be at most %d characters",
                       MAX_OP_PATH_LEN);
    while (e == ERR_OK && i < n) {
        const char *name = NULL;
        size_t namelen = 0, end = i + 1;
        if (t[i] != '{' && t[i] != '?') {
            e = scan_byte(t, i, field, ei);
            i++;
            continue;
        }
        if (i > lit)
            e = cb(arg, P_LIT, t + lit, i - lit, in_query, ei);
        if (e != ERR_OK)
            break;
        if (t[i] == '?') {
            if (in_query)
                return err_set(ei, ERR_INVALID, "invalid_field", field,
                               "has a second '?' at offset %zu", i);
            in_query = true;
            e = cb(arg, P_QMARK, t + i, 1, in_query, ei);
            lit = ++i;
            continue;
        }
        e = scan_var(t, i, field, &name, &namelen, &end, ei);
        if (e != ERR_OK)
            break;
        assert(name != NULL && namelen <= TMPL_MAX_NAME); /* scan_var() set them */
        e = cb(arg, P_VAR, name, namelen, in_query, ei);
        lit = i = end;
    }
    if (e == ERR_OK && n > lit)
        e = cb(arg, P_LIT, t + lit, n - lit, in_query, ei);
    return e;
}

/* ---- tmpl_check ---- */

static enum err
check_cb(void *arg, enum piece kind, const char *p, size_t n, bool in_query, struct errinfo *ei)
{
    json_t *names = arg;
    const char *where = in_query ? "query" : "path";
    char name[TMPL_MAX_NAME + 1];
    size_t i;
    json_t *o;

    if (kind != P_VAR || names == NULL)
        return ERR_OK;
    memcpy(name, p, n);
    name[n] = '\0';
    for (i = 0; i < json_array_size(names); i++) {
        const json_t *it = json_array_get(names, i);
        const char *nm = json_string_value(json_object_get(it, "name"));
        const char *in = json_string_value(json_object_get(it, "in"));
        if (nm && in && strcmp(nm, name) == 0 && strcmp(in, where) == 0)
            return ERR_OK;
    }
    o = json_pack("{s:s, s:s}", "name", name, "in", where);
    if (o == NULL || json_array_append_new(names, o) != 0)
        return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    return ERR_OK;
}

enum err
tmpl_check(const char *tmpl, const char *field, json_t *names, struct errinfo *ei)
{
    return scan(tmpl, field ? field : "path", check_cb, names, ei);
}

/* ---- tmpl_render ---- */

struct render {
    const json_t *input;
    struct buf *out;
    json_t *used;
    size_t seg_start;             /* offset in out of the current path segment */
    bool seg_has_var;             /* the current segment holds a placeholder value */
    char last[TMPL_MAX_NAME + 1]; /* the last placeholder of that segment */
};

static enum err
input_err(struct errinfo *ei, const char *name, const char *msg)
{
    char field[ERRINFO_FIELD];

    snprintf(field, sizeof(field), "input.%s", name);
    return err_set(ei, ERR_INVALID, "invalid_input", field, "%s", msg);
}

static enum err
out_err(struct errinfo *ei, enum err e)
{
    if (e == ERR_TOO_LARGE)
        return err_set(ei, e, "too_large", "path", "the rendered path is too long");
    return err_set(ei, e, NULL, NULL, "out of memory");
}

/* Ends the current path segment: "." and ".." made with a value are refused. */
static enum err
segment_end(struct render *r, struct errinfo *ei)
{
    const char *s;
    size_t n;

    if (!r->seg_has_var)
        return ERR_OK;
    s = r->out->data + r->seg_start;
    n = r->out->len - r->seg_start;
    if (((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')))
        return input_err(ei, r->last, "would make a '.' or '..' path segment");
    r->seg_has_var = false;
    return ERR_OK;
}

static enum err
render_lit(struct render *r, const char *p, size_t n, bool in_query, struct errinfo *ei)
{
    size_t i;
    enum err e = ERR_OK;

    for (i = 0; i < n && e == ERR_OK; i++) {
        if (!in_query && p[i] == '/') {
            e = segment_end(r, ei);
            if (e == ERR_OK)
                e = buf_putc(r->out, '/');
            r->seg_start = r->out->len;
        } else {
            e = buf_putc(r->out, p[i]);
        }
    }
    return e;
}

static enum err
render_var(struct render *r, const char *name, bool in_query, struct errinfo *ei)
{
    const json_t *v = json_is_object(r->input) ? json_object_get(r->input, name) : NULL;
    char num[64];
    const char *s;
    size_t n;
    enum err e;

    if (v == NULL)
        return input_err(ei, name, "missing required input");
    if (json_is_string(v)) {
        s = json_string_value(v);
        n = json_string_length(v);
        if (memchr(s, '\0', n) != NULL)
            return input_err(ei, name, "must not contain a NUL character");
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = num;
        n = strlen(num);
    } else if (json_is_real(v)) {
        char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (d == NULL)
            return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
        snprintf(num, sizeof(num), "%s", d);
        free(d);
        s = num;
        n = strlen(num);
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
        n = strlen(s);
    } else {
        return input_err(ei, name,
                         json_is_null(v) ? "must not be null"
                                         : "must be a string, a number or a boolean");
    }
    if (!in_query && (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')))
        return input_err(ei, name, "must not be empty, '.' or '..' (it is a path segment)");
    e = pct_encode(r->out, s, n, in_query ? PCT_QUERY : PCT_SEGMENT);
    if (e != ERR_OK)
        return out_err(ei, e);
    if (!in_query) {
        r->seg_has_var = true;
        snprintf(r->last, sizeof(r->last), "%s", name);
    }
    if (r->used != NULL && json_object_set_new(r->used, name, json_true()) != 0)
        return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    return ERR_OK;
}

static enum err
render_cb(void *arg, enum piece kind, const char *p, size_t n, bool in_query, struct errinfo *ei)
{
    struct render *r = arg;
    char name[TMPL_MAX_NAME + 1];
    enum err e;

    switch (kind) {
    case P_LIT:
        e = render_lit(r, p, n, in_query, ei);
        break;
    case P_QMARK:
        e = segment_end(r, ei);
        if (e == ERR_OK)
            e = buf_putc(r->out, '?');
        break;
    case P_VAR:
    default:
        memcpy(name, p, n);
        name[n] = '\0';
        return render_var(r, name, in_query, ei);
    }
    if (e == ERR_TOO_LARGE || e == ERR_NOMEM)
        return out_err(ei, e);
    return e;
}

enum err
tmpl_render(const char *tmpl, const json_t *input, struct buf *out, json_t *used,
            struct errinfo *ei)
{
    struct render r = {0};
    size_t start = out->len;
    enum err e;

    if (input != NULL && !json_is_object(input))
        return err_set(ei, ERR_INVALID, "invalid_input", "input", "must be an object");
    r.input = input;
    r.out = out;
    r.used = used;
    r.seg_start = out->len;
    e = scan(tmpl, "path", render_cb, &r, ei);
    if (e == ERR_OK)
        e = segment_end(&r, ei);
    if (e != ERR_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return e;
}
