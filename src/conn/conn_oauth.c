/*
 * conn_oauth: OAuth2 connections on top of the oauth library.
 *
 *  - providers: the admin registry (definition + client id, client secret
 *    sealed as kind "oauth_provider") wins over the built-ins; client
 *    credentials come from the registry or CONNECT_<ID>_CLIENT_ID/_SECRET;
 *  - start: a single-use state (stored hashed, bound to user, workspace,
 *    connection, tiers, expiry) and a sealed PKCE verifier; a redirect URL;
 *  - callback: takes the state (once), checks iss, exchanges the code, seals
 *    the tokens on the connection, records granted scopes and tiers;
 *  - freshness: before a call, a token expiring within the margin is
 *    refreshed by exactly one worker in any process (a lease in the store);
 *    others wait for the new version; the new tokens are committed before use;
 *    invalid_grant re-reads once, then the connection needs re-authorization;
 *  - revocation (RFC 7009) when a connection is deleted, best effort.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conn/conn_oauth.h"
#include "conn/internal.h"
#include "core/log.h"
#include "core/util.h"
#include "oauth/flow.h"
#include "oauth/refresh.h"
#include "oauth/token.h"
#include "core/banned.h"

#define KIND "connection"
#define F_ACCESS "oauth.access_token"
#define F_REFRESH "oauth.refresh_token"
#define LEASE_POLL_MS 100

/* ---- providers ---- */

enum err
conn_oauth_provider(struct store *st, const char *id, struct oauth_provider *p, struct errinfo *ei)
{
    char *def = NULL;
    json_t *j;
    enum err e = store_oauth_provider_get(st, id, &def, NULL, ei);

    memset(p, 0, sizeof(*p));
    if (e == ERR_NOT_FOUND)
        return oauth_provider_builtin(id, p, ei) == ERR_OK
                   ? ERR_OK
                   : err_set(ei, ERR_NOT_FOUND, "unknown_provider", "provider",
                             "no OAuth provider %s (built in: gmail, github; others are added "
                             "by a platform admin)",
                             id);
    if (e != ERR_OK)
        return e;
    j = json_loads(def, 0, NULL);
    free(def);
    if (j == NULL)
        return err_set(ei, ERR_INTERNAL, "corrupt_row", "provider", "stored provider unreadable");
    e = oauth_provider_from_json(j, p, ei);
    json_decref(j);
    return e;
}

struct reg_arg {
    struct store *st;
    const struct vault *v;
};

/* oauth_client_creds' registry lookup: the admin registry's client id and
 * sealed secret; ERR_NOT_FOUND lets the environment answer. */
static enum err
registry_lookup(void *arg, const char *provider_id, char **client_id, struct secret *secret,
                struct errinfo *ei)
{
    struct reg_arg *ra = arg;
    struct sealed_set set = {0};
    char *def = NULL;
    enum err e = store_oauth_provider_get(ra->st, provider_id, &def, client_id, ei);

    free(def);
    if (e != ERR_OK)
        return e;
    if (*client_id == NULL)
        return err_set(ei, ERR_NOT_FOUND, "no_client", "client_id", "no client id registered");
    e = store_secrets_get(ra->st, 0, "oauth_provider", provider_id, &set, ei);
    if (e == ERR_OK && set.n > 0) {
        struct vault_aad aad = {0, "oauth_provider", provider_id, "client_secret"};
        e = vault_open(ra->v, &aad, set.v[0].data, set.v[0].len, secret, ei);
    }
    sealed_set_release(&set);
    return e;
}

static enum err
client_of(struct store *st, const struct vault *v, const char *id, struct oauth_client *c,
          struct errinfo *ei)
{
    struct reg_arg ra = {st, v};

    return oauth_client_creds(id, registry_lookup, &ra, c, ei);
}

