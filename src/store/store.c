#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/memo.h"

#include "core/banned.h"

const char *
role_name(enum role r)
{
    switch (r) {
    case ROLE_ADMIN:
        return "admin";
    case ROLE_MEMBER:
        return "member";
    default:
        return "none";
    }
}

bool
role_parse(const char *s, enum role *out)
{
    if (strcmp(s, "admin") == 0)
        *out = ROLE_ADMIN;
    else if (strcmp(s, "member") == 0)
        *out = ROLE_MEMBER;
    else
        return false;
    return true;
}

void
conn_row_release(struct conn_row *r)
{
    if (r == NULL)
        return;
    free(r->owner_name);
    free(r->name);
    free(r->slug);
    free(r->service_type);
    free(r->auth_type);
    free(r->base_url);
    free(r->fulfillment);
    free(r->config);
    memset(r, 0, sizeof(*r));
}

void
conn_rows_free(struct conn_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        conn_row_release(&rows[i]);
    free(rows);
}

void
sealed_set_release(struct sealed_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].field);
        free(s->v[i].data);
    }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

enum err
sealed_set_add(struct sealed_set *s, const char *field, unsigned char *data, size_t len)
{
    struct sealed *nv = realloc(s->v, (s->n + 1) * sizeof(*nv));

    if (nv == NULL) {
        free(data);
        return ERR_NOMEM;
    }
    s->v = nv;
    s->v[s->n].field = strdup(field);
    if (s->v[s->n].field == NULL) {
        free(data);
        return ERR_NOMEM;
    }
    s->v[s->n].data = data;
    s->v[s->n].len = len;
    s->n++;
    return ERR_OK;
}

const struct sealed *
sealed_set_find(const struct sealed_set *s, const char *field)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].field, field) == 0)
            return &s->v[i];
    return NULL;
}

void
secret_rows_free(struct secret_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].kind);
        free(rows[i].owner_id);
        free(rows[i].field);
        free(rows[i].data);
    }
    free(rows);
}

void
string_list_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

enum err
store_open(const char *url, struct store **out, struct errinfo *ei)
{
    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return err_set(ei, ERR_INVALID, "invalid_db_url", "--db", "the database URL is empty");
    if (strncmp(url, "sqlite:", 7) == 0) {
        if (url[7] == '\0')
            return err_set(ei, ERR_INVALID, "invalid_db_url", "--db",
                           "sqlite: needs a path, e.g. sqlite:./data/connhub.db");
        return store_sqlite_open(url + 7, out, ei);
    }
    if (store_pg_url(url))
        return store_pg_open(url, out, ei);
    return err_set(ei, ERR_INVALID, "invalid_db_url", "--db",
                   "unknown database URL scheme; use sqlite:PATH or postgres://...");
}

/* A bounded output for store_url_redact: writes what fits, always ends in NUL. */
struct outs {
    char *p;
    size_t cap, n;
};

static void
outs_put(struct outs *o, const char *s, size_t n)
{
    size_t room = o->cap - 1 - o->n;

    if (n > room)
        n = room;
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

/* The length of a keyword-string value at v: 'quoted' (with \ escapes) or
 * up to a space; in a URL query, up to '&' or '#'. */
static size_t
value_len(const char *v)
{
    const char *q = v + 1;

    if (*v != '\'')
        return strcspn(v, " &#");
    while (*q && *q != '\'')
        q += (*q == '\\' && q[1]) ? 2 : 1;
    return (size_t)(q - v) + (*q ? 1 : 0);
}

void
store_url_redact(const char *url, char *out, size_t outlen)
{
    struct outs o = {out, outlen, 0};
    const char *p = url, *hit;

    if (outlen == 0)
        return;
    out[0] = '\0';
    if (url == NULL)
        return;
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        const char *auth = strstr(url, "://") + 3;
        const char *hostend = auth + strcspn(auth, "/?#");
        const char *at = NULL, *colon = NULL;
        for (const char *q = auth; q < hostend; q++)
            if (*q == '@')
                at = q;
        if (at)
            colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon) {
            outs_put(&o, url, (size_t)(colon + 1 - url));
            outs_put(&o, "***", 3);
            p = at;
        }
    }
    while ((hit = strstr(p, "password=")) != NULL) {
        const char *v = hit + 9;
        bool word = hit == url || hit[-1] == ' ' || hit[-1] == '?' || hit[-1] == '&';
        outs_put(&o, p, (size_t)(v - p));
        if (word) {
            outs_put(&o, "***", 3);
            v += value_len(v);
        }
        p = v;
    }
    outs_put(&o, p, strlen(p));
}

