#include "engine/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/accounts.h"
#include "conn/conn.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "engine/runstate.h"
#include "services/builtins.h"
#include "core/banned.h"

struct run {
    struct call_env env;
    struct principal who;
    struct run_row row;
    json_t *nodes; /* owned */
    json_t *state; /* owned: {"input", "steps"} */
    json_t *spec;  /* owned: what is stored (no credential values) */
    json_t *error; /* owned, or NULL */
    size_t *order, norder, next;
    struct fulfil_set fs;
    struct loop_timer timer;
    run_done_cb done;
    void *arg;
    int64_t started_ms;
};

static const char *const run_keys[] = {"workflow",    "input", "participants",
                                       "credentials", "wait",  NULL};

/* ---- checking ---- */

struct tool_check {
    struct store *st;
    int64_t ws;
};

/* wf_tool_fn: a built-in, or slug.operation of a connection of the workspace. */
static enum err
tool_exists(void *arg, const char *name, struct errinfo *ei)
{
    struct tool_check *tc = arg;
    enum err e;

    if (builtin_find(name))
        return ERR_OK;
    e = tool_find(tc->st, tc->ws, name, NULL, ei);
    if (e != ERR_OK && e != ERR_NOT_FOUND)
        ei->field[0] = '\0';
    return e;
}

static enum err
check_body(const json_t *body, struct errinfo *ei)
{
    const char *k;
    json_t *v;

    json_object_foreach ((json_t *)body, k, v) {
        bool known = false;
        (void)v;
        for (size_t i = 0; run_keys[i]; i++)
            known = known || strcmp(run_keys[i], k) == 0;
        if (!known)
            return err_set(ei, ERR_INVALID, "unknown_field", k,
                           "is not a field of a run (workflow, input, participants, "
                           "credentials, wait)");
    }
    if (!json_is_object(json_object_get(body, "workflow")))
        return err_set(ei, ERR_INVALID, "missing_field", "workflow",
                       "is required: {\"nodes\": [{\"id\", \"type\": \"tool\", \"tool_name\", "
                       "\"input\"}]}");
    json_object_foreach (json_object_get(body, "workflow"), k, v) {
        (void)v;
        if (strcmp(k, "nodes") != 0)
            return err_set(ei, ERR_INVALID, "unknown_field", "workflow",
                           "%s is not a workflow field (nodes)", k);
    }
    v = json_object_get(body, "input");
    if (v && !json_is_object(v))
        return err_set(ei, ERR_INVALID, "invalid_type", "input", "must be a JSON object");
    if (v) {
        char *t = json_dumps(v, JSON_COMPACT);
        size_t n = t ? strlen(t) : 0;
        free(t);
        if (n > MAX_RUN_INPUT_BYTES)
            return err_set(ei, ERR_TOO_LARGE, "too_large", "input",
                           "a run's input is at most %zu bytes of JSON (this one has %zu)",
                           MAX_RUN_INPUT_BYTES, n);
    }
    v = json_object_get(body, "wait");
    if (v && !json_is_boolean(v))
        return err_set(ei, ERR_INVALID, "invalid_type", "wait", "must be true or false");
    return ERR_OK;
}

/* ---- views ---- */

static json_t *
view_of(const struct run_row *r, const json_t *spec, const json_t *state, const json_t *error)
{
    char created[32], updated[32], finished[32];
    json_t *o;

    iso8601_ms(r->created_at, created);
    iso8601_ms(r->updated_at ? r->updated_at : r->created_at, updated);
    o = json_pack("{s:s, s:s, s:s, s:s}", "id", r->id, "status", r->status, "created_at", created,
                  "updated_at", updated);
    if (r->finished_at) {
        iso8601_ms(r->finished_at, finished);
        json_object_set_new(o, "finished_at", json_string(finished));
    }
    if (spec) {
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)spec, k, v) {
            json_object_set(o, k, v);
        }
    }
    if (state) {
        json_object_set(o, "input", json_object_get(state, "input"));
        json_object_set(o, "steps", json_object_get(state, "steps"));
    }
    if (error)
        json_object_set(o, "error", (json_t *)error);
    return o;
}

enum err
run_get_view(struct store *st, const struct principal *who, const char *id, json_t **out,
             struct errinfo *ei)
{
    struct run_row r = {0};
    json_t *spec = NULL, *state = NULL, *error = NULL;
    enum err e = store_run_get(st, who->workspace_id, id, &r, ei);

