/*
 * conn_oauth_personal: OAuth2 personal accounts ("My Accounts"). A member
 * connects their own account to a caller connection once; the tokens are
 * sealed as that user's (kind "account", owner "<user id>:<connection id>",
 * fields oauth.access_token and oauth.refresh_token) with the granted tiers
 * recorded on the account row, so only runs that user triggers inject them.
 * Removing the account revokes the tokens (RFC 7009) where the provider has
 * a revocation URL. The flow itself (state, PKCE, iss, code exchange) is
 * conn_oauth.c's, with the state bound to "me:<connection id>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/accounts.h"
#include "conn/conn_oauth.h"
#include "core/log.h"
#include "core/util.h"
#include "oauth/token.h"
#include "core/banned.h"

enum err
conn_oauth_personal_check(const struct conn *c, struct errinfo *ei)
{
    if (strcmp(c->row.fulfillment, "caller") != 0)
        return err_set(ei, ERR_INVALID, "wrong_fulfillment", "connection",
                       "connection %s has fulfillment %s: personal accounts are for caller "
                       "connections",
                       c->row.slug, c->row.fulfillment);
    return ERR_OK;
}

/* Seals t's tokens as user uid's account on conn_id (replacing the old
 * ones) with the granted tiers: what t's scopes cover, else `tiers`. */
static enum err
personal_save(struct store *st, const struct vault *v, int64_t ws, int64_t uid_n,
              const char *conn_id, const char *provider_id, const struct oauth_provider *p,
              const struct oauth_tokens *t, const char *tiers, char **tiers_out, struct errinfo *ei)
{
    struct account_row r = {0};
    struct sealed_set set = {0};
    char uid[32], owner[ACCOUNT_HOLDER_MAX + ID_MAX];
    char *tiers_csv = NULL;
    enum err e;

    snprintf(uid, sizeof(uid), "%lld", (long long)uid_n);
    snprintf(owner, sizeof(owner), "%s:%s", uid, conn_id);
    e = conn_oauth_seal_grant(v, ws, ACCOUNT_KIND_USER, owner, p, t, &set, &tiers_csv, ei);
    if (e == ERR_OK) {
        r.workspace_id = ws;
        r.kind = (char *)ACCOUNT_KIND_USER;
        r.holder = uid;
        r.connection_id = (char *)conn_id;
        r.method = (char *)"oauth";
        r.provider_id = (char *)provider_id;
        r.tiers = tiers_csv ? tiers_csv : (char *)tiers;
        r.scopes = t->scope;
        r.expires_at = t->expires_at_ms;
        e = store_account_put(st, &r, &set, ei);
    }
    if (e == ERR_OK && tiers_out)
        *tiers_out = r.tiers ? xstrdup(r.tiers) : NULL;
    free(tiers_csv);
    sealed_set_release(&set);
    return e;
}

enum err
conn_oauth_personal_commit(struct store *st, const struct vault *v,
                           const struct oauth_state_row *row, const struct oauth_provider *p,
                           const struct oauth_tokens *t, json_t **out, struct errinfo *ei)
{
    const char *conn_id = row->connection_id + 3; /* "me:<id>" */
    char *tiers = NULL;
    enum err e = personal_save(st, v, row->workspace_id, row->user_id, conn_id, row->provider_id, p,
                               t, row->tiers, &tiers, ei);

    *out = NULL;
    if (e == ERR_OK) {
        *out = json_pack("{s:s, s:s, s:s?, s:s?, s:b}", "connection_id", conn_id, "provider",
                         row->provider_id, "tiers", tiers, "scopes", t->scope, "personal", 1);
        log_kv(LOG_INFO, "oauth.personal_connected", "s:provider", row->provider_id, "s:connection",
               conn_id, "I:user", (long long)row->user_id, LOG_END);
    }
    free(tiers);
    return e;
}

/* ---- freshness of a personal token before a call ---- */

#define OLD_TOKEN_MIN_LEFT_MS 500 /* as conn_oauth.c: a token this close to expiry is not used */

struct pfresh_job {
    conn_fresh_cb done;
    void *arg;
    struct store *st;
    const struct vault *v;
    struct oauth_provider p;
    int64_t ws, uid;
    char conn_id[ID_MAX];
    char *tiers;     /* granted, kept across the refresh */
    int64_t version; /* the account's updated_at we saw (or that the upstream refused) */
    int64_t expires_at;
    bool forced;
    struct oauth_use use;
};

