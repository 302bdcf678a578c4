/* tools: the registry of callable tools, as an LLM function-calling API
 * wants them. Built-in tools (none yet) come first, then every connection's
 * slug.operation. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conn/conn.h"
#include "core/limits.h"
#include "engine/call.h"
#include "engine/template.h"
#include "services/builtins.h"
#include "core/banned.h"

void
tool_function_name(const char *slug, const char *op, char out[TOOL_FUNCTION_NAME_MAX + 1])
{
    char full[MAX_SLUG_LEN + MAX_OPERATION_NAME_LEN + 4];
    uint32_t h = 2166136261u; /* FNV-1a 32 */
    int n = snprintf(full, sizeof(full), "%s__%s", slug, op);

    if (n >= 0 && n <= TOOL_FUNCTION_NAME_MAX) {
        memcpy(out, full, (size_t)n + 1);
        return;
    }
    for (const char *p = full; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    /* the first 55 bytes, "_" and 8 hex digits of the whole name: 64 */
    snprintf(out, TOOL_FUNCTION_NAME_MAX + 1, "%.*s_%08x", TOOL_FUNCTION_NAME_MAX - 9, full,
             (unsigned)h);
}

/* An operation without input_schema: one property per placeholder of its
 * path template (each required: a missing one is refused at call time). */
static json_t *
derived_schema(const json_t *op)
{
    json_t *names = json_array(), *props = json_object(), *req = json_array(), *it;
    const char *path = json_string_value(json_object_get(op, "path"));
    struct errinfo ei = {0};
    size_t i;

    if (path && tmpl_check(path, "path", names, &ei) == ERR_OK) {
        json_array_foreach (names, i, it) {
            const char *n = json_string_value(json_object_get(it, "name"));
            const char *in = json_string_value(json_object_get(it, "in"));
            if (n == NULL || json_object_get(props, n))
                continue;
            json_object_set_new(props, n,
                                json_pack("{s:[s,s,s], s:s+}", "type", "string", "number",
                                          "boolean", "description", in ? in : "path",
                                          " parameter"));
            json_array_append_new(req, json_string(n));
        }
    }
    json_decref(names);
    return json_pack("{s:s, s:o, s:o}", "type", "object", "properties", props, "required", req);
}

static json_t *
tool_json(const struct conn_row *r, const json_t *op)
{
    const char *opname = json_string_value(json_object_get(op, "name"));
    const char *desc = json_string_value(json_object_get(op, "description"));
    const char *tier = json_string_value(json_object_get(op, "tier"));
    json_t *schema = json_object_get(op, "input_schema");
    char name[MAX_SLUG_LEN + MAX_OPERATION_NAME_LEN + 4];
    char fname[TOOL_FUNCTION_NAME_MAX + 1];
    char dbuf[600];
    json_t *params, *out;

    snprintf(name, sizeof(name), "%s.%s", r->slug, opname);
    tool_function_name(r->slug, opname, fname);
    if (desc == NULL) {
        const char *m = json_string_value(json_object_get(op, "method"));
        const char *p = json_string_value(json_object_get(op, "path"));
        if (m && p)
            snprintf(dbuf, sizeof(dbuf), "%s %s on %s", m, p, r->name);
        else
            snprintf(dbuf, sizeof(dbuf), "%s on %s", opname, r->name);
        desc = dbuf;
    }
    params = schema ? json_incref(schema) : derived_schema(op);
    out = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:{s:s, s:s, s:O}}", "name", name, "source",
                    "connection", "description", desc, "input_schema", params, "connection_id",
                    r->id, "service_type", r->service_type, "function", "name", fname,
                    "description", desc, "parameters", params);
    if (out && tier)
        json_object_set_new(out, "tier", json_string(tier));
    return out;
}

enum err
tools_list(struct store *st, const struct principal *who, json_t **out, struct errinfo *ei)
{
    struct conn_filter f = {0};
    json_t *tools = builtins_list_json(); /* built-ins first: they win on a name clash */
    char cursor[ID_MAX] = "";
    enum err e = ERR_OK;

    f.limit = MAX_LIST_PAGE;
    for (;;) {
        struct conn_row *rows = NULL;
        size_t n = 0;
        f.after_id = cursor[0] ? cursor : NULL;
        e = store_conn_list(st, who->workspace_id, &f, &rows, &n, ei);
        if (e != ERR_OK)
            break;
        for (size_t i = 0; e == ERR_OK && i < n; i++) {
            struct op_row *ops = NULL;
            size_t nops = 0;
            e = store_ops_list(st, who->workspace_id, rows[i].id, &ops, &nops, ei);
            for (size_t j = 0; e == ERR_OK && j < nops; j++) {
                json_t *op = json_loads(ops[j].def, 0, NULL);
                if (op)
                    json_array_append_new(tools, tool_json(&rows[i], op));
                json_decref(op);
            }
            op_rows_free(ops, nops);
        }
        if (n > 0)
            snprintf(cursor, sizeof(cursor), "%s", rows[n - 1].id);
        conn_rows_free(rows, n);
        if (e != ERR_OK || n < f.limit)
            break;
    }
    if (e != ERR_OK) {
        json_decref(tools);
        return e;
    }
    *out = json_pack("{s:o}", "tools", tools);
    return ERR_OK;
}

