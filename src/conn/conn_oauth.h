/*
 * conn_oauth: OAuth2 connections (see conn_oauth.c for the whole story):
 * provider registry, start/callback, token freshness before calls (single
 * flight across threads and processes through a lease in the store), and
 * revocation on delete.
 */
#ifndef CONNHUB_CONN_OAUTH_H
#define CONNHUB_CONN_OAUTH_H

#include <jansson.h>

#include "conn/conn.h"
#include "conn/conn_mcp.h"
#include "oauth/flow.h"
#include "oauth/health.h"
#include "oauth/provider.h"
#include "oauth/token.h"
#include "outbound/outbound.h"

enum err conn_oauth_provider(struct store *st, const char *id, struct oauth_provider *p,
                             struct errinfo *ei) WARN_UNUSED;
/* PUT /api/admin/oauth-providers/{id}: a definition (see oauth/provider.h)
 * plus client_id and client_secret (sealed; blank keeps the stored one). */
enum err conn_oauth_provider_put(struct store *st, const struct vault *v, const char *id,
                                 const json_t *body, json_t **out, struct errinfo *ei) WARN_UNUSED;
/* The same with "discover": true (OAUTH-032): the endpoints the body leaves
 * out (authorize_url, token_url, revocation_url, userinfo_url) come from the
 * metadata its issuer publishes (oauth/discovery.h); then as above. */
enum err conn_oauth_provider_discover(struct store *st, const struct vault *v, struct outbound *ob,
                                      const char *id, const json_t *body, conn_async_cb done,
                                      void *arg, struct errinfo *ei) WARN_UNUSED;
enum err conn_oauth_provider_list(struct store *st, json_t **out, struct errinfo *ei) WARN_UNUSED;

/* The authorize URL to redirect to (*location malloc'd), for connection
 * conn_id (auth oauth2 with this provider) and the tiers (comma-separated). */
enum err conn_oauth_start(struct store *st, const struct vault *v, const char *app_url,
                          const struct principal *who, const char *provider_id, const char *tiers,
                          const char *conn_id, char **location, struct errinfo *ei) WARN_UNUSED;
/* The callback: single-use state, iss, code exchange, tokens sealed. done()
 * gets {"connection_id","provider","tiers","scopes"}. caller_user is the user
 * the callback request is signed in as (session cookie or token), 0 when it
 * carries neither: a signed-in user other than the one who started the flow
 * is refused (login CSRF, OAUTH-006), the state consumed and nothing sent. */
enum err conn_oauth_callback(struct store *st, const struct vault *v, struct outbound *ob,
                             const char *provider_id, const struct oauth_callback_in *in,
                             int64_t caller_user, conn_async_cb done, void *arg,
                             struct errinfo *ei) WARN_UNUSED;

/* What a call learnt about the token set it used. */
struct oauth_use {
    int64_t version; /* of the token set; -1 when unknown */
    int64_t last_success_at;
    bool healthy;
};

/* A successful use is written at most this often (or at once when the
 * connection was not healthy): the last success time is that precise. */
#define OAUTH_SUCCESS_WRITE_MS 5000

typedef void (*conn_fresh_cb)(enum err e, const struct errinfo *ei, const struct oauth_use *use,
                              void *arg);
/* Makes sure c's access token is usable: *ready when it already is (done
 * never runs); else a refresh (or a wait for another one) is under way and
 * done() runs later on this loop. use says which token version the call
 * will use.
 *  need_tier (may be NULL): a connection not granted that tier fails with
 *    ERR_FORBIDDEN "needs_tier" and a reconnect URL, before anything is sent;
 *  forced_from >= 0: the upstream answered 401 to the token of that version:
 *    refresh now, unless a newer version already exists (then use it).
 * needs_reauth / revoked connections fail with a reconnect URL; after a
 * failed refresh no other is tried before the back-off (oauth/health.h),
 * and the call goes on with the old token while it still lives. */
enum err conn_oauth_fresh(struct store *st, const struct vault *v, struct outbound *ob,
                          const struct conn *c, const char *need_tier, int64_t forced_from,
                          struct oauth_use *use, bool *ready, conn_fresh_cb done, void *arg,
                          struct errinfo *ei) WARN_UNUSED;
