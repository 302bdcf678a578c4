/*
 * oauth/provider: what connhub knows about an OAuth2 provider, and the
 * client credentials it uses there.
 *
 * A provider definition is data: endpoints, scopes, PKCE on/off, how the
 * client authenticates at the token endpoint, the extra authorize parameters
 * it needs (Google: access_type=offline, prompt=consent) and its permission
 * tiers: named scope sets a user picks when connecting ("send", "read").
 *
 * Built-ins (gmail, github) are JSON text compiled into this file and go
 * through the same parser as an admin's definition, so both obey the same
 * rules. Every URL passes url_validate() (outbound/ssrf.h); names, tiers,
 * scopes and sizes are bounded (OAUTH_MAX_* below); each error names the field.
 *
 * Client credentials: the admin registry (the store, sealed secret, rotatable
 * at run time) wins; else CONNECT_<ID>_CLIENT_ID / CONNECT_<ID>_CLIENT_SECRET
 * from the environment; else ERR_UNPROCESSABLE "provider_not_configured".
 * The client secret only ever lives in a struct secret.
 *
 * Ownership: struct oauth_provider and struct oauth_list own their strings;
 * release with oauth_provider_release() / oauth_list_release(). {0} is a valid
 * empty value for both.
 */
#ifndef CONNHUB_OAUTH_PROVIDER_H
#define CONNHUB_OAUTH_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "crypto/secret.h"

/* Limits (candidates for core/limits.h). Each is tested at N and N+1. */
#define OAUTH_MAX_PROVIDER_JSON ((size_t)64 * 1024) /* one provider definition */
#define OAUTH_MAX_ID_LEN 32                         /* provider id: a slug */
#define OAUTH_MAX_TIER_NAME_LEN 32                  /* tier name: a slug */
#define OAUTH_MAX_TIERS 16                          /* tiers per provider */
#define OAUTH_MAX_SCOPES 64         /* scopes in any one list (tier, default, granted, requested) */
#define OAUTH_MAX_SCOPE_LEN 256     /* one scope token */
#define OAUTH_MAX_SCOPE_STRING 4096 /* a whole scope string (request or response) */
#define OAUTH_MAX_EXTRAS 8          /* extra authorize parameters */
#define OAUTH_MAX_EXTRA_LEN 256     /* name or value of one */
#define OAUTH_MAX_CLIENT_ID_LEN 512
#define OAUTH_MAX_CLIENT_SECRET_LEN 1024

enum oauth_client_auth {
    OAUTH_AUTH_BASIC = 0, /* client_secret_basic (RFC 6749 §2.3.1) */
    OAUTH_AUTH_BODY,      /* client_secret_post */
};

/* A list of strings (scopes, tier names). */
struct oauth_list {
    char **v;
    size_t n;
};
void oauth_list_release(struct oauth_list *l);
bool oauth_list_has(const struct oauth_list *l, const char *s);
/* Appends s unless present. ERR_TOO_LARGE past max entries. */
enum err oauth_list_add(struct oauth_list *l, const char *s, size_t max) WARN_UNUSED;
/* Joins with sep into *out (malloc'd, caller frees). "" for an empty list. */
enum err oauth_list_join(const struct oauth_list *l, char sep, char **out) WARN_UNUSED;

struct oauth_tier {
    char *name;                 /* slug: "send" */
    char *description;          /* for the connect page; may be NULL */
    struct oauth_list scopes;   /* all must be granted for the tier to count */
    struct oauth_list includes; /* tiers this one implies when granted ("full" includes "send") */
};

struct oauth_param {
    char *name;
    char *value;
};

struct oauth_provider {
    char *id;             /* slug, 1..OAUTH_MAX_ID_LEN: "gmail" */
    char *name;           /* for humans: "Gmail" */
    char *authorize_url;  /* https, validated */
    char *token_url;      /* https (http only for loopback test peers via the SSRF allow list) */
    char *revocation_url; /* RFC 7009; NULL when the provider has none */
    char *userinfo_url;   /* NULL when none */
    char *issuer;         /* RFC 9207 / 8414 issuer; NULL when none */
    bool require_iss;     /* AS sends iss on every authorization response (OAUTH-012) */
    bool pkce;            /* S256; default true. Never "plain". */
    enum oauth_client_auth client_auth;
    char scope_sep;                   /* in the authorize request: ' ' (default) or ',' */
    struct oauth_list default_scopes; /* always requested, never counted toward a tier */
    struct oauth_tier *tiers;
    size_t ntiers;
    struct oauth_param *extras; /* extra authorize parameters, in order */
    size_t nextras;
    bool builtin;
};

