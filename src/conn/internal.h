/* conn internals shared by conn.c and conn_openapi.c. */
#ifndef CONNHUB_CONN_INTERNAL_H
#define CONNHUB_CONN_INTERNAL_H

#include <jansson.h>

#include "core/err.h"

/* What an OpenAPI spec contributes to a connection. */
struct spec_import {
    json_t *operations; /* reviewed: excluded dropped, renames applied */
    json_t *auth;       /* the spec's default auth (public part), e.g. {"type":"bearer"} */
    json_t *warnings;
    char *base_url; /* the override, else the spec's */
};

/* Imports body.spec (with body.base_url, exclude_operations,
 * rename_operations). prev_ops (may be NULL): the connection's current
 * operations, whose names are kept for unchanged method+path on re-import. */
enum err conn_import_spec(const json_t *body, const json_t *prev_ops, struct spec_import *out,
                          struct errinfo *ei);
void spec_import_release(struct spec_import *s);

#endif
