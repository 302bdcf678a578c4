/*
 * openapi internals: the state of one import, shared by the files of
 * src/openapi/ (parse, index, doc, ref, names, server, security, params,
 * body, op, import). Not for use outside this folder.
 *
 * The document is read through doc.c (oa_top, oa_paths_*, oa_pointer), never
 * as one tree: a JSON spec is an index of spans parsed on demand, so values
 * from it are borrowed only until the next path item (oa_doc_trim).
 */
#ifndef CONNHUB_OPENAPI_INTERNAL_H
#define CONNHUB_OPENAPI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "openapi/openapi.h"

#define OA_MAX_NAME 64 /* operation names and input keys */
/* Bytes of spec text whose parsed spans doc.c keeps between path items. */
#define OA_SPAN_CACHE_BYTES ((size_t)1 << 18)

/* index.c: where the members of a JSON spec lie. */
struct oa_span {
    size_t start, end;     /* the value: text[start, end) */
    size_t key, klen;      /* its key, decoded: keys.data + key (NUL-terminated) */
    int parent;            /* -1 for the root (span 0) */
    int first, last, next; /* children in order, and the next sibling; -1 for none */
    int depth;             /* 0 root, 1 top-level member, ... */
    bool kids;             /* an object whose members are all spans */
    bool security;         /* path item: an operation may have "security" */
    bool pinned;           /* val lives until the end of the import */
    unsigned nops;         /* path item: methods whose value is an object */
    size_t hole0, nholes;  /* path item: its holes, holes[hole0, hole0 + nholes) */
    json_t *val;           /* parsed (owned), or NULL */
};

/* A value inside a path item that the mapping never reads: text[start, end). */
struct oa_hole {
    size_t start, end;
};

struct oa_index {
    const char *text;
    size_t len;
    struct oa_span *sp;
    size_t n, cap;
    struct buf keys;
    struct oa_hole *holes; /* in text order */
    size_t nh, hcap;
    int *tab; /* (parent, key) -> span + 1; open addressing */
    size_t tabn;
    size_t cached; /* text bytes of parsed spans not pinned */
    char *scratch; /* doc.c: a span without its white space */
    size_t scap;
};

/* The index of a JSON text whose root is an object, or NULL when the text is
 * not one jansson surely accepts as is (see index.c): parse it whole then. */
struct oa_index *oa_index_build(const char *text, size_t len, int max_depth);
void oa_index_free(struct oa_index *x); /* NULL is fine */
/* The span of member key of span parent (whose kids are spans), or -1. */
int oa_index_child(const struct oa_index *x, int parent, const char *key, size_t klen);

struct oa {
    struct openapi_opts o; /* defaults filled in */
    json_t *doc;           /* the parsed spec (owned), or NULL with idx */
    struct oa_index *idx;  /* JSON: the spans, parsed on demand (owned), or NULL */
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
/* The same checks and errors, but a JSON object is indexed (oa->idx) when
 * index.c vouches for it, else parsed whole (oa->doc). */
enum err oa_open(struct oa *oa, const char *text, size_t len, struct errinfo *ei) WARN_UNUSED;

#ifdef CONNHUB_TEST
extern bool oa_whole_json; /* parse.c: no index, JSON is parsed whole */
#endif

/* doc.c: the document, whether whole (oa->doc) or indexed (oa->idx). */
/* A top-level member (borrowed, lives until the end of the import), or NULL. */
json_t *oa_top(struct oa *oa, const char *key);
/* The type of a top-level member without parsing it; -1 when absent. */
int oa_top_type(struct oa *oa, const char *key);
/* The value of span s, parsed on demand (borrowed, lives until oa_doc_trim). */
json_t *oa_span_value(struct oa *oa, int s);
/* Frees parsed spans past OA_SPAN_CACHE_BYTES; call only where no borrowed
 * value from oa_pointer / oa_resolve is held. */
void oa_doc_trim(struct oa *oa);
struct oa_cursor {
    void *it; /* whole: the iterator over paths */
    int span; /* indexed: the path item's span */
    bool started;
};
/* Steps to the next path item (document order); false past the last. */
bool oa_paths_next(struct oa *oa, struct oa_cursor *c, const char **path);
/* The current path item (new reference, parsed on demand). */
json_t *oa_paths_item(struct oa *oa, const struct oa_cursor *c);
/* How many of its methods hold objects (counted without parsing). */
size_t oa_paths_nops(struct oa *oa, const struct oa_cursor *c);
/* false when none of its operations has "security". */
bool oa_paths_secured(struct oa *oa, const struct oa_cursor *c);

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
/* The value at a local reference "#/a/b" (borrowed, until oa_doc_trim), or NULL. */
json_t *oa_pointer(struct oa *oa, const char *ref);
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