static void
pfresh_finish(struct pfresh_job *j, enum err e, const struct errinfo *ei)
{
    struct errinfo none = {0};

    j->done(e, ei ? ei : &none, &j->use, j->arg);
    oauth_provider_release(&j->p);
    free(j->tiers);
    free(j);
}

static enum err
open_personal(struct store *st, const struct vault *v, int64_t ws, int64_t uid, const char *conn_id,
              const char *field, struct secret *out, struct errinfo *ei)
{
    struct sealed_set set = {0};
    const struct sealed *sv;
    char owner[ACCOUNT_HOLDER_MAX + ID_MAX];
    enum err e;

    snprintf(owner, sizeof(owner), "%lld:%s", (long long)uid, conn_id);
    e = store_secrets_get(st, ws, ACCOUNT_KIND_USER, owner, &set, ei);
    sv = e == ERR_OK ? sealed_set_find(&set, field) : NULL;
    if (sv != NULL) {
        struct vault_aad aad = {ws, ACCOUNT_KIND_USER, owner, field};
        e = vault_open(v, &aad, sv->data, sv->len, out, ei);
    } else if (e == ERR_OK) {
        e = err_set(ei, ERR_NOT_FOUND, "no_token", "auth", "no %s", field);
    }
    sealed_set_release(&set);
    return e;
}

static enum err
needs_reconnect(struct errinfo *ei, const char *why, const char *provider, const char *conn_id)
{
    return err_set(ei, ERR_UNPROCESSABLE, "needs_credential", "connection",
                   "the user's own OAuth account for this connection %s: reconnect at "
                   "/api/auth/connect/%s/start?personal=1&connection=%s",
                   why, provider, conn_id);
}

static void
on_personal_refreshed(struct out_response *res, void *arg)
{
    struct pfresh_job *j = arg;
    struct oauth_tokens t = {0};
    struct oauth_token_error terr = {0};
    struct secret old = {0};
    struct account_row r = {0};
    struct errinfo ei = {0};
    enum oauth_token_result tr;
    enum err e =
        open_personal(j->st, j->v, j->ws, j->uid, j->conn_id, "oauth.refresh_token", &old, &ei);
    char uid[32];

    tr = oauth_token_parse(res, e == ERR_OK ? &old : NULL, now_ms(), &t, &terr, &ei);
    secret_release(&old);
    snprintf(uid, sizeof(uid), "%lld", (long long)j->uid);
    memset(&ei, 0, sizeof(ei));
    if (tr == OAUTH_TOKEN_OK) {
        e = personal_save(j->st, j->v, j->ws, j->uid, j->conn_id, j->p.id, &j->p, &t, j->tiers,
                          NULL, &ei);
        oauth_tokens_release(&t);
        if (e == ERR_OK)
            e = store_account_get(j->st, j->ws, ACCOUNT_KIND_USER, uid, j->conn_id, &r, &ei);
        if (e == ERR_OK) {
            j->use.version = r.updated_at;
            j->use.healthy = true;
            log_kv(LOG_INFO, "oauth.personal_refreshed", "s:connection", j->conn_id, "I:user",
                   (long long)j->uid, "b:forced", j->forced, LOG_END);
        }
        account_row_release(&r);
        pfresh_finish(j, e, &ei);
        return;
    }
    oauth_tokens_release(&t);
    log_kv(LOG_WARN, "oauth.personal_refresh_failed", "s:connection", j->conn_id, "I:user",
           (long long)j->uid, "s:result", oauth_token_result_name(tr), LOG_END);
    /* another call may have rotated the refresh token meanwhile: use its tokens */
    if (store_account_get(j->st, j->ws, ACCOUNT_KIND_USER, uid, j->conn_id, &r, &ei) == ERR_OK &&
        r.updated_at != j->version) {
        j->use.version = r.updated_at;
        account_row_release(&r);
        pfresh_finish(j, ERR_OK, NULL);
        return;
    }
    account_row_release(&r);
    memset(&ei, 0, sizeof(ei));
    if (tr == OAUTH_TOKEN_INVALID_GRANT)
        e = needs_reconnect(&ei, "is no longer accepted by the provider", j->p.id, j->conn_id);
    else if (!j->forced && (j->expires_at == 0 || j->expires_at > now_ms() + OLD_TOKEN_MIN_LEFT_MS))
        e = ERR_OK; /* the old token still lives: use it */
    else
        e = err_set(&ei, res->fail == OUT_FAIL_TIMEOUT ? ERR_TIMEOUT : ERR_UPSTREAM,
                    "refresh_failed", "auth",
                    "refreshing the user's own access token failed (%s%s%s)",
                    oauth_token_result_name(tr), terr.error[0] ? ": " : "", terr.error);
    pfresh_finish(j, e, e == ERR_OK ? NULL : &ei);
}

