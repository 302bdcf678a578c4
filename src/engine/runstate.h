/*
 * runstate: the pure half of workflow runs, with no store and no network:
 * checking a workflow before anything is sent, its execution order, and the
 * {{path.to.value}} templates of node inputs resolved from run state.
 *
 * Run state is {"input": <run input>, "steps": {"<node id>": {"output":
 * <the node's call result>}}}. A template is {{ path }} with path
 *
 *   input.<key>(.<key> | [<n>])*            the run's input
 *   steps.<id>.output(.<key> | [<n>])*     an earlier node's result
 *
 * (a key is [A-Za-z0-9_-]+; a key of digits also indexes an array). A string
 * that is exactly one template takes the value's JSON type; templates inside
 * a longer string are replaced by the value's text (strings as they are,
 * anything else as compact JSON).
 *
 * Errors name the field ("workflow.nodes[2].input.owner") and never a value:
 * ERR_INVALID with codes invalid_workflow, unknown_tool, duplicate_id,
 * unknown_dependency, cycle, invalid_template, template_unresolved;
 * ERR_TOO_LARGE (code too_large / too_many) for the named limits.
 */
#ifndef CONNHUB_ENGINE_RUNSTATE_H
#define CONNHUB_ENGINE_RUNSTATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/err.h"

/* Looks path (the text between the braces, trimmed) up in state. *out is
 * borrowed. ERR_INVALID (invalid_template) for a malformed path,
 * ERR_NOT_FOUND when it points nowhere. */
enum err rs_lookup(const json_t *state, const char *path, const json_t **out,
                   struct errinfo *ei) WARN_UNUSED;

/* A new reference: in with every template resolved from state. field names
 * in for errors ("input" -> "input.owner", "input.items[0]"). */
enum err rs_render(const json_t *in, const json_t *state, const char *field, json_t **out,
                   struct errinfo *ei) WARN_UNUSED;

/* ERR_TOO_LARGE (code state_too_large) when state's compact JSON is over max
 * bytes (a run's stored state is capped at MAX_RUN_STATE_BYTES). */
enum err rs_state_size(const json_t *state, size_t max, struct errinfo *ei) WARN_UNUSED;

/* Says whether tool name exists (ERR_OK) or not (ERR_NOT_FOUND with ei
 * filled); other errors stop the check. */
typedef enum err (*wf_tool_fn)(void *arg, const char *name, struct errinfo *ei);

/* Checks nodes (the workflow's "nodes") against the run's input and computes
 * the execution order: each node after its depends_on, otherwise in the
 * order given. *order (malloc'd, *n entries) holds node indexes. Every
 * template must point at the run input (resolved now) or at the output of a
 * node that runs earlier. */
enum err wf_plan(const json_t *nodes, const json_t *run_input, wf_tool_fn tool, void *arg,
                 size_t **order, size_t *n, struct errinfo *ei) WARN_UNUSED;

#endif