/* The shape of conn_oauth_fresh (and conn_gsa_fresh, conn_gmail.h). */
typedef enum err (*token_fresh_fn)(struct store *st, const struct vault *v, struct outbound *ob,
                                   const struct conn *c, const char *need_tier, int64_t forced_from,
                                   struct oauth_use *use, bool *ready, conn_fresh_cb done,
                                   void *arg, struct errinfo *ei);

/* Seals t's tokens on connection conn_id and commits them with their
 * metadata (version + 1, health healthy). Granted tiers: from t->scope
 * through p when both are there, else `tiers`. expect >= 0: only if the
 * stored version is still expect (*committed). */
enum err conn_oauth_commit(struct store *st, const struct vault *v, int64_t ws, const char *conn_id,
                           const char *provider_id, const struct oauth_provider *p,
                           const struct oauth_tokens *t, const char *tiers, int64_t expect,
                           bool refresh, bool forced, bool *committed,
                           struct errinfo *ei) WARN_UNUSED;

/* Applies ev (oauth/health.h) to the stored health of conn_id, writes it
 * (releasing the refresh lease when asked) and logs a change of state. */
void conn_oauth_health_event(struct store *st, int64_t ws, const char *conn_id, enum oauth_event ev,
                             const char *code, const char *desc, bool release_lease);

/* After the upstream answered status to the token of use: a success is
 * recorded (last success time; recovery from degraded logged); a 401 after
 * the forced refresh and retry marks the connection degraded. */
void conn_oauth_outcome(struct store *st, int64_t ws, const char *conn_id,
                        const struct oauth_use *use, long status, bool retried);

/* ERR_FORBIDDEN "needs_tier" (message with the reconnect URL
 * /api/auth/connect/<provider>/start?tiers=<granted,need>&connection=<id>)
 * unless granted (comma-separated tier names) covers need, directly or
 * through a granted tier of p (may be NULL) that includes it. */
enum err conn_oauth_check_tier(const struct oauth_provider *p, const char *provider_id,
                               const char *granted, const char *need, const char *conn_id,
                               struct errinfo *ei) WARN_UNUSED;

/* conn_oauth_check_tier for a user's personal account (personal: the
 * reconnect URL carries personal=1 and the message names the account). */
enum err conn_oauth_check_tier_for(const struct oauth_provider *p, const char *provider_id,
                                   const char *granted, const char *need, const char *conn_id,
                                   bool personal, struct errinfo *ei) WARN_UNUSED;

/* The connection view's "oauth" member (new reference; NULL on a store
 * error): state (healthy, degraded, needs_reauth, revoked, or not_connected),
 * last error code and text, last success / failure / state change times,
 * next retry, counters (refreshes, forced_refreshes, consecutive_failures,
 * total_failures), granted tiers and scopes, token expiry and version. */
json_t *conn_oauth_health_json(struct store *st, int64_t ws, const char *conn_id);

typedef void (*conn_revoke_cb)(json_t *outcome, void *arg); /* outcome borrowed */
/* Deletes oauth2 connection c: the RFC 7009 revocation requests are built
 * while the tokens exist, then the connection and its credentials are
 * deleted (whatever the provider will answer), then the requests go out.
 * The outcome ({"refresh_token": {"outcome": "revoked"|"failed"|"none",
 * "status"}, "access_token": {...}} or {"outcome": "skipped", "detail"}) is
 * recorded in the store, logged, and given to done(): later on this loop
 * when *pending, else before this returns. */
enum err conn_oauth_delete(struct store *st, const struct vault *v, struct outbound *ob,
                           const struct principal *who, const struct conn *c, conn_revoke_cb done,
                           void *arg, bool *pending, struct errinfo *ei) WARN_UNUSED;

/* An OpenAPI import's oauth2 scheme entry (openapi/security.c: flows with
 * URLs and scopes) as a provider definition (*def, new reference): id from
 * the authorization server's host ("auth.example.com" -> auth_example_com),
 * a tier per scope (slugified) while fewer than OAUTH_MAX_TIERS, and tier
 * "all" with every scope. ERR_INVALID "unsupported_auth" without an
 * authorization-code flow or with no (or over OAUTH_MAX_SCOPES) scopes. */
enum err conn_oauth_provider_from_spec(const json_t *ent, json_t **def,
                                       struct errinfo *ei) WARN_UNUSED;
/* Registers def in the admin registry without client credentials (a
 * platform admin supplies them), unless a provider with that id exists:
 * the same endpoints are reused, others are ERR_CONFLICT. */
