/*
 * openapi internals: the state of one import, shared by the files of
 * src/openapi/ (parse, ref, names, server, security, params, body, op,
 * import). Not for use outside this folder.
 */
#ifndef CONNHUB_OPENAPI_INTERNAL_H
#define CONNHUB_OPENAPI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/err.h"
#include "openapi/openapi.h"

#define OA_MAX_NAME 64 /* operation names and input keys */

struct oa {
    struct openapi_opts o; /* defaults filled in */
    json_t *doc;           /* the parsed spec (owned) */
    bool v2;               /* Swagger 2.0 */
    json_t *warnings;      /* array (owned) */
    json_t *warned;        /* "code\n$ref" already reported (owned set) */
    json_t *names;         /* operation names taken (owned set) */
    json_t *name_next;     /* base name -> next suffix to try (owned) */
    json_t *cache;         /* $ref -> [schema, nodes] (owned) */
    json_t *schemes;       /* auth_options by scheme name (owned) */
    size_t nodes_left;     /* of OPENAPI_MAX_TOTAL_SCHEMA_NODES */
    size_t ops_left;       /* operations not yet mapped */
};

/* Per-operation schema expansion state. */
struct xstate {
    size_t budget;                            /* values this operation may still add */
    size_t budget0;                           /* ... when it started */
    const char *stack[OPENAPI_MAX_REF_DEPTH]; /* $refs being inlined */
    int sp;
    bool truncated; /* a cut was made (depth or budget) */
    const char *loc;
};

/* parse.c: JSON (depth pre-checked) or YAML to a jansson value. */
enum err oa_parse(const char *text, size_t len, const struct openapi_opts *o, json_t **out,
                  struct errinfo *ei) WARN_UNUSED;

/* warn.c */
void oa_warn(struct oa *oa, const char *code, const char *loc, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
/* Warns once per (code, key) for the whole import. */
void oa_warn_once(struct oa *oa, const char *code, const char *key, const char *loc,
                  const char *fmt, ...) PRINTF_LIKE(5, 6);
/* "#/paths/~1a~1{b}/get": JSON pointer of paths[path][method] (new string, free()). */
char *oa_loc(const char *a, const char *b, const char *c);
/* A string member, or NULL. */
const char *oa_str(const json_t *obj, const char *key);
int oa_set_str(json_t *obj, const char *key, const char *val);

/* ref.c */
/* The value at a local reference "#/a/b" (borrowed), or NULL. */
json_t *oa_pointer(const struct oa *oa, const char *ref);
/* Follows a $ref chain of a non-schema object (parameter, requestBody, response,
 * security scheme, path item); NULL (with a warning) when it cannot. Borrowed. */
json_t *oa_resolve(struct oa *oa, json_t *node, const char *loc);
/* schema with local $refs inlined (new reference, never NULL unless out of
 * memory). Parts may be shared with other operations' schemas: copy before
 * changing it. */
json_t *oa_schema(struct oa *oa, struct xstate *x, json_t *schema);
/* An operation's budget: its fair share of what is left of the total,
 * between OPENAPI_MIN_OP_SCHEMA_NODES and OPENAPI_MAX_OP_SCHEMA_NODES. */
void oa_xstate_init(struct oa *oa, struct xstate *x, const char *loc);
/* Charges what the operation used to the total. */
void oa_xstate_done(struct oa *oa, struct xstate *x);

/* names.c */
/* snake_case of s into out[OA_MAX_NAME + 1]; returns its length (may be 0). */
size_t oa_snake(const char *s, char *out);
/* The operation's unique name (new string, free()), warning if renamed. */
char *oa_op_name(struct oa *oa, const char *op_id, const char *method, const char *path,
                 const char *loc);

/* server.c: the base URL (new string, free()). */
enum err oa_base_url(struct oa *oa, char **out, struct errinfo *ei) WARN_UNUSED;

/* security.c: fills auth_options and auth of the proposal. */
enum err oa_security(struct oa *oa, json_t *proposal) WARN_UNUSED;
/* Scheme names an operation requires (new array). */
json_t *oa_op_security(struct oa *oa, const json_t *op);

/* params.c: params, input_schema and the {{}} path of one operation. */
enum err oa_op_inputs(struct oa *oa, struct xstate *x, const char *path, json_t *item, json_t *op,
                      json_t *out, struct errinfo *ei) WARN_UNUSED;

/* body.c */
struct oa_inputs {
    json_t *params; /* array */
    json_t *props;  /* input_schema.properties */
    json_t *req;    /* input_schema.required */
};
void oa_body_v3(struct oa *oa, struct xstate *x, json_t *op, struct oa_inputs *in);
void oa_body_v2(struct oa *oa, struct xstate *x, json_t *op, json_t *body_param, json_t *form,
                bool has_file, struct oa_inputs *in);
/* The first JSON-like media type of a content map, or NULL. */
const char *oa_json_media(const json_t *content);

/* op.c: one operation object of the proposal (new reference) or NULL if skipped. */
enum err oa_operation(struct oa *oa, const char *path, const char *method, json_t *item, json_t *op,
                      json_t **out, struct errinfo *ei) WARN_UNUSED;

#endif
