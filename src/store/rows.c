/* rows: decoding and refusals shared by the store backends (store_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/store_int.h"
#include "core/banned.h"

char *
cols_strdup(const struct cols *c, int i)
{
    return xstrdup(c->text(c, i));
}

static void
copy_text(const struct cols *c, int i, char *out, size_t outlen)
{
    const char *t = c->text(c, i);
    snprintf(out, outlen, "%s", t ? t : "");
}

static enum role
role_of(const struct cols *c, int i)
{
    const char *t = c->text(c, i);
    enum role r = ROLE_NONE;

    if (t == NULL || !role_parse(t, &r))
        r = ROLE_NONE;
    return r;
}

void
rows_user(const struct cols *c, struct user_row *u)
{
    u->id = c->i64(c, 0);
    copy_text(c, 1, u->name, sizeof(u->name));
    u->platform_admin = c->i64(c, 2) != 0;
}

void
rows_principal(const struct cols *c, struct principal *p)
{
    p->token_id = c->i64(c, 0);
    p->user_id = c->i64(c, 1);
    copy_text(c, 2, p->user_name, sizeof(p->user_name));
    p->platform_admin = c->i64(c, 3) != 0;
    p->workspace_id = c->i64(c, 4);
    copy_text(c, 5, p->workspace_slug, sizeof(p->workspace_slug));
    p->role = role_of(c, 6);
}

void
rows_conn(const struct cols *c, struct conn_row *r)
{
    copy_text(c, 0, r->id, sizeof(r->id));
    r->workspace_id = c->i64(c, 1);
    r->owner_id = c->i64(c, 2);
    r->owner_name = cols_strdup(c, 3);
    r->name = cols_strdup(c, 4);
    r->slug = cols_strdup(c, 5);
    r->service_type = cols_strdup(c, 6);
    r->auth_type = cols_strdup(c, 7);
    r->base_url = cols_strdup(c, 8);
    r->fulfillment = cols_strdup(c, 9);
    r->config = cols_strdup(c, 10);
    r->created_at = c->i64(c, 11);
    r->updated_at = c->i64(c, 12);
    r->version = c->i64(c, 13);
    r->op_count = c->i64(c, 14);
}

void
rows_secret(const struct cols *c, struct secret_row *r)
{
    r->id = c->i64(c, 0);
    r->workspace_id = c->i64(c, 1);
    r->kind = cols_strdup(c, 2);
    r->owner_id = cols_strdup(c, 3);
    r->field = cols_strdup(c, 4);
    r->data = c->blob(c, 5, &r->len);
}

void
rows_oauth_state(const struct cols *c, const char *hash, struct oauth_state_row *r)
{
    snprintf(r->state_hash, sizeof(r->state_hash), "%s", hash);
    r->provider_id = cols_strdup(c, 0);
    r->workspace_id = c->i64(c, 1);
    r->user_id = c->i64(c, 2);
    r->connection_id = cols_strdup(c, 3);
    r->tiers = cols_strdup(c, 4);
    r->redirect_uri = cols_strdup(c, 5);
    r->verifier = c->blob(c, 6, &r->verifier_len);
    r->expires_at = c->i64(c, 7);
}

void
rows_oauth_meta(const struct cols *c, struct oauth_meta *m)
{
    m->provider_id = cols_strdup(c, 0);
    m->scopes = cols_strdup(c, 1);
    m->tiers = cols_strdup(c, 2);
    m->health = cols_strdup(c, 3);
    m->last_error = cols_strdup(c, 4);
    m->lease_owner = cols_strdup(c, 5);
    m->obtained_at = c->i64(c, 6);
    m->expires_at = c->i64(c, 7);
    m->version = c->i64(c, 8);
    m->lease_until = c->i64(c, 9);
    m->refreshes = c->i64(c, 10);
    m->last_success_at = c->i64(c, 11);
    m->last_error_code = cols_strdup(c, 12);
    m->consecutive_failures = c->i64(c, 13);
    m->total_failures = c->i64(c, 14);
    m->last_failure_at = c->i64(c, 15);
    m->next_retry_at = c->i64(c, 16);
    m->forced_refreshes = c->i64(c, 17);
    m->health_changed_at = c->i64(c, 18);
}

uint32_t
sealed_key_id(const unsigned char *d, size_t len)
{
    if (len < 5)
        return 0;
    return (uint32_t)d[1] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 8 | d[4];
}

bool
secret_kept(const char *field, const char *const *keep, size_t nkeep, const struct sealed_set *put)
{
    for (size_t i = 0; i < nkeep; i++)
        if (strcmp(keep[i], field) == 0)
            return true;
    return put && sealed_set_find(put, field) != NULL;
}

enum err
store_fields_of(struct store *st, int64_t ws, const char *kind, const char *owner, char ***fields,
                size_t *n, struct errinfo *ei)
{
    struct sealed_set set = {0};
    enum err e = st->ops->secrets_get(st, ws, kind, owner, &set, ei);

    *fields = NULL;
    *n = 0;
    if (e != ERR_OK)
        return e;
    *fields = xcalloc(set.n ? set.n : 1, sizeof(char *));
    for (size_t i = 0; i < set.n; i++)
        (*fields)[i] = xstrdup(set.v[i].field);
    *n = set.n;
    sealed_set_release(&set);
    return ERR_OK;
}

/* ---- refusals ---- */

