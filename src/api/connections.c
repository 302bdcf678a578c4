#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "conn/conn.h"
#include "conn/conn_mcp.h"
#include "conn/conn_oauth.h"
#include "core/limits.h"
#include "core/util.h"
#include "core/banned.h"

/* The end of an asynchronous connection job (MCP discovery), on this worker. */
static void
finish_async(enum err e, json_t *out, const struct errinfo *ei, void *arg, int status)
{
    struct req *rq = arg;

    if (e == ERR_OK)
        resp_json(rq->rs, status, json_incref(out));
    else
        rq->rs->ei = *ei;
    req_finish(rq, e);
}

static void
on_created(enum err e, json_t *out, const struct errinfo *ei, void *arg)
{
    finish_async(e, out, ei, arg, 201);
}

static void
on_done_200(enum err e, json_t *out, const struct errinfo *ei, void *arg)
{
    finish_async(e, out, ei, arg, 200);
}

enum err
h_conn_refresh_tools(struct req *rq, struct resp *rs)
{
    enum err e = conn_mcp_refresh(rq->st, rq->app->vault, rq->ob, &rq->who, req_param(rq, "id"),
                                  on_done_200, rq, &rs->ei);

    if (e == ERR_OK)
        req_suspend(rq);
    return e;
}

enum err
h_mcp_discover(struct req *rq, struct resp *rs)
{
    enum err e = req_json_object(rq, &rs->ei);

    if (e == ERR_OK)
        e = conn_mcp_discover(rq->ob, rq->json, on_done_200, rq, &rs->ei);
    if (e == ERR_OK)
        req_suspend(rq);
    return e;
}

/* The connection an earlier try with this Idempotency-Key made, as its create
 * answered (201), marked as a replay. */
static enum err
replay(struct req *rq, struct resp *rs, const char *id)
{
    json_t *out = NULL;
    enum err e = conn_get_view(rq->st, &rq->who, id, &out, &rs->ei);

    if (e == ERR_OK) {
        resp_header(rs, "Idempotent-Replayed", "true");
        resp_json(rs, 201, out);
    }
    return e;
}

enum err
h_conn_create(struct req *rq, struct resp *rs)
{
    const char *key = req_header(rq, "Idempotency-Key");
    struct conn_idem idem = {0};
    json_t *out = NULL;
    enum err e = req_json_object(rq, &rs->ei);
    const char *type =
        e == ERR_OK ? json_string_value(json_object_get(rq->json, "service_type")) : NULL;

    if (e == ERR_OK && key != NULL) {
        e = conn_idem_begin(rq->st, rq->app->vault, &rq->who, key, rq->json, &idem, &rs->ei);
        if (e == ERR_OK && idem.replay)
            return replay(rq, rs, idem.id);
    }
    if (e == ERR_OK && type && strcmp(type, "mcp") == 0) {
        e = conn_mcp_create(rq->st, rq->app->vault, rq->ob, &rq->who, rq->json, key ? &idem : NULL,
                            on_created, rq, &rs->ei);
        if (e == ERR_OK)
            req_suspend(rq);
        return e;
    }
    if (e == ERR_OK)
        e = conn_create(rq->st, rq->app->vault, &rq->who, rq->json, key ? &idem : NULL, &out,
                        &rs->ei);
    if (e == ERR_CONFLICT && key != NULL && conn_idem_made(rq->st, &rq->who, &idem)) {
        memset(&rs->ei, 0, sizeof(rs->ei)); /* a concurrent try with the key made it first */
        return replay(rq, rs, idem.id);
    }
    if (e == ERR_OK)
        resp_json(rs, 201, out);
    return e;
}

enum err
h_conn_list(struct req *rq, struct resp *rs)
{
    struct conn_filter f = {0};
    const char *lim = req_query(rq, "limit");
    uint64_t n = 0;
    json_t *out = NULL;
    enum err e;

    f.service_type = req_query(rq, "service_type");
    f.search = req_query(rq, "q");
    f.after_id = req_query(rq, "cursor");
    if (lim && (!parse_u64(lim, MAX_LIST_PAGE, &n) || n == 0))
        return err_set(&rs->ei, ERR_INVALID, "invalid_value", "limit",
                       "must be a whole number from 1 to %d", MAX_LIST_PAGE);
    f.limit = (size_t)n;
    e = conn_list_view(rq->st, &rq->who, &f, &out, &rs->ei);
    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

enum err
h_conn_get(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = conn_get_view(rq->st, &rq->who, req_param(rq, "id"), &out, &rs->ei);

    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

enum err
h_conn_update(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = req_json_object(rq, &rs->ei);

    if (e == ERR_OK)
        e = conn_update(rq->st, rq->app->vault, &rq->who, req_param(rq, "id"), rq->json, &out,
                        &rs->ei);
    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

static void
on_deleted(json_t *outcome, void *arg)
{
    struct req *rq = arg;
    struct resp *rs = rq->rs;

    resp_json(rs, 200,
              json_pack("{s:b, s:s, s:O}", "deleted", 1, "id", req_param(rq, "id"), "revocation",
                        outcome));
    if (rs->async) /* answered later; else the handler returns it */
        req_finish(rq, ERR_OK);
}

enum err
h_conn_delete(struct req *rq, struct resp *rs)
{
    struct conn c = {0};
    bool pending = false;
    enum err e = conn_load(rq->st, rq->who.workspace_id, req_param(rq, "id"), NULL, &c, &rs->ei);

    if (e == ERR_OK)
        e = conn_may_change(&rq->who, &c.row, &rs->ei);
    if (e == ERR_OK && strcmp(c.row.auth_type, "oauth2") == 0) {
        /* OAuth2: the local credentials go at once; the answer waits for the
         * provider's revocation outcome (RFC 7009), which is also recorded */
        e = conn_oauth_delete(rq->st, rq->app->vault, rq->ob, &rq->who, &c, on_deleted, rq,
                              &pending, &rs->ei);
        conn_release(&c);
        if (e == ERR_OK && pending)
            req_suspend(rq);
        return e;
    }
    conn_release(&c);
    if (e == ERR_OK)
        e = conn_delete(rq->st, &rq->who, req_param(rq, "id"), &rs->ei);
    if (e == ERR_OK)
        resp_json(rs, 200, json_pack("{s:b, s:s}", "deleted", 1, "id", req_param(rq, "id")));
    return e;
}
