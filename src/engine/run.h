/*
 * run: workflow runs of tool nodes, on the worker's event loop.
 *
 * POST /api/runs {"workflow": {"nodes": [...]}, "input", "participants",
 * "credentials", "wait"}: the workflow is checked whole before anything is
 * sent (engine/runstate.h), the participants and per-run credentials parsed
 * (conn/accounts.h), the run stored, then its nodes run one after another in
 * their order, each through call_start (the action-call pipeline, with the
 * run's fulfillment context) -- no thread waits for a node. Each node's
 * result (the action-call answer) becomes steps.<id>.output in the run state
 * and is stored; a node that fails (refused before sending, or an answer
 * with ok false) fails the run with its error.
 *
 * Per-run credentials live in the run's memory only (struct fulfil_set) and
 * are wiped when it ends; the stored run names the slugs they were for, never
 * a value. Runs are read back workspace by workspace.
 */
#ifndef CONNHUB_ENGINE_RUN_H
#define CONNHUB_ENGINE_RUN_H

#include <jansson.h>

#include "core/err.h"
#include "engine/call.h"

/* The run's final view (borrowed), on the loop thread that ran it. */
typedef void (*run_done_cb)(const json_t *view, void *arg);

/* Checks and starts a run. On ERR_OK it is stored and under way, id holds
 * its id and done (may be NULL) runs once when it ends; on an error nothing
 * was stored or sent and ei names the field. */
enum err run_start(const struct call_env *env, const struct principal *who, const json_t *body,
                   run_done_cb done, void *arg, char id[ID_MAX], struct errinfo *ei) WARN_UNUSED;

/* GET /api/runs/{id}: the stored run of who's workspace (another workspace's
 * is ERR_NOT_FOUND). *out: new reference. */
enum err run_get_view(struct store *st, const struct principal *who, const char *id, json_t **out,
                      struct errinfo *ei) WARN_UNUSED;

#endif