enum err
store_err_user_exists(struct errinfo *ei, const char *name)
{
    return err_set(ei, ERR_CONFLICT, "user_exists", "name", "user %s already exists", name);
}

enum err
store_err_user_not_found(struct errinfo *ei, const char *name)
{
    return err_set(ei, ERR_NOT_FOUND, "user_not_found", "user", "no user named %s", name);
}

enum err
store_err_workspace_exists(struct errinfo *ei, const char *slug)
{
    return err_set(ei, ERR_CONFLICT, "workspace_exists", "slug", "workspace %s already exists",
                   slug);
}

enum err
store_err_workspace_not_found(struct errinfo *ei, const char *slug)
{
    return err_set(ei, ERR_NOT_FOUND, "workspace_not_found", "workspace", "no workspace named %s",
                   slug);
}

enum err
store_err_not_member(struct errinfo *ei)
{
    return err_set(ei, ERR_NOT_FOUND, "not_a_member", "user",
                   "the user is not a member of the workspace");
}

enum err
store_err_invalid_token(struct errinfo *ei)
{
    return err_set(ei, ERR_UNAUTHORIZED, "invalid_token", NULL, "the API token is not valid");
}

enum err
store_err_slug_taken(struct errinfo *ei, const char *slug)
{
    return err_set(ei, ERR_CONFLICT, "slug_taken", "slug",
                   "a connection with slug %s already exists in this workspace", slug);
}

enum err
store_err_conn_not_found(struct errinfo *ei, const char *field)
{
    return err_set(ei, ERR_NOT_FOUND, "connection_not_found", field, "no such connection");
}

enum err
store_err_concurrent_update(struct errinfo *ei)
{
    return err_set(ei, ERR_CONFLICT, "concurrent_update", NULL,
                   "the connection was changed or deleted by another request; reload and retry");
}

enum err
store_err_duplicate_op(struct errinfo *ei, const char *name)
{
    return err_set(ei, ERR_INVALID, "duplicate_name", "operations", "two operations are named %s",
                   name);
}

enum err
store_err_not_found(struct errinfo *ei, const char *what)
{
    return err_set(ei, ERR_NOT_FOUND, "not_found", NULL, "no such %s", what);
}

enum err
store_err_provider_not_found(struct errinfo *ei, const char *id)
{
    return err_set(ei, ERR_NOT_FOUND, "provider_not_found", "provider",
                   "no OAuth provider %s in the registry", id);
}

enum err
store_err_unknown_state(struct errinfo *ei)
{
    return err_set(ei, ERR_NOT_FOUND, "unknown_state", "state",
                   "this authorization is unknown or was already used");
}

enum err
store_err_not_connected(struct errinfo *ei)
{
    return err_set(ei, ERR_NOT_FOUND, "not_connected", "auth",
                   "the connection has no OAuth tokens yet: connect it first");
}

enum err
store_err_busy(struct errinfo *ei)
{
    return err_set(ei, ERR_UNAVAILABLE, "store_busy", NULL, "the database is busy; try again");
}

enum err
store_err_schema_too_new(struct errinfo *ei, int64_t have, size_t want)
{
    return err_set(ei, ERR_UNAVAILABLE, "schema_too_new", "--db",
                   "the database has schema version %lld but this connhub knows %zu: run a newer "
                   "connhub",
                   (long long)have, want);
}