enum err
conn_oauth_personal_fresh(struct store *st, const struct vault *v, struct outbound *ob,
                          const struct conn *c, int64_t uid, const char *need_tier,
                          int64_t forced_from, struct oauth_use *use, bool *ready,
                          conn_fresh_cb done, void *arg, struct errinfo *ei)
{
    const char *provider = json_string_value(json_object_get(c->auth, "provider"));
    struct account_row r = {0};
    struct oauth_provider p = {0};
    struct oauth_client cl = {0};
    struct secret rt = {0};
    struct out_request rq = {0};
    struct pfresh_job *j = NULL;
    char suid[32];
    bool need;
    enum err e;

    *ready = false;
    memset(use, 0, sizeof(*use));
    use->version = -1;
    snprintf(suid, sizeof(suid), "%lld", (long long)uid);
    e = store_account_get(st, c->row.workspace_id, ACCOUNT_KIND_USER, suid, c->row.id, &r, ei);
    if (e == ERR_NOT_FOUND) { /* the credential lookup names who must connect */
        memset(ei, 0, sizeof(*ei));
        *ready = true;
        return ERR_OK;
    }
    if (e == ERR_OK)
        e = conn_oauth_provider(st, provider, &p, ei);
    if (e == ERR_OK)
        e = conn_oauth_check_tier_for(&p, provider, r.tiers, need_tier, c->row.id, true, ei);
    use->version = r.updated_at;
    use->healthy = true;
    need = forced_from >= 0
               ? forced_from == r.updated_at
               : oauth_needs_refresh(now_ms(), r.updated_at, r.expires_at, OAUTH_REFRESH_MARGIN_S);
    if (e == ERR_OK && !need) {
        *ready = true;
        goto out;
    }
    if (e == ERR_OK) {
        enum err te = open_personal(st, v, c->row.workspace_id, uid, c->row.id,
                                    "oauth.refresh_token", &rt, ei);
        if (te == ERR_NOT_FOUND && forced_from >= 0) { /* nothing to refresh with: retry as is */
            memset(ei, 0, sizeof(*ei));
            *ready = true;
            goto out;
        }
        if (te == ERR_NOT_FOUND && r.expires_at > now_ms() + OLD_TOKEN_MIN_LEFT_MS) {
            memset(ei, 0, sizeof(*ei)); /* no refresh token, but the token still lives */
            *ready = true;
            goto out;
        }
        e = te == ERR_NOT_FOUND ? needs_reconnect(ei, "has expired", provider, c->row.id) : te;
    }
    if (e == ERR_OK)
        e = conn_oauth_client(st, v, p.id, &cl, ei);
    if (e == ERR_OK)
        e = oauth_token_request_refresh(&p, &cl, &rt, NULL, &rq, ei);
    if (e == ERR_OK) {
        j = xcalloc(1, sizeof(*j));
        j->done = done;
        j->arg = arg;
        j->st = st;
        j->v = v;
        j->p = p;
        memset(&p, 0, sizeof(p));
        j->ws = c->row.workspace_id;
        j->uid = uid;
        snprintf(j->conn_id, sizeof(j->conn_id), "%s", c->row.id);
        j->tiers = r.tiers ? xstrdup(r.tiers) : NULL;
        j->version = r.updated_at;
        j->expires_at = r.expires_at;
        j->forced = forced_from >= 0;
        j->use = *use;
        e = outbound_send(ob, &rq, on_personal_refreshed, j, NULL);
        memset(&rq, 0, sizeof(rq)); /* owned (and released) by outbound_send */
        if (e != ERR_OK) {
            oauth_provider_release(&j->p);
            free(j->tiers);
            free(j);
        }
    }
out:
    if (e != ERR_OK)
        out_request_release(&rq);
    secret_release(&rt);
    oauth_client_release(&cl);
    oauth_provider_release(&p);
    account_row_release(&r);
    return e;
}

