/*
 * accounts: whose credential a call uses, by the connection's fulfillment.
 *
 *   static       the connection's own sealed credential, shared by every run
 *   caller       the triggering user's: a per-run credential the run brought
 *                (never stored), else the user's personal account (sealed,
 *                kind "account", owner "<user id>:<connection id>")
 *   participant  the credential of the run's participant whose role is the
 *                connection's participant_role (sealed, kind "participant",
 *                owner "<participant id>:<connection id>")
 *
 * The associated data of every sealed value names the workspace, the kind,
 * the holder and the connection, so a value copied to another user's or
 * participant's row does not open. Nobody reads a holder's values but the
 * holder's own calls: a user's account is looked up by the principal's user
 * id only; a participant's by the ids the run names.
 *
 * A missing credential is ERR_UNPROCESSABLE, code "needs_credential", with a
 * message naming who must connect and how; never a secret anywhere.
 */
#ifndef CONNHUB_CONN_ACCOUNTS_H
#define CONNHUB_CONN_ACCOUNTS_H

#include <jansson.h>

#include "auth/auth.h"
#include "conn/conn.h"
#include "core/limits.h"
#include "outbound/outbound.h"

/* A participant of a run: the platform's id and the role it plays. */
struct fulfil_party {
    char id[MAX_PARTICIPANT_ID_LEN + 1];
    char role[MAX_PARTICIPANT_ROLE_LEN + 1];
};

/* A per-run credential for one caller connection (by slug). Wiped by
 * fulfil_creds_release. */
struct fulfil_cred {
    char slug[MAX_SLUG_LEN + 1];
    struct auth_values vals;
};

/* What a run (or an agent call) brings besides the principal. All borrowed. */
struct fulfil_ctx {
    const struct fulfil_party *parties;
    size_t nparties;
    const struct fulfil_cred *creds;
    size_t ncreds;
};

/* Opens the credential c's fulfillment calls for into out. holder (may be
 * NULL, ACCOUNT_HOLDER_MAX bytes) gets "" for static, "run" for a per-run
 * credential, else "<kind>:<holder>" (an MCP session must not be shared
 * between holders). fc may be NULL (no participants, no per-run values). */
#define ACCOUNT_HOLDER_MAX (MAX_PARTICIPANT_ID_LEN + 32)
enum err acct_open(struct store *st, const struct vault *v, const struct conn *c,
                   const struct principal *who, const struct fulfil_ctx *fc,
                   struct auth_values *out, char *holder, struct errinfo *ei) WARN_UNUSED;

/* Parses {"<field>": "<value>", ...} (the secret fields of c's auth type)
 * into out, checking every required one is there; errors name
 * "<prefix>.<field>". */
enum err acct_parse_values(const struct conn *c, const json_t *creds, const char *prefix,
                           struct auth_values *out, struct errinfo *ei) WARN_UNUSED;

/* Wipes and frees n per-run credentials. */
void fulfil_creds_release(struct fulfil_cred *v, size_t n);

/* A run's or agent call's participants and per-run credentials, parsed. */
struct fulfil_set {
    struct fulfil_party *parties;
    size_t nparties;
    struct fulfil_cred *creds;
    size_t ncreds;
    struct fulfil_ctx ctx; /* points at the two arrays */
};
void fulfil_set_release(struct fulfil_set *s); /* wipes the credentials */
/* participants: [{"id", "role"}] (at most MAX_RUN_PARTICIPANTS); credentials:
 * {"<slug>": {"<field>": "<value>"}} (at most MAX_RUN_CREDENTIALS), each slug
 * a caller connection of workspace ws, the values checked against its auth
 * type. Either may be NULL. Errors name "participants[i].role",
 * "credentials.<slug>.<field>"... */
enum err fulfil_parse(struct store *st, int64_t ws, const json_t *participants,
                      const json_t *credentials, struct fulfil_set *out,
                      struct errinfo *ei) WARN_UNUSED;

/* Overwrites the bytes of every string in j (a request body that carried
 * credentials) before it is freed. */
void json_wipe_strings(json_t *j);

/* ---- personal accounts: /api/me/accounts ---- */
/* PUT /api/me/accounts/{connection} {"credentials": {...}}: the caller's own
 * key/token for a caller connection (id or slug). */
enum err acct_put_key(struct store *st, const struct vault *v, const struct principal *who,
                      const char *conn_ref, const json_t *body, json_t **out,
                      struct errinfo *ei) WARN_UNUSED;
/* GET /api/me/accounts: {"accounts": [{connection_id, connection, method,
 * provider?, tiers, fields_set, created_at, updated_at}]}, never a value. */
enum err acct_list(struct store *st, const struct principal *who, json_t **out,
                   struct errinfo *ei) WARN_UNUSED;
/* DELETE /api/me/accounts/{connection}: removes it; OAuth tokens are revoked
 * first (best effort) where the provider has a revocation URL. */
enum err acct_delete(struct store *st, const struct vault *v, struct outbound *ob,
                     const struct principal *who, const char *conn_ref,
                     struct errinfo *ei) WARN_UNUSED;

/* ---- participants: /api/participants/{id}/credentials ---- */
/* POST {"connection": id-or-slug, "credentials": {...}}: sealed and scoped to
 * participant pid; the connection must have fulfillment participant. */
enum err part_put(struct store *st, const struct vault *v, const struct principal *who,
                  const char *pid, const json_t *body, json_t **out,
                  struct errinfo *ei) WARN_UNUSED;
enum err part_list(struct store *st, const struct principal *who, const char *pid, json_t **out,
                   struct errinfo *ei) WARN_UNUSED;
enum err part_delete(struct store *st, const struct principal *who, const char *pid,
                     const char *conn_ref, struct errinfo *ei) WARN_UNUSED;

/* Onboarding links: POST /api/participants/{id}/onboarding {"connection"}
 * answers {"url": "<app_url>/api/onboarding?token=<64 hex>", "path",
 * "expires_at"}: a single-use link (only its SHA-256 is stored) with which the
 * participant enters their own credential, valid PARTICIPANT_INVITE_TTL_S. */
enum err part_invite(struct store *st, const char *app_url, const struct principal *who,
                     const char *pid, const json_t *body, json_t **out,
                     struct errinfo *ei) WARN_UNUSED;
/* GET /api/onboarding?token=: what the link asks for {"participant",
 * "connection", "connection_name", "role", "fields", "expires_at"}. */
enum err part_invite_info(struct store *st, const char *token, json_t **out,
                          struct errinfo *ei) WARN_UNUSED;
/* POST /api/onboarding?token= {"credentials": {...}}: checked first (a
 * mistake does not use the link up), then the link is taken and the
 * credential saved as the participant's. */
enum err part_invite_redeem(struct store *st, const struct vault *v, const char *token,
                            const json_t *body, json_t **out, struct errinfo *ei) WARN_UNUSED;

/* A participant id: 1..MAX_PARTICIPANT_ID_LEN of [A-Za-z0-9_.@-]. */
bool part_id_valid(const char *id);

/* Loads connection ref (an id "conn_..." or a slug) of workspace ws. */
enum err conn_load_ref(struct store *st, int64_t ws, const char *ref, struct conn *out,
                       struct errinfo *ei) WARN_UNUSED;

#endif
