/*
 * store_int: what the backends (store_sqlite.c, store_pg.c) share, so a row
 * is decoded, and a refusal worded, once. Not for callers outside src/store/.
 *
 * A backend wraps its current result row in a struct cols (three readers by
 * column index) and hands it to the rows_* decoders, which fill the public
 * row structs in the column order of the SELECTs named beside each one. Both
 * backends' SQL keep those column orders.
 *
 * Adding a store op: its wrapper in store.c, its slot in store_ops, then in
 * each backend one statement id + SQL text (sqlite `?N`, pg `$N`) and one
 * function; decode its rows here when it returns a struct.
 */
#ifndef CONNHUB_STORE_INT_H
#define CONNHUB_STORE_INT_H

#include "store/store.h"

/* The statements, one id each: every backend has a table sql[S__COUNT] with
 * its text for each (same meaning, same parameter numbers, same columns). */
enum stmt_id {
    S_USER_ADD,
    S_USER_GET,
    S_USER_COUNT,
    S_WS_ADD,
    S_WS_GET,
    S_MEMBER_SET,
    S_MEMBER_ROLE,
    S_TOKEN_ADD,
    S_TOKEN_LOOKUP,
    S_CONN_INSERT,
    S_CONN_GET_ID,
    S_CONN_GET_SLUG,
    S_CONN_LIST,
    S_CONN_UPDATE,
    S_CONN_DELETE,
    S_SECRET_PUT,
    S_SECRETS_GET,
    S_SECRET_DEL_FIELD,
    S_SECRETS_DEL_OWNER,
    S_SECRETS_SCAN,
    S_SECRET_CAS,
    S_SECRET_KEYS,
    S_OP_INSERT,
    S_OPS_DELETE,
    S_OP_GET,
    S_OPS_LIST,
    S_SPEC_PUT,
    S_SPEC_GET,
    S_OP_PUT,
    S_OP_GET_PROV,
    S_OP_LIST_PROV,
    S_OP_DEL_PROV,
    S_OST_PUT,
    S_OST_TAKE,
    S_OMETA_GET,
    S_OMETA_UPSERT,
    S_OLEASE,
    S_OHEALTH,
    S_OHEALTH_SET,
    S_OREVOKE_ADD,
    S_OPROV_USERS,
    S_ACCT_PUT,
    S_ACCT_GET,
    S_ACCT_LIST,
    S_ACCT_LIST_CONN,
    S_ACCT_DEL,
    S_RUN_INSERT,
    S_RUN_UPDATE,
    S_RUN_GET,
    S_INVITE_PUT,
    S_INVITE_GET,
    S_INVITE_TAKE,
    S_PW_SET,
    S_PW_GET,
    S_SESS_DEL_USER,
    S_MEMBER_FIRST,
    S_SESS_ADD,
    S_SESS_GET,
    S_SESS_TOUCH,
    S_SESS_DEL,
    S_LOGIN_FAILS,
    S_LOGIN_FAIL_ADD,
    S_LOGIN_FAIL_PRUNE,
    S_LOGIN_FAIL_CLEAR,
    S_IDEM_PRUNE,
    S_IDEM_CLAIM,
    S_IDEM_GET,
    S_IDEM_DONE,
    S__COUNT
};

#define CONN_COLS_BASE                                                                             \
    "c.id, c.workspace_id, c.owner_id, u.name, c.name, c.slug, c.service_type, c.auth_type, "      \
    "c.base_url, c.fulfillment, c.config, c.created_at, c.updated_at, c.version, "
/* Lists count each connection's operations; a single read (the call path)
 * does not: -1 there means "not counted". */
#define CONN_COLS                                                                                  \
    CONN_COLS_BASE "(SELECT count(*) FROM connection_operations o WHERE o.connection_id = c.id)"
#define CONN_COLS_ONE CONN_COLS_BASE "-1"