enum err
store_data_dir(const char *url, char *out, size_t outlen, struct errinfo *ei)
{
    const char *path, *slash;

    if (strncmp(url, "sqlite:", 7) != 0)
        return err_set(ei, ERR_INVALID, "no_data_dir", "--db",
                       "--dev without INTEGRATION_ENCRYPTION_KEY needs a sqlite: database");
    path = url + 7;
    slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(out, outlen, ".");
    else if (slash == path)
        snprintf(out, outlen, "/");
    else
        snprintf(out, outlen, "%.*s", (int)(slash - path), path);
    return ERR_OK;
}

void
store_close(struct store *st)
{
    if (st)
        st->ops->close(st);
}

const char *
store_backend_name(const struct store *st)
{
    return st->ops->name;
}

void
store_memo_counts(uint64_t *hits, uint64_t *misses, uint64_t *quick_scopes)
{
    *hits = memo_hit_count();
    *misses = memo_miss_count();
    *quick_scopes = store_sqlite_quick_scopes();
}

void
store_read_begin(struct store *st)
{
    if (st && st->ops->read_begin)
        st->ops->read_begin(st);
}

void
store_read_end(struct store *st)
{
    if (st && st->ops->read_end)
        st->ops->read_end(st);
}

/* ---- dispatch ---- */

enum err
store_user_add(struct store *st, const char *name, bool pa, int64_t *id, struct errinfo *ei)
{
    return st->ops->user_add(st, name, pa, id, ei);
}

enum err
store_user_get(struct store *st, const char *name, struct user_row *out, struct errinfo *ei)
{
    return st->ops->user_get(st, name, out, ei);
}

enum err
store_user_count(struct store *st, int64_t *n, struct errinfo *ei)
{
    return st->ops->user_count(st, n, ei);
}

enum err
store_workspace_add(struct store *st, const char *slug, int64_t *id, struct errinfo *ei)
{
    return st->ops->workspace_add(st, slug, id, ei);
}

enum err
store_workspace_get(struct store *st, const char *slug, int64_t *id, struct errinfo *ei)
{
    return st->ops->workspace_get(st, slug, id, ei);
}

enum err
store_member_set(struct store *st, int64_t ws, int64_t user, enum role role, struct errinfo *ei)
{
    return st->ops->member_set(st, ws, user, role, ei);
}

enum err
store_member_role(struct store *st, int64_t ws, int64_t user, enum role *out, struct errinfo *ei)
{
    return st->ops->member_role(st, ws, user, out, ei);
}

enum err
store_token_add(struct store *st, const unsigned char hash[32], int64_t user, int64_t ws,
                const char *label, int64_t *id, struct errinfo *ei)
{
    return st->ops->token_add(st, hash, user, ws, label, id, ei);
}

enum err
store_token_lookup(struct store *st, const unsigned char hash[32], struct principal *out,
                   struct errinfo *ei)
{
    return st->ops->token_lookup(st, hash, out, ei);
}

enum err
store_conn_insert(struct store *st, const struct conn_row *row, const struct op_row *ops,
                  size_t nops, const char *spec, const struct sealed_set *secrets,
                  struct errinfo *ei)
{
    return st->ops->conn_insert(st, row, ops, nops, spec, secrets, ei);
}

enum err
store_conn_get(struct store *st, int64_t ws, const char *id, struct conn_row *out,
               struct errinfo *ei)
{
    return st->ops->conn_get(st, ws, id, NULL, out, ei);
}

enum err
store_conn_get_by_slug(struct store *st, int64_t ws, const char *slug, struct conn_row *out,
                       struct errinfo *ei)
{
    return st->ops->conn_get(st, ws, NULL, slug, out, ei);
}

