/*
 * auth: the ways a connection proves who it is upstream, one table entry per
 * method (none, api_key_header, api_key_query, api_key_cookie, bearer, basic,
 * custom; oauth2 comes with the OAuth module).
 *
 * A connection's `auth` object splits in two:
 *  - the public part (type, header/query name, custom params_schema and inject
 *    rules), stored in the connection's config and shown by the API;
 *  - the secret values (key, token, username, password, custom values), each
 *    sealed in the vault as field "auth.<name>" and never shown.
 *
 * auth_parse() validates what a client sent and separates the two; inject
 * functions put opened secrets into an outbound request.
 */
#ifndef CONNHUB_AUTH_H
#define CONNHUB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/err.h"
#include "core/limits.h"
#include "crypto/secret.h"
#include "outbound/outbound.h"

#define AUTH_MAX_SECRETS MAX_CUSTOM_FIELDS

/* Secret values, by field name (without the "auth." prefix). */
struct auth_values {
    char *name[AUTH_MAX_SECRETS];
    struct secret value[AUTH_MAX_SECRETS];
    size_t n;
};
void auth_values_release(struct auth_values *v); /* wipes */
enum err auth_values_add(struct auth_values *v, const char *name, const char *p,
                         size_t len) WARN_UNUSED;
const struct secret *auth_values_get(const struct auth_values *v, const char *name);

struct auth_method {
    const char *type;
    /* Validates the public part of in (an auth object) into *pub (new ref). */
    enum err (*parse_public)(const json_t *in, json_t **pub, struct errinfo *ei);
    /* The secret fields this method uses, given its public part. */
    size_t (*secret_fields)(const json_t *pub, const char **out, size_t max);
    /* Fields that must be set for the connection to be usable. */
    size_t (*required_fields)(const json_t *pub, const char **out, size_t max);
    /* Puts the credential into rq (headers/query) or body (a JSON object, may
     * be NULL when the request has no JSON body). */
    enum err (*inject)(const json_t *pub, const struct auth_values *vals, struct out_request *rq,
                       json_t *body, struct errinfo *ei);
};

const struct auth_method *auth_method_find(const char *type);
/* "none, api_key_header, ..." for error messages. */
const char *auth_type_list(void);

/* Validates a client's auth object. prev_pub is the stored public part (PATCH;
 * NULL on create): when the type is unchanged, omitted public fields keep
 * their stored values. On ERR_OK: *pub is a new reference, vals holds the
 * non-blank secret values sent (blank or absent ones are not in vals, so
 * the stored value is kept). Field names in errors are relative to "auth". */
enum err auth_parse(const json_t *in, const json_t *prev_pub, json_t **pub,
                    struct auth_values *vals, struct errinfo *ei) WARN_UNUSED;

/* Injects opened secrets. ERR_UNPROCESSABLE (code "credential_missing",
 * field "auth.<name>") when a required one is not set. */
enum err auth_inject(const json_t *pub, const struct auth_values *vals, struct out_request *rq,
                     json_t *body, struct errinfo *ei) WARN_UNUSED;

#endif
