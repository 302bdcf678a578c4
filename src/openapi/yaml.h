/*
 * yaml: one YAML document to a jansson value, through libyaml's event API.
 *
 * Built for untrusted input: nesting is checked on every start event (no
 * recursion anywhere), aliases are counted and every value an alias or a
 * merge key (<<) brings in is charged to an expansion budget, so a billion
 * laughs fails after a few thousand steps. An alias to a node that is still
 * open (&a [*a]) is a cycle and refused. Duplicate keys, non-scalar keys,
 * NUL characters, undefined or duplicate anchors and a second document are
 * refused. Tags are ignored. Plain scalars follow the YAML 1.2 core schema
 * loosely: null ~ true false (three casings), decimal integers and floats;
 * everything else, and every quoted or block scalar, is a string. Keys are
 * always strings.
 *
 * An alias shares its value (json_incref): the result may be a DAG, never a
 * cycle. Treat it as read-only.
 */
#ifndef CONNHUB_OPENAPI_YAML_H
#define CONNHUB_OPENAPI_YAML_H

#include <stddef.h>

#include <jansson.h>

#include "core/err.h"

struct yaml_limits {
    int max_depth;          /* open sequences + mappings */
    size_t max_aliases;     /* alias events + merge sources */
    size_t max_alias_nodes; /* values added by aliases and merges */
};

/* On ERR_OK *out is a new reference. Errors: ERR_INVALID (code "invalid_spec",
 * field "spec", message with line and column), ERR_TOO_LARGE (code
 * "limit_exceeded", field "max_depth", "max_aliases" or "max_alias_nodes"),
 * ERR_NOMEM. */
enum err yaml_to_json(const char *text, size_t len, const struct yaml_limits *lim, json_t **out,
                      struct errinfo *ei) WARN_UNUSED;

#endif