enum err
store_conn_list(struct store *st, int64_t ws, const struct conn_filter *f, struct conn_row **rows,
                size_t *n, struct errinfo *ei)
{
    return st->ops->conn_list(st, ws, f, rows, n, ei);
}

enum err
store_conn_update(struct store *st, const struct conn_row *row, const struct op_row *ops,
                  size_t nops, bool replace_ops, const char *spec, const struct sealed_set *put,
                  const char *const *keep, size_t nkeep, struct errinfo *ei)
{
    return st->ops->conn_update(st, row, ops, nops, replace_ops, spec, put, keep, nkeep, ei);
}

enum err
store_op_get(struct store *st, int64_t ws, const char *conn_id, const char *name, char **def,
             struct errinfo *ei)
{
    return st->ops->op_get(st, ws, conn_id, name, def, ei);
}

enum err
store_ops_list(struct store *st, int64_t ws, const char *conn_id, struct op_row **out, size_t *n,
               struct errinfo *ei)
{
    return st->ops->ops_list(st, ws, conn_id, out, n, ei);
}

enum err
store_spec_get(struct store *st, int64_t ws, const char *conn_id, char **spec, struct errinfo *ei)
{
    return st->ops->spec_get(st, ws, conn_id, spec, ei);
}

enum err
store_secret_put(struct store *st, int64_t ws, const char *kind, const char *owner_id,
                 const char *field, const unsigned char *data, size_t len, struct errinfo *ei)
{
    return st->ops->secret_put(st, ws, kind, owner_id, field, data, len, ei);
}

enum err
store_secret_delete(struct store *st, int64_t ws, const char *kind, const char *owner_id,
                    const char *field, bool *deleted, struct errinfo *ei)
{
    return st->ops->secret_delete(st, ws, kind, owner_id, field, deleted, ei);
}

void
oauth_state_row_release(struct oauth_state_row *r)
{
    free(r->provider_id);
    free(r->connection_id);
    free(r->tiers);
    free(r->redirect_uri);
    free(r->verifier);
    memset(r, 0, sizeof(*r));
}

void
oauth_meta_release(struct oauth_meta *m)
{
    free(m->provider_id);
    free(m->scopes);
    free(m->tiers);
    free(m->health);
    free(m->last_error);
    free(m->lease_owner);
    free(m->last_error_code);
    memset(m, 0, sizeof(*m));
}

#define DISPATCH(name, ...) return st->ops->name(st, __VA_ARGS__)

enum err
store_oauth_provider_put(struct store *st, const char *id, const char *def, const char *client_id,
                         struct errinfo *ei)
{
    DISPATCH(oauth_provider_put, id, def, client_id, ei);
}

enum err
store_oauth_provider_get(struct store *st, const char *id, char **def, char **client_id,
                         struct errinfo *ei)
{
    DISPATCH(oauth_provider_get, id, def, client_id, ei);
}

enum err
store_oauth_provider_list(struct store *st, struct op_row **out, size_t *n, struct errinfo *ei)
{
    DISPATCH(oauth_provider_list, out, n, ei);
}

enum err
store_oauth_provider_delete(struct store *st, const char *id, struct errinfo *ei)
{
    DISPATCH(oauth_provider_delete, id, ei);
}

enum err
store_oauth_state_put(struct store *st, const struct oauth_state_row *r, struct errinfo *ei)
{
    DISPATCH(oauth_state_put, r, ei);
}

enum err
store_oauth_state_take(struct store *st, const char *hash, struct oauth_state_row *out,
                       struct errinfo *ei)
{
    DISPATCH(oauth_state_take, hash, out, ei);
}

enum err
store_oauth_meta_get(struct store *st, int64_t ws, const char *conn_id, struct oauth_meta *out,
                     struct errinfo *ei)
{
    DISPATCH(oauth_meta_get, ws, conn_id, out, ei);
}

enum err
store_oauth_commit(struct store *st, int64_t ws, const char *conn_id, const struct oauth_meta *m,
                   const struct sealed_set *tokens, int64_t expect_version, bool *committed,
                   struct errinfo *ei)
{
    DISPATCH(oauth_commit, ws, conn_id, m, tokens, expect_version, committed, ei);
}

