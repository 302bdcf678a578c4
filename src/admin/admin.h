/*
 * admin: operator-level services shared by the CLI and `serve`: users,
 * workspaces, memberships and API tokens; the start-up key check; rekey.
 * Everything here works directly on a store (no HTTP).
 */
#ifndef CONNHUB_ADMIN_H
#define CONNHUB_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "crypto/vault.h"
#include "store/store.h"

#define TOKEN_PREFIX "chub_"
#define TOKEN_MAX 64

enum err admin_user_add(struct store *st, const char *name, bool platform_admin, int64_t *id,
                        struct errinfo *ei) WARN_UNUSED;
enum err admin_workspace_add(struct store *st, const char *slug, int64_t *id,
                             struct errinfo *ei) WARN_UNUSED;
enum err admin_member_add(struct store *st, const char *ws_slug, const char *user, const char *role,
                          struct errinfo *ei) WARN_UNUSED;
/* Creates a token for user in workspace (the user must be a member). The
 * token is written to out (TOKEN_MAX bytes); only its SHA-256 is stored. */
enum err admin_token_create(struct store *st, const char *user, const char *ws_slug,
                            const char *label, char out[TOKEN_MAX], struct errinfo *ei) WARN_UNUSED;
/* serve --dev on an empty database: user admin (platform admin), workspace
 * default, admin membership, and a token in out. *created is false (and
 * nothing is done) when the database already has users. */
enum err admin_dev_bootstrap(struct store *st, char out[TOKEN_MAX], bool *created,
                             struct errinfo *ei) WARN_UNUSED;

/* Refuses to start when stored secrets are sealed under keys the vault does
 * not have (CRY-003, CRY-020): the message gives the count per key id. Logs
 * the count of secrets per key. */
enum err admin_key_check(struct store *st, const struct vault *v, struct errinfo *ei) WARN_UNUSED;

struct rekey_stats {
    int64_t scanned, resealed, already_current, skipped_changed, failed;
};
/* Re-seals every secret not under the primary key, in batches, each write a
 * compare-and-swap so a concurrent update wins. progress (may be NULL) gets a
 * line per batch. */
enum err admin_rekey(struct store *st, const struct vault *v, FILE *progress,
                     struct rekey_stats *stats, struct errinfo *ei) WARN_UNUSED;

#endif
