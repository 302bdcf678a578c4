/*
 * oauth/token: the back half of the flow: token endpoint requests (code
 * exchange, refresh), parsing the answer, expiry arithmetic, revocation
 * (RFC 7009) and the Bearer header. Builds struct out_request values for
 * outbound_send() (outbound/outbound.h) and reads struct out_response
 * values; sends nothing itself.
 *
 * Every credential (client secret, code, verifier, refresh and access token)
 * travels as a struct secret; request headers and bodies that hold one are
 * marked credential and wiped by out_request_release(). Token requests:
 * POST, application/x-www-form-urlencoded, Accept: application/json, no
 * redirects followed, total timeout OAUTH_TOKEN_TIMEOUT_MS (shorter than the
 * refresh lease, see refresh.h), response capped at OAUTH_MAX_TOKEN_RESPONSE.
 * Client credentials never go into the URL (OAUTH-019).
 */
#ifndef CONNHUB_OAUTH_TOKEN_H
#define CONNHUB_OAUTH_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "crypto/secret.h"
#include "oauth/flow.h"
#include "oauth/provider.h"
#include "outbound/outbound.h"

#define OAUTH_MAX_TOKEN_RESPONSE ((size_t)64 * 1024)      /* token endpoint answer */
#define OAUTH_MAX_TOKEN_LEN ((size_t)16 * 1024)           /* one access or refresh token */
#define OAUTH_MAX_EXPIRES_IN_S ((int64_t)366 * 24 * 3600) /* larger values are clamped */
#define OAUTH_TOKEN_TIMEOUT_MS 20000u                     /* total, per token request */
#define OAUTH_REFRESH_MARGIN_S 300                        /* refresh this long before expiry */
#define OAUTH_MIN_TOKEN_TIMEOUT_MS 1000u                  /* lowest --oauth-token-timeout */

/* The total timeout of every token request: OAUTH_TOKEN_TIMEOUT_MS unless set
 * (at start-up, before workers run) to OAUTH_MIN_TOKEN_TIMEOUT_MS ..
 * OAUTH_TOKEN_TIMEOUT_MS; it can only shrink, so the refresh lease
 * (OAUTH_LEASE_TTL_MS) always outlives it. ERR_INVALID outside that range. */
enum err oauth_token_timeout_set(unsigned ms, struct errinfo *ei) WARN_UNUSED;
unsigned oauth_token_timeout_ms(void);

/* ---- requests ---- */

/* grant_type=authorization_code with code, redirect_uri (must be the one
 * sent to /authorize) and code_verifier (NULL when the provider has no
 * PKCE). rq is initialised here; release it (or hand it to outbound_send). */
enum err oauth_token_request_code(const struct oauth_provider *p, const struct oauth_client *c,
                                  const struct secret *code, const char *redirect_uri,
                                  const struct secret *verifier, struct out_request *rq,
                                  struct errinfo *ei) WARN_UNUSED;
/* grant_type=refresh_token; scope (may be NULL: keep the grant) narrows. */
enum err oauth_token_request_refresh(const struct oauth_provider *p, const struct oauth_client *c,
                                     const struct secret *refresh_token, const char *scope,
                                     struct out_request *rq, struct errinfo *ei) WARN_UNUSED;
/* RFC 7009: token + token_type_hint ("refresh_token" or "access_token"),
 * same client authentication. ERR_UNPROCESSABLE "no_revocation_endpoint"
 * when the provider has none (the caller then just deletes the secrets). */
enum err oauth_revoke_request(const struct oauth_provider *p, const struct oauth_client *c,
                              const struct secret *token, const char *hint, struct out_request *rq,
                              struct errinfo *ei) WARN_UNUSED;
/* RFC 7009 §2.2: 200 means revoked (or unknown); anything else failed. */
bool oauth_revoke_ok(const struct out_response *res);

/* Authorization: Bearer <token>, marked credential (OAUTH-020). */
enum err oauth_bearer_header(struct out_request *rq, const struct secret *access_token,
                             struct errinfo *ei) WARN_UNUSED;

/* ---- responses ---- */

