/* params: an operation's parameters (path-item level merged with operation
 * level, the operation winning on the same name and "in"), their input keys,
 * input_schema properties, and the path converted to {{key}} placeholders. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/limits.h"
#include "openapi/internal.h"

#include "core/banned.h"

struct pstate {
    struct oa *oa;
    struct xstate *x;
    struct oa_inputs in;
    json_t *used;     /* input keys taken */
    json_t *pathkeys; /* path wire name -> key */
    json_t *form;     /* Swagger formData: object schema, or NULL */
    json_t *body;     /* Swagger body parameter (borrowed), or NULL */
    bool has_file;
    const char *loc;
};

static bool
is_alpha_(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* path and query keys are template names; header and cookie keys HTTP tokens */
static bool
key_ok(const char *s, const char *in)
{
    bool tmpl = !strcmp(in, "path") || !strcmp(in, "query");
    size_t n = strlen(s);

    if (n == 0 || n > OA_MAX_NAME || (tmpl && !is_alpha_(s[0])))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!is_alpha_(c) && !is_digit(c) && (tmpl || strchr("!#$%&'*+-.^`|~", c) == NULL))
            return false;
    }
    return true;
}

static void
sanitize(const char *wire, char *out)
{
    size_t n = 0;

    if (!is_alpha_(wire[0]))
        out[n++] = 'p';
    for (size_t i = 0; wire[i] != '\0' && n < OA_MAX_NAME; i++) {
        char c = wire[i];
        if (!is_alpha_(c) && !is_digit(c))
            c = '_';
        out[n++] = c;
    }
    out[n] = '\0';
}

static void
assign_key(json_t *used, const char *wire, const char *in, char *key)
{
    char base[OA_MAX_NAME + 1], sfx[16];

    if (key_ok(wire, in)) /* at most OA_MAX_NAME bytes */
        memcpy(base, wire, strlen(wire) + 1);
    else
        sanitize(wire, base);
    snprintf(key, OA_MAX_NAME + 1, "%s", base);
    if (json_object_get(used, key) != NULL)
        snprintf(key, OA_MAX_NAME + 1, "%s_%.*s", in, (int)(OA_MAX_NAME - strlen(in) - 1), base);
    for (int k = 2; json_object_get(used, key) != NULL; k++) {
        int sl = snprintf(sfx, sizeof(sfx), "_%d", k);
        snprintf(key, OA_MAX_NAME + 1, "%.*s%s", OA_MAX_NAME - sl, base, sfx);
    }
    json_object_set_new(used, key, json_true());
}

/* Swagger 2.0 non-body parameter: the schema keywords sit on the parameter. */
static json_t *
v2_schema(const json_t *p)
{
    static const char *const drop[] = {"name", "in", "required", "allowEmptyValue",
                                       "collectionFormat"};
    json_t *s = json_object(), *v;
    const char *k;

    json_object_foreach ((json_t *)p, k, v) {
        bool skip = false;
        for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
            skip = skip || !strcmp(k, drop[i]);
        if (!skip)
            json_object_set(s, k, v);
    }
    if (!strcmp(oa_str(s, "type") ? oa_str(s, "type") : "", "file")) {
        oa_set_str(s, "type", "string");
        oa_set_str(s, "format", "binary");
    }
    return s;
}

static json_t *
param_schema(struct pstate *ps, json_t *p)
{
    json_t *raw, *s, *content = json_object_get(p, "content");
    const char *desc = oa_str(p, "description");

    if (ps->oa->v2) {
        raw = v2_schema(p);
        s = oa_schema(ps->oa, ps->x, raw);
        json_decref(raw);
    } else {
        raw = json_object_get(p, "schema");
        if (raw == NULL && json_is_object(content)) {
            void *it = json_object_iter(content);
            raw = json_object_get(json_object_iter_value(it), "schema");
        }
        s = raw ? oa_schema(ps->oa, ps->x, raw) : json_pack("{s:s}", "type", "string");
    }
    if (json_is_object(s) && desc && !json_object_get(s, "description")) {
        json_t *own = json_copy(s); /* s may be shared (ref.c) */
        json_decref(s);
        s = own;
        if (s != NULL)
            oa_set_str(s, "description", desc);
    }
    return s;
}

