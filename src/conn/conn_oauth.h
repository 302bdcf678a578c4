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
#include "oauth/provider.h"
#include "outbound/outbound.h"

enum err conn_oauth_provider(struct store *st, const char *id, struct oauth_provider *p,
                             struct errinfo *ei) WARN_UNUSED;
/* PUT /api/admin/oauth-providers/{id}: a definition (see oauth/provider.h)
 * plus client_id and client_secret (sealed; blank keeps the stored one). */
enum err conn_oauth_provider_put(struct store *st, const struct vault *v, const char *id,
                                 const json_t *body, json_t **out, struct errinfo *ei) WARN_UNUSED;
enum err conn_oauth_provider_list(struct store *st, json_t **out, struct errinfo *ei) WARN_UNUSED;

/* The authorize URL to redirect to (*location malloc'd), for connection
 * conn_id (auth oauth2 with this provider) and the tiers (comma-separated). */
enum err conn_oauth_start(struct store *st, const struct vault *v, const char *app_url,
                          const struct principal *who, const char *provider_id, const char *tiers,
                          const char *conn_id, char **location, struct errinfo *ei) WARN_UNUSED;
/* The callback: single-use state, iss, code exchange, tokens sealed. done()
 * gets {"connection_id","provider","tiers","scopes"}. */
enum err conn_oauth_callback(struct store *st, const struct vault *v, struct outbound *ob,
                             const char *provider_id, const struct oauth_callback_in *in,
                             conn_async_cb done, void *arg, struct errinfo *ei) WARN_UNUSED;

typedef void (*conn_fresh_cb)(enum err e, const struct errinfo *ei, void *arg);
/* Makes sure c's access token is usable: *ready when it already is (done
 * never runs); else a refresh (or a wait for another one) is under way and
 * done() runs later on this loop. */
enum err conn_oauth_fresh(struct store *st, const struct vault *v, struct outbound *ob,
                          const struct conn *c, bool *ready, conn_fresh_cb done, void *arg,
                          struct errinfo *ei) WARN_UNUSED;
/* RFC 7009 revocation of c's tokens, best effort, outcome logged. */
void conn_oauth_revoke(struct store *st, const struct vault *v, struct outbound *ob,
                       const struct conn *c);

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
/* RFC 7009 revocation of user uid's personal tokens for c, best effort. */
void conn_oauth_personal_revoke(struct store *st, const struct vault *v, struct outbound *ob,
                                const struct conn *c, int64_t uid);
/* The client credentials of a provider (registry, else environment). */
enum err conn_oauth_client(struct store *st, const struct vault *v, const char *provider_id,
                           struct oauth_client *c, struct errinfo *ei) WARN_UNUSED;

#endif
