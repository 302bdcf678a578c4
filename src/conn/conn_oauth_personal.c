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

enum err
conn_oauth_personal_commit(struct store *st, const struct vault *v,
                           const struct oauth_state_row *row, const struct oauth_provider *p,
                           const struct oauth_tokens *t, json_t **out, struct errinfo *ei)
{
    const char *conn_id = row->connection_id + 3; /* "me:<id>" */
    struct account_row r = {0};
    struct sealed_set set = {0};
    struct oauth_list granted = {0};
    char uid[32], owner[ACCOUNT_HOLDER_MAX + ID_MAX];
    char *tiers_csv = NULL;
    enum err e = ERR_OK;
    const struct {
        const char *field;
        const struct secret *s;
    } f[] = {{"oauth.access_token", &t->access_token}, {"oauth.refresh_token", &t->refresh_token}};

    *out = NULL;
    snprintf(uid, sizeof(uid), "%lld", (long long)row->user_id);
    snprintf(owner, sizeof(owner), "%s:%s", uid, conn_id);
    for (size_t i = 0; e == ERR_OK && i < 2; i++) {
        struct vault_aad aad = {row->workspace_id, ACCOUNT_KIND_USER, owner, f[i].field};
        unsigned char *ct = NULL;
        size_t n = 0;
        if (f[i].s->p == NULL || f[i].s->len == 0)
            continue;
        e = vault_seal(v, &aad, f[i].s->p, f[i].s->len, &ct, &n, ei);
        if (e == ERR_OK)
            e = sealed_set_add(&set, f[i].field, ct, n);
    }
    /* granted tiers: what the answer's scopes cover, else the requested ones */
    if (e == ERR_OK && t->scope && oauth_scopes_to_tiers(p, t->scope, &granted, ei) == ERR_OK)
        e = oauth_list_join(&granted, ',', &tiers_csv);
    if (e == ERR_OK) {
        r.workspace_id = row->workspace_id;
        r.kind = (char *)ACCOUNT_KIND_USER;
        r.holder = uid;
        r.connection_id = (char *)conn_id;
        r.method = (char *)"oauth";
        r.provider_id = row->provider_id;
        r.tiers = tiers_csv ? tiers_csv : row->tiers;
        r.scopes = t->scope;
        r.expires_at = t->expires_at_ms;
        e = store_account_put(st, &r, &set, ei);
    }
    if (e == ERR_OK) {
        *out = json_pack("{s:s, s:s, s:s?, s:s?, s:b}", "connection_id", conn_id, "provider",
                         row->provider_id, "tiers", r.tiers, "scopes", t->scope, "personal", 1);
        log_kv(LOG_INFO, "oauth.personal_connected", "s:provider", row->provider_id, "s:connection",
               conn_id, "I:user", (long long)row->user_id, LOG_END);
    }
    free(tiers_csv);
    oauth_list_release(&granted);
    sealed_set_release(&set);
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
