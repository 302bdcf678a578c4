/*
 * openapi: turns an OpenAPI / Swagger description into a proposed connection.
 *
 * A pure library: spec text in, a jansson object out; nothing is fetched (an
 * external $ref is reported, never followed) and nothing is stored. The
 * text may be JSON or YAML (detected by its first byte: '{' or '[' is JSON),
 * Swagger 2.0, OpenAPI 3.0.x or 3.1.x.
 *
 * A JSON spec is checked in one flat pass and then parsed piece by piece as
 * the mapping reads it (index.c, doc.c), so an import needs about the text
 * and the proposal in memory, not a tree of the whole document; YAML is
 * parsed whole. Either way the result, and every error, is the same.
 *
 * Every bound below is checked before work grows with it, so a hostile spec
 * (billion laughs, 100,000-deep nesting, circular $refs, huge schemas) fails
 * fast or imports a truncated schema with a warning; it never recurses
 * without bound.
 *
 * The proposal (new reference, owned by the caller):
 *   title, version, spec_version, base_url,
 *   auth          {"type": ..., "scheme": ..., ...}: the scheme of the first
 *                 global security requirement; when the spec has no global
 *                 "security" at all, that of the first operation that has one
 *                 (warning "auth_from_operation"); else {"type": "none"}.
 *   auth_options  one entry per security scheme (see security.c)
 *   operations    name, method, path ({{key}} placeholders), description,
 *                 operation_id, input_schema, output_schema, params, security
 *   warnings      {code, message, location}, at most OPENAPI_MAX_WARNINGS
 * Input keys: a path or query parameter's key is a template name
 * ([A-Za-z_][A-Za-z0-9_]{0,63}); a header or cookie key is an HTTP token of at
 * most 64 bytes. When the wire name is not a valid key, or collides with an
 * earlier key (or "body"), the entry carries "wire_name".
 * Schemas: local $refs are inlined; a circular one stays {"$ref": "#/..."}.
 * Size is bounded three ways: each inlined $ref holds at most
 * OPENAPI_MAX_REF_SCHEMA_NODES values; each operation at most its fair share
 * of what is left of OPENAPI_MAX_TOTAL_SCHEMA_NODES (between MIN_ and
 * MAX_OP_SCHEMA_NODES). Past a bound the $ref is kept as {"$ref"} and the
 * operation gets warning "schema_truncated". The input schema is built
 * first, so it is the last to be cut.
 */
#ifndef CONNHUB_OPENAPI_H
#define CONNHUB_OPENAPI_H

#include <stddef.h>

#include <jansson.h>

#include "core/err.h"

#define OPENAPI_MAX_SPEC_BYTES ((size_t)32 * 1024 * 1024)
#define OPENAPI_MAX_DEPTH 256
#define OPENAPI_MAX_ALIASES 10000u
#define OPENAPI_MAX_ALIAS_NODES 1000000u /* YAML values added by aliases and merges */
#define OPENAPI_MAX_REF_DEPTH 64
#define OPENAPI_MAX_OPERATIONS 20000u
#define OPENAPI_MAX_PARAMS 1000u                /* parameters of one operation */
#define OPENAPI_MAX_TOTAL_SCHEMA_NODES 1500000u /* all operations' schemas */
#define OPENAPI_MAX_OP_SCHEMA_NODES 4000u       /* input + output schema of one operation */
#define OPENAPI_MIN_OP_SCHEMA_NODES 100u        /* ... even when the total is spent */
#define OPENAPI_MAX_REF_SCHEMA_NODES 2000u      /* one inlined $ref */
#define OPENAPI_MAX_SCHEMA_DEPTH 96             /* nesting of an inlined schema */
#define OPENAPI_MAX_WARNINGS 1000u
#define OPENAPI_MAX_DESCRIPTION 4096u /* bytes of an operation description */

struct openapi_opts {              /* zero = defaults */
    size_t max_spec_bytes;         /* OPENAPI_MAX_SPEC_BYTES */
    int max_depth;                 /* YAML/JSON nesting, OPENAPI_MAX_DEPTH */
    size_t max_aliases;            /* YAML aliases, OPENAPI_MAX_ALIASES; the expansion
                                      budget is OPENAPI_MAX_ALIAS_NODES */
    int max_ref_depth;             /* $ref chain / nesting depth, OPENAPI_MAX_REF_DEPTH */
    size_t max_operations;         /* OPENAPI_MAX_OPERATIONS */
    const char *base_url_override; /* when set, used instead of servers/host */
};

/* Parses JSON or YAML (detected), Swagger 2.0 / OpenAPI 3.0.x / 3.1.x, and maps it.
 * text need not be NUL-terminated; opts may be NULL.
 * On ERR_OK *proposal is a NEW jansson reference. On failure *proposal is NULL and:
 *   ERR_INVALID        malformed (bad UTF-8, JSON/YAML syntax with line and column,
 *                      duplicate key, YAML alias cycle, several YAML documents);
 *                      code "invalid_spec", field "spec" (or "base_url_override").
 *   ERR_TOO_LARGE      a named limit; code "limit_exceeded", field names the limit:
 *                      "spec" (bytes), "max_depth", "max_aliases", "max_alias_nodes",
 *                      "max_operations", "max_parameters".
 *   ERR_UNPROCESSABLE  a valid document that cannot be imported: not Swagger/OpenAPI,
 *                      or no absolute base URL (code "base_url_required", field
 *                      "base_url": pass base_url_override).
 *   ERR_NOMEM
 * The proposal may be modified freely by the caller. */
enum err openapi_import(const char *text, size_t len, const struct openapi_opts *opts,
                        json_t **proposal, struct errinfo *ei) WARN_UNUSED;

#endif