enum err
conn_oauth_provider_put(struct store *st, const struct vault *v, const char *id, const json_t *body,
                        json_t **out, struct errinfo *ei)
{
    json_t *def = json_deep_copy(body);
    const char *client_id = json_string_value(json_object_get(body, "client_id"));
    json_t *secret = json_object_get(body, "client_secret");
    struct oauth_provider p = {0};
    char *text = NULL;
    enum err e;

    json_object_del(def, "client_id");
    json_object_del(def, "client_secret");
    json_object_set_new(def, "id", json_string(id));
    e = oauth_provider_from_json(def, &p, ei);
    if (e == ERR_OK && secret && !json_is_string(secret))
        e = err_set(ei, ERR_INVALID, "invalid_type", "client_secret", "must be a string");
    if (e == ERR_OK) {
        text = json_dumps(def, JSON_COMPACT);
        e = store_oauth_provider_put(st, id, text, client_id, ei);
    }
    if (e == ERR_OK && json_string_length(secret) > 0) { /* blank keeps the stored one */
        struct vault_aad aad = {0, "oauth_provider", id, "client_secret"};
        unsigned char *ct = NULL;
        size_t n = 0;
        e = vault_seal(v, &aad, json_string_value(secret), json_string_length(secret), &ct, &n, ei);
        if (e == ERR_OK)
            e = store_secret_put(st, 0, "oauth_provider", id, "client_secret", ct, n, ei);
        free(ct);
    }
    if (e == ERR_OK) {
        *out = json_pack("{s:s, s:s?, s:b, s:o}", "id", id, "client_id", client_id,
                         "client_secret_set", json_string_length(secret) > 0, "definition",
                         oauth_provider_to_json(&p));
        log_kv(LOG_INFO, "oauth.provider_saved", "s:provider", id, LOG_END);
    }
    free(text);
    json_decref(def);
    oauth_provider_release(&p);
    return e;
}

enum err
conn_oauth_provider_list(struct store *st, json_t **out, struct errinfo *ei)
{
    struct op_row *rows = NULL;
    size_t n = 0;
    json_t *arr = json_array();
    enum err e = store_oauth_provider_list(st, &rows, &n, ei);

    for (size_t i = 0; e == ERR_OK && i < n; i++) {
        json_t *d = json_loads(rows[i].def, 0, NULL);
        char **fields = NULL;
        size_t nf = 0;
        if (store_secret_fields(st, 0, "oauth_provider", rows[i].name, &fields, &nf, ei) == ERR_OK)
            json_object_set_new(d, "client_secret_set", json_boolean(nf > 0));
        string_list_free(fields, nf);
        json_array_append_new(arr, d);
    }
    for (const char *const *b = oauth_provider_builtin_ids(); b && *b; b++)
        json_array_append_new(arr, json_pack("{s:s, s:b}", "id", *b, "builtin", 1));
    op_rows_free(rows, n);
    if (e != ERR_OK) {
        json_decref(arr);
        return e;
    }
    *out = json_pack("{s:o}", "providers", arr);
    return ERR_OK;
}

/* ---- start ---- */

/* personal: the caller's own account for a caller connection (state bound to
 * "me:<connection id>", tokens sealed as the user's, see conn_oauth_personal.c). */
