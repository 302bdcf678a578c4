/*
 * conn_mcp: MCP server connections. Their operations are the server's tools,
 * found by discovery (initialize + tools/list to the end) when the connection
 * is created and again on refresh-tools; discovery alone (no save) previews
 * them. All of it is asynchronous on the worker's loop: the callback runs
 * later, on this thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn_mcp.h"
#include "conn/internal.h"
#include "core/log.h"
#include "core/util.h"
#include "outbound/ssrf.h"
#include "core/banned.h"

#define KIND "connection"

enum job_kind { JOB_CREATE, JOB_REFRESH, JOB_DISCOVER };

struct mcp_job {
    enum job_kind kind;
    conn_async_cb done;
    void *arg;
    struct store *st;
    const struct vault *vault;
    struct principal who;
    struct conn_draft d;     /* JOB_CREATE */
    char conn_id[ID_MAX];    /* JOB_REFRESH */
    struct auth_values vals; /* JOB_DISCOVER */
};

static void
job_free(struct mcp_job *j)
{
    conn_draft_release(&j->d);
    auth_values_release(&j->vals);
    free(j);
}

enum err
conn_mcp_target(const char *url, const char *transport, json_int_t timeout_ms,
                const json_t *auth_pub, const struct auth_values *vals, struct out_request *hdrs,
                struct mcp_target *t, struct errinfo *ei)
{
    enum err e;

    memset(t, 0, sizeof(*t));
    if (transport && !mcp_transport_parse(transport, &t->transport))
        return err_set(ei, ERR_INVALID, "invalid_value", "transport",
                       "must be one of: auto, streamable_http, sse");
    /* The credential headers come from the auth method table, exactly as
     * for an HTTP call; the MCP client copies them and wipes its copy. */
    e = out_request_init(hdrs, "POST", url, ei);
    if (e == ERR_OK)
        e = auth_inject(auth_pub, vals, hdrs, NULL, ei);
    if (e != ERR_OK)
        return e;
    t->url = url;
    t->headers = hdrs->headers;
    t->nheaders = hdrs->nheaders;
    t->timeout_ms = (uint32_t)(timeout_ms > 0 ? timeout_ms : 0);
    return ERR_OK;
}

/* Discovered tools as connection operations. */
static json_t *
tools_to_ops(const json_t *tools)
{
    static const char *const copy[] = {"title",         "description", "input_schema",
                                       "output_schema", "annotations", NULL};
    json_t *ops = json_array(), *t;
    size_t i;

    json_array_foreach (tools, i, t) {
        json_t *op = json_pack("{s:O, s:O}", "name", json_object_get(t, "tool_name"), "mcp_tool",
                               json_object_get(t, "name"));
        for (size_t k = 0; copy[k]; k++)
            if (json_object_get(t, copy[k]))
                json_object_set(op, copy[k], json_object_get(t, copy[k]));
        json_array_append_new(ops, op);
    }
    return ops;
}

static json_t *
discovery_summary(const json_t *res)
{
    json_t *map = json_object(), *t;
    size_t i;

    json_array_foreach (json_object_get(res, "tools"), i, t) {
        const char *n = json_string_value(json_object_get(t, "name"));
        const char *m = json_string_value(json_object_get(t, "tool_name"));
        if (n && m && strcmp(n, m) != 0)
            json_object_set_new(map, n, json_string(m));
    }
    return json_pack("{s:O?, s:O?, s:O?, s:O?, s:o}", "transport",
                     json_object_get(res, "transport"), "protocol_version",
                     json_object_get(res, "protocol_version"), "server",
                     json_object_get(res, "server"), "warnings", json_object_get(res, "warnings"),
                     "tool_names", map);
}

#define STALE_RETRIES 3 /* conn_mcp_mark_stale against concurrent updates */

