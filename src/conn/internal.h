/* conn internals shared by conn.c and conn_openapi.c. */
#ifndef CONNHUB_CONN_INTERNAL_H
#define CONNHUB_CONN_INTERNAL_H

#include <jansson.h>

#include "auth/auth.h"
#include "conn/conn.h"
#include "core/err.h"
#include "core/limits.h"
#include "crypto/vault.h"
#include "store/store.h"

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

/* A connection being created or changed: the public fields (borrowed from
 * the request body) plus what validation produced. */
struct conn_draft {
    const char *name, *slug, *service_type, *base_url, *fulfillment, *description, *test_op;
    const char *participant_role; /* fulfillment participant only */
    char slugbuf[MAX_SLUG_LEN + 1];
    json_t *auth_pub;
    json_t *operations;
    bool ops_changed;
    const char *spec; /* source document (imports) */
    struct spec_import imp;
    const char *transport; /* mcp */
    json_int_t timeout_ms; /* mcp; 0 = default */
    struct auth_values vals;
    json_t *oauth_provider; /* openapi: a provider from the spec's oauth2 scheme, to adopt */
    struct conn_idem idem;  /* an idempotent create: its id, marked done once saved */
};
void conn_draft_release(struct conn_draft *d);

/* Validates a create body into d (operations of an mcp connection come later,
 * from discovery). */
enum err conn_draft_create(const json_t *body, struct conn_draft *d, struct errinfo *ei);
/* Seals the secrets and inserts the connection; *out is its view. */
enum err conn_draft_save(struct store *st, const struct vault *v, const struct principal *p,
                         struct conn_draft *d, json_t **out, struct errinfo *ei);

#endif
