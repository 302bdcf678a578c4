/* Service credentials: /api/admin/service-credentials (platform admins) and
 * /api/workspace/service-credentials (workspace admins). Keys are write-only. */
#include <stdlib.h>

#include "api/api.h"
#include "creds/creds.h"
#include "core/banned.h"

static enum err
platform_admin(const struct req *rq, struct resp *rs)
{
    if (rq->who.platform_admin)
        return ERR_OK;
    return err_set(&rs->ei, ERR_FORBIDDEN, "platform_admin_only", NULL,
                   "platform-wide service credentials are managed by platform admins");
}

static enum err
render(struct resp *rs, enum err e, json_t *out)
{
    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

/* GET /api/workspace/service-credentials (workspace admins, from the route). */
enum err
h_svc_list(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = creds_list(rq->st, rq->who.workspace_id, &out, &rs->ei);

    return render(rs, e, out);
}

/* GET /api/admin/service-credentials (platform admins). */
enum err
h_svc_admin_list(struct req *rq, struct resp *rs)
{
    enum err e = platform_admin(rq, rs);

    return e == ERR_OK ? h_svc_list(rq, rs) : e;
}

enum err
h_svc_admin_put(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = platform_admin(rq, rs);

    if (e == ERR_OK)
        e = req_json_object(rq, &rs->ei);
    if (e == ERR_OK)
        e = creds_put(rq->st, rq->app->vault, CREDS_PLATFORM, rq->who.workspace_id,
                      req_param(rq, "service"), rq->json, &out, &rs->ei);
    return render(rs, e, out);
}

enum err
h_svc_admin_delete(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = platform_admin(rq, rs);

    if (e == ERR_OK)
        e = creds_delete(rq->st, CREDS_PLATFORM, rq->who.workspace_id, req_param(rq, "service"),
                         &out, &rs->ei);
    return render(rs, e, out);
}

enum err
h_svc_ws_put(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = req_json_object(rq, &rs->ei);

    if (e == ERR_OK)
        e = creds_put(rq->st, rq->app->vault, CREDS_WORKSPACE, rq->who.workspace_id,
                      req_param(rq, "service"), rq->json, &out, &rs->ei);
    return render(rs, e, out);
}

enum err
h_svc_ws_delete(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = creds_delete(rq->st, CREDS_WORKSPACE, rq->who.workspace_id,
                              req_param(rq, "service"), &out, &rs->ei);

    return render(rs, e, out);
}