static enum err
start_flow(struct store *st, const struct vault *v, const char *app_url,
           const struct principal *who, const char *provider_id, const char *tiers,
           const char *conn_id, bool personal, char **location, struct errinfo *ei)
{
    char state_conn[ID_MAX + 4];
    struct oauth_provider p = {0};
    struct oauth_client c = {0};
    struct oauth_list scopes = {0}, tiers_l = {0};
    struct oauth_pkce pk = {0};
    struct oauth_state_row row = {0};
    struct conn conn = {0};
    char state[OAUTH_STATE_LEN + 1];
    char *redirect = NULL, *tiers_csv = NULL;
    unsigned char *ct = NULL;
    size_t n = 0;
    enum err e;

    *location = NULL;
    if (app_url == NULL)
        return err_set(ei, ERR_UNPROCESSABLE, "no_app_url", "APP_URL",
                       "the server needs --app-url (or APP_URL) to build OAuth callbacks");
    e = conn_load(st, who->workspace_id, conn_id, NULL, &conn, ei);
    if (e == ERR_OK && strcmp(conn.row.auth_type, "oauth2") != 0)
        e = err_set(ei, ERR_INVALID, "not_oauth2", "connection",
                    "the connection's auth type is %s, not oauth2", conn.row.auth_type);
    if (e == ERR_OK &&
        strcmp(json_string_value(json_object_get(conn.auth, "provider")), provider_id) != 0)
        e = err_set(ei, ERR_INVALID, "provider_mismatch", "provider",
                    "the connection uses provider %s",
                    json_string_value(json_object_get(conn.auth, "provider")));
    if (e == ERR_OK)
        e = personal ? conn_oauth_personal_check(&conn, ei) : conn_may_change(who, &conn.row, ei);
    if (e == ERR_OK)
        snprintf(state_conn, sizeof(state_conn), "%s%s", personal ? "me:" : "", conn.row.id);
    if (e == ERR_OK)
        e = conn_oauth_provider(st, provider_id, &p, ei);
    if (e == ERR_OK)
        e = client_of(st, v, provider_id, &c, ei);
    if (e == ERR_OK)
        e = oauth_tiers_to_scopes(&p, tiers, &scopes, &tiers_l, ei);
    if (e == ERR_OK)
        e = oauth_list_join(&tiers_l, ',', &tiers_csv);
    if (e == ERR_OK)
        e = oauth_redirect_uri(app_url, provider_id, &redirect);
    if (e == ERR_OK)
        e = oauth_state_new(state, ei);
    if (e == ERR_OK && p.pkce)
        e = oauth_pkce_new(&pk, ei);
    if (e == ERR_OK) {
        struct vault_aad aad = {who->workspace_id, "oauth_state", state_conn, "code_verifier"};
        oauth_state_hash(state, row.state_hash);
        e = vault_seal(v, &aad, pk.verifier.p ? pk.verifier.p : "", pk.verifier.len, &ct, &n, ei);
    }
    if (e == ERR_OK) {
        struct oauth_authz a = {c.client_id, redirect, &scopes, state,
                                p.pkce ? pk.challenge : NULL};
        row.provider_id = (char *)provider_id;
        row.workspace_id = who->workspace_id;
        row.user_id = who->user_id;
        row.connection_id = state_conn;
        row.tiers = tiers_csv;
        row.redirect_uri = redirect;
        row.verifier = ct;
        row.verifier_len = n;
        row.expires_at = now_ms() + (int64_t)OAUTH_FLOW_TTL_S * 1000;
        e = store_oauth_state_put(st, &row, ei);
        if (e == ERR_OK)
            e = oauth_authorize_url(&p, &a, location, ei);
    }
    if (e == ERR_OK)
        log_kv(LOG_INFO, "oauth.start", "s:provider", provider_id, "s:connection", conn.row.id,
               "s:tiers", tiers_csv, "s:user", who->user_name, LOG_END);
    OPENSSL_cleanse(state, sizeof(state));
    free(ct);
    free(redirect);
    free(tiers_csv);
    oauth_pkce_release(&pk);
    oauth_list_release(&scopes);
    oauth_list_release(&tiers_l);
    oauth_client_release(&c);
    oauth_provider_release(&p);
    conn_release(&conn);
    return e;
}

enum err
conn_oauth_start(struct store *st, const struct vault *v, const char *app_url,
                 const struct principal *who, const char *provider_id, const char *tiers,
                 const char *conn_id, char **location, struct errinfo *ei)
{
    return start_flow(st, v, app_url, who, provider_id, tiers, conn_id, false, location, ei);
}

enum err
conn_oauth_personal_start(struct store *st, const struct vault *v, const char *app_url,
                          const struct principal *who, const char *provider_id, const char *tiers,
                          const char *conn_id, char **location, struct errinfo *ei)
{
    return start_flow(st, v, app_url, who, provider_id, tiers, conn_id, true, location, ei);
}

/* ---- committing a token set ---- */

static enum err
commit_tokens(struct store *st, const struct vault *v, int64_t ws, const char *conn_id,
              const char *provider_id, const struct oauth_provider *p, const struct oauth_tokens *t,
              const char *requested_tiers, int64_t expect, bool refresh, bool *committed,
              struct errinfo *ei)
{
    struct sealed_set set = {0};
    struct oauth_meta m = {0};
    struct oauth_list granted = {0};
    char *tiers_csv = NULL;
    enum err e = ERR_OK;
    const struct {
        const char *field;
        const struct secret *s;
    } f[] = {{F_ACCESS, &t->access_token}, {F_REFRESH, &t->refresh_token}};