enum err
conn_mcp_mark_stale(struct store *st, int64_t ws, const char *id, struct errinfo *ei)
{
    enum err e = ERR_OK;

    for (int attempt = 0; attempt < STALE_RETRIES; attempt++) {
        struct conn_row r = {0};
        char **fields = NULL, since[32];
        size_t nf = 0;
        json_t *cfg = NULL;

        e = store_conn_get(st, ws, id, &r, ei);
        if (e == ERR_OK) {
            cfg = json_loads(r.config ? r.config : "{}", 0, NULL);
            if (cfg == NULL)
                e = err_set(ei, ERR_INTERNAL, "corrupt_row", NULL,
                            "stored connection is unreadable");
        }
        if (e == ERR_OK && json_object_get(cfg, "tools_stale") == NULL) {
            iso8601_ms(now_ms(), since);
            json_object_set_new(cfg, "tools_stale",
                                json_pack("{s:s, s:s}", "since", since, "reason",
                                          "notifications/tools/list_changed"));
            free(r.config);
            r.config = json_dumps(cfg, JSON_COMPACT);
            e = store_secret_fields(st, ws, KIND, id, &fields, &nf, ei);
            if (e == ERR_OK)
                e = store_conn_update(st, &r, NULL, 0, false, NULL, NULL,
                                      (const char *const *)fields, nf, ei);
            if (e == ERR_OK)
                log_kv(LOG_INFO, "mcp.tools_stale", "s:connection", id, LOG_END);
        }
        string_list_free(fields, nf);
        json_decref(cfg);
        conn_row_release(&r);
        if (e != ERR_CONFLICT || strcmp(ei->code, "concurrent_update") != 0)
            break;
    }
    return e;
}

/* The stored config without the stale mark (a refresh lists anew); *text
 * malloc'ed, NULL if the config is unreadable. */
static char *
config_fresh(const char *config)
{
    json_t *cfg = json_loads(config ? config : "{}", 0, NULL);
    char *text;

    if (cfg == NULL)
        return NULL;
    json_object_del(cfg, "tools_stale");
    text = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    return text;
}

static enum err
save_refresh(struct mcp_job *j, json_t *ops, json_t **out, struct errinfo *ei)
{
    struct conn_row r = {0};
    char **fields = NULL;
    size_t nf = 0, nops = json_array_size(ops);
    struct op_row *rows = xcalloc(nops + 1, sizeof(*rows));
    json_t *op;
    size_t i;
    enum err e;

    json_array_foreach (ops, i, op) {
        rows[i].name = (char *)json_string_value(json_object_get(op, "name"));
        rows[i].def = json_dumps(op, JSON_COMPACT);
    }
    e = store_conn_get(j->st, j->who.workspace_id, j->conn_id, &r, ei);
    if (e == ERR_OK) {
        char *fresh = config_fresh(r.config);
        if (fresh == NULL)
            e = err_set(ei, ERR_INTERNAL, "corrupt_row", NULL, "stored connection is unreadable");
        free(r.config);
        r.config = fresh;
    }
    if (e == ERR_OK)
        e = store_secret_fields(j->st, j->who.workspace_id, KIND, j->conn_id, &fields, &nf, ei);
    if (e == ERR_OK)
        e = store_conn_update(j->st, &r, rows, nops, true, NULL, NULL, (const char *const *)fields,
                              nf, ei);
    if (e == ERR_OK)
        e = conn_get_view(j->st, &j->who, j->conn_id, out, ei);
    for (i = 0; i < nops; i++)
        free(rows[i].def);
    free(rows);
    string_list_free(fields, nf);
    conn_row_release(&r);
    return e;
}

static void
on_discovered(enum err e, json_t *res, const struct errinfo *dei, void *arg)
{
    struct mcp_job *j = arg;
    struct errinfo ei = {0};
    json_t *out = NULL, *ops = NULL;

    if (e != ERR_OK) {
        ei = *dei;
        log_kv(LOG_WARN, "mcp.discover_failed", "s:code", ei.code, "s:detail", ei.msg, LOG_END);
    } else if (j->kind == JOB_DISCOVER) {
        out = json_incref(res);
    } else {
        ops = tools_to_ops(json_object_get(res, "tools"));
        if (j->kind == JOB_CREATE) {
            j->d.operations = json_incref(ops);
            e = conn_draft_save(j->st, j->vault, &j->who, &j->d, &out, &ei);
        } else {
            e = save_refresh(j, ops, &out, &ei);
        }
        if (e == ERR_OK)
            json_object_set_new(out, "discovery", discovery_summary(res));
    }
    json_decref(ops);
    json_decref(res);
    j->done(e, out, &ei, j->arg);
    json_decref(out);
    job_free(j);
}