static void
add_param(struct pstate *ps, json_t *p, const char *wire, const char *in, bool required)
{
    char key[OA_MAX_NAME + 1];
    json_t *ent;

    assign_key(ps->used, wire, in, key);
    if (!strcmp(in, "path"))
        json_object_set_new(ps->pathkeys, wire, json_string(key));
    ent = json_pack("{s:s, s:s}", "name", key, "in", in);
    if (required)
        json_object_set_new(ent, "required", json_true());
    if (strcmp(key, wire) != 0)
        oa_set_str(ent, "wire_name", wire);
    json_array_append_new(ps->in.params, ent);
    json_object_set_new(ps->in.props, key,
                        p ? param_schema(ps, p) : json_pack("{s:s}", "type", "string"));
    if (required)
        json_array_append_new(ps->in.req, json_string(key));
}

static void
v2_form(struct pstate *ps, json_t *p, const char *name)
{
    json_t *raw = v2_schema(p);

    if (ps->form == NULL)
        ps->form = json_pack("{s:s, s:{}, s:[]}", "type", "object", "properties", "required");
    if (!strcmp(oa_str(p, "type") ? oa_str(p, "type") : "", "file"))
        ps->has_file = true;
    json_object_set_new(json_object_get(ps->form, "properties"), name,
                        oa_schema(ps->oa, ps->x, raw));
    json_decref(raw);
    if (json_is_true(json_object_get(p, "required")))
        json_array_append_new(json_object_get(ps->form, "required"), json_string(name));
}

/* One merged parameter; path parameters go in the first pass so they keep
 * their names when a query parameter has the same one. */
static void
one_param(struct pstate *ps, json_t *p, bool path_pass)
{
    const char *name = oa_str(p, "name"), *in = oa_str(p, "in");
    bool is_path = in && !strcmp(in, "path");

    if (name == NULL || in == NULL || is_path != path_pass)
        return;
    if (!strcmp(in, "body") && ps->oa->v2) {
        ps->body = p;
    } else if (!strcmp(in, "formData") && ps->oa->v2) {
        v2_form(ps, p, name);
    } else if (!strcmp(in, "header") &&
               (!strcasecmp(name, "Accept") || !strcasecmp(name, "Content-Type") ||
                !strcasecmp(name, "Authorization"))) {
        return; /* OpenAPI: these are set by the media types and security */
    } else if (is_path || !strcmp(in, "query") || !strcmp(in, "header") || !strcmp(in, "cookie")) {
        add_param(ps, p, name, in, is_path || json_is_true(json_object_get(p, "required")));
    } else {
        oa_warn(ps->oa, "unsupported_parameter", ps->loc,
                "parameter \"%s\" in \"%s\" is not supported", name, in);
    }
}

/* Merges path-item and operation parameters into an object keyed "in\nname". */
static enum err
merge_params(struct pstate *ps, json_t *item, json_t *op, json_t *merged, struct errinfo *ei)
{
    json_t *lists[2] = {json_object_get(item, "parameters"), json_object_get(op, "parameters")};
    size_t i;
    json_t *p;
    char k[1024];

    for (int l = 0; l < 2; l++) {
        if (json_array_size(lists[l]) > OPENAPI_MAX_PARAMS)
            return err_set(ei, ERR_TOO_LARGE, "limit_exceeded", "max_parameters",
                           "an operation has more than %u parameters (%s)", OPENAPI_MAX_PARAMS,
                           ps->loc);
        json_array_foreach (lists[l], i, p) {
            json_t *r = oa_resolve(ps->oa, p, ps->loc);
            const char *name = oa_str(r, "name"), *in = oa_str(r, "in");
            if (name == NULL || in == NULL) {
                if (r != NULL)
                    oa_warn(ps->oa, "invalid_parameter", ps->loc,
                            "a parameter has no name or \"in\"");
                continue;
            }
            snprintf(k, sizeof(k), "%s\n%s", in, name);
            json_object_set(merged, k, r);
        }
    }
    return ERR_OK;
}