static void
on_personal_revoked(struct out_response *res, void *arg)
{
    char *what = arg;

    log_kv(oauth_revoke_ok(res) ? LOG_INFO : LOG_WARN, "oauth.personal_revoked", "s:account", what,
           "b:ok", oauth_revoke_ok(res), "I:status", (long long)res->status, LOG_END);
    free(what);
}

void
conn_oauth_personal_revoke(struct store *st, const struct vault *v, struct outbound *ob,
                           const struct conn *c, int64_t uid)
{
    struct oauth_provider p = {0};
    struct oauth_client cl = {0};
    struct sealed_set set = {0};
    struct errinfo ei = {0};
    char owner[ACCOUNT_HOLDER_MAX + ID_MAX];
    static const char *const hints[] = {"refresh_token", "access_token"};
    enum err e =
        conn_oauth_provider(st, json_string_value(json_object_get(c->auth, "provider")), &p, &ei);

    snprintf(owner, sizeof(owner), "%lld:%s", (long long)uid, c->row.id);
    if (e == ERR_OK && p.revocation_url == NULL)
        e = err_set(&ei, ERR_UNPROCESSABLE, "no_revocation", NULL,
                    "the provider has no revocation endpoint");
    if (e == ERR_OK)
        e = conn_oauth_client(st, v, p.id, &cl, &ei);
    if (e == ERR_OK)
        e = store_secrets_get(st, c->row.workspace_id, ACCOUNT_KIND_USER, owner, &set, &ei);
    for (size_t h = 0; e == ERR_OK && h < 2; h++) {
        char field[32];
        const struct sealed *sv;
        struct secret tok = {0};
        struct out_request rq = {0};
        struct vault_aad aad = {c->row.workspace_id, ACCOUNT_KIND_USER, owner, field};
        snprintf(field, sizeof(field), "oauth.%s", hints[h]);
        sv = sealed_set_find(&set, field);
        if (sv && vault_open(v, &aad, sv->data, sv->len, &tok, &ei) == ERR_OK &&
            oauth_revoke_request(&p, &cl, &tok, hints[h], &rq, &ei) == ERR_OK &&
            outbound_send(ob, &rq, on_personal_revoked, xstrdup(owner), NULL) == ERR_OK)
            memset(&rq, 0, sizeof(rq)); /* owned by the transfer */
        out_request_release(&rq);
        secret_release(&tok);
    }
    if (e != ERR_OK)
        log_kv(LOG_INFO, "oauth.personal_revoke_skipped", "s:connection", c->row.id, "s:detail",
               ei.msg, LOG_END);
    sealed_set_release(&set);
    oauth_client_release(&cl);
    oauth_provider_release(&p);
}

size_t
conn_oauth_personal_revoke_all(struct store *st, const struct vault *v, struct outbound *ob,
                               const struct conn *c)
{
    struct account_row *rows = NULL;
    struct errinfo ei = {0};
    size_t n = 0, sent = 0;

    if (store_account_list_conn(st, c->row.workspace_id, ACCOUNT_KIND_USER, c->row.id,
                                MAX_ACCOUNTS_REVOKED + 1, &rows, &n, &ei) != ERR_OK) {
        log_kv(LOG_WARN, "oauth.personal_revoke_skipped", "s:connection", c->row.id, "s:detail",
               ei.msg, LOG_END);
        return 0;
    }
    if (n > MAX_ACCOUNTS_REVOKED)
        log_kv(LOG_WARN, "oauth.personal_revoke_capped", "s:connection", c->row.id, "I:max",
               (long long)MAX_ACCOUNTS_REVOKED, LOG_END);
    for (size_t i = 0; i < n && i < MAX_ACCOUNTS_REVOKED; i++) {
        char *end = NULL;
        long long uid = strtoll(rows[i].holder, &end, 10);
        if (strcmp(rows[i].method, "oauth") != 0 || end == rows[i].holder || *end != '\0')
            continue;
        conn_oauth_personal_revoke(st, v, ob, c, (int64_t)uid);
        sent++;
    }
    account_rows_free(rows, n);
    return sent;
}