    for (size_t i = 0; e == ERR_OK && i < 2; i++) {
        struct vault_aad aad = {ws, KIND, conn_id, f[i].field};
        unsigned char *ct = NULL;
        size_t n = 0;
        if (f[i].s->p == NULL || f[i].s->len == 0)
            continue;
        e = vault_seal(v, &aad, f[i].s->p, f[i].s->len, &ct, &n, ei);
        if (e == ERR_OK)
            e = sealed_set_add(&set, f[i].field, ct, n);
    }
    /* granted tiers: what the answer's scopes cover (narrowed by the provider), else the
     * requested ones */
    if (e == ERR_OK && t->scope && oauth_scopes_to_tiers(p, t->scope, &granted, ei) == ERR_OK)
        e = oauth_list_join(&granted, ',', &tiers_csv);
    m.provider_id = (char *)provider_id;
    m.scopes = t->scope;
    m.tiers = tiers_csv ? tiers_csv : (char *)requested_tiers;
    m.obtained_at = t->obtained_at_ms;
    m.expires_at = t->expires_at_ms;
    m.refreshes = refresh ? 1 : 0;
    if (e == ERR_OK)
        e = store_oauth_commit(st, ws, conn_id, &m, &set, expect, committed, ei);
    free(tiers_csv);
    oauth_list_release(&granted);
    sealed_set_release(&set);
    return e;
}

/* ---- callback ---- */

struct cb_job {
    conn_async_cb done;
    void *arg;
    struct store *st;
    const struct vault *v;
    struct oauth_provider p;
    struct oauth_state_row row;
};

static void
cb_job_free(struct cb_job *j)
{
    oauth_provider_release(&j->p);
    oauth_state_row_release(&j->row);
    free(j);
}

static void
on_code_exchanged(struct out_response *res, void *arg)
{
    struct cb_job *j = arg;
    struct oauth_tokens t = {0};
    struct oauth_token_error terr = {0};
    struct errinfo ei = {0};
    json_t *out = NULL;
    bool committed = false;
    enum err e = ERR_OK;
    enum oauth_token_result r = oauth_token_parse(res, NULL, now_ms(), &t, &terr, &ei);

    if (r != OAUTH_TOKEN_OK)
        e = err_set(&ei, ERR_UPSTREAM, "token_exchange_failed", "code",
                    "the provider refused the code exchange (%s%s%s)", oauth_token_result_name(r),
                    terr.error[0] ? ": " : "", terr.error);
    if (e == ERR_OK && strncmp(j->row.connection_id, "me:", 3) == 0) { /* a personal account */
        e = conn_oauth_personal_commit(j->st, j->v, &j->row, &j->p, &t, &out, &ei);
        oauth_tokens_release(&t);
        j->done(e, out, &ei, j->arg);
        json_decref(out);
        cb_job_free(j);
        return;
    }
    if (e == ERR_OK)
        e = commit_tokens(j->st, j->v, j->row.workspace_id, j->row.connection_id,
                          j->row.provider_id, &j->p, &t, j->row.tiers, -1, false, &committed, &ei);
    if (e == ERR_OK) {
        struct oauth_meta m = {0};
        if (store_oauth_meta_get(j->st, j->row.workspace_id, j->row.connection_id, &m, &ei) ==
            ERR_OK)
            out = json_pack("{s:s, s:s, s:s?, s:s?}", "connection_id", j->row.connection_id,
                            "provider", j->row.provider_id, "tiers", m.tiers, "scopes", m.scopes);
        oauth_meta_release(&m);
        log_kv(LOG_INFO, "oauth.connected", "s:provider", j->row.provider_id, "s:connection",
               j->row.connection_id, LOG_END);
    } else {
        log_kv(LOG_WARN, "oauth.callback_failed", "s:provider", j->row.provider_id, "s:code",
               ei.code, "s:detail", ei.msg, LOG_END);
    }
    oauth_tokens_release(&t);
    j->done(e, out, &ei, j->arg);
    json_decref(out);
    cb_job_free(j);
}

