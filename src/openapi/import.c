/* import: openapi_import(), the order of the work: limits, parse, version,
 * info, base URL, security, operations. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "openapi/internal.h"

#include "core/banned.h"

static const char *const methods[] = {"get",     "put",  "post",  "delete",
                                      "options", "head", "patch", "trace"};

static void
defaults(struct openapi_opts *o, const struct openapi_opts *in)
{
    if (in != NULL)
        *o = *in;
    if (o->max_spec_bytes == 0)
        o->max_spec_bytes = OPENAPI_MAX_SPEC_BYTES;
    if (o->max_depth <= 0)
        o->max_depth = OPENAPI_MAX_DEPTH;
    if (o->max_aliases == 0)
        o->max_aliases = OPENAPI_MAX_ALIASES;
    if (o->max_ref_depth <= 0 || o->max_ref_depth > OPENAPI_MAX_REF_DEPTH)
        o->max_ref_depth = OPENAPI_MAX_REF_DEPTH;
    if (o->max_operations == 0)
        o->max_operations = OPENAPI_MAX_OPERATIONS;
}

static enum err
not_spec(struct errinfo *ei, const char *why)
{
    return err_set(ei, ERR_UNPROCESSABLE, "not_openapi", "spec", "%s", why);
}

/* Sets oa->v2 and the proposal's spec_version. */
static enum err
version(struct oa *oa, json_t *p, struct errinfo *ei)
{
    const char *sw = json_string_value(oa_top(oa, "swagger"));
    const char *v3 = json_string_value(oa_top(oa, "openapi"));
    int paths = oa_top_type(oa, "paths");

    if (oa->idx == NULL && !json_is_object(oa->doc))
        return not_spec(ei, "the document is not an object");
    if (sw != NULL && !strcmp(sw, "2.0")) {
        oa->v2 = true;
    } else if (v3 == NULL || (strncmp(v3, "3.0", 3) != 0 && strncmp(v3, "3.1", 3) != 0) ||
               (v3[3] != '\0' && v3[3] != '.')) {
        return not_spec(ei, "not Swagger 2.0 or OpenAPI 3.0/3.1 (need \"swagger\": \"2.0\" "
                            "or \"openapi\": \"3.x.y\" as a string)");
    }
    if (paths != -1 && paths != JSON_OBJECT)
        return not_spec(ei, "\"paths\" is not an object");
    return oa_set_str(p, "spec_version", oa->v2 ? "2.0" : v3) == 0 ? ERR_OK : ERR_NOMEM;
}

static json_t *
text_of(const json_t *v)
{
    if (json_is_string(v))
        return json_copy((json_t *)v);
    return json_string("");
}

static enum err
info(struct oa *oa, json_t *p)
{
    json_t *in = oa_top(oa, "info");
    json_t *ver = json_object_get(in, "version");
    char *num = json_is_number(ver) ? json_dumps(ver, JSON_ENCODE_ANY) : NULL;

    json_object_set_new(p, "title", text_of(json_object_get(in, "title")));
    json_object_set_new(p, "version", num ? json_string(num) : text_of(ver));
    free(num);
    return ERR_OK;
}

static enum err
count_ops(struct oa *oa, struct errinfo *ei)
{
    struct oa_cursor c = {0};
    const char *path;
    size_t n = 0;

    while (oa_paths_next(oa, &c, &path)) {
        n += oa_paths_nops(oa, &c);
        if (n > oa->o.max_operations)
            return err_set(ei, ERR_TOO_LARGE, "limit_exceeded", "max_operations",
                           "the spec has more than %zu operations", oa->o.max_operations);
    }
    oa->ops_left = n;
    oa->nodes_left = OPENAPI_MAX_TOTAL_SCHEMA_NODES;
    return ERR_OK;
}

static enum err
operations(struct oa *oa, json_t *p, struct errinfo *ei)
{
    json_t *ops = json_array(), *item, *op;
    struct oa_cursor c = {0};
    const char *path;
    enum err e = ERR_OK;

    if (ops == NULL || json_object_set_new(p, "operations", ops) != 0)
        return ERR_NOMEM;
    while (oa_paths_next(oa, &c, &path)) {
        char *loc;
        json_t *it;
        item = oa_paths_item(oa, &c);
        if (item == NULL)
            return ERR_NOMEM; /* the index vouched for the text: only memory can fail */
        loc = oa_loc("paths", path, NULL);
        it = oa_resolve(oa, item, loc);
        free(loc);
        for (size_t i = 0; it != NULL && i < 8 && e == ERR_OK; i++) {
            json_t *o = NULL;
            op = json_object_get(it, methods[i]);
            if (!json_is_object(op))
                continue;
            e = oa_operation(oa, path, methods[i], it, op, &o, ei);
            if (o != NULL)
                json_array_append_new(ops, o);
        }
        json_decref(item);
        oa_doc_trim(oa); /* nothing borrowed is held between path items */
        if (e != ERR_OK)
            return e;
    }
    if (json_array_size(ops) == 0)
        oa_warn(oa, "no_operations", "#/paths", "the spec has no operations to import");
    return ERR_OK;
}

static enum err
map(struct oa *oa, json_t *p, struct errinfo *ei)
{
    char *base = NULL;
    enum err e = version(oa, p, ei);

    if (e == ERR_OK)
        e = count_ops(oa, ei);
    if (e == ERR_OK)
        e = info(oa, p);
    if (e == ERR_OK)
        e = oa_base_url(oa, &base, ei);
    if (e == ERR_OK)
        e = oa_set_str(p, "base_url", base) == 0 ? ERR_OK : ERR_NOMEM;
    free(base);
    if (e == ERR_OK)
        e = oa_security(oa, p);
    if (e == ERR_OK)
        e = operations(oa, p, ei);
    return e;
}

enum err
openapi_import(const char *text, size_t len, const struct openapi_opts *opts, json_t **proposal,
               struct errinfo *ei)
{
    struct oa oa = {0};
    json_t *p = NULL;
    enum err e;

    *proposal = NULL;
    defaults(&oa.o, opts);
    if (len > oa.o.max_spec_bytes)
        return err_set(ei, ERR_TOO_LARGE, "limit_exceeded", "spec",
                       "the spec is larger than %zu bytes", oa.o.max_spec_bytes);
    if (text == NULL)
        return err_set(ei, ERR_INVALID, "invalid_spec", "spec", "the spec is empty");
    e = oa_open(&oa, text, len, ei);
    if (e != ERR_OK)
        return e;
    oa.warnings = json_array();
    oa.warned = json_object();
    oa.names = json_object();
    oa.name_next = json_object();
    oa.cache = json_object();
    oa.schemes = json_object();
    p = json_object();
    if (!oa.warnings || !oa.warned || !oa.names || !oa.name_next || !oa.cache || !oa.schemes || !p)
        e = ERR_NOMEM;
    if (e == ERR_OK)
        e = map(&oa, p, ei);
    if (e == ERR_OK && json_object_set(p, "warnings", oa.warnings) != 0)
        e = ERR_NOMEM;
    if (e == ERR_OK) {
        *proposal = p;
        p = NULL;
    }
    json_decref(p);
    json_decref(oa.doc);
    oa_index_free(oa.idx);
    json_decref(oa.warnings);
    json_decref(oa.warned);
    json_decref(oa.names);
    json_decref(oa.name_next);
    json_decref(oa.cache);
    json_decref(oa.schemes);
    return e;
}