void oauth_provider_release(struct oauth_provider *p);
const struct oauth_tier *oauth_provider_tier(const struct oauth_provider *p, const char *name);

/* Validates a provider definition (j borrowed) into *out. Keys:
 *   id, name, authorize_url, token_url (required); revocation_url,
 *   userinfo_url, issuer, require_iss (false), pkce (true),
 *   client_auth "basic"|"body" ("basic"), scope_separator " "|"," (" "),
 *   default_scopes [..], tiers {name: {scopes: [..], includes: [..],
 *   description}} (at least one), extra_authorize_params {name: value}.
 * Unknown keys are refused (a typo must not silently drop a setting).
 * Extras may not set response_type, client_id, redirect_uri, scope, state,
 * code_challenge, code_challenge_method (OAUTH-015). On error ei->field
 * names the key ("tiers.send.scopes[2]"). */
enum err oauth_provider_from_json(const json_t *j, struct oauth_provider *out,
                                  struct errinfo *ei) WARN_UNUSED;
/* Same from text: at most OAUTH_MAX_PROVIDER_JSON bytes, duplicate keys refused. */
enum err oauth_provider_parse(const char *text, size_t len, struct oauth_provider *out,
                              struct errinfo *ei) WARN_UNUSED;
/* The definition as JSON (new reference), accepted back by _from_json. */
json_t *oauth_provider_to_json(const struct oauth_provider *p);

/* Built-ins: "gmail", "github". ERR_NOT_FOUND for other ids. */
enum err oauth_provider_builtin(const char *id, struct oauth_provider *out,
                                struct errinfo *ei) WARN_UNUSED;
/* NULL-terminated list of built-in ids (static). */
const char *const *oauth_provider_builtin_ids(void);

/* "send,read" -> the union of the tiers' scopes plus the default scopes, in
 * definition order, no duplicates, at most OAUTH_MAX_SCOPES. tiers_out (may
 * be NULL) gets the tier names, de-duplicated, in the order given. Empty
 * list, an empty item or an unknown tier -> ERR_INVALID, field "tiers",
 * naming the tier and listing the valid ones. */
enum err oauth_tiers_to_scopes(const struct oauth_provider *p, const char *tiers_csv,
                               struct oauth_list *scopes_out, struct oauth_list *tiers_out,
                               struct errinfo *ei) WARN_UNUSED;

/* Splits a scope string on spaces and/or commas (GitHub answers "repo,gist")
 * into *out. ERR_INVALID for a string over OAUTH_MAX_SCOPE_STRING, a scope
 * over OAUTH_MAX_SCOPE_LEN or with bytes outside RFC 6749 NQCHAR, more than
 * OAUTH_MAX_SCOPES. */
enum err oauth_scopes_split(const char *s, struct oauth_list *out, struct errinfo *ei) WARN_UNUSED;

/* Which tiers the granted scope string covers: a tier counts when every
 * scope of it is granted, or when a granted tier includes it. Result in
 * definition order. Parsing errors as oauth_scopes_split. */
enum err oauth_scopes_to_tiers(const struct oauth_provider *p, const char *granted,
                               struct oauth_list *tiers_out, struct errinfo *ei) WARN_UNUSED;

/* ---- client credentials ---- */

enum oauth_creds_source { OAUTH_CREDS_REGISTRY = 1, OAUTH_CREDS_ENV };

struct oauth_client {
    char *client_id; /* not a secret, but never logged with the secret */
    struct secret secret;
    enum oauth_creds_source source;
};
void oauth_client_release(struct oauth_client *c);

/* Looks provider_id up in the admin registry. Returns ERR_OK and fills
 * *client_id (malloc'd) and *secret when configured, ERR_NOT_FOUND when not,
 * anything else on failure (store down, sealed secret cannot be opened). */
typedef enum err (*oauth_registry_lookup_cb)(void *arg, const char *provider_id, char **client_id,
                                             struct secret *secret, struct errinfo *ei);

/* Registry first (cb may be NULL), then the environment. Neither:
 * ERR_UNPROCESSABLE, code "provider_not_configured", message naming both the
 * admin registry and the two variables. A registry error is passed on (never
 * falls back to env: a broken store must not silently switch clients). */
enum err oauth_client_creds(const char *provider_id, oauth_registry_lookup_cb cb, void *arg,
                            struct oauth_client *out, struct errinfo *ei) WARN_UNUSED;
/* "CONNECT_<ID>_<suffix>", ID upper-cased, every non-alnum byte '_'. */
void oauth_env_name(const char *provider_id, const char *suffix, char *out, size_t outlen);

#endif