enum err
store_oauth_lease(struct store *st, int64_t ws, const char *conn_id, const char *owner,
                  int64_t version, int64_t now, int64_t until, bool *got, struct errinfo *ei)
{
    DISPATCH(oauth_lease, ws, conn_id, owner, version, now, until, got, ei);
}

enum err
store_oauth_health(struct store *st, int64_t ws, const char *conn_id, const char *health,
                   const char *last_error, struct errinfo *ei)
{
    DISPATCH(oauth_health, ws, conn_id, health, last_error, ei);
}

void
op_rows_free(struct op_row *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].def);
    }
    free(v);
}

enum err
store_conn_delete(struct store *st, int64_t ws, const char *id, struct errinfo *ei)
{
    return st->ops->conn_delete(st, ws, id, ei);
}

enum err
store_secrets_get(struct store *st, int64_t ws, const char *kind, const char *owner_id,
                  struct sealed_set *out, struct errinfo *ei)
{
    return st->ops->secrets_get(st, ws, kind, owner_id, out, ei);
}

enum err
store_secret_fields(struct store *st, int64_t ws, const char *kind, const char *owner_id,
                    char ***fields, size_t *n, struct errinfo *ei)
{
    return st->ops->secret_fields(st, ws, kind, owner_id, fields, n, ei);
}

enum err
store_secrets_scan(struct store *st, int64_t after_id, size_t limit, struct secret_row **rows,
                   size_t *n, struct errinfo *ei)
{
    return st->ops->secrets_scan(st, after_id, limit, rows, n, ei);
}

enum err
store_secret_cas(struct store *st, int64_t id, const unsigned char *old, size_t oldlen,
                 uint32_t new_key_id, const unsigned char *neu, size_t newlen, bool *swapped,
                 struct errinfo *ei)
{
    return st->ops->secret_cas(st, id, old, oldlen, new_key_id, neu, newlen, swapped, ei);
}

enum err
store_secret_key_counts(struct store *st, struct key_count **out, size_t *n, struct errinfo *ei)
{
    return st->ops->secret_key_counts(st, out, n, ei);
}

/* ---- web sign-in ---- */

enum err
store_password_set(struct store *st, int64_t user, const char *hash, struct errinfo *ei)
{
    return st->ops->password_set(st, user, hash, ei);
}

enum err
store_password_get(struct store *st, const char *name, int64_t *user, char **hash,
                   struct errinfo *ei)
{
    return st->ops->password_get(st, name, user, hash, ei);
}

enum err
store_member_first(struct store *st, int64_t user, int64_t *ws, struct errinfo *ei)
{
    return st->ops->member_first(st, user, ws, ei);
}

enum err
store_session_add(struct store *st, const unsigned char hash[32], int64_t user, int64_t ws,
                  int64_t now, struct errinfo *ei)
{
    return st->ops->session_add(st, hash, user, ws, now, ei);
}

enum err
store_session_get(struct store *st, const unsigned char hash[32], struct principal *out,
                  int64_t *created_at, int64_t *last_seen_at, struct errinfo *ei)
{
    return st->ops->session_get(st, hash, out, created_at, last_seen_at, ei);
}

enum err
store_session_touch(struct store *st, const unsigned char hash[32], int64_t now, struct errinfo *ei)
{
    return st->ops->session_touch(st, hash, now, ei);
}

enum err
store_session_delete(struct store *st, const unsigned char hash[32], struct errinfo *ei)
{
    return st->ops->session_delete(st, hash, ei);
}

enum err
store_login_failures(struct store *st, const char *name, int64_t since, int64_t *failures,
                     struct errinfo *ei)
{
    return st->ops->login_failures(st, name, since, failures, ei);
}

enum err
store_login_failure_add(struct store *st, const char *name, int64_t now, int64_t since,
                        int64_t *failures, struct errinfo *ei)
{
    return st->ops->login_failure_add(st, name, now, since, failures, ei);
}

enum err
store_login_failures_clear(struct store *st, const char *name, struct errinfo *ei)
{
    return st->ops->login_failures_clear(st, name, ei);
}

enum err
store_oauth_health_set(struct store *st, int64_t ws, const char *conn_id,
                       const struct oauth_meta *m, bool release_lease, struct errinfo *ei)
{
    DISPATCH(oauth_health_set, ws, conn_id, m, release_lease, ei);
}

