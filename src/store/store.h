/*
 * store: persistence for identities, connections and sealed secrets.
 *
 * Callers never see SQL: each backend (store_sqlite.c, store_pg.c) fills a
 * struct store_ops, and the functions below dispatch to it. Every call on tenant
 * data takes the workspace id and filters on it, so another workspace's row
 * is ERR_NOT_FOUND, exactly like a missing one.
 *
 * A struct store is one database connection: use one per thread. Writes are
 * durable when the call returns ERR_OK (SQLite: WAL + synchronous=FULL;
 * PostgreSQL: committed). Several servers may share one PostgreSQL database:
 * every cross-request state (OAuth states, refresh leases, versions) lives in
 * the store, never in a process.
 *
 * Secrets live in one table for every kind of owner (connections now; OAuth
 * providers, service keys and personal accounts later), one sealed value per
 * field, so an update re-seals only what changed, rekey walks one table, and
 * the key ids in use can be counted at start-up.
 */
#ifndef CONNHUB_STORE_H
#define CONNHUB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"
#include "core/util.h"

struct store;

enum role { ROLE_NONE = 0, ROLE_MEMBER = 1, ROLE_ADMIN = 2 };
const char *role_name(enum role r);
bool role_parse(const char *s, enum role *out);

/* Who is calling: one API token acts as one user in one workspace. */
struct principal {
    int64_t user_id;
    char user_name[MAX_USER_NAME_LEN_Z];
    bool platform_admin;
    int64_t workspace_id;
    char workspace_slug[MAX_USER_NAME_LEN_Z];
    enum role role;
    int64_t token_id;
};

struct user_row {
    int64_t id;
    char name[MAX_USER_NAME_LEN_Z];
    bool platform_admin;
};

/* A connection as stored. Strings are heap-owned; conn_row_release frees. */
struct conn_row {
    char id[ID_MAX];
    int64_t workspace_id;
    int64_t owner_id;
    char *owner_name; /* filled on reads */
    char *name;
    char *slug;
    char *service_type;
    char *auth_type;
    char *base_url;
    char *fulfillment;
    char *config; /* JSON text: everything non-secret (auth params, operations...) */
    int64_t created_at, updated_at;
    int64_t version;  /* bumped on each update; updates compare it (optimistic lock) */
    int64_t op_count; /* filled by lists; -1 on single reads (the call path skips counting) */
};

/* One operation of a connection: its name and its definition as JSON text.
 * Operations live in their own rows so that a call loads only the one it
 * runs (an imported spec can have thousands, with large schemas). */
struct op_row {
    char *name;
    char *def;
};
void op_rows_free(struct op_row *v, size_t n);
void conn_row_release(struct conn_row *r);

struct sealed {
    char *field;
    unsigned char *data;
    size_t len;
};

struct sealed_set {
    struct sealed *v;
    size_t n;
};
void sealed_set_release(struct sealed_set *s);
/* Takes data (malloc'd) and copies field. */
enum err sealed_set_add(struct sealed_set *s, const char *field, unsigned char *data,
                        size_t len) WARN_UNUSED;
const struct sealed *sealed_set_find(const struct sealed_set *s, const char *field);

/* One row of the secrets table, for rekey. */
struct secret_row {
    int64_t id;
    int64_t workspace_id;
    char *kind;
    char *owner_id;
    char *field;
    unsigned char *data;
    size_t len;
};
void secret_rows_free(struct secret_row *rows, size_t n);

struct key_count {
    uint32_t key_id;
    int64_t count;
};

struct conn_filter {
    const char *service_type; /* NULL = any */
    const char *search;       /* substring of name or slug; NULL = any */
    const char *after_id;     /* pagination cursor: ids sort ascending */
    size_t limit;
};

struct store_ops;

struct store {
    const struct store_ops *ops;
};

/* Opens url, creating (SQLite) and migrating the database as needed:
 * "sqlite:PATH", "postgres://...", "postgresql://..." or a libpq keyword
 * string ("host=... dbname=..."). */
