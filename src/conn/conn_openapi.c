/*
 * conn_openapi: turning an imported spec (openapi_import's proposal) into a
 * connection's operations, with the user's review edits applied: dropped
 * operations, renamed ones, a base URL override. Re-imports keep the names
 * of operations that did not change (same method and path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/internal.h"
#include "core/limits.h"
#include "core/util.h"
#include "openapi/openapi.h"
#include "core/banned.h"

/* A $ref the importer kept (circular or over a size budget) points into the
 * spec, outside the operation's own schema: replace it by an open schema
 * that says what it was, so validation accepts what the spec allows. */
static void
open_refs(json_t *schema, int depth)
{
    const char *k;
    json_t *v;
    size_t i;

    if (depth > 128)
        return;
    if (json_is_array(schema)) {
        json_array_foreach (schema, i, v) {
            open_refs(v, depth + 1);
        }
        return;
    }
    if (!json_is_object(schema))
        return;
    if (json_is_string(json_object_get(schema, "$ref"))) {
        char desc[300];
        snprintf(desc, sizeof(desc), "see %s in the API's specification",
                 json_string_value(json_object_get(schema, "$ref")));
        json_object_clear(schema);
        json_object_set_new(schema, "description", json_string(desc));
        return;
    }
    json_object_foreach (schema, k, v) {
        open_refs(v, depth + 1);
    }
}

static json_t *
find_by_route(const json_t *ops, const char *method, const char *path)
{
    json_t *op;
    size_t i;

    json_array_foreach (ops, i, op) {
        const char *m = json_string_value(json_object_get(op, "method"));
        const char *p = json_string_value(json_object_get(op, "path"));
        if (m && p && strcmp(m, method) == 0 && strcmp(p, path) == 0)
            return op;
    }
    return NULL;
}

/* Applies exclude (array of names) and rename ({old: new}) to ops in place,
 * and keeps the names prev_ops gave to the same method+path. */
static enum err
apply_edits(json_t *ops, const json_t *exclude, const json_t *rename, const json_t *prev_ops,
            struct errinfo *ei)
{
    json_t *kept = json_array(), *op, *v;
    const char *k;
    size_t i;

    if (exclude && !json_is_array(exclude)) {
        json_decref(kept);
        return err_set(ei, ERR_INVALID, "invalid_type", "exclude_operations",
                       "must be an array of operation names");
    }
    if (rename && !json_is_object(rename)) {
        json_decref(kept);
        return err_set(ei, ERR_INVALID, "invalid_type", "rename_operations",
                       "must be an object {\"old_name\": \"new_name\"}");
    }
    json_array_foreach (ops, i, op) {
        const char *name = json_string_value(json_object_get(op, "name"));
        bool drop = false;
        size_t j;
        json_array_foreach (exclude, j, v)
            drop = drop || (json_is_string(v) && strcmp(json_string_value(v), name) == 0);
        if (drop)
            continue;
        if (prev_ops) {
            json_t *old = find_by_route(prev_ops, json_string_value(json_object_get(op, "method")),
                                        json_string_value(json_object_get(op, "path")));
            if (old)
                json_object_set(op, "name", json_object_get(old, "name"));
        }
        open_refs(json_object_get(op, "input_schema"), 0);
        open_refs(json_object_get(op, "output_schema"), 0);
        json_object_del(op, "security");
        json_array_append(kept, op);
    }
    json_object_foreach ((json_t *)rename, k, v) {
        bool found = false;
        if (!json_is_string(v)) {
            json_decref(kept);
            return err_set(ei, ERR_INVALID, "invalid_type", "rename_operations",
                           "new names must be strings");
        }
        json_array_foreach (kept, i, op) {
            if (strcmp(json_string_value(json_object_get(op, "name")), k) == 0) {
                json_object_set(op, "name", v);
                found = true;
            }
        }
        if (!found) {
            json_decref(kept);
            return err_set(ei, ERR_INVALID, "unknown_operation", "rename_operations",
                           "names no operation of the spec: %s", k);
        }
    }
    json_array_clear(ops);
    json_array_extend(ops, kept);
    json_decref(kept);
    return ERR_OK;
}

enum err
conn_import_spec(const json_t *body, const json_t *prev_ops, struct spec_import *out,
                 struct errinfo *ei)
{
    json_t *spec = json_object_get(body, "spec");
    const char *base = json_string_value(json_object_get(body, "base_url"));
    struct openapi_opts opts = {0};
    json_t *proposal = NULL;
    enum err e;

    memset(out, 0, sizeof(*out));
    if (!json_is_string(spec) || json_string_length(spec) == 0)
        return err_set(ei, ERR_INVALID, "missing_field", "spec",
                       "an openapi connection needs the spec (OpenAPI 3.x or Swagger 2.0, JSON "
                       "or YAML) as a string");
    opts.base_url_override = base;
    e = openapi_import(json_string_value(spec), json_string_length(spec), &opts, &proposal, ei);
    if (e != ERR_OK) {
        if (ei->field[0] == '\0' || strcmp(ei->field, "spec") != 0)
            err_field_prefix(ei, ei->field[0] ? "spec" : "");
        if (ei->field[0] == '\0')
            snprintf(ei->field, sizeof(ei->field), "spec");
        return e;
    }
    out->operations = json_incref(json_object_get(proposal, "operations"));
    e = apply_edits(out->operations, json_object_get(body, "exclude_operations"),
                    json_object_get(body, "rename_operations"), prev_ops, ei);
    if (e == ERR_OK) {
        out->base_url =
            xstrdup(base ? base : json_string_value(json_object_get(proposal, "base_url")));
        out->auth = json_incref(json_object_get(proposal, "auth"));
        out->warnings = json_incref(json_object_get(proposal, "warnings"));
    }
    json_decref(proposal);
    if (e != ERR_OK)
        spec_import_release(out);
    return e;
}

void
spec_import_release(struct spec_import *s)
{
    json_decref(s->operations);
    json_decref(s->auth);
    json_decref(s->warnings);
    free(s->base_url);
    memset(s, 0, sizeof(*s));
}