enum err
store_oauth_revocation_add(struct store *st, int64_t ws, const char *conn_id,
                           const char *provider_id, const char *outcome, struct errinfo *ei)
{
    DISPATCH(oauth_revocation_add, ws, conn_id, provider_id, outcome, ei);
}

enum err
store_oauth_provider_users(struct store *st, const char *id, int64_t *n, struct errinfo *ei)
{
    DISPATCH(oauth_provider_users, id, n, ei);
}

/* ---- personal accounts, participant credentials, runs ---- */

void
account_row_release(struct account_row *r)
{
    if (r == NULL)
        return;
    free(r->kind);
    free(r->holder);
    free(r->connection_id);
    free(r->method);
    free(r->provider_id);
    free(r->tiers);
    free(r->scopes);
    free(r->role);
    free(r->conn_slug);
    free(r->conn_name);
    memset(r, 0, sizeof(*r));
}

void
account_rows_free(struct account_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        account_row_release(&rows[i]);
    free(rows);
}

void
run_row_release(struct run_row *r)
{
    if (r == NULL)
        return;
    free(r->status);
    free(r->spec);
    free(r->state);
    free(r->error);
    memset(r, 0, sizeof(*r));
}

enum err
store_account_put(struct store *st, const struct account_row *r, const struct sealed_set *secrets,
                  struct errinfo *ei)
{
    DISPATCH(account_put, r, secrets, ei);
}

enum err
store_account_get(struct store *st, int64_t ws, const char *kind, const char *holder,
                  const char *conn_id, struct account_row *out, struct errinfo *ei)
{
    DISPATCH(account_get, ws, kind, holder, conn_id, out, ei);
}

enum err
store_account_list(struct store *st, int64_t ws, const char *kind, const char *holder,
                   struct account_row **rows, size_t *n, struct errinfo *ei)
{
    DISPATCH(account_list, ws, kind, holder, rows, n, ei);
}

enum err
store_account_list_conn(struct store *st, int64_t ws, const char *kind, const char *conn_id,
                        size_t max, struct account_row **rows, size_t *n, struct errinfo *ei)
{
    DISPATCH(account_list_conn, ws, kind, conn_id, max, rows, n, ei);
}

enum err
store_account_delete(struct store *st, int64_t ws, const char *kind, const char *holder,
                     const char *conn_id, struct errinfo *ei)
{
    DISPATCH(account_delete, ws, kind, holder, conn_id, ei);
}

enum err
store_run_insert(struct store *st, const struct run_row *r, struct errinfo *ei)
{
    DISPATCH(run_insert, r, ei);
}

enum err
store_run_update(struct store *st, const struct run_row *r, struct errinfo *ei)
{
    DISPATCH(run_update, r, ei);
}

enum err
store_run_get(struct store *st, int64_t ws, const char *id, struct run_row *out, struct errinfo *ei)
{
    DISPATCH(run_get, ws, id, out, ei);
}

void
invite_row_release(struct invite_row *r)
{
    if (r == NULL)
        return;
    free(r->participant_id);
    free(r->connection_id);
    memset(r, 0, sizeof(*r));
}

enum err
store_idem_claim(struct store *st, int64_t ws, int64_t user, const unsigned char *key,
                 const unsigned char *request, const char *conn_id, int64_t now, int64_t not_before,
                 bool *claimed, struct idem_row *out, struct errinfo *ei)
{
    *claimed = false;
    memset(out, 0, sizeof(*out));
    DISPATCH(idem_claim, ws, user, key, request, conn_id, now, not_before, claimed, out, ei);
}

enum err
store_idem_done(struct store *st, int64_t ws, int64_t user, const unsigned char *key,
                struct errinfo *ei)
{
    DISPATCH(idem_done, ws, user, key, ei);
}

enum err
store_invite_put(struct store *st, const struct invite_row *r, struct errinfo *ei)
{
    DISPATCH(invite_put, r, ei);
}

enum err
store_invite_get(struct store *st, const char *token_hash, bool take, struct invite_row *out,
                 struct errinfo *ei)
{
    DISPATCH(invite_get, token_hash, take, out, ei);
}
