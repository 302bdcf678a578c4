/*
 * conn: connections as the API and the call engine see them: validation of
 * what clients send, sealing of credentials, permission checks, and the JSON
 * view (which never contains a secret, only which secret fields are set).
 *
 * Rules:
 *  - every lookup is inside the caller's workspace (another workspace's id is
 *    ERR_NOT_FOUND, the same as a missing one);
 *  - any member may read the workspace's connections; members change the ones
 *    they own, workspace admins change all (ERR_FORBIDDEN otherwise);
 *  - credentials are write-only: a PATCH that leaves a secret field blank or
 *    absent keeps the stored value; changing the auth type drops the old ones.
 */
#ifndef CONNHUB_CONN_H
#define CONNHUB_CONN_H

#include <jansson.h>

#include "auth/auth.h"
#include "core/err.h"
#include "crypto/vault.h"
#include "store/store.h"

/* A loaded connection, for the call engine. */
struct conn {
    struct conn_row row;
    json_t *config; /* owned: {"auth": {...public...}, "description"?, ...} */
    json_t *auth;   /* borrowed from config */
};
void conn_release(struct conn *c);

/* An idempotent create (DUR-008): what conn_idem_begin learnt of a request's
 * Idempotency-Key. */
struct conn_idem {
    unsigned char key[32]; /* SHA-256 of the key */
    char id[ID_MAX];       /* the connection this request makes */
    bool replay;           /* it was made already: answer with it */
};
/* Claims key (1..MAX_IDEMPOTENCY_KEY_LEN visible ASCII characters) for body
 * in p's workspace, for IDEMPOTENCY_KEY_TTL_MS: the first time, out->id is a
 * new connection id to create with; again with the same body, the same id
 * (out->replay when that connection was made; else it is made now). Refused:
 * a malformed key (400 invalid_value), the key used with another body (422
 * idempotency_key_reused), its connection since deleted (409
 * idempotency_key_used). */
enum err conn_idem_begin(struct store *st, const struct vault *v, const struct principal *p,
                         const char *key, const json_t *body, struct conn_idem *out,
                         struct errinfo *ei) WARN_UNUSED;

/* Does the connection c names exist now (a concurrent try made it)? */
bool conn_idem_made(struct store *st, const struct principal *p, const struct conn_idem *c);

/* idem: NULL, or an idempotent create's claim (conn_idem_begin, not a replay). */
enum err conn_create(struct store *st, const struct vault *v, const struct principal *p,
                     const json_t *body, const struct conn_idem *idem, json_t **out,
                     struct errinfo *ei) WARN_UNUSED;
enum err conn_get_view(struct store *st, const struct principal *p, const char *id, json_t **out,
                       struct errinfo *ei) WARN_UNUSED;
enum err conn_list_view(struct store *st, const struct principal *p, const struct conn_filter *f,
                        json_t **out, struct errinfo *ei) WARN_UNUSED;
enum err conn_update(struct store *st, const struct vault *v, const struct principal *p,
                     const char *id, const json_t *body, json_t **out,
                     struct errinfo *ei) WARN_UNUSED;
enum err conn_delete(struct store *st, const struct principal *p, const char *id,
                     struct errinfo *ei) WARN_UNUSED;

/* ERR_FORBIDDEN unless p owns r or is a workspace admin. */
enum err conn_may_change(const struct principal *p, const struct conn_row *r,
                         struct errinfo *ei) WARN_UNUSED;

/* Loads by id (when id != NULL) or slug, in workspace ws. */
enum err conn_load(struct store *st, int64_t ws, const char *id, const char *slug, struct conn *out,
                   struct errinfo *ei) WARN_UNUSED;
/* Like conn_load, but out->config may be shared with other loads of the
 * same row on this thread: read-only (the action-call path). */
enum err conn_load_shared(struct store *st, int64_t ws, const char *id, const char *slug,
                          struct conn *out, struct errinfo *ei) WARN_UNUSED;
/* Frees this thread's cache of parsed rows (conn_load_shared,
 * conn_operation); call before a thread that used them exits. */
void conn_json_cache_clear(void);
/* Opens the connection's credentials (the only decrypting path). */
enum err conn_open_secrets(struct store *st, const struct vault *v, const struct conn *c,
                           struct auth_values *out, struct errinfo *ei) WARN_UNUSED;
/* Opens the values a call injects (auth.<name> -> <name>, oauth.access_token
 * -> access_token) of the sealed secrets (kind, owner) in ws; *found (may be
 * NULL) says whether there was any. */
enum err conn_open_sealed(struct store *st, const struct vault *v, int64_t ws, const char *kind,
                          const char *owner, struct auth_values *out, bool *found,
                          struct errinfo *ei) WARN_UNUSED;
/* Loads the operation named name of c (*op: new reference, possibly shared
 * with other loads on this thread: read-only); ERR_NOT_FOUND when c has none
 * of that name. */
enum err conn_operation(struct store *st, const struct conn *c, const char *name, json_t **op,
                        struct errinfo *ei) WARN_UNUSED;

/* Lower-case slug derived from a name ("GitHub API" -> "github_api"). */
void conn_slug_from_name(const char *name, char *out, size_t outlen);

#endif