enum err store_open(const char *url, struct store **out, struct errinfo *ei) WARN_UNUSED;
/* url with any password replaced by "***" (URL userinfo, password=... in a
 * keyword string, password= in a URL query), for logs and messages. */
void store_url_redact(const char *url, char *out, size_t outlen);
void store_close(struct store *st); /* NULL is fine */
const char *store_backend_name(const struct store *st);
/* Reads answered from / missed by the kept rows of hot queries (memo.h;
 * SQLite only), and read scopes that needed no transaction (every read a
 * memo hit, nothing committed since: store_sqlite.c), process-wide, for
 * /metrics. */
void store_memo_counts(uint64_t *hits, uint64_t *misses, uint64_t *quick_scopes);
/* A read scope: the reads between begin and end may share one snapshot (one
 * read transaction instead of one per statement: a request's token,
 * connection, operation and secrets lookups). A write inside the scope ends
 * it first, so writes and the reads after them are unchanged. end is
 * idempotent; both are no-ops on a backend without them (optional ops). */
void store_read_begin(struct store *st);
void store_read_end(struct store *st);
/* For --dev: the folder holding the database file, or NULL when none. */
enum err store_data_dir(const char *url, char *out, size_t outlen, struct errinfo *ei) WARN_UNUSED;

/* ---- identities ---- */
enum err store_user_add(struct store *st, const char *name, bool platform_admin, int64_t *id,
                        struct errinfo *ei) WARN_UNUSED;
enum err store_user_get(struct store *st, const char *name, struct user_row *out,
                        struct errinfo *ei) WARN_UNUSED;
enum err store_user_count(struct store *st, int64_t *n, struct errinfo *ei) WARN_UNUSED;
enum err store_workspace_add(struct store *st, const char *slug, int64_t *id,
                             struct errinfo *ei) WARN_UNUSED;
enum err store_workspace_get(struct store *st, const char *slug, int64_t *id,
                             struct errinfo *ei) WARN_UNUSED;
enum err store_member_set(struct store *st, int64_t ws, int64_t user, enum role role,
                          struct errinfo *ei) WARN_UNUSED;
enum err store_member_role(struct store *st, int64_t ws, int64_t user, enum role *out,
                           struct errinfo *ei) WARN_UNUSED;
/* hash: SHA-256 of the token. Only the hash is stored. */
enum err store_token_add(struct store *st, const unsigned char hash[32], int64_t user, int64_t ws,
                         const char *label, int64_t *id, struct errinfo *ei) WARN_UNUSED;
/* ERR_UNAUTHORIZED when no token has this hash, or its user is no longer a
 * member of its workspace. */
enum err store_token_lookup(struct store *st, const unsigned char hash[32], struct principal *out,
                            struct errinfo *ei) WARN_UNUSED;

/* ---- connections ---- */
/* ERR_CONFLICT (field "slug") when the slug is taken in the workspace. The
 * row and its secrets are written in one transaction. */
enum err store_conn_insert(struct store *st, const struct conn_row *row, const struct op_row *ops,
                           size_t nops, const char *spec, const struct sealed_set *secrets,
                           struct errinfo *ei) WARN_UNUSED;
enum err store_conn_get(struct store *st, int64_t ws, const char *id, struct conn_row *out,
                        struct errinfo *ei) WARN_UNUSED;
enum err store_conn_get_by_slug(struct store *st, int64_t ws, const char *slug,
                                struct conn_row *out, struct errinfo *ei) WARN_UNUSED;
enum err store_conn_list(struct store *st, int64_t ws, const struct conn_filter *f,
                         struct conn_row **rows, size_t *n, struct errinfo *ei) WARN_UNUSED;
void conn_rows_free(struct conn_row *rows, size_t n);
/* Updates row (matched by workspace, id and row->version; a changed version
 * is ERR_CONFLICT, code "concurrent_update"). With replace_ops the operations
 * become ops; spec (when not NULL) replaces the stored source document.
 * Afterwards the connection's secrets are: `put` (inserted or replaced) plus
 * those of its current secrets whose field is listed in keep. One transaction. */