enum err
conn_oauth_callback(struct store *st, const struct vault *v, struct outbound *ob,
                    const char *provider_id, const struct oauth_callback_in *in, conn_async_cb done,
                    void *arg, struct errinfo *ei)
{
    struct cb_job *j = xcalloc(1, sizeof(*j));
    struct oauth_callback cb = {0};
    struct oauth_client c = {0};
    struct secret verifier = {0};
    struct out_request rq = {0};
    char hash[OAUTH_STATE_HASH_LEN + 1];
    enum err e = ERR_OK;

    j->done = done;
    j->arg = arg;
    j->st = st;
    j->v = v;
    if (in->state == NULL || !oauth_state_wellformed(in->state))
        e = err_set(ei, ERR_INVALID, "bad_state", "state", "the state is missing or malformed");
    if (e == ERR_OK) {
        oauth_state_hash(in->state, hash);
        e = store_oauth_state_take(st, hash, &j->row, ei); /* single use, whatever follows */
    }
    if (e == ERR_OK && j->row.expires_at < now_ms())
        e = err_set(ei, ERR_INVALID, "expired_state", "state",
                    "this authorization expired; start again");
    if (e == ERR_OK && strcmp(j->row.provider_id, provider_id) != 0)
        e = err_set(ei, ERR_INVALID, "provider_mismatch", "state",
                    "the state was issued for another provider");
    if (e == ERR_OK)
        e = conn_oauth_provider(st, provider_id, &j->p, ei);
    if (e == ERR_OK)
        e = oauth_callback_check(&j->p, in, &cb, ei);
    if (e == ERR_OK)
        e = client_of(st, v, provider_id, &c, ei);
    if (e == ERR_OK && j->p.pkce) {
        struct vault_aad aad = {j->row.workspace_id, "oauth_state", j->row.connection_id,
                                "code_verifier"};
        e = vault_open(v, &aad, j->row.verifier, j->row.verifier_len, &verifier, ei);
    }
    if (e == ERR_OK)
        e = oauth_token_request_code(&j->p, &c, &cb.code, j->row.redirect_uri,
                                     j->p.pkce ? &verifier : NULL, &rq, ei);
    if (e == ERR_OK)
        e = outbound_send(ob, &rq, on_code_exchanged, j, NULL);
    secret_release(&verifier);
    oauth_callback_release(&cb);
    oauth_client_release(&c);
    if (e != ERR_OK) {
        out_request_release(&rq);
        log_kv(LOG_WARN, "oauth.callback_refused", "s:provider", provider_id, "s:code", ei->code,
               LOG_END);
        cb_job_free(j);
    }
    return e;
}

/* ---- freshness before a call ---- */

struct fresh_job {
    conn_fresh_cb done;
    void *arg;
    struct store *st;
    const struct vault *v;
    struct outbound *ob;
    struct loop_timer timer;
    struct oauth_provider p;
    int64_t ws;
    char conn_id[ID_MAX];
    char owner[OAUTH_LEASE_OWNER_MAX];
    int64_t version; /* the version we saw expiring */
    int64_t give_up_at;
    bool reread; /* invalid_grant: re-read once before needs_reauth */
};

static void
fresh_finish(struct fresh_job *j, enum err e, const struct errinfo *ei)
{
    struct errinfo none = {0};

    j->done(e, ei ? ei : &none, j->arg);
    oauth_provider_release(&j->p);
    free(j);
}

static enum err
open_token(struct store *st, const struct vault *v, int64_t ws, const char *conn_id,
           const char *field, struct secret *out, struct errinfo *ei)
{
    struct sealed_set set = {0};
    const struct sealed *s;
    enum err e = store_secrets_get(st, ws, KIND, conn_id, &set, ei);

    if (e == ERR_OK) {
        s = sealed_set_find(&set, field);
        if (s == NULL) {
            e = err_set(ei, ERR_UNPROCESSABLE, "not_connected", "auth",
                        "the connection has no OAuth token: connect it first");
        } else {
            struct vault_aad aad = {ws, KIND, conn_id, field};
            e = vault_open(v, &aad, s->data, s->len, out, ei);
        }
    }
    sealed_set_release(&set);
    return e;
}

static void fresh_step(struct loop *lp, void *arg);