struct cols {
    void *src; /* the backend's statement or result */
    int row;
    /* Borrowed text; NULL for SQL NULL. */
    const char *(*text)(const struct cols *c, int i);
    int64_t (*i64)(const struct cols *c, int i);
    /* A malloc'd copy (never NULL, even for 0 bytes). */
    unsigned char *(*blob)(const struct cols *c, int i, size_t *len);
};

/* Text column i as a malloc'd copy, NULL for SQL NULL. */
char *cols_strdup(const struct cols *c, int i);

/* id, name, platform_admin */
void rows_user(const struct cols *c, struct user_row *u);
/* t.id, u.id, u.name, u.platform_admin, w.id, w.slug, m.role */
void rows_principal(const struct cols *c, struct principal *p);
/* CONN_COLS: id, workspace_id, owner_id, owner name, name, slug, service_type,
 * auth_type, base_url, fulfillment, config, created_at, updated_at, version,
 * op count (-1 = not counted) */
void rows_conn(const struct cols *c, struct conn_row *r);
/* id, workspace_id, kind, owner_id, field, sealed */
void rows_secret(const struct cols *c, struct secret_row *r);
/* provider_id, workspace_id, user_id, connection_id, tiers, redirect_uri,
 * verifier, expires_at */
void rows_oauth_state(const struct cols *c, const char *hash, struct oauth_state_row *r);
/* provider_id, scopes, tiers, health, last_error, lease_owner, obtained_at,
 * expires_at, version, lease_until, refreshes, last_success_at,
 * last_error_code, consecutive_failures, total_failures, last_failure_at,
 * next_retry_at, forced_refreshes, health_changed_at */
void rows_oauth_meta(const struct cols *c, struct oauth_meta *m);
/* kind, holder, connection_id, method, provider_id, tiers, scopes, role,
 * expires_at, created_at, updated_at, connection slug, connection name */
void rows_account(const struct cols *c, int64_t ws, struct account_row *r);
/* id, workspace_id, user_id, status, spec, state, error, created_at,
 * updated_at, finished_at */
void rows_run(const struct cols *c, struct run_row *r);
/* workspace_id, participant_id, connection_id, created_by, expires_at */
void rows_invite(const struct cols *c, const char *hash, struct invite_row *r);

/* The key id a sealed value names (bytes 1-4, big-endian); 0 when too short. */
uint32_t sealed_key_id(const unsigned char *d, size_t len);
/* conn_update: does the connection keep secret `field` (listed in keep, or
 * replaced by put)? */
bool secret_kept(const char *field, const char *const *keep, size_t nkeep,
                 const struct sealed_set *put);

/* secret_fields for every backend: the fields of ops->secrets_get. */
enum err store_fields_of(struct store *st, int64_t ws, const char *kind, const char *owner,
                         char ***fields, size_t *n, struct errinfo *ei);

/* The refusals both backends give, worded once. */
enum err store_err_user_exists(struct errinfo *ei, const char *name);
enum err store_err_user_not_found(struct errinfo *ei, const char *name);
enum err store_err_workspace_exists(struct errinfo *ei, const char *slug);
enum err store_err_workspace_not_found(struct errinfo *ei, const char *slug);
enum err store_err_not_member(struct errinfo *ei);
enum err store_err_invalid_token(struct errinfo *ei);
enum err store_err_slug_taken(struct errinfo *ei, const char *slug);
enum err store_err_conn_not_found(struct errinfo *ei, const char *field);
enum err store_err_concurrent_update(struct errinfo *ei);
enum err store_err_duplicate_op(struct errinfo *ei, const char *name);
enum err store_err_not_found(struct errinfo *ei, const char *what);
enum err store_err_provider_not_found(struct errinfo *ei, const char *id);
enum err store_err_unknown_state(struct errinfo *ei);
enum err store_err_not_connected(struct errinfo *ei);
enum err store_err_account_not_found(struct errinfo *ei);
enum err store_err_run_not_found(struct errinfo *ei);
enum err store_err_unknown_invite(struct errinfo *ei);
enum err store_err_busy(struct errinfo *ei);
enum err store_err_schema_too_new(struct errinfo *ei, int64_t have, size_t want);

#endif