enum err conn_oauth_provider_adopt(struct store *st, const json_t *def,
                                   struct errinfo *ei) WARN_UNUSED;

/* DELETE /api/admin/oauth-providers/{id}: the registry entry and its sealed
 * client secret. ERR_CONFLICT "provider_in_use" while connections (any
 * workspace) use it; a built-in without a registry entry cannot be deleted. */
enum err conn_oauth_provider_delete(struct store *st, const char *id, json_t **out,
                                    struct errinfo *ei) WARN_UNUSED;

/* Seals t's access and refresh tokens (fields oauth.access_token and
 * oauth.refresh_token) for (ws, kind, owner) into *set, and sets *tiers_csv
 * (malloc'd) to the tiers of p that t's granted scopes cover; NULL when the
 * answer names no scopes (the requested tiers stand). Shared by the
 * connection's own grant and a user's personal account. */
enum err conn_oauth_seal_grant(const struct vault *v, int64_t ws, const char *kind,
                               const char *owner, const struct oauth_provider *p,
                               const struct oauth_tokens *t, struct sealed_set *set,
                               char **tiers_csv, struct errinfo *ei) WARN_UNUSED;

/* ---- personal accounts (conn_oauth_personal.c) ---- */
/* /api/auth/connect/<provider>/start?personal=1&connection=<id>: any member
 * connects their own account to a caller connection; the callback seals the
 * tokens as that user's (kind "account"), never on the connection. */
enum err conn_oauth_personal_start(struct store *st, const struct vault *v, const char *app_url,
                                   const struct principal *who, const char *provider_id,
                                   const char *tiers, const char *conn_id, char **location,
                                   struct errinfo *ei) WARN_UNUSED;
/* ERR_INVALID unless c has fulfillment caller. */
enum err conn_oauth_personal_check(const struct conn *c, struct errinfo *ei) WARN_UNUSED;
/* The callback's commit for a state bound to "me:<connection id>": *out is
 * {"connection_id", "provider", "tiers", "scopes", "personal": true}. */
struct oauth_tokens;
enum err conn_oauth_personal_commit(struct store *st, const struct vault *v,
                                    const struct oauth_state_row *row,
                                    const struct oauth_provider *p, const struct oauth_tokens *t,
                                    json_t **out, struct errinfo *ei) WARN_UNUSED;
/* conn_oauth_fresh for user uid's personal account on caller connection c:
 *  - no account: *ready (the credential lookup then says who must connect);
 *  - need_tier not among the account's granted tiers: ERR_FORBIDDEN
 *    "needs_tier" with a personal=1 reconnect URL, before anything is sent;
 *  - the access token expiring (OAUTH_REFRESH_MARGIN_S), or forced_from >= 0
 *    (the upstream answered 401 to that version) and no newer token: the
 *    refresh token is used and the new tokens sealed as the user's again;
 *    without a refresh token, or when the provider refuses the grant,
 *    "needs_credential" names the reconnect URL; a transient failure goes
 *    on with the old token while it lives (>= 500 ms left).
 * use->version is the account's updated_at. No lease: two calls that
 * refresh the same account at once both commit; a refused rotation is
 * re-read once (the other call's tokens are used). */
enum err conn_oauth_personal_fresh(struct store *st, const struct vault *v, struct outbound *ob,
                                   const struct conn *c, int64_t uid, const char *need_tier,
                                   int64_t forced_from, struct oauth_use *use, bool *ready,
                                   conn_fresh_cb done, void *arg, struct errinfo *ei) WARN_UNUSED;
/* RFC 7009 revocation of user uid's personal tokens for c, best effort. */
void conn_oauth_personal_revoke(struct store *st, const struct vault *v, struct outbound *ob,
                                const struct conn *c, int64_t uid);
/* Before caller connection c goes: conn_oauth_personal_revoke for every
 * user's personal OAuth account on it (at most MAX_ACCOUNTS_REVOKED; more
 * are logged and only deleted). Returns how many accounts were revoked. */
size_t conn_oauth_personal_revoke_all(struct store *st, const struct vault *v, struct outbound *ob,
                                      const struct conn *c);
/* The client credentials of a provider (registry, else environment). */
enum err conn_oauth_client(struct store *st, const struct vault *v, const char *provider_id,
                           struct oauth_client *c, struct errinfo *ei) WARN_UNUSED;

#endif