static void
on_refreshed(struct out_response *res, void *arg)
{
    struct fresh_job *j = arg;
    struct oauth_tokens t = {0};
    struct oauth_token_error terr = {0};
    struct secret old = {0};
    struct errinfo ei = {0};
    bool committed = false;
    enum oauth_token_result r;
    enum err e;

    e = open_token(j->st, j->v, j->ws, j->conn_id, F_REFRESH, &old, &ei);
    r = oauth_token_parse(res, e == ERR_OK ? &old : NULL, now_ms(), &t, &terr, &ei);
    secret_release(&old);
    if (r == OAUTH_TOKEN_OK) {
        bool rotated = t.refresh_rotated;
        e = commit_tokens(j->st, j->v, j->ws, j->conn_id, j->p.id, &j->p, &t, NULL, j->version,
                          true, &committed, &ei);
        oauth_tokens_release(&t);
        if (e == ERR_OK)
            log_kv(LOG_INFO, "oauth.refreshed", "s:connection", j->conn_id, "b:rotated", rotated,
                   LOG_END);
        fresh_finish(j, e, &ei);
        return;
    }
    oauth_tokens_release(&t);
    if (r == OAUTH_TOKEN_INVALID_GRANT && !j->reread) {
        /* another process may have rotated the token under us: look again once */
        j->reread = true;
        loop_timer_start(outbound_loop(j->ob), &j->timer, 0, fresh_step, j);
        return;
    }
    e = r == OAUTH_TOKEN_INVALID_GRANT
            ? err_set(&ei, ERR_UNPROCESSABLE, "needs_reauth", "auth",
                      "the provider no longer accepts this connection's grant: reconnect it")
            : err_set(&ei, ERR_UPSTREAM, "refresh_failed", "auth",
                      "refreshing the access token failed (%s%s%s)", oauth_token_result_name(r),
                      terr.error[0] ? ": " : "", terr.error);
    if (store_oauth_health(j->st, j->ws, j->conn_id,
                           r == OAUTH_TOKEN_INVALID_GRANT ? "needs_reauth" : "degraded", ei.msg,
                           &(struct errinfo){0}) != ERR_OK)
        log_kv(LOG_WARN, "oauth.health_write_failed", "s:connection", j->conn_id, LOG_END);
    log_kv(LOG_WARN, "oauth.refresh_failed", "s:connection", j->conn_id, "s:code", ei.code,
           LOG_END);
    fresh_finish(j, e, &ei);
}

static enum err
start_refresh(struct fresh_job *j, struct errinfo *ei)
{
    struct oauth_client c = {0};
    struct secret rt = {0};
    struct out_request rq = {0};
    enum err e = open_token(j->st, j->v, j->ws, j->conn_id, F_REFRESH, &rt, ei);

    if (e == ERR_OK)
        e = client_of(j->st, j->v, j->p.id, &c, ei);
    if (e == ERR_OK)
        e = oauth_token_request_refresh(&j->p, &c, &rt, NULL, &rq, ei);
    if (e == ERR_OK)
        e = outbound_send(j->ob, &rq, on_refreshed, j, NULL);
    else
        out_request_release(&rq);
    secret_release(&rt);
    oauth_client_release(&c);
    return e;
}

/* One turn: fresh already? take the lease? wait for the holder? */
static void
fresh_step(struct loop *lp, void *arg)
{
    struct fresh_job *j = arg;
    struct oauth_meta m = {0};
    struct errinfo ei = {0};
    int64_t now = now_ms();
    bool got = false;
    enum err e = store_oauth_meta_get(j->st, j->ws, j->conn_id, &m, &ei);

    (void)lp;
    if (e == ERR_OK &&
        (m.version != j->version ||
         !oauth_needs_refresh(now, m.obtained_at, m.expires_at, OAUTH_REFRESH_MARGIN_S))) {
        oauth_meta_release(&m);
        fresh_finish(j, ERR_OK, NULL); /* someone refreshed it: use theirs */
        return;
    }
    if (e == ERR_OK && j->reread) {
        oauth_meta_release(&m);
        e = err_set(&ei, ERR_UNPROCESSABLE, "needs_reauth", "auth",
                    "the provider no longer accepts this connection's grant: reconnect it");
        if (store_oauth_health(j->st, j->ws, j->conn_id, "needs_reauth", ei.msg,
                               &(struct errinfo){0}) != ERR_OK)
            log_kv(LOG_WARN, "oauth.health_write_failed", "s:connection", j->conn_id, LOG_END);
        fresh_finish(j, e, &ei);
        return;
    }
    if (e == ERR_OK)
        e = store_oauth_lease(j->st, j->ws, j->conn_id, j->owner, j->version, now,
                              now + OAUTH_LEASE_TTL_MS, &got, &ei);
    oauth_meta_release(&m);
    if (e == ERR_OK && got) {
        e = start_refresh(j, &ei);
        if (e == ERR_OK)
            return;
    }
    if (e == ERR_OK && now > j->give_up_at)
        e = err_set(&ei, ERR_TIMEOUT, "refresh_wait_timeout", "auth",
                    "another refresh of this connection did not finish in time");
    if (e != ERR_OK) {
        fresh_finish(j, e, &ei);
        return;
    }
    loop_timer_start(outbound_loop(j->ob), &j->timer, LEASE_POLL_MS, fresh_step, j);
}