    if (e == ERR_OK) {
        spec = json_loads(r.spec, 0, NULL);
        state = json_loads(r.state, 0, NULL);
        error = r.error ? json_loads(r.error, 0, NULL) : NULL;
        if (spec == NULL || state == NULL)
            e = err_set(ei, ERR_INTERNAL, "corrupt_row", NULL, "stored run is unreadable");
    }
    if (e == ERR_OK)
        *out = view_of(&r, spec, state, error);
    json_decref(spec);
    json_decref(state);
    json_decref(error);
    run_row_release(&r);
    return e;
}

/* ---- running ---- */

static void
run_free(struct run *r)
{
    json_decref(r->nodes);
    json_decref(r->state);
    json_decref(r->spec);
    json_decref(r->error);
    free(r->order);
    fulfil_set_release(&r->fs); /* wipes the per-run credentials */
    free(r->row.spec);
    free(r->row.state);
    free(r->row.error);
    free(r);
}

/* Writes the run's state (and status, error) to the store. */
static void
persist(struct run *r)
{
    struct errinfo ei = {0};

    free(r->row.state);
    free(r->row.error);
    r->row.state = json_dumps(r->state, JSON_COMPACT);
    r->row.error = r->error ? json_dumps(r->error, JSON_COMPACT) : NULL;
    if (r->row.state == NULL || store_run_update(r->env.st, &r->row, &ei) != ERR_OK)
        log_kv(LOG_ERROR, "run.store_failed", "s:run", r->row.id, "s:code", ei.code, LOG_END);
}

static void
finish(struct run *r, const char *status)
{
    r->row.status = (char *)status;
    r->row.finished_at = now_ms();
    r->row.updated_at = r->row.finished_at;
    persist(r);
    log_kv(strcmp(status, "succeeded") == 0 ? LOG_INFO : LOG_WARN, "run.finished", "s:run",
           r->row.id, "s:workspace", r->who.workspace_slug, "s:status", status, "I:nodes",
           (long long)r->next, "I:ms", (long long)(mono_ms() - r->started_ms), LOG_END);
    if (r->done) {
        json_t *v = view_of(&r->row, r->spec, r->state, r->error);
        r->done(v, r->arg);
        json_decref(v);
    }
    run_free(r);
}

static void
node_failed(struct run *r, const char *id, const char *tool, json_t *output)
{
    json_t *err = json_object_get(output, "error");

    json_object_set_new(json_object_get(r->state, "steps"), id,
                        json_pack("{s:o}", "output", output));
    r->error = json_pack("{s:s, s:s}", "node", id, "tool", tool);
    if (err)
        json_object_set(r->error, "error", err);
    else
        json_object_set_new(r->error, "error",
                            json_pack("{s:s, s:s, s:O?}", "code", "node_failed", "message",
                                      "the tool answered with ok false", "status",
                                      json_object_get(output, "status")));
    finish(r, "failed");
}

static void run_step(struct loop *lp, void *arg);

static void
on_node_done(struct call_result *res, void *arg)
{
    struct run *r = arg;
    size_t i = r->order[r->next];
    json_t *node = json_array_get(r->nodes, i);
    const char *id = json_string_value(json_object_get(node, "id"));
    const char *tool = json_string_value(json_object_get(node, "tool_name"));
    json_t *out = json_loadb(res->json.data ? res->json.data : "", res->json.len, 0, NULL);
    struct errinfo ei = {0};

    r->next++;
    if (out == NULL)
        out = json_pack("{s:b, s:{s:s, s:s, s:s}}", "ok", 0, "error", "stage", "result", "code",
                        "unreadable_result", "message", "the tool's answer could not be read");
    if (!res->upstream_ok || !json_is_true(json_object_get(out, "ok"))) {
        node_failed(r, id, tool, out);
        return;
    }
    json_object_set_new(json_object_get(r->state, "steps"), id, json_pack("{s:o}", "output", out));
    if (rs_state_size(r->state, MAX_RUN_STATE_BYTES, &ei) != ERR_OK) {
        r->error = json_pack("{s:s, s:s, s:{s:s, s:s}}", "node", id, "tool", tool, "error", "code",
                             ei.code, "message", ei.msg);
        finish(r, "failed");
        return;
    }
    persist(r);
    loop_timer_start(outbound_loop(r->env.ob), &r->timer, 0, run_step, r);
}