/* Appends byte c of a path to the template, encoding what the template
 * grammar does not allow literally. */
static enum err
put_path_byte(struct buf *b, const char *p)
{
    unsigned char c = (unsigned char)*p;
    bool pct_ok = c == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]);

    if (c <= 0x20 || c >= 0x7f || c == '#' || c == '{' || c == '}' || (c == '%' && !pct_ok))
        return buf_printf(b, "%%%02X", c);
    return buf_putc(b, (char)c);
}

static enum err
template_path(struct pstate *ps, const char *path, struct buf *b)
{
    enum err e = ERR_OK;

    for (const char *p = path; *p && e == ERR_OK; p++) {
        const char *end = *p == '{' ? strchr(p, '}') : NULL;
        const char *key;
        char wire[256];
        if (end == NULL || end == p + 1 || (size_t)(end - p) >= sizeof(wire) ||
            memchr(p + 1, '{', (size_t)(end - p - 1)) != NULL) {
            if (*p == '{' || *p == '}')
                oa_warn(ps->oa, "invalid_path_template", ps->loc,
                        "unbalanced brace in the path; encoded as %%7B/%%7D");
            e = put_path_byte(b, p);
            continue;
        }
        snprintf(wire, sizeof(wire), "%.*s", (int)(end - p - 1), p + 1);
        key = json_string_value(json_object_get(ps->pathkeys, wire));
        if (key == NULL) {
            oa_warn(ps->oa, "undeclared_path_param", ps->loc,
                    "path parameter {%s} is not declared; added as a required string", wire);
            add_param(ps, NULL, wire, "path", true);
            key = json_string_value(json_object_get(ps->pathkeys, wire));
        }
        e = buf_printf(b, "{{%s}}", key ? key : "_");
        p = end;
    }
    return e;
}

static enum err
finish(struct pstate *ps, const char *path, json_t *op, json_t *out)
{
    json_t *schema;
    struct buf b;
    enum err e;

    if (ps->oa->v2)
        oa_body_v2(ps->oa, ps->x, op, ps->body, ps->form, ps->has_file, &ps->in);
    else
        oa_body_v3(ps->oa, ps->x, op, &ps->in);
    buf_init(&b, MAX_OP_PATH_LEN);
    e = template_path(ps, path, &b);
    if (e == ERR_OK)
        e = oa_set_str(out, "path", b.data ? b.data : "/") == 0 ? ERR_OK : ERR_NOMEM;
    buf_release(&b);
    if (e == ERR_TOO_LARGE) {
        oa_warn(ps->oa, "path_too_long", ps->loc, "the path is longer than %d bytes; skipped",
                MAX_OP_PATH_LEN);
        json_object_del(out, "path");
        return ERR_OK;
    }
    schema = json_pack("{s:s, s:O}", "type", "object", "properties", ps->in.props);
    if (schema != NULL && json_array_size(ps->in.req) > 0)
        json_object_set(schema, "required", ps->in.req);
    json_object_set_new(out, "input_schema", schema);
    json_object_set(out, "params", ps->in.params);
    return e;
}

enum err
oa_op_inputs(struct oa *oa, struct xstate *x, const char *path, json_t *item, json_t *op,
             json_t *out, struct errinfo *ei)
{
    struct pstate ps = {oa, x, {json_array(), json_object(), json_array()}};
    json_t *merged = json_object(), *p;
    const char *k;
    enum err e;

    ps.used = json_pack("{s:b}", "body", 1);
    ps.pathkeys = json_object();
    ps.loc = x->loc;
    e = merge_params(&ps, item, op, merged, ei);
    for (int pass = 1; e == ERR_OK && pass >= 0; pass--) {
        json_object_foreach (merged, k, p) {
            one_param(&ps, p, pass == 1);
        }
    }
    if (e == ERR_OK)
        e = finish(&ps, path, op, out);
    json_decref(merged);
    json_decref(ps.used);
    json_decref(ps.pathkeys);
    json_decref(ps.form);
    json_decref(ps.in.params);
    json_decref(ps.in.props);
    json_decref(ps.in.req);
    return e;
}
