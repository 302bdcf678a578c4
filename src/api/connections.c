#include <stdlib.h>

#include "api/api.h"
#include "conn/conn.h"
#include "core/limits.h"
#include "core/util.h"
#include "core/banned.h"

enum err
h_conn_create(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = req_json_object(rq, &rs->ei);

    if (e == ERR_OK)
        e = conn_create(rq->st, rq->app->vault, &rq->who, rq->json, &out, &rs->ei);
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

enum err
h_conn_delete(struct req *rq, struct resp *rs)
{
    enum err e = conn_delete(rq->st, &rq->who, req_param(rq, "id"), &rs->ei);

    if (e == ERR_OK)
        resp_json(rs, 200, json_pack("{s:b, s:s}", "deleted", 1, "id", req_param(rq, "id")));
    return e;
}
