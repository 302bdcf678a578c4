/* POST /api/actions/call, POST /api/connections/{id}/test, GET /api/tools. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "conn/accounts.h"
#include "engine/call.h"
#include "http/gate.h"
#include "core/banned.h"

void
api_call_env(struct req *rq, struct call_env *env)
{
    memset(env, 0, sizeof(*env)); /* who, fulfil: call_start sets them */
    env->st = rq->st;
    env->vault = rq->app->vault;
    env->ob = rq->ob;
    env->limits = &rq->app->out_limits;
    env->mcp = rq->mcp;
}

/* HTTP-010: a slot for one execution of the caller's workspace, or 429 with
 * Retry-After. Released by on_call_done (or by the caller when the call did
 * not start). */
static enum err
call_slot_take(struct req *rq, struct resp *rs)
{
    enum err e = gate_enter(rq->app->calls, rq->who.workspace_id, &rs->ei);

    if (e != ERR_OK)
        resp_header(rs, "Retry-After", GATE_RETRY_AFTER_S);
    return e;
}

/* Runs on the worker thread when the upstream call ends. */
static void
on_call_done(struct call_result *res, void *arg)
{
    struct req *rq = arg;
    struct resp *rs = rq->rs;

    gate_leave(rq->app->calls, rq->who.workspace_id);

    rs->status = res->http_status;
    rs->content_type = "application/json";
    buf_reset(&rs->raw);
    if (buf_append(&rs->raw, res->json.data, res->json.len) != ERR_OK ||
        buf_putc(&rs->raw, '\n') != ERR_OK) {
        req_finish(rq, err_set(&rs->ei, ERR_INTERNAL, "answer_too_large", NULL,
                               "the answer could not be buffered"));
        return;
    }
    if (!res->upstream_ok)
        atomic_fetch_add(&rq->app->metrics.calls_failed, 1);
    req_finish(rq, ERR_OK);
}

static const char *const call_keys[] = {"actionIdentifier", "connectionId", "input", NULL};

/* ERR_INVALID naming the first key of the body that is not in keys. */
static enum err
only_keys(const json_t *body, const char *const *keys, const char *what, struct errinfo *ei)
{
    const char *k;
    json_t *v;

    json_object_foreach ((json_t *)body, k, v) {
        bool ok = false;
        (void)v;
        for (size_t i = 0; keys[i]; i++)
            ok = ok || strcmp(keys[i], k) == 0;
        if (!ok)
            return err_set(ei, ERR_INVALID, "unknown_field", k, "is not a field of %s", what);
    }
    return ERR_OK;
}

enum err
h_action_call(struct req *rq, struct resp *rs)
{
    struct call_env env;
    struct call_spec spec = {0};
    const char *stage = "request";
    enum err e = req_json_object(rq, &rs->ei);

    if (e != ERR_OK)
        return e;
    e = only_keys(rq->json, call_keys, "an action call (actionIdentifier, connectionId, input)",
                  &rs->ei);
    if (e != ERR_OK)
        return e;
    spec.action = json_string_value(json_object_get(rq->json, "actionIdentifier"));
    spec.connection_id = json_string_value(json_object_get(rq->json, "connectionId"));
    spec.input = json_object_get(rq->json, "input");
    if (json_object_get(rq->json, "connectionId") && spec.connection_id == NULL)
        return err_set(&rs->ei, ERR_INVALID, "invalid_type", "connectionId", "must be a string");
    if (req_draining(rq))
        return err_set(&rs->ei, ERR_UNAVAILABLE, "shutting_down", NULL,
                       "the server is shutting down; retry on another instance");
    e = call_slot_take(rq, rs);
    if (e != ERR_OK)
        return e;
    atomic_fetch_add(&rq->app->metrics.calls, 1);
    api_call_env(rq, &env);
    e = call_start(&env, &rq->who, &spec, on_call_done, rq, &stage, &rs->ei);
    if (e == ERR_OK) {
        req_suspend(rq);
        return ERR_OK;
    }
    gate_leave(rq->app->calls, rq->who.workspace_id);
    atomic_fetch_add(&rq->app->metrics.calls_failed, 1);
    return resp_json(rs, err_http_status(e), call_error_body(stage, e, &rs->ei));
}

enum err
h_conn_test(struct req *rq, struct resp *rs)
{
    struct call_env env;
    enum err e;

    e = call_slot_take(rq, rs);
    if (e != ERR_OK)
        return e;
    api_call_env(rq, &env);
    e = call_test_start(&env, &rq->who, req_param(rq, "id"), on_call_done, rq, &rs->ei);
    if (e == ERR_OK)
        req_suspend(rq);
    else
        gate_leave(rq->app->calls, rq->who.workspace_id);
    return e;
}

enum err
h_tools(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = tools_list(rq->st, &rq->who, &out, &rs->ei);

    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

enum err
h_agent_resolve(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = req_json_object(rq, &rs->ei);

    if (e == ERR_OK && json_object_size(rq->json) != 1)
        e = err_set(&rs->ei, ERR_INVALID, "invalid_body", "tools",
                    "send {\"tools\": [\"web_search\", \"slug.operation\", ...]}");
    if (e == ERR_OK)
        e = tools_resolve(rq->st, &rq->who, json_object_get(rq->json, "tools"), &out, &rs->ei);
    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

static const char *const agent_keys[] = {"tool", "input", "participants", "credentials", NULL};

/* POST /api/agents/call: one tool call of an agent run, with the run's
 * participants and per-run credentials (the same fulfillment as a workflow
 * node). The values are wiped from the body once parsed. */
enum err
h_agent_call(struct req *rq, struct resp *rs)
{
    struct call_env env;
    struct call_spec spec = {0};
    struct fulfil_set fs = {0};
    const char *stage = "request";
    enum err e = req_json_object(rq, &rs->ei);

    if (e != ERR_OK)
        return e;
    e = only_keys(rq->json, agent_keys, "an agent call (tool, input, participants, credentials)",
                  &rs->ei);
    spec.action = json_string_value(json_object_get(rq->json, "tool"));
    spec.input = json_object_get(rq->json, "input");
    if (e == ERR_OK && spec.action == NULL)
        e = err_set(&rs->ei, ERR_INVALID, "missing_field", "tool",
                    "is required (a built-in tool or slug.operation)");
    if (e == ERR_OK)
        e = fulfil_parse(rq->st, rq->who.workspace_id, json_object_get(rq->json, "participants"),
                         json_object_get(rq->json, "credentials"), &fs, &rs->ei);
    json_wipe_strings(json_object_get(rq->json, "credentials"));
    if (e == ERR_OK)
        e = call_slot_take(rq, rs);
    if (e != ERR_OK) {
        fulfil_set_release(&fs);
        return e;
    }
    spec.fulfil = &fs.ctx;
    atomic_fetch_add(&rq->app->metrics.calls, 1);
    api_call_env(rq, &env);
    e = call_start(&env, &rq->who, &spec, on_call_done, rq, &stage, &rs->ei);
    fulfil_set_release(&fs); /* call_start opened what it needs */
    if (e == ERR_OK) {
        req_suspend(rq);
        return ERR_OK;
    }
    gate_leave(rq->app->calls, rq->who.workspace_id);
    atomic_fetch_add(&rq->app->metrics.calls_failed, 1);
    return resp_json(rs, err_http_status(e), call_error_body(stage, e, &rs->ei));
}