static enum err
start(struct mcp_job *j, struct outbound *ob, const char *url, const char *transport,
      json_int_t timeout_ms, const json_t *auth_pub, const struct auth_values *vals,
      struct errinfo *ei)
{
    struct out_request hdrs = {0};
    struct mcp_target t;
    enum err e = conn_mcp_target(url, transport, timeout_ms, auth_pub, vals, &hdrs, &t, ei);

    if (e == ERR_OK)
        e = mcp_discover(ob, &t, on_discovered, j, ei);
    out_request_release(&hdrs); /* the client copied what it needs */
    return e;
}

enum err
conn_mcp_create(struct store *st, const struct vault *v, struct outbound *ob,
                const struct principal *p, const json_t *body, const struct conn_idem *idem,
                conn_async_cb done, void *arg, struct errinfo *ei)
{
    struct mcp_job *j = xcalloc(1, sizeof(*j));
    enum err e;

    j->kind = JOB_CREATE;
    j->done = done;
    j->arg = arg;
    j->st = st;
    j->vault = v;
    j->who = *p;
    e = conn_draft_create(body, &j->d, ei);
    if (e == ERR_OK && idem != NULL)
        j->d.idem = *idem;
    if (e == ERR_OK)
        e = start(j, ob, j->d.base_url, j->d.transport, j->d.timeout_ms, j->d.auth_pub, &j->d.vals,
                  ei);
    if (e != ERR_OK)
        job_free(j);
    return e;
}

enum err
conn_mcp_refresh(struct store *st, const struct vault *v, struct outbound *ob,
                 const struct principal *p, const char *id, conn_async_cb done, void *arg,
                 struct errinfo *ei)
{
    struct conn c = {0};
    struct auth_values vals = {0};
    struct mcp_job *j;
    enum err e = conn_load(st, p->workspace_id, id, NULL, &c, ei);

    if (e == ERR_OK && strcmp(c.row.service_type, "mcp") != 0)
        e = err_set(ei, ERR_INVALID, "not_mcp", "id",
                    "refresh-tools is for mcp connections; this one is %s", c.row.service_type);
    if (e == ERR_OK)
        e = conn_may_change(p, &c.row, ei);
    if (e == ERR_OK)
        e = conn_open_secrets(st, v, &c, &vals, ei);
    if (e == ERR_OK) {
        j = xcalloc(1, sizeof(*j));
        j->kind = JOB_REFRESH;
        j->done = done;
        j->arg = arg;
        j->st = st;
        j->vault = v;
        j->who = *p;
        snprintf(j->conn_id, sizeof(j->conn_id), "%s", c.row.id);
        e = start(j, ob, c.row.base_url, json_string_value(json_object_get(c.config, "transport")),
                  json_integer_value(json_object_get(c.config, "timeout_ms")), c.auth, &vals, ei);
        if (e != ERR_OK)
            job_free(j);
    }
    auth_values_release(&vals);
    conn_release(&c);
    return e;
}

enum err
conn_mcp_discover(struct outbound *ob, const json_t *body, conn_async_cb done, void *arg,
                  struct errinfo *ei)
{
    const char *url = json_string_value(json_object_get(body, "url"));
    const char *transport = json_string_value(json_object_get(body, "transport"));
    json_t *auth = json_object_get(body, "auth"), *pub = NULL, *none = NULL;
    struct url_info ui;
    struct mcp_job *j;
    enum err e;

    if (url == NULL)
        return err_set(ei, ERR_INVALID, "missing_field", "url", "is required");
    e = url_validate(url, "url", &ui, ei);
    if (e != ERR_OK)
        return e;
    j = xcalloc(1, sizeof(*j));
    j->kind = JOB_DISCOVER;
    j->done = done;
    j->arg = arg;
    if (auth == NULL)
        auth = none = json_pack("{s:s}", "type", "none");
    e = auth_parse(auth, NULL, &pub, &j->vals, ei);
    if (e != ERR_OK)
        err_field_prefix(ei, "auth");
    if (e == ERR_OK)
        e = start(j, ob, url, transport, json_integer_value(json_object_get(body, "timeout_ms")),
                  pub, &j->vals, ei);
    json_decref(pub);
    json_decref(none);
    if (e != ERR_OK)
        job_free(j);
    return e;
}
