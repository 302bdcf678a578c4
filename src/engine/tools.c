/* tools: the registry of callable tools, as an LLM function-calling API
 * wants them. Built-in tools (none yet) come first, then every connection's
 * slug.operation. */
#include <stdio.h>
#include <string.h>

#include "conn/conn.h"
#include "core/limits.h"
#include "engine/call.h"
#include "services/builtins.h"
#include "core/banned.h"

static json_t *
tool_json(const struct conn_row *r, const json_t *op)
{
    const char *opname = json_string_value(json_object_get(op, "name"));
    const char *desc = json_string_value(json_object_get(op, "description"));
    json_t *schema = json_object_get(op, "input_schema");
    char name[MAX_SLUG_LEN + MAX_OPERATION_NAME_LEN + 4];
    char fname[MAX_SLUG_LEN + MAX_OPERATION_NAME_LEN + 4];
    char dbuf[600];
    json_t *params;

    snprintf(name, sizeof(name), "%s.%s", r->slug, opname);
    /* Function names of LLM APIs allow [A-Za-z0-9_-] only: slug__operation. */
    snprintf(fname, sizeof(fname), "%s__%s", r->slug, opname);
    if (desc == NULL) {
        snprintf(dbuf, sizeof(dbuf), "%s %s on %s",
                 json_string_value(json_object_get(op, "method")),
                 json_string_value(json_object_get(op, "path")), r->name);
        desc = dbuf;
    }
    params = schema ? json_incref(schema) : json_pack("{s:s}", "type", "object");
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:{s:s, s:s, s:O}}", "name", name, "source",
                     "connection", "description", desc, "input_schema", params, "connection_id",
                     r->id, "service_type", r->service_type, "function", "name", fname,
                     "description", desc, "parameters", params);
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