enum err
tool_find(struct store *st, int64_t ws, const char *name, json_t **out, struct errinfo *ei)
{
    const char *dot = strchr(name, '.');
    char slug[MAX_SLUG_LEN + 2];
    struct conn c = {0};
    json_t *op = NULL;
    enum err e;

    if (dot == NULL || dot == name || dot[1] == '\0' || (size_t)(dot - name) > MAX_SLUG_LEN)
        return err_set(ei, ERR_NOT_FOUND, "unknown_tool", NULL,
                       "%s is neither a built-in tool nor slug.operation", name);
    snprintf(slug, sizeof(slug), "%.*s", (int)(dot - name), name);
    e = conn_load(st, ws, NULL, slug, &c, ei);
    if (e == ERR_NOT_FOUND)
        e = err_set(ei, ERR_NOT_FOUND, "unknown_tool", NULL, "no connection has slug %s", slug);
    if (e == ERR_OK) {
        e = conn_operation(st, &c, dot + 1, &op, ei);
        if (e == ERR_NOT_FOUND)
            e = err_set(ei, ERR_NOT_FOUND, "unknown_tool", NULL,
                        "connection %s has no operation %s", slug, dot + 1);
    }
    if (e == ERR_OK && out) {
        *out = tool_json(&c.row, op);
        json_object_set_new(*out, "fulfillment", json_string(c.row.fulfillment));
    }
    json_decref(op);
    conn_release(&c);
    return e;
}

enum err
tools_resolve(struct store *st, const struct principal *who, const json_t *names, json_t **out,
              struct errinfo *ei)
{
    json_t *builtins, *conn_tools, *errors, *name;
    size_t i;
    enum err e = ERR_OK;

    if (!json_is_array(names))
        return err_set(ei, ERR_INVALID, "invalid_type", "tools", "must be an array of tool names");
    if (json_array_size(names) > MAX_AGENT_TOOLS)
        return err_set(ei, ERR_TOO_LARGE, "too_many", "tools", "at most %d tools per request",
                       MAX_AGENT_TOOLS);
    json_array_foreach (names, i, name) {
        if (!json_is_string(name)) {
            char f[32];
            snprintf(f, sizeof(f), "tools[%zu]", i);
            return err_set(ei, ERR_INVALID, "invalid_type", f, "must be a string");
        }
    }
    builtins = builtins_list_json();
    conn_tools = json_array();
    errors = json_array();
    *out = json_pack("{s:o, s:o}", "tools", json_array(), "errors", errors);
    json_array_foreach (names, i, name) {
        const char *n = json_string_value(name);
        json_t *def = NULL, *b;
        size_t j;
        struct errinfo tei = {0};
        bool dup = false;
        /* a name asked for twice is defined once (function names must be unique) */
        for (size_t k = 0; k < i && !dup; k++)
            dup = strcmp(json_string_value(json_array_get(names, k)), n) == 0;
        if (dup)
            continue;
        /* built-in names first: they win over a connection slug.operation */
        json_array_foreach (builtins, j, b) {
            if (def == NULL && strcmp(json_string_value(json_object_get(b, "name")), n) == 0)
                def = json_incref(b);
        }
        if (def) {
            json_array_append_new(json_object_get(*out, "tools"), def);
            continue;
        }
        e = tool_find(st, who->workspace_id, n, &def, &tei);
        if (e == ERR_OK) {
            json_array_append_new(conn_tools, def);
        } else if (e == ERR_NOT_FOUND) {
            json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "name", n, "code", tei.code,
                                                    "message", tei.msg));
            e = ERR_OK;
        } else {
            *ei = tei;
            break;
        }
    }
    json_array_extend(json_object_get(*out, "tools"), conn_tools);
    json_decref(conn_tools);
    json_decref(builtins);
    if (e != ERR_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return e;
}
