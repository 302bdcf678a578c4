/*
 * oauth/flow: the front half of the authorization-code flow: PKCE, the
 * state value, the authorize URL, and checking what comes back on the
 * callback. Pure functions (randomness aside): no store, no HTTP server.
 *
 * The flow, as the lead wires it (security-catalogue Part 2 §6):
 *  start:    oauth_state_new + oauth_pkce_new; store a flow record keyed by
 *            oauth_state_hash(state) (never the state itself) with user,
 *            session, workspace, connection, provider id, a snapshot of the
 *            provider's token_url and issuer (OAUTH-011), redirect_uri, the
 *            sealed verifier, the tiers asked for and expiry (<= 10 min,
 *            OAUTH_FLOW_TTL_S); redirect to oauth_authorize_url().
 *  callback: oauth_state_wellformed() first (else 400, store untouched);
 *            consume the flow record by hash in one statement (single use,
 *            same user/session, not expired) -> provider; then
 *            oauth_callback_check(); then the token request (token.h) to the
 *            token_url stored in the flow record.
 */
#ifndef CONNHUB_OAUTH_FLOW_H
#define CONNHUB_OAUTH_FLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "crypto/secret.h"
#include "oauth/provider.h"

#define OAUTH_FLOW_TTL_S 600     /* a flow record lives at most this long */
#define OAUTH_STATE_BYTES 32     /* 256 bits */
#define OAUTH_STATE_LEN 43       /* base64url, no padding */
#define OAUTH_VERIFIER_BYTES 48  /* 384 bits */
#define OAUTH_VERIFIER_LEN 64    /* base64url of 48 bytes; RFC 7636 allows 43..128 */
#define OAUTH_CHALLENGE_LEN 43   /* base64url(SHA-256) */
#define OAUTH_STATE_HASH_LEN 64  /* hex SHA-256 */
#define OAUTH_MAX_CODE_LEN 2048  /* authorization code on the callback */
#define OAUTH_MAX_ERROR_LEN 64   /* sanitized error code */
#define OAUTH_MAX_ERROR_DESC 200 /* sanitized error_description */

/* base64url without padding (RFC 4648 §5). out needs 4*((n+2)/3)+1 bytes. */
size_t oauth_b64url(const unsigned char *p, size_t n, char *out);

/* PKCE (RFC 7636), always S256. verifier is a secret (seal it in the flow
 * record); challenge goes into the authorize URL. */
struct oauth_pkce {
    struct secret verifier; /* OAUTH_VERIFIER_LEN chars of [A-Za-z0-9_-] */
    char challenge[OAUTH_CHALLENGE_LEN + 1];
};
enum err oauth_pkce_new(struct oauth_pkce *out, struct errinfo *ei) WARN_UNUSED;
void oauth_pkce_release(struct oauth_pkce *p);
/* challenge = base64url(SHA-256(verifier)). ERR_INVALID for a verifier that
 * is not 43..128 unreserved characters. */
enum err oauth_pkce_challenge(const char *verifier, size_t len,
                              char out[OAUTH_CHALLENGE_LEN + 1]) WARN_UNUSED;

/* state: 256 random bits, base64url. Only its hash is stored. */
enum err oauth_state_new(char out[OAUTH_STATE_LEN + 1], struct errinfo *ei) WARN_UNUSED;
/* true when s is exactly OAUTH_STATE_LEN base64url characters. */
bool oauth_state_wellformed(const char *s);
/* Lower-case hex SHA-256 of the state (the flow record's key). */
void oauth_state_hash(const char *state, char out[OAUTH_STATE_HASH_LEN + 1]);

struct oauth_authz {
    const char *client_id;
    const char *redirect_uri;        /* <APP_URL>/api/auth/connect/<provider>/callback */
    const struct oauth_list *scopes; /* from oauth_tiers_to_scopes */
    const char *state;
    const char *code_challenge; /* required when the provider has pkce */
};
/* The authorize URL (malloc'd into *out): the provider's authorize_url (its
 * own query kept) + response_type=code, client_id, redirect_uri, scope
 * (joined with the provider's separator), state, code_challenge,
 * code_challenge_method=S256, then the provider's extras (which can never be
 * one of those names: oauth_provider_from_json refuses them). Values are
 * percent-encoded (RFC 3986 unreserved kept). ERR_INVALID names a missing
 * input; ERR_TOO_LARGE past URL_MAX_LEN. */
enum err oauth_authorize_url(const struct oauth_provider *p, const struct oauth_authz *a,
                             char **out, struct errinfo *ei) WARN_UNUSED;

/* What the callback carried (values as decoded by the HTTP layer; NULL when
 * absent). Only these are looked at: any other parameter (connection=...,
 * workspace=...) is ignored by design (OAUTH-008). */
struct oauth_callback_in {
    const char *code;
    const char *state;
    const char *iss;
    const char *error;
    const char *error_description;
};

struct oauth_callback {
    struct secret code; /* the authorization code, on ERR_OK */
    /* On a provider error (error=...): sanitized copies, safe to show and
     * store: error is [A-Za-z0-9_.-] (else "invalid_error"), description
     * printable ASCII without < > & " ' ` (each replaced by a space). */
    char error[OAUTH_MAX_ERROR_LEN + 1];
    char error_description[OAUTH_MAX_ERROR_DESC + 1];
};
void oauth_callback_release(struct oauth_callback *cb);

/* Checks a callback for a flow of provider p, in this order:
 *  1. iss (RFC 9207 mix-up defence, OAUTH-010/012): when present it must
 *     equal p->issuer exactly (a provider without issuer refuses any iss);
 *     when absent and p->require_iss: refused. ERR_INVALID "issuer_mismatch".
 *  2. error=... -> ERR_UNPROCESSABLE, code "provider_denied" when error is
 *     access_denied, else "provider_error"; out->error and
 *     out->error_description filled, message names the provider and both.
 *  3. code missing, empty, over OAUTH_MAX_CODE_LEN or with bytes outside
 *     0x21..0x7e -> ERR_INVALID "invalid_callback".
 * The caller has already checked and consumed state (see the top). Every
 * failure means: store no token, show a page. */
enum err oauth_callback_check(const struct oauth_provider *p, const struct oauth_callback_in *in,
                              struct oauth_callback *out, struct errinfo *ei) WARN_UNUSED;

/* Copies s into out (outlen >= 1) as described for error_description. */
void oauth_sanitize_text(const char *s, char *out, size_t outlen);

/* The redirect URI connhub registers: <app_url>/api/auth/connect/<id>/callback
 * (app_url without a trailing slash; one is dropped). malloc'd. */
enum err oauth_redirect_uri(const char *app_url, const char *provider_id, char **out) WARN_UNUSED;

/* A call needs `tier` and the connection was granted granted_tiers (a list,
 * e.g. from oauth_scopes_to_tiers). ERR_OK when granted; else ERR_FORBIDDEN
 * with code "needs_tier", field "tier", and a message "needs tier X of P;
 * reconnect at <app_url>/api/auth/connect/<p>/start?tiers=<granted+X>&
 * connection=<id>". reconnect_url (may be NULL) gets that URL (malloc'd). */
enum err oauth_require_tier(const struct oauth_provider *p, const struct oauth_list *granted_tiers,
                            const char *tier, const char *app_url, const char *connection_id,
                            char **reconnect_url, struct errinfo *ei) WARN_UNUSED;

#endif
