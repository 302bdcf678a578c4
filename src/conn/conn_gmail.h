/*
 * conn_gmail: gmail connections (see conn_gmail.c): their tools, and the
 * service-account access token (a signed JWT exchanged before calls).
 */
#ifndef CONNHUB_CONN_GMAIL_H
#define CONNHUB_CONN_GMAIL_H

#include "conn/conn_oauth.h"
#include "conn/internal.h"

/* service_type gmail: checks the auth (oauth2 with provider gmail, or
 * google_service_account with a key that parses) and sets the operations:
 * the gmail tools, each with the tier it needs. */
enum err conn_gmail_draft(struct conn_draft *d, struct errinfo *ei) WARN_UNUSED;
/* The auth part of that check alone (PATCH). */
enum err conn_gmail_check_auth(const struct conn_draft *d, struct errinfo *ei) WARN_UNUSED;

/* conn_oauth_fresh for google_service_account connections: a connection
 * without need_tier fails "needs_tier"; a sealed access token for the same
 * tiers that is not near expiry is used (*ready); else a JWT is signed and
 * exchanged and done() runs when the new token is committed. */
enum err conn_gsa_fresh(struct store *st, const struct vault *v, struct outbound *ob,
                        const struct conn *c, const char *need_tier, int64_t forced_from,
                        struct oauth_use *use, bool *ready, conn_fresh_cb done, void *arg,
                        struct errinfo *ei) WARN_UNUSED;

#endif