static void
run_step(struct loop *lp, void *arg)
{
    struct run *r = arg;
    struct call_spec spec = {0};
    struct errinfo ei = {0};
    const char *stage = "input";
    json_t *node, *in, *rendered = NULL;
    enum err e;

    (void)lp;
    if (r->next == r->norder) {
        finish(r, "succeeded");
        return;
    }
    node = json_array_get(r->nodes, r->order[r->next]);
    in = json_object_get(node, "input");
    e = in ? rs_render(in, r->state, "input", &rendered, &ei) : ERR_OK;
    if (e == ERR_OK && rendered == NULL)
        rendered = json_object();
    if (e == ERR_OK) {
        spec.action = json_string_value(json_object_get(node, "tool_name"));
        spec.input = rendered;
        spec.fulfil = &r->fs.ctx;
        e = call_start(&r->env, &r->who, &spec, on_node_done, r, &stage, &ei);
    }
    json_decref(rendered);
    if (e != ERR_OK) {
        r->next++;
        node_failed(r, json_string_value(json_object_get(node, "id")),
                    json_string_value(json_object_get(node, "tool_name")),
                    call_error_body(stage, e, &ei));
    }
}

/* What is stored of the request: never a credential value. */
static json_t *
spec_of(const json_t *body, const struct fulfil_set *fs, const struct principal *who)
{
    json_t *creds = json_array();
    json_t *parts = json_array();

    for (size_t i = 0; i < fs->ncreds; i++)
        json_array_append_new(creds, json_string(fs->creds[i].slug));
    for (size_t i = 0; i < fs->nparties; i++)
        json_array_append_new(
            parts, json_pack("{s:s, s:s}", "id", fs->parties[i].id, "role", fs->parties[i].role));
    return json_pack("{s:O, s:s, s:o, s:o}", "workflow", json_object_get(body, "workflow"),
                     "triggered_by", who->user_name, "participants", parts, "credentials_for",
                     creds);
}

enum err
run_start(const struct call_env *env, const struct principal *who, const json_t *body,
          run_done_cb done, void *arg, char id[ID_MAX], struct errinfo *ei)
{
    struct run *r = xcalloc(1, sizeof(*r));
    struct tool_check tc = {env->st, who->workspace_id};
    json_t *input;
    enum err e = check_body(body, ei);

    r->env = *env;
    r->who = *who;
    r->done = done;
    r->arg = arg;
    r->started_ms = mono_ms();
    if (e == ERR_OK) {
        input = json_object_get(body, "input");
        r->nodes = json_deep_copy(json_object_get(json_object_get(body, "workflow"), "nodes"));
        e = wf_plan(r->nodes, input, tool_exists, &tc, &r->order, &r->norder, ei);
    }
    if (e == ERR_OK)
        e = fulfil_parse(env->st, who->workspace_id, json_object_get(body, "participants"),
                         json_object_get(body, "credentials"), &r->fs, ei);
    if (e == ERR_OK)
        e = id_new("run", r->row.id);
    if (e == ERR_OK) {
        input = json_object_get(body, "input");
        r->state = json_pack("{s:o, s:o}", "input", input ? json_deep_copy(input) : json_object(),
                             "steps", json_object());
        r->spec = spec_of(body, &r->fs, who);
        r->row.workspace_id = who->workspace_id;
        r->row.user_id = who->user_id;
        r->row.status = (char *)"running";
        r->row.created_at = r->row.updated_at = now_ms();
        r->row.spec = json_dumps(r->spec, JSON_COMPACT);
        r->row.state = json_dumps(r->state, JSON_COMPACT);
        e = store_run_insert(env->st, &r->row, ei);
    }
    if (e != ERR_OK) {
        log_kv(LOG_INFO, "run.refused", "s:workspace", who->workspace_slug, "s:code", ei->code,
               "s:field", ei->field, LOG_END);
        run_free(r);
        return e;
    }
    snprintf(id, ID_MAX, "%s", r->row.id);
    log_kv(LOG_INFO, "run.started", "s:run", r->row.id, "s:workspace", who->workspace_slug,
           "s:user", who->user_name, "I:nodes", (long long)r->norder, LOG_END);
    loop_timer_start(outbound_loop(env->ob), &r->timer, 0, run_step, r);
    return ERR_OK;
}