enum err store_conn_update(struct store *st, const struct conn_row *row, const struct op_row *ops,
                           size_t nops, bool replace_ops, const char *spec,
                           const struct sealed_set *put, const char *const *keep, size_t nkeep,
                           struct errinfo *ei) WARN_UNUSED;
/* One operation's definition (*def malloc'd), ERR_NOT_FOUND if none. */
enum err store_op_get(struct store *st, int64_t ws, const char *conn_id, const char *name,
                      char **def, struct errinfo *ei) WARN_UNUSED;
/* All operations of a connection, in their saved order. */
enum err store_ops_list(struct store *st, int64_t ws, const char *conn_id, struct op_row **out,
                        size_t *n, struct errinfo *ei) WARN_UNUSED;
/* The source document a connection was imported from (OpenAPI), or NULL. */
enum err store_spec_get(struct store *st, int64_t ws, const char *conn_id, char **spec,
                        struct errinfo *ei) WARN_UNUSED;
/* Deletes the row and all its secrets (secure_delete overwrites them). */
enum err store_conn_delete(struct store *st, int64_t ws, const char *id,
                           struct errinfo *ei) WARN_UNUSED;

/* ---- secrets ---- */
enum err store_secrets_get(struct store *st, int64_t ws, const char *kind, const char *owner_id,
                           struct sealed_set *out, struct errinfo *ei) WARN_UNUSED;
/* The fields set for an owner, without their values (for "which are set"). */
enum err store_secret_fields(struct store *st, int64_t ws, const char *kind, const char *owner_id,
                             char ***fields, size_t *n, struct errinfo *ei) WARN_UNUSED;
void string_list_free(char **v, size_t n);
/* Sets (inserts or replaces) one sealed value, for owners other than
 * connections (service keys, OAuth providers...). */
enum err store_secret_put(struct store *st, int64_t ws, const char *kind, const char *owner_id,
                          const char *field, const unsigned char *data, size_t len,
                          struct errinfo *ei) WARN_UNUSED;
/* Deletes one sealed value; *deleted says whether there was one. */
enum err store_secret_delete(struct store *st, int64_t ws, const char *kind, const char *owner_id,
                             const char *field, bool *deleted, struct errinfo *ei) WARN_UNUSED;
/* Rows with id > after_id, in id order, at most limit. */
enum err store_secrets_scan(struct store *st, int64_t after_id, size_t limit,
                            struct secret_row **rows, size_t *n, struct errinfo *ei) WARN_UNUSED;
/* Compare-and-swap: replaces row id's value only if it still equals old.
 * *swapped says whether it did (a concurrent update wins). */
enum err store_secret_cas(struct store *st, int64_t id, const unsigned char *old, size_t oldlen,
                          uint32_t new_key_id, const unsigned char *neu, size_t newlen,
                          bool *swapped, struct errinfo *ei) WARN_UNUSED;
enum err store_secret_key_counts(struct store *st, struct key_count **out, size_t *n,
                                 struct errinfo *ei) WARN_UNUSED;

/* ---- OAuth ---- */
/* A pending authorization: single use, keyed by the SHA-256 of its state. */
struct oauth_state_row {
    char state_hash[65];
    char *provider_id;
    int64_t workspace_id, user_id;
    char *connection_id;
    char *tiers;
    char *redirect_uri;
    unsigned char *verifier; /* sealed */
    size_t verifier_len;
    int64_t expires_at;
};
void oauth_state_row_release(struct oauth_state_row *r);

/* What is known about a connection's tokens (the tokens are sealed secrets
 * "oauth.access_token" and "oauth.refresh_token" of the connection). */
struct oauth_meta {
    char *provider_id, *scopes, *tiers, *health, *last_error, *lease_owner;
    int64_t obtained_at, expires_at, version, lease_until, refreshes, last_success_at;
    /* health (oauth/health.h): counters and times in ms; forced_refreshes is
     * an increment when passed to store_oauth_commit */
    char *last_error_code;
    int64_t consecutive_failures, total_failures, last_failure_at, next_retry_at;
    int64_t forced_refreshes, health_changed_at;
};
void oauth_meta_release(struct oauth_meta *m);