enum oauth_token_result {
    OAUTH_TOKEN_OK = 0,
    OAUTH_TOKEN_INVALID_GRANT, /* code or refresh token dead: re-read once, then needs_reauth */
    OAUTH_TOKEN_CONFIG,        /* invalid_client, unauthorized_client, 401/403/404, redirect:
                                  provider configuration; surface to admins, slow retry (OAUTH-028) */
    OAUTH_TOKEN_REJECTED,      /* other OAuth error (invalid_request, invalid_scope, ...) */
    OAUTH_TOKEN_TRANSIENT,     /* transport failure, timeout, 5xx, 429, temporarily_unavailable,
                                  server_error: back off and retry, tokens untouched */
    OAUTH_TOKEN_MALFORMED,     /* an answer that cannot be used: not JSON, too large, duplicate
                                  keys, no access_token, token_type not bearer (OAUTH-016) */
};
const char *oauth_token_result_name(enum oauth_token_result r);

struct oauth_tokens {
    struct secret access_token;
    struct secret refresh_token; /* the new one, or a copy of old_refresh when absent
                                    (OAUTH-017); empty when neither exists */
    bool refresh_rotated;        /* the answer carried a refresh token different from the old */
    int64_t obtained_at_ms;      /* now_ms passed in */
    int64_t expires_at_ms;       /* 0 = unknown (no usable expires_in) */
    int64_t expires_in_s;        /* as used, after clamping; 0 = unknown */
    bool expires_clamped;        /* expires_in was above OAUTH_MAX_EXPIRES_IN_S */
    char *scope;                 /* granted scopes, space-joined; NULL = the answer had none
                                    (then the request's scopes stand, RFC 6749 §5.1) */
};
void oauth_tokens_release(struct oauth_tokens *t);

struct oauth_token_error {
    long status; /* HTTP status, 0 without an answer */
    char error[OAUTH_MAX_ERROR_LEN + 1];
    char description[OAUTH_MAX_ERROR_DESC + 1];
};

/* Classifies a token endpoint answer. On OAUTH_TOKEN_OK *out holds the
 * tokens; otherwise *out is empty and terr (sanitized, never a token) and ei
 * say why. old_refresh (may be NULL) is kept when the answer has no
 * refresh_token; an error code or description repeating it is withheld
 * (LEAK-010). res->body is wiped (zeroed in place) before returning;
 * the parse rules, in order:
 *  - res->fail != OUT_OK -> TRANSIENT (TOO_LARGE -> MALFORMED);
 *  - body over OAUTH_MAX_TOKEN_RESPONSE -> MALFORMED;
 *  - status 5xx or 429 -> TRANSIENT; 3xx, 401, 403, 404 -> CONFIG unless the
 *    body has an OAuth error, which then decides;
 *  - error (string, even with 200: GitHub) -> by code as above;
 *  - other non-2xx -> REJECTED;
 *  - 2xx: JSON object without duplicate keys; access_token a string of
 *    1..OAUTH_MAX_TOKEN_LEN bytes 0x21..0x7e; token_type "bearer" in any case
 *    (absent is accepted as bearer: several providers omit it); expires_in
 *    integer, integral real or digit string: <= 0 or unparsable -> unknown,
 *    > OAUTH_MAX_EXPIRES_IN_S -> clamped; refresh_token as access_token, ""
 *    or null = absent; scope a valid scope string (oauth_scopes_split). */
enum oauth_token_result oauth_token_parse(struct out_response *res,
                                          const struct secret *old_refresh, int64_t now_ms,
                                          struct oauth_tokens *out, struct oauth_token_error *terr,
                                          struct errinfo *ei);

/* ---- expiry ---- */

/* Refresh when expiry is known and now >= expires_at - margin, where the
 * margin is min(margin_s, half the token's lifetime) so that short-lived
 * tokens (a 3 s test TTL) are not refreshed on every call. Clock steps are
 * tolerated: all times are ours (obtained_at is taken on receipt, never the
 * AS's clock); a clock that jumped back before obtained_at by more than the
 * lifetime is treated as "refresh" (the token's age cannot be known). An
 * unknown expiry never asks for a proactive refresh: an upstream 401 forces
 * one instead (refresh.h). */
bool oauth_needs_refresh(int64_t now_ms, int64_t obtained_at_ms, int64_t expires_at_ms,
                         int64_t margin_s);

#endif
