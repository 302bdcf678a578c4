/* POST /api/runs (a workflow of tool nodes, run on this worker's loop) and
 * GET /api/runs/{id}. Per-run credential values in the body are wiped once
 * parsed; the run keeps its own copy until it ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "conn/accounts.h"
#include "engine/run.h"
#include "core/banned.h"

static void
on_run_done(const json_t *view, void *arg)
{
    struct req *rq = arg;

    resp_json(rq->rs, 200, json_incref((json_t *)view));
    req_finish(rq, ERR_OK);
}

enum err
h_run_create(struct req *rq, struct resp *rs)
{
    struct call_env env;
    char id[ID_MAX];
    bool wait;
    enum err e = req_json_object(rq, &rs->ei);

    if (e != ERR_OK)
        return e;
    if (req_draining(rq))
        e = err_set(&rs->ei, ERR_UNAVAILABLE, "shutting_down", NULL,
                    "the server is shutting down; retry on another instance");
    wait = !json_is_false(json_object_get(rq->json, "wait"));
    api_call_env(rq, &env);
    if (e == ERR_OK)
        e = run_start(&env, &rq->who, rq->json, wait ? on_run_done : NULL, rq, id, &rs->ei);
    json_wipe_strings(json_object_get(rq->json, "credentials"));
    if (e != ERR_OK)
        return e;
    if (wait) {
        req_suspend(rq);
        return ERR_OK;
    }
    return resp_json(rs, 202, json_pack("{s:s, s:s}", "id", id, "status", "running"));
}

enum err
h_run_get(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = run_get_view(rq->st, &rq->who, req_param(rq, "id"), &out, &rs->ei);

    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}