enum err store_oauth_provider_put(struct store *st, const char *id, const char *definition,
                                  const char *client_id, struct errinfo *ei) WARN_UNUSED;
/* *definition and *client_id (may be NULL) malloc'd; ERR_NOT_FOUND if none. */
enum err store_oauth_provider_get(struct store *st, const char *id, char **definition,
                                  char **client_id, struct errinfo *ei) WARN_UNUSED;
/* Rows: name = provider id, def = definition. */
enum err store_oauth_provider_list(struct store *st, struct op_row **out, size_t *n,
                                   struct errinfo *ei) WARN_UNUSED;
enum err store_oauth_provider_delete(struct store *st, const char *id,
                                     struct errinfo *ei) WARN_UNUSED;
enum err store_oauth_state_put(struct store *st, const struct oauth_state_row *r,
                               struct errinfo *ei) WARN_UNUSED;
/* Takes (reads and deletes, atomically) the state; ERR_NOT_FOUND when unknown or used. */
enum err store_oauth_state_take(struct store *st, const char *state_hash,
                                struct oauth_state_row *out, struct errinfo *ei) WARN_UNUSED;
enum err store_oauth_meta_get(struct store *st, int64_t ws, const char *conn_id,
                              struct oauth_meta *out, struct errinfo *ei) WARN_UNUSED;
/* Commits a new token set in one transaction: the sealed tokens (put), the
 * metadata (version + 1, lease cleared, health healthy). With expect_version
 * >= 0 it commits only if the stored version still equals it (*committed). */
enum err store_oauth_commit(struct store *st, int64_t ws, const char *conn_id,
                            const struct oauth_meta *m, const struct sealed_set *tokens,
                            int64_t expect_version, bool *committed,
                            struct errinfo *ei) WARN_UNUSED;
/* Takes the refresh lease (*got) if it is free or expired AND the token set
 * is still at version: a refresher never starts from a set someone else has
 * already replaced. */
enum err store_oauth_lease(struct store *st, int64_t ws, const char *conn_id, const char *owner,
                           int64_t version, int64_t now, int64_t until, bool *got,
                           struct errinfo *ei) WARN_UNUSED;
enum err store_oauth_health(struct store *st, int64_t ws, const char *conn_id, const char *health,
                            const char *last_error, struct errinfo *ei) WARN_UNUSED;
/* Writes the health columns of m (health, last_error_code, last_error,
 * consecutive_failures, total_failures, last_success_at, last_failure_at,
 * next_retry_at; health_changed_at only when health changes) and, when
 * release_lease, clears the refresh lease. Tokens and version untouched. */
enum err store_oauth_health_set(struct store *st, int64_t ws, const char *conn_id,
                                const struct oauth_meta *m, bool release_lease,
                                struct errinfo *ei) WARN_UNUSED;
/* Records the outcome (JSON text) of revoking a connection's tokens at the
 * provider; kept after the connection is deleted. */
enum err store_oauth_revocation_add(struct store *st, int64_t ws, const char *conn_id,
                                    const char *provider_id, const char *outcome,
                                    struct errinfo *ei) WARN_UNUSED;
/* How many connections, in every workspace, use provider id (a platform
 * admin's question before deleting it). */
enum err store_oauth_provider_users(struct store *st, const char *id, int64_t *n,
                                    struct errinfo *ei) WARN_UNUSED;

/* ---- personal accounts and participant credentials ---- */
/* Who holds a credential for a connection: a user of the workspace (a
 * personal account, holder "<user id>") or a participant of runs (holder: the
 * platform's participant id). The values are sealed secrets of kind
 * ACCOUNT_KIND_USER / ACCOUNT_KIND_PARTICIPANT, owner "<holder>:<connection
 * id>", fields "auth.<name>" (or "oauth.access_token"...); deleting the row
 * (or its connection) deletes them. */