enum err
conn_oauth_fresh(struct store *st, const struct vault *v, struct outbound *ob, const struct conn *c,
                 bool *ready, conn_fresh_cb done, void *arg, struct errinfo *ei)
{
    struct oauth_meta m = {0};
    struct fresh_job *j;
    enum err e = store_oauth_meta_get(st, c->row.workspace_id, c->row.id, &m, ei);

    *ready = false;
    if (e == ERR_NOT_FOUND)
        return err_set(ei, ERR_UNPROCESSABLE, "not_connected", "auth",
                       "the connection has no OAuth tokens yet: connect it through "
                       "/api/auth/connect/%s/start",
                       json_string_value(json_object_get(c->auth, "provider")));
    if (e == ERR_OK && m.health && strcmp(m.health, "needs_reauth") == 0)
        e = err_set(ei, ERR_UNPROCESSABLE, "needs_reauth", "auth",
                    "the connection needs to be reconnected: %s",
                    m.last_error ? m.last_error : "the grant was refused");
    if (e == ERR_OK &&
        !oauth_needs_refresh(now_ms(), m.obtained_at, m.expires_at, OAUTH_REFRESH_MARGIN_S)) {
        *ready = true;
        oauth_meta_release(&m);
        return ERR_OK;
    }
    if (e != ERR_OK) {
        oauth_meta_release(&m);
        return e;
    }
    j = xcalloc(1, sizeof(*j));
    j->done = done;
    j->arg = arg;
    j->st = st;
    j->v = v;
    j->ob = ob;
    j->ws = c->row.workspace_id;
    j->version = m.version;
    j->give_up_at = now_ms() + OAUTH_LEASE_WAIT_MAX_MS;
    snprintf(j->conn_id, sizeof(j->conn_id), "%s", c->row.id);
    oauth_meta_release(&m);
    if (oauth_lease_owner_new(j->owner) != ERR_OK) {
        free(j);
        return err_set(ei, ERR_CRYPTO, "rng_failed", NULL, "random number generator failed");
    }
    e = conn_oauth_provider(st, json_string_value(json_object_get(c->auth, "provider")), &j->p, ei);
    if (e != ERR_OK) {
        free(j);
        return e;
    }
    loop_timer_start(outbound_loop(ob), &j->timer, 0, fresh_step, j);
    return ERR_OK;
}

/* ---- revocation ---- */

static void
on_revoked(struct out_response *res, void *arg)
{
    char *conn_id = arg;

    log_kv(oauth_revoke_ok(res) ? LOG_INFO : LOG_WARN, "oauth.revoked", "s:connection", conn_id,
           "b:ok", oauth_revoke_ok(res), "I:status", (long long)res->status, LOG_END);
    free(conn_id);
}

void
conn_oauth_revoke(struct store *st, const struct vault *v, struct outbound *ob,
                  const struct conn *c)
{
    struct oauth_provider p = {0};
    struct oauth_client cl = {0};
    struct errinfo ei = {0};
    const char *fields[] = {F_REFRESH, F_ACCESS};
    const char *hints[] = {"refresh_token", "access_token"};

    if (conn_oauth_provider(st, json_string_value(json_object_get(c->auth, "provider")), &p, &ei) !=
            ERR_OK ||
        p.revocation_url == NULL || client_of(st, v, p.id, &cl, &ei) != ERR_OK) {
        log_kv(LOG_INFO, "oauth.revoke_skipped", "s:connection", c->row.id, "s:detail",
               p.id && p.revocation_url == NULL ? "the provider has no revocation endpoint"
                                                : ei.msg,
               LOG_END);
        oauth_provider_release(&p);
        oauth_client_release(&cl);
        return;
    }
    for (size_t i = 0; i < 2; i++) {
        struct secret tok = {0};
        struct out_request rq = {0};
        if (open_token(st, v, c->row.workspace_id, c->row.id, fields[i], &tok, &ei) == ERR_OK &&
            oauth_revoke_request(&p, &cl, &tok, hints[i], &rq, &ei) == ERR_OK &&
            outbound_send(ob, &rq, on_revoked, xstrdup(c->row.id), NULL) == ERR_OK) {
            secret_release(&tok);
            continue;
        }
        out_request_release(&rq);
        secret_release(&tok);
    }
    oauth_provider_release(&p);
    oauth_client_release(&cl);
}

enum err
conn_oauth_client(struct store *st, const struct vault *v, const char *provider_id,
                  struct oauth_client *c, struct errinfo *ei)
{
    return client_of(st, v, provider_id, c, ei);
}