#define ACCOUNT_KIND_USER "account"
#define ACCOUNT_KIND_PARTICIPANT "participant"
struct account_row {
    int64_t workspace_id;
    char *kind; /* ACCOUNT_KIND_USER or ACCOUNT_KIND_PARTICIPANT */
    char *holder;
    char *connection_id;
    char *method;                              /* "key" or "oauth" */
    char *provider_id, *tiers, *scopes, *role; /* may be NULL */
    int64_t expires_at, created_at, updated_at;
    char *conn_slug, *conn_name; /* filled on reads */
};
void account_row_release(struct account_row *r);
void account_rows_free(struct account_row *rows, size_t n);
/* Inserts or replaces the row and makes secrets the holder's only sealed
 * values for this connection, in one transaction. */
enum err store_account_put(struct store *st, const struct account_row *r,
                           const struct sealed_set *secrets, struct errinfo *ei) WARN_UNUSED;
enum err store_account_get(struct store *st, int64_t ws, const char *kind, const char *holder,
                           const char *conn_id, struct account_row *out,
                           struct errinfo *ei) WARN_UNUSED;
/* The holder's accounts in workspace ws, by connection slug. */
enum err store_account_list(struct store *st, int64_t ws, const char *kind, const char *holder,
                            struct account_row **rows, size_t *n, struct errinfo *ei) WARN_UNUSED;
/* Every holder's account (of kind) on connection conn_id of workspace ws, by
 * holder, at most max rows (e.g. to revoke personal OAuth tokens before the
 * connection goes). */
enum err store_account_list_conn(struct store *st, int64_t ws, const char *kind,
                                 const char *conn_id, size_t max, struct account_row **rows,
                                 size_t *n, struct errinfo *ei) WARN_UNUSED;
/* ERR_NOT_FOUND when there is none; the sealed values go with the row. */
enum err store_account_delete(struct store *st, int64_t ws, const char *kind, const char *holder,
                              const char *conn_id, struct errinfo *ei) WARN_UNUSED;

/* ---- workflow runs ---- */
struct run_row {
    char id[ID_MAX];
    int64_t workspace_id, user_id;
    char *status; /* running, succeeded, failed */
    char *spec;   /* JSON: workflow, participants (never credentials) */
    char *state;  /* JSON: {"input", "steps"} */
    char *error;  /* JSON or NULL */
    int64_t created_at, updated_at, finished_at;
};
void run_row_release(struct run_row *r);
enum err store_run_insert(struct store *st, const struct run_row *r,
                          struct errinfo *ei) WARN_UNUSED;
/* Sets status, state, error (and finished_at when not 0) of run id in ws. */
enum err store_run_update(struct store *st, const struct run_row *r,
                          struct errinfo *ei) WARN_UNUSED;
enum err store_run_get(struct store *st, int64_t ws, const char *id, struct run_row *out,
                       struct errinfo *ei) WARN_UNUSED;

/* ---- participant onboarding links ---- */
/* A single-use link that lets a participant enter their own credential for
 * one connection; only the SHA-256 of its token is stored. */
struct invite_row {
    char token_hash[65];
    int64_t workspace_id;
    char *participant_id;
    char *connection_id;
    int64_t created_by;
    int64_t expires_at;
};
void invite_row_release(struct invite_row *r);
enum err store_invite_put(struct store *st, const struct invite_row *r,
                          struct errinfo *ei) WARN_UNUSED;
/* Reads the link (take: and deletes it, atomically); ERR_NOT_FOUND when
 * unknown or used. */
enum err store_invite_get(struct store *st, const char *token_hash, bool take,
                          struct invite_row *out, struct errinfo *ei) WARN_UNUSED;

/* ---- idempotent creates (DUR-008) ----
 * A client's Idempotency-Key, stored as its SHA-256, belongs to (workspace, user) and names one
 * request (the SHA-256 of its canonical body) and the id of the connection that request makes. */
struct idem_row {
    unsigned char request_hash[32];
    char connection_id[ID_MAX];
    bool done; /* the connection was created */
};
/* Claims key for request (connection conn_id) at now: *claimed when the key was free, or its
 * claim was made before not_before (then replaced); else *out is the earlier claim. Claims
 * made before not_before are deleted on the way, whoever made them. */
enum err store_idem_claim(struct store *st, int64_t ws, int64_t user, const unsigned char *key,
                          const unsigned char *request, const char *conn_id, int64_t now,
                          int64_t not_before, bool *claimed, struct idem_row *out,
                          struct errinfo *ei) WARN_UNUSED;
/* Marks the claim of key done (its connection exists). */
enum err store_idem_done(struct store *st, int64_t ws, int64_t user, const unsigned char *key,
                         struct errinfo *ei) WARN_UNUSED;

/* ---- web sign-in (session module) ---- */
/* Sets user's password hash (encoded text: algorithm, cost, salt, hash) and ends every session
 * of the user, in one transaction. */
enum err store_password_set(struct store *st, int64_t user, const char *hash,
                            struct errinfo *ei) WARN_UNUSED;
/* The user's id and *hash (malloc'd; NULL when no password is set). ERR_NOT_FOUND when no user
 * has this name. */
enum err store_password_get(struct store *st, const char *name, int64_t *user, char **hash,
                            struct errinfo *ei) WARN_UNUSED;
/* The lowest-id workspace user belongs to; ERR_NOT_FOUND when none. */
enum err store_member_first(struct store *st, int64_t user, int64_t *ws,
                            struct errinfo *ei) WARN_UNUSED;
/* hash: SHA-256 of the session cookie. Only the hash is stored. */
enum err store_session_add(struct store *st, const unsigned char hash[32], int64_t user, int64_t ws,
                           int64_t now_ms, struct errinfo *ei) WARN_UNUSED;
/* The session's principal (role read now from the membership) and its times. ERR_UNAUTHORIZED
 * when no session has this hash or its user is no longer a member of its workspace. */
enum err store_session_get(struct store *st, const unsigned char hash[32], struct principal *out,
                           int64_t *created_at, int64_t *last_seen_at,
                           struct errinfo *ei) WARN_UNUSED;
enum err store_session_touch(struct store *st, const unsigned char hash[32], int64_t now_ms,
                             struct errinfo *ei) WARN_UNUSED;
enum err store_session_delete(struct store *st, const unsigned char hash[32],
                              struct errinfo *ei) WARN_UNUSED;
/* Failed sign-ins for name in the window that started at or after since (0 when none). */
enum err store_login_failures(struct store *st, const char *name, int64_t since, int64_t *failures,
                              struct errinfo *ei) WARN_UNUSED;
/* Counts one failure: a window older than since restarts at now with 1. *failures is the count
 * after it. Windows of any name older than since are removed. */
enum err store_login_failure_add(struct store *st, const char *name, int64_t now, int64_t since,
                                 int64_t *failures, struct errinfo *ei) WARN_UNUSED;
enum err store_login_failures_clear(struct store *st, const char *name,
                                    struct errinfo *ei) WARN_UNUSED;

/* Backend table. Each function has the meaning of the wrapper above. */
struct store_ops {
    const char *name;
    void (*close)(struct store *st);
    enum err (*user_add)(struct store *, const char *, bool, int64_t *, struct errinfo *);
    enum err (*user_get)(struct store *, const char *, struct user_row *, struct errinfo *);
    enum err (*user_count)(struct store *, int64_t *, struct errinfo *);
    enum err (*workspace_add)(struct store *, const char *, int64_t *, struct errinfo *);
    enum err (*workspace_get)(struct store *, const char *, int64_t *, struct errinfo *);
    enum err (*member_set)(struct store *, int64_t, int64_t, enum role, struct errinfo *);
    enum err (*member_role)(struct store *, int64_t, int64_t, enum role *, struct errinfo *);
    enum err (*token_add)(struct store *, const unsigned char *, int64_t, int64_t, const char *,
                          int64_t *, struct errinfo *);
    enum err (*token_lookup)(struct store *, const unsigned char *, struct principal *,
                             struct errinfo *);
    enum err (*conn_insert)(struct store *, const struct conn_row *, const struct op_row *, size_t,
                            const char *, const struct sealed_set *, struct errinfo *);
    enum err (*conn_get)(struct store *, int64_t, const char *, const char *, struct conn_row *,
                         struct errinfo *);
    enum err (*conn_list)(struct store *, int64_t, const struct conn_filter *, struct conn_row **,
                          size_t *, struct errinfo *);
    enum err (*conn_update)(struct store *, const struct conn_row *, const struct op_row *, size_t,
                            bool, const char *, const struct sealed_set *, const char *const *,
                            size_t, struct errinfo *);
    enum err (*op_get)(struct store *, int64_t, const char *, const char *, char **,
                       struct errinfo *);
    enum err (*ops_list)(struct store *, int64_t, const char *, struct op_row **, size_t *,
                         struct errinfo *);
    enum err (*spec_get)(struct store *, int64_t, const char *, char **, struct errinfo *);
    enum err (*secret_put)(struct store *, int64_t, const char *, const char *, const char *,
                           const unsigned char *, size_t, struct errinfo *);
    enum err (*secret_delete)(struct store *, int64_t, const char *, const char *, const char *,
                              bool *, struct errinfo *);
    enum err (*oauth_provider_put)(struct store *, const char *, const char *, const char *,
                                   struct errinfo *);
    enum err (*oauth_provider_get)(struct store *, const char *, char **, char **,
                                   struct errinfo *);
    enum err (*oauth_provider_list)(struct store *, struct op_row **, size_t *, struct errinfo *);
    enum err (*oauth_provider_delete)(struct store *, const char *, struct errinfo *);
    enum err (*oauth_state_put)(struct store *, const struct oauth_state_row *, struct errinfo *);
    enum err (*oauth_state_take)(struct store *, const char *, struct oauth_state_row *,
                                 struct errinfo *);
    enum err (*oauth_meta_get)(struct store *, int64_t, const char *, struct oauth_meta *,
                               struct errinfo *);
    enum err (*oauth_commit)(struct store *, int64_t, const char *, const struct oauth_meta *,
                             const struct sealed_set *, int64_t, bool *, struct errinfo *);
    enum err (*oauth_lease)(struct store *, int64_t, const char *, const char *, int64_t, int64_t,
                            int64_t, bool *, struct errinfo *);
    enum err (*oauth_health)(struct store *, int64_t, const char *, const char *, const char *,
                             struct errinfo *);
    enum err (*oauth_health_set)(struct store *, int64_t, const char *, const struct oauth_meta *,
                                 bool, struct errinfo *);
    enum err (*oauth_revocation_add)(struct store *, int64_t, const char *, const char *,
                                     const char *, struct errinfo *);
    enum err (*oauth_provider_users)(struct store *, const char *, int64_t *, struct errinfo *);
    enum err (*conn_delete)(struct store *, int64_t, const char *, struct errinfo *);
    enum err (*secrets_get)(struct store *, int64_t, const char *, const char *,
                            struct sealed_set *, struct errinfo *);
    enum err (*secret_fields)(struct store *, int64_t, const char *, const char *, char ***,
                              size_t *, struct errinfo *);
    enum err (*secrets_scan)(struct store *, int64_t, size_t, struct secret_row **, size_t *,
                             struct errinfo *);
    enum err (*secret_cas)(struct store *, int64_t, const unsigned char *, size_t, uint32_t,
                           const unsigned char *, size_t, bool *, struct errinfo *);
    enum err (*secret_key_counts)(struct store *, struct key_count **, size_t *, struct errinfo *);
    enum err (*account_put)(struct store *, const struct account_row *, const struct sealed_set *,
                            struct errinfo *);
    enum err (*account_get)(struct store *, int64_t, const char *, const char *, const char *,
                            struct account_row *, struct errinfo *);
    enum err (*account_list)(struct store *, int64_t, const char *, const char *,
                             struct account_row **, size_t *, struct errinfo *);
    enum err (*account_delete)(struct store *, int64_t, const char *, const char *, const char *,
                               struct errinfo *);
    enum err (*account_list_conn)(struct store *, int64_t, const char *, const char *, size_t,
                                  struct account_row **, size_t *, struct errinfo *);
    enum err (*run_insert)(struct store *, const struct run_row *, struct errinfo *);
    enum err (*run_update)(struct store *, const struct run_row *, struct errinfo *);
    enum err (*run_get)(struct store *, int64_t, const char *, struct run_row *, struct errinfo *);
    enum err (*invite_put)(struct store *, const struct invite_row *, struct errinfo *);
    enum err (*invite_get)(struct store *, const char *, bool, struct invite_row *,
                           struct errinfo *);
    enum err (*idem_claim)(struct store *, int64_t, int64_t, const unsigned char *,
                           const unsigned char *, const char *, int64_t, int64_t, bool *,
                           struct idem_row *, struct errinfo *);
    enum err (*idem_done)(struct store *, int64_t, int64_t, const unsigned char *,
                          struct errinfo *);
    void (*read_begin)(struct store *); /* optional */
    void (*read_end)(struct store *);   /* optional */
    enum err (*password_set)(struct store *, int64_t, const char *, struct errinfo *);
    enum err (*password_get)(struct store *, const char *, int64_t *, char **, struct errinfo *);
    enum err (*member_first)(struct store *, int64_t, int64_t *, struct errinfo *);
    enum err (*session_add)(struct store *, const unsigned char *, int64_t, int64_t, int64_t,
                            struct errinfo *);
    enum err (*session_get)(struct store *, const unsigned char *, struct principal *, int64_t *,
                            int64_t *, struct errinfo *);
    enum err (*session_touch)(struct store *, const unsigned char *, int64_t, struct errinfo *);
    enum err (*session_delete)(struct store *, const unsigned char *, struct errinfo *);
    enum err (*login_failures)(struct store *, const char *, int64_t, int64_t *, struct errinfo *);
    enum err (*login_failure_add)(struct store *, const char *, int64_t, int64_t, int64_t *,
                                  struct errinfo *);
    enum err (*login_failures_clear)(struct store *, const char *, struct errinfo *);
};

/* ---- moving a database (connhub migrate) ---- */
struct copy_opts {
    bool truncate; /* empty a non-empty target first (else ERR_CONFLICT "target_not_empty") */
    /* Called at the start of each table, every 1000 rows, and at its end. */
    void (*progress)(void *arg, const char *table, int64_t done, int64_t total);
    void *arg;
};
struct copy_count {
    char table[64];
    int64_t src, dst; /* rows in the source and in the target after the copy */
};
/* Copies every row of the SQLite database `from` ("sqlite:PATH") into the
 * PostgreSQL database `to`, values as they are (sealed secrets stay sealed),
 * in one transaction; *counts (malloc'd, one per table) verifies it. Both
 * are first brought to this build's schema. */
enum err store_copy(const char *from, const char *to, const struct copy_opts *o,
                    struct copy_count **counts, size_t *ncounts, struct errinfo *ei) WARN_UNUSED;

/* Backends. */
enum err store_sqlite_open(const char *path, struct store **out, struct errinfo *ei);
/* SQLite read scopes that needed no transaction, process-wide (store_memo_counts). */
uint64_t store_sqlite_quick_scopes(void);
enum err store_pg_open(const char *conninfo, struct store **out, struct errinfo *ei);
/* Does url name a PostgreSQL database (URL or keyword string)? */
bool store_pg_url(const char *url);

#ifdef CONNHUB_TEST
/* Test hook: runs "PRAGMA <pragma>" on st's own connection (per-connection
 * settings such as synchronous, foreign_keys, secure_delete and busy_timeout
 * cannot be read from another handle) and stores the integer result. pragma
 * must be a bare identifier. ERR_INVALID otherwise; ERR_STORE when it yields
 * no row. SQLite stores only. */
enum err store_sqlite_pragma_int(struct store *st, const char *pragma, int *out) WARN_UNUSED;
/* Test hook: how long a SQLite open keeps retrying while the database is busy
 * (BUSY_TIMEOUT_MS unless set; ms <= 0 restores it). */
void store_sqlite_set_open_busy_ms(int64_t ms);
#endif

#endif
