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
#include "oauth/discovery.h"
#include "oauth/flow.h"
#include "oauth/refresh.h"
#include "oauth/token.h"
#include "outbound/ssrf.h"
#include "core/banned.h"

#define KIND "connection"
#define F_ACCESS "oauth.access_token"
#define F_REFRESH "oauth.refresh_token"
#define LEASE_POLL_MS 100
/* after a failed refresh the old access token is used while it has this long left */
#define OAUTH_OLD_TOKEN_MIN_LEFT_MS 500

static void log_health_change(const char *conn_id, const char *from, const char *to,
                              const char *code, const char *why);

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
    json_object_del(def, "discover"); /* conn_oauth_provider_discover's: done with */
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

/* A provider PUT waiting for its issuer's metadata. */
struct pdisc {
    struct store *st;
    const struct vault *v;
    char id[OAUTH_MAX_ID_LEN + 1];
    json_t *body;
    conn_async_cb done;
    void *arg;
};

static void
on_endpoints(enum err e, json_t *endpoints, const struct errinfo *dei, void *arg)
{
    struct pdisc *j = arg;
    struct errinfo ei = {0};
    json_t *out = NULL, *v;
    const char *k;

    if (e == ERR_OK) {
        json_object_foreach (endpoints, k, v)
            if (json_object_get(j->body, k) == NULL) /* what the admin wrote wins */
                json_object_set(j->body, k, v);
        e = conn_oauth_provider_put(j->st, j->v, j->id, j->body, &out, &ei);
    } else {
        ei = *dei;
    }
    if (e != ERR_OK)
        log_kv(LOG_WARN, "oauth.discovery_failed", "s:provider", j->id, "s:code", ei.code,
               "s:detail", ei.msg, LOG_END);
    j->done(e, out, &ei, j->arg);
    json_decref(out);
    json_decref(endpoints);
    json_decref(j->body);
    free(j);
}

enum err
conn_oauth_provider_discover(struct store *st, const struct vault *v, struct outbound *ob,
                             const char *id, const json_t *body, conn_async_cb done, void *arg,
                             struct errinfo *ei)
{
    struct pdisc *j;
    enum err e;

    if (id == NULL || !str_is_slug(id, OAUTH_MAX_ID_LEN))
        return err_set(ei, ERR_INVALID, "invalid_field", "id",
                       "id must be 1..%d characters of a-z, 0-9 and _", OAUTH_MAX_ID_LEN);
    j = xcalloc(1, sizeof(*j));
    j->st = st;
    j->v = v;
    snprintf(j->id, sizeof(j->id), "%s", id);
    j->body = json_deep_copy(body);
    j->done = done;
    j->arg = arg;
    e = j->body ? oauth_discover(ob, json_string_value(json_object_get(body, "issuer")),
                                 on_endpoints, j, ei)
                : ERR_NOMEM;
    if (e != ERR_OK) {
        json_decref(j->body);
        free(j);
    }
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

enum err
conn_oauth_seal_grant(const struct vault *v, int64_t ws, const char *kind, const char *owner,
                      const struct oauth_provider *p, const struct oauth_tokens *t,
                      struct sealed_set *set, char **tiers_csv, struct errinfo *ei)
{
    struct oauth_list granted = {0};
    enum err e = ERR_OK;
    const struct {
        const char *field;
        const struct secret *s;
    } f[] = {{F_ACCESS, &t->access_token}, {F_REFRESH, &t->refresh_token}};

    *tiers_csv = NULL;
    for (size_t i = 0; e == ERR_OK && i < 2; i++) {
        struct vault_aad aad = {ws, kind, owner, f[i].field};
        unsigned char *ct = NULL;
        size_t n = 0;
        if (f[i].s->p == NULL || f[i].s->len == 0)
            continue;
        e = vault_seal(v, &aad, f[i].s->p, f[i].s->len, &ct, &n, ei);
        if (e == ERR_OK)
            e = sealed_set_add(set, f[i].field, ct, n);
    }
    /* granted tiers: what the answer's scopes cover (narrowed by the provider), else the
     * requested ones (*tiers_csv stays NULL) */
    if (e == ERR_OK && p && t->scope && oauth_scopes_to_tiers(p, t->scope, &granted, ei) == ERR_OK)
        e = oauth_list_join(&granted, ',', tiers_csv);
    oauth_list_release(&granted);
    return e;
}

static enum err
commit_tokens(struct store *st, const struct vault *v, int64_t ws, const char *conn_id,
              const char *provider_id, const struct oauth_provider *p, const struct oauth_tokens *t,
              const char *requested_tiers, int64_t expect, bool refresh, bool forced,
              bool *committed, struct errinfo *ei)
{
    struct sealed_set set = {0};
    struct oauth_meta m = {0};
    char *tiers_csv = NULL;
    enum err e = conn_oauth_seal_grant(v, ws, KIND, conn_id, p, t, &set, &tiers_csv, ei);

    m.provider_id = (char *)provider_id;
    m.scopes = t->scope;
    m.tiers = tiers_csv ? tiers_csv : (char *)requested_tiers;
    m.obtained_at = t->obtained_at_ms;
    m.expires_at = t->expires_at_ms;
    m.refreshes = refresh ? 1 : 0;
    m.forced_refreshes = forced ? 1 : 0;
    if (e == ERR_OK)
        e = store_oauth_commit(st, ws, conn_id, &m, &set, expect, committed, ei);
    free(tiers_csv);
    sealed_set_release(&set);
    return e;
}

enum err
conn_oauth_commit(struct store *st, const struct vault *v, int64_t ws, const char *conn_id,
                  const char *provider_id, const struct oauth_provider *p,
                  const struct oauth_tokens *t, const char *tiers, int64_t expect, bool refresh,
                  bool forced, bool *committed, struct errinfo *ei)
{
    return commit_tokens(st, v, ws, conn_id, provider_id, p, t, tiers, expect, refresh, forced,
                         committed, ei);
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
    if (e == ERR_OK) { /* a reconnect is a change of state when the grant was not healthy */
        struct oauth_meta m = {0};
        if (store_oauth_meta_get(j->st, j->row.workspace_id, j->row.connection_id, &m, &ei) ==
                ERR_OK &&
            m.health && strcmp(m.health, "healthy") != 0)
            log_health_change(j->row.connection_id, m.health, "healthy", NULL, "reconnected");
        oauth_meta_release(&m);
        memset(&ei, 0, sizeof(ei));
    }
    if (e == ERR_OK)
        e = commit_tokens(j->st, j->v, j->row.workspace_id, j->row.connection_id,
                          j->row.provider_id, &j->p, &t, j->row.tiers, -1, false, false, &committed,
                          &ei);
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
                    const char *provider_id, const struct oauth_callback_in *in,
                    int64_t caller_user, conn_async_cb done, void *arg, struct errinfo *ei)
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
        if (e == ERR_NOT_FOUND) /* unknown or replayed: a bad request (OAUTH-004) */
            e = err_set(ei, ERR_INVALID, "unknown_state", "state",
                        "this authorization is unknown or was already used");
    }
    if (e == ERR_OK && j->row.expires_at < now_ms())
        e = err_set(ei, ERR_INVALID, "expired_state", "state",
                    "this authorization expired; start again");
    if (e == ERR_OK && caller_user != 0 && caller_user != j->row.user_id)
        e = err_set(ei, ERR_INVALID, "state_user_mismatch", "state",
                    "this authorization was started by another user; start it again yourself");
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

/* ---- health ---- */

static void
meta_to_state(const struct oauth_meta *m, struct oauth_health_state *h)
{
    memset(h, 0, sizeof(*h));
    if (m->health == NULL || !oauth_health_parse(m->health, &h->status))
        h->status = OAUTH_HEALTHY;
    h->consecutive_failures = (uint32_t)m->consecutive_failures;
    h->total_failures = (uint32_t)m->total_failures;
    h->last_success_ms = m->last_success_at;
    h->last_failure_ms = m->last_failure_at;
    h->next_retry_ms = m->next_retry_at;
    snprintf(h->last_error_code, sizeof(h->last_error_code), "%s",
             m->last_error_code ? m->last_error_code : "");
    snprintf(h->last_error, sizeof(h->last_error), "%s", m->last_error ? m->last_error : "");
}

static uint32_t
jitter(void)
{
    uint32_t r = 0;

    if (rand_bytes(&r, sizeof(r)) != ERR_OK)
        r = (uint32_t)now_ms();
    return r;
}

static void
log_health_change(const char *conn_id, const char *from, const char *to, const char *code,
                  const char *why)
{
    bool recovered = strcmp(to, "healthy") == 0;

    log_kv(recovered ? LOG_INFO : LOG_WARN, "oauth.health_changed", "s:connection", conn_id,
           "s:from", from, "s:to", to, "b:recovered", recovered, "s:code", code ? code : "",
           "s:detail", why ? why : "", LOG_END);
}

/* Applies ev to the stored health of conn_id, writes it (releasing the
 * refresh lease when asked) and logs a change of state. */
void
conn_oauth_health_event(struct store *st, int64_t ws, const char *conn_id, enum oauth_event ev,
                        const char *code, const char *desc, bool release_lease)
{
    struct oauth_meta m = {0};
    struct oauth_health_state h;
    struct errinfo ei = {0};
    enum oauth_health before;
    int64_t now = now_ms();

    if (store_oauth_meta_get(st, ws, conn_id, &m, &ei) != ERR_OK) {
        oauth_meta_release(&m);
        return;
    }
    meta_to_state(&m, &h);
    before = h.status;
    oauth_health_apply(&h, ev, now, code, desc, jitter());
    free(m.health);
    free(m.last_error_code);
    free(m.last_error);
    m.health = xstrdup(oauth_health_name(h.status));
    m.last_error_code = h.last_error_code[0] ? xstrdup(h.last_error_code) : NULL;
    m.last_error = h.last_error[0] ? xstrdup(h.last_error) : NULL;
    m.consecutive_failures = h.consecutive_failures;
    m.total_failures = h.total_failures;
    m.last_success_at = h.last_success_ms;
    m.last_failure_at = h.last_failure_ms;
    m.next_retry_at = h.next_retry_ms;
    m.health_changed_at = now;
    if (store_oauth_health_set(st, ws, conn_id, &m, release_lease, &ei) != ERR_OK)
        log_kv(LOG_WARN, "oauth.health_write_failed", "s:connection", conn_id, "s:code", ei.code,
               LOG_END);
    else if (before != h.status)
        log_health_change(conn_id, oauth_health_name(before), m.health, m.last_error_code,
                          m.last_error);
    oauth_meta_release(&m);
}

json_t *
conn_oauth_health_json(struct store *st, int64_t ws, const char *conn_id)
{
    struct oauth_meta m = {0};
    struct errinfo ei = {0};
    json_t *o;
    enum err e = store_oauth_meta_get(st, ws, conn_id, &m, &ei);

    if (e == ERR_NOT_FOUND)
        o = json_pack("{s:b, s:s}", "connected", 0, "state", "not_connected");
    else if (e != ERR_OK)
        o = NULL;
    else
        o = json_pack("{s:b, s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                      "s:I, s:I, s:I}",
                      "connected", 1, "state", m.health ? m.health : "healthy", "last_error_code",
                      m.last_error_code, "last_error", m.last_error, "tiers", m.tiers, "scopes",
                      m.scopes, "last_success_at", (json_int_t)m.last_success_at, "last_failure_at",
                      (json_int_t)m.last_failure_at, "next_retry_at", (json_int_t)m.next_retry_at,
                      "state_changed_at", (json_int_t)m.health_changed_at, "expires_at",
                      (json_int_t)m.expires_at, "refreshes", (json_int_t)m.refreshes,
                      "forced_refreshes", (json_int_t)m.forced_refreshes, "consecutive_failures",
                      (json_int_t)m.consecutive_failures, "total_failures",
                      (json_int_t)m.total_failures, "token_version", (json_int_t)m.version);
    oauth_meta_release(&m);
    return o;
}

void
conn_oauth_outcome(struct store *st, int64_t ws, const char *conn_id, const struct oauth_use *use,
                   long status, bool retried)
{
    int64_t now = now_ms();

    if (status == 401 && retried) {
        conn_oauth_health_event(st, ws, conn_id, OAUTH_EV_TRANSIENT, "upstream_401",
                                "the upstream refused a freshly refreshed access token", false);
        return;
    }
    if (status <= 0 || status == 401)
        return;
    /* the credential worked: at most one write per OAUTH_SUCCESS_WRITE_MS */
    if (use->healthy && use->last_success_at + OAUTH_SUCCESS_WRITE_MS > now)
        return;
    if (!use->healthy) {
        /* only a state the upstream caused (a 401) ends with an upstream success; a
         * failing refresh ends with a refresh that works, so its back-off holds */
        struct oauth_meta m = {0};
        struct errinfo ei = {0};
        bool upstream = false;
        if (store_oauth_meta_get(st, ws, conn_id, &m, &ei) == ERR_OK) {
            upstream = m.health && strcmp(m.health, "degraded") == 0 && m.last_error_code &&
                       strcmp(m.last_error_code, "upstream_401") == 0;
            if (!upstream && m.last_success_at + OAUTH_SUCCESS_WRITE_MS <= now) {
                m.last_success_at = now;
                if (store_oauth_health_set(st, ws, conn_id, &m, false, &ei) != ERR_OK)
                    log_kv(LOG_WARN, "oauth.health_write_failed", "s:connection", conn_id, LOG_END);
            }
        }
        oauth_meta_release(&m);
        if (!upstream)
            return;
    }
    conn_oauth_health_event(st, ws, conn_id, OAUTH_EV_SUCCESS, NULL, NULL, false);
}

/* ---- tiers ---- */

/* "/api/auth/connect/<p>/start?tiers=<granted + need>&connection=<id>"
 * (+ "&personal=1": a user's own account, conn_oauth_personal.c) */
static void
reconnect_url(const char *provider, const char *granted, const char *need, const char *conn_id,
              bool personal, char *out, size_t n)
{
    bool had = false;
    int k;

    if (granted && need) {
        struct oauth_list l = {0};
        if (oauth_scopes_split(granted, &l, &(struct errinfo){0}) == ERR_OK)
            had = oauth_list_has(&l, need);
        oauth_list_release(&l);
    }
    k = snprintf(out, n, "/api/auth/connect/%s/start?tiers=%s%s%s&connection=%s%s", provider,
                 granted ? granted : "", granted && granted[0] && need && !had ? "," : "",
                 need && !had ? need : "", conn_id, personal ? "&personal=1" : "");
    if (k < 0 || (size_t)k >= n)
        snprintf(out, n, "/api/auth/connect/%s/start?connection=%s%s", provider, conn_id,
                 personal ? "&personal=1" : "");
}

/* Does the grant (tier names, comma-separated) cover need? Directly, or
 * through a granted tier that includes it ("full" includes "send"). */
static bool
tier_granted(const struct oauth_provider *p, const char *granted, const char *need)
{
    struct oauth_list l = {0};
    bool ok = false;

    if (granted == NULL || oauth_scopes_split(granted, &l, &(struct errinfo){0}) != ERR_OK)
        return false;
    ok = oauth_list_has(&l, need);
    for (size_t i = 0; !ok && p && i < l.n; i++) {
        const struct oauth_tier *t = oauth_provider_tier(p, l.v[i]);
        ok = t && oauth_list_has(&t->includes, need);
    }
    oauth_list_release(&l);
    return ok;
}

enum err
conn_oauth_check_tier_for(const struct oauth_provider *p, const char *provider_id,
                          const char *granted, const char *need, const char *conn_id, bool personal,
                          struct errinfo *ei)
{
    char url[512];

    if (need == NULL || tier_granted(p, granted, need))
        return ERR_OK;
    reconnect_url(provider_id, granted, need, conn_id, personal, url, sizeof(url));
    return err_set(ei, ERR_FORBIDDEN, "needs_tier", "tier",
                   "this tool needs tier %s, which the %s was not granted (granted: "
                   "%s); reconnect at %s",
                   need, personal ? "user's own account" : "connection",
                   granted && granted[0] ? granted : "none", url);
}

enum err
conn_oauth_check_tier(const struct oauth_provider *p, const char *provider_id, const char *granted,
                      const char *need, const char *conn_id, struct errinfo *ei)
{
    return conn_oauth_check_tier_for(p, provider_id, granted, need, conn_id, false, ei);
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
    char before[16]; /* health when the refresh started */
    int64_t version; /* the version we saw expiring (or refused, when forced) */
    int64_t give_up_at;
    bool forced; /* the upstream answered 401 to version's token */
    bool reread; /* invalid_grant: re-read once before needs_reauth */
    struct oauth_use use;
};

static void
fresh_finish(struct fresh_job *j, enum err e, const struct errinfo *ei)
{
    struct errinfo none = {0};

    j->done(e, ei ? ei : &none, &j->use, j->arg);
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

static enum oauth_event
event_of(enum oauth_token_result r)
{
    switch (r) {
    case OAUTH_TOKEN_INVALID_GRANT:
        return OAUTH_EV_INVALID_GRANT;
    case OAUTH_TOKEN_CONFIG:
    case OAUTH_TOKEN_REJECTED:
        return OAUTH_EV_CONFIG;
    case OAUTH_TOKEN_OK:
        return OAUTH_EV_SUCCESS;
    case OAUTH_TOKEN_TRANSIENT:
    case OAUTH_TOKEN_MALFORMED:
        break;
    }
    return OAUTH_EV_TRANSIENT;
}

/* A failed refresh: health written, lease released; the call goes on with
 * the old access token while it lives (not after a 401), else fails. */
static void
refresh_failed(struct fresh_job *j, enum oauth_token_result r, const struct oauth_token_error *terr,
               bool timed_out)
{
    struct oauth_meta m = {0};
    struct errinfo ei = {0};
    enum err e;

    if (timed_out)
        e = err_set(&ei, ERR_TIMEOUT, "token_endpoint_timeout", "auth",
                    "the provider's token endpoint did not answer within the OAuth token timeout "
                    "(%u ms): the access token was not refreshed",
                    oauth_token_timeout_ms());
    else if (r == OAUTH_TOKEN_INVALID_GRANT)
        e = err_set(&ei, ERR_UNPROCESSABLE, "needs_reauth", "auth",
                    "the provider no longer accepts this connection's grant: reconnect at "
                    "/api/auth/connect/%s/start?connection=%s",
                    j->p.id, j->conn_id);
    else
        e = err_set(&ei, ERR_UPSTREAM, "refresh_failed", "auth",
                    "refreshing the access token failed (%s%s%s)", oauth_token_result_name(r),
                    terr && terr->error[0] ? ": " : "", terr ? terr->error : "");
    conn_oauth_health_event(j->st, j->ws, j->conn_id, event_of(r),
                            timed_out ? "token_endpoint_timeout"
                                      : (terr && terr->error[0] ? terr->error : NULL),
                            ei.msg, true);
    log_kv(LOG_WARN, "oauth.refresh_failed", "s:connection", j->conn_id, "s:code", ei.code,
           "s:result", oauth_token_result_name(r), LOG_END);
    if (r != OAUTH_TOKEN_INVALID_GRANT && !j->forced &&
        store_oauth_meta_get(j->st, j->ws, j->conn_id, &m, &(struct errinfo){0}) == ERR_OK &&
        m.version == j->version &&
        (m.expires_at == 0 || m.expires_at > now_ms() + OAUTH_OLD_TOKEN_MIN_LEFT_MS)) {
        /* the old token still lives: use it, the next call retries after the back-off */
        j->use.version = m.version;
        oauth_meta_release(&m);
        fresh_finish(j, ERR_OK, NULL);
        return;
    }
    oauth_meta_release(&m);
    fresh_finish(j, e, &ei);
}

static void
on_refreshed(struct out_response *res, void *arg)
{
    struct fresh_job *j = arg;
    struct oauth_tokens t = {0};
    struct oauth_token_error terr = {0};
    struct secret old = {0};
    struct errinfo ei = {0};
    bool committed = false;
    bool timed_out = res->fail == OUT_FAIL_TIMEOUT;
    enum oauth_token_result r;
    enum err e;

    e = open_token(j->st, j->v, j->ws, j->conn_id, F_REFRESH, &old, &ei);
    r = oauth_token_parse(res, e == ERR_OK ? &old : NULL, now_ms(), &t, &terr, &ei);
    secret_release(&old);
    if (r == OAUTH_TOKEN_OK) {
        bool rotated = t.refresh_rotated;
        test_crash_point("refresh_before_commit"); /* OAUTH-024 (a): the AS rotated, we die */
        e = commit_tokens(j->st, j->v, j->ws, j->conn_id, j->p.id, &j->p, &t, NULL, j->version,
                          true, j->forced, &committed, &ei);
        oauth_tokens_release(&t);
        if (e == ERR_OK)
            test_crash_point("refresh_after_commit"); /* OAUTH-024 (b): committed, never used */
        if (e == ERR_OK) {
            j->use.version = j->version + 1;
            j->use.healthy = true;
            j->use.last_success_at = now_ms();
            log_kv(LOG_INFO, "oauth.refreshed", "s:connection", j->conn_id, "b:rotated", rotated,
                   "b:forced", j->forced, LOG_END);
            if (strcmp(j->before, "healthy") != 0)
                log_health_change(j->conn_id, j->before, "healthy", NULL, "refresh succeeded");
        }
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
    refresh_failed(j, r, &terr, timed_out);
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

/* Is the row's token good for this job without a refresh? */
static bool
row_usable(const struct fresh_job *j, const struct oauth_meta *m, int64_t now)
{
    if (m->version != j->version)
        return true; /* someone refreshed since: use theirs */
    return !j->forced &&
           !oauth_needs_refresh(now, m->obtained_at, m->expires_at, OAUTH_REFRESH_MARGIN_S);
}

/* One turn: fresh already? take the lease? wait for the holder? */
static void
fresh_step(struct loop *lp, void *arg)
{
    struct fresh_job *j = arg;
    struct oauth_meta m = {0};
    struct oauth_health_state h;
    struct errinfo ei = {0};
    int64_t now = now_ms();
    bool got = false;
    enum err e = store_oauth_meta_get(j->st, j->ws, j->conn_id, &m, &ei);

    (void)lp;
    if (e == ERR_OK && row_usable(j, &m, now)) {
        j->use.version = m.version;
        j->use.last_success_at = m.last_success_at;
        j->use.healthy = m.health == NULL || strcmp(m.health, "healthy") == 0;
        oauth_meta_release(&m);
        fresh_finish(j, ERR_OK, NULL);
        return;
    }
    if (e == ERR_OK && j->reread) {
        oauth_meta_release(&m);
        refresh_failed(j, OAUTH_TOKEN_INVALID_GRANT, NULL, false);
        return;
    }
    if (e == ERR_OK) {
        meta_to_state(&m, &h);
        snprintf(j->before, sizeof(j->before), "%s", oauth_health_name(h.status));
        if (!oauth_health_may_refresh(&h, now) && h.status == OAUTH_DEGRADED && !j->forced &&
            (m.expires_at == 0 || m.expires_at > now + OAUTH_OLD_TOKEN_MIN_LEFT_MS)) {
            /* backing off, but the token still lives: use it */
            j->use.version = m.version;
            j->use.last_success_at = m.last_success_at;
            oauth_meta_release(&m);
            fresh_finish(j, ERR_OK, NULL);
            return;
        }
        if (!oauth_health_may_refresh(&h, now))
            e = h.status == OAUTH_DEGRADED
                    ? err_set(&ei, ERR_UNAVAILABLE, "refresh_backoff", "auth",
                              "refreshing this connection's token failed recently (%s); the next "
                              "attempt is allowed in %lld ms",
                              h.last_error_code[0] ? h.last_error_code : "error",
                              (long long)(h.next_retry_ms - now))
                    : err_set(&ei, ERR_UNPROCESSABLE, "needs_reauth", "auth",
                              "the connection is %s: reconnect at "
                              "/api/auth/connect/%s/start?connection=%s",
                              oauth_health_name(h.status), j->p.id, j->conn_id);
    }
    if (e == ERR_OK)
        e = store_oauth_lease(j->st, j->ws, j->conn_id, j->owner, j->version, now,
                              now + OAUTH_LEASE_TTL_MS, &got, &ei);
    oauth_meta_release(&m);
    if (e == ERR_OK && got) {
        e = start_refresh(j, &ei);
        if (e == ERR_OK)
            return;
        conn_oauth_health_event(j->st, j->ws, j->conn_id, OAUTH_EV_CONFIG, ei.code, ei.msg, true);
    }
    if (e == ERR_OK && now > j->give_up_at)
        e = err_set(&ei, ERR_TIMEOUT, "refresh_wait_timeout", "auth",
                    "another refresh of this connection did not finish within %d ms",
                    OAUTH_LEASE_WAIT_MAX_MS);
    if (e != ERR_OK) {
        fresh_finish(j, e, &ei);
        return;
    }
    loop_timer_start(outbound_loop(j->ob), &j->timer, LEASE_POLL_MS, fresh_step, j);
}

static enum err
not_usable(const struct oauth_meta *m, const char *provider, const char *conn_id,
           struct errinfo *ei)
{
    if (m->health && strcmp(m->health, "needs_reauth") == 0)
        return err_set(ei, ERR_UNPROCESSABLE, "needs_reauth", "auth",
                       "the connection needs to be reconnected (%s): reconnect at "
                       "/api/auth/connect/%s/start?connection=%s",
                       m->last_error_code ? m->last_error_code : "the grant was refused", provider,
                       conn_id);
    if (m->health && strcmp(m->health, "revoked") == 0)
        return err_set(ei, ERR_UNPROCESSABLE, "revoked", "auth",
                       "the connection's grant was revoked: reconnect at "
                       "/api/auth/connect/%s/start?connection=%s",
                       provider, conn_id);
    return ERR_OK;
}

enum err
conn_oauth_fresh(struct store *st, const struct vault *v, struct outbound *ob, const struct conn *c,
                 const char *need_tier, int64_t forced_from, struct oauth_use *use, bool *ready,
                 conn_fresh_cb done, void *arg, struct errinfo *ei)
{
    struct oauth_meta m = {0};
    struct fresh_job *j;
    const char *provider = json_string_value(json_object_get(c->auth, "provider"));
    enum err e = store_oauth_meta_get(st, c->row.workspace_id, c->row.id, &m, ei);

    *ready = false;
    memset(use, 0, sizeof(*use));
    use->version = -1;
    if (e == ERR_NOT_FOUND) {
        char url[512];
        char *tiers = NULL;
        json_t *t = json_object_get(c->auth, "tiers");
        size_t i;
        json_t *it;
        struct oauth_list l = {0};
        json_array_foreach (t, i, it)
            if (json_is_string(it) &&
                oauth_list_add(&l, json_string_value(it), OAUTH_MAX_TIERS) != ERR_OK)
                break;
        if (oauth_list_join(&l, ',', &tiers) != ERR_OK)
            tiers = NULL;
        reconnect_url(provider, tiers, need_tier, c->row.id, false, url, sizeof(url));
        free(tiers);
        oauth_list_release(&l);
        return err_set(ei, ERR_UNPROCESSABLE, "not_connected", "auth",
                       "the connection has no OAuth tokens yet: connect it at %s", url);
    }
    if (e == ERR_OK)
        e = not_usable(&m, provider, c->row.id, ei);
    if (e == ERR_OK && need_tier) {
        struct oauth_provider p = {0};
        bool have = false;
        /* the definition only matters when the tier is not granted by name */
        if (!tier_granted(NULL, m.tiers, need_tier))
            have = conn_oauth_provider(st, provider, &p, &(struct errinfo){0}) == ERR_OK;
        e = conn_oauth_check_tier(have ? &p : NULL, provider, m.tiers, need_tier, c->row.id, ei);
        oauth_provider_release(&p);
    }
    if (e == ERR_OK && forced_from < 0 &&
        !oauth_needs_refresh(now_ms(), m.obtained_at, m.expires_at, OAUTH_REFRESH_MARGIN_S)) {
        use->version = m.version;
        use->last_success_at = m.last_success_at;
        use->healthy = m.health == NULL || strcmp(m.health, "healthy") == 0;
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
    j->forced = forced_from >= 0;
    j->version = j->forced ? forced_from : m.version;
    j->use.version = -1;
    j->give_up_at = now_ms() + OAUTH_LEASE_WAIT_MAX_MS;
    snprintf(j->conn_id, sizeof(j->conn_id), "%s", c->row.id);
    snprintf(j->before, sizeof(j->before), "%s", m.health ? m.health : "healthy");
    oauth_meta_release(&m);
    if (oauth_lease_owner_new(j->owner) != ERR_OK) {
        free(j);
        return err_set(ei, ERR_CRYPTO, "rng_failed", NULL, "random number generator failed");
    }
    e = conn_oauth_provider(st, provider, &j->p, ei);
    if (e != ERR_OK) {
        free(j);
        return e;
    }
    if (j->forced)
        log_kv(LOG_INFO, "oauth.forced_refresh", "s:connection", j->conn_id, "I:version",
               (long long)j->version, LOG_END);
    loop_timer_start(outbound_loop(ob), &j->timer, 0, fresh_step, j);
    return ERR_OK;
}

/* ---- revocation and deletion ---- */

struct revoke_job {
    conn_revoke_cb done;
    void *arg;
    struct store *st;
    int64_t ws;
    char conn_id[ID_MAX];
    char provider[OAUTH_MAX_ID_LEN + 1];
    json_t *outcome; /* {"refresh_token": {...}, "access_token": {...}} */
    int pending;
    char before[16];
};

static void
revoke_finish(struct revoke_job *j)
{
    char *text = json_dumps(j->outcome, JSON_COMPACT);
    struct errinfo ei = {0};

    if (text == NULL ||
        store_oauth_revocation_add(j->st, j->ws, j->conn_id, j->provider, text, &ei) != ERR_OK)
        log_kv(LOG_WARN, "oauth.revocation_record_failed", "s:connection", j->conn_id, "s:code",
               ei.code, LOG_END);
    free(text);
    log_health_change(j->conn_id, j->before, "revoked", "revoked", "the connection was deleted");
    if (j->done)
        j->done(j->outcome, j->arg);
    json_decref(j->outcome);
    free(j);
}

struct revoke_one {
    struct revoke_job *job;
    const char *hint;
};

static void
on_revoked(struct out_response *res, void *arg)
{
    struct revoke_one *one = arg;
    struct revoke_job *j = one->job;
    bool ok = oauth_revoke_ok(res);
    json_t *o = json_pack("{s:s, s:I}", "outcome", ok ? "revoked" : "failed", "status",
                          (json_int_t)res->status);

    if (!ok)
        json_object_set_new(o, "detail",
                            json_string(res->fail != OUT_OK
                                            ? out_fail_name(res->fail)
                                            : "the revocation endpoint refused the request"));
    json_object_set_new(j->outcome, one->hint, o);
    log_kv(ok ? LOG_INFO : LOG_WARN, "oauth.revoked", "s:connection", j->conn_id, "s:token",
           one->hint, "b:ok", ok, "I:status", (long long)res->status, "s:fail",
           out_fail_name(res->fail), LOG_END);
    free(one);
    if (--j->pending == 0)
        revoke_finish(j);
}

enum err
conn_oauth_delete(struct store *st, const struct vault *v, struct outbound *ob,
                  const struct principal *who, const struct conn *c, conn_revoke_cb done, void *arg,
                  bool *pending, struct errinfo *ei)
{
    struct oauth_provider p = {0};
    struct oauth_client cl = {0};
    struct errinfo rei = {0};
    struct out_request rq[2];
    const char *fields[] = {F_REFRESH, F_ACCESS};
    const char *hints[] = {"refresh_token", "access_token"};
    const char *provider = json_string_value(json_object_get(c->auth, "provider"));
    struct revoke_job *j = xcalloc(1, sizeof(*j));
    bool built[2] = {false, false};
    const char *skip = NULL;
    enum err e;

    memset(rq, 0, sizeof(rq));
    *pending = false;
    j->done = done;
    j->arg = arg;
    j->st = st;
    j->ws = c->row.workspace_id;
    j->outcome = json_object();
    snprintf(j->conn_id, sizeof(j->conn_id), "%s", c->row.id);
    snprintf(j->provider, sizeof(j->provider), "%s", provider ? provider : "");
    {
        struct oauth_meta m = {0};
        snprintf(j->before, sizeof(j->before), "%s",
                 store_oauth_meta_get(st, j->ws, j->conn_id, &m, &rei) == ERR_OK && m.health
                     ? m.health
                     : "not_connected");
        oauth_meta_release(&m);
    }
    /* 1. the revocation requests, built while the tokens still exist */
    if (conn_oauth_provider(st, provider, &p, &rei) != ERR_OK ||
        (p.revocation_url != NULL && client_of(st, v, p.id, &cl, &rei) != ERR_OK))
        skip = rei.msg;
    else if (p.revocation_url == NULL)
        skip = "the provider has no revocation endpoint";
    for (size_t i = 0; skip == NULL && i < 2; i++) {
        struct secret tok = {0};
        if (open_token(st, v, c->row.workspace_id, c->row.id, fields[i], &tok, &rei) == ERR_OK)
            built[i] = oauth_revoke_request(&p, &cl, &tok, hints[i], &rq[i], &rei) == ERR_OK;
        else
            json_object_set_new(j->outcome, hints[i], json_pack("{s:s}", "outcome", "none"));
        secret_release(&tok);
    }
    oauth_provider_release(&p);
    oauth_client_release(&cl);
    /* users' personal accounts on a caller connection: revoked too (best effort) */
    if (strcmp(c->row.fulfillment, "caller") == 0)
        json_object_set_new(j->outcome, "personal_accounts",
                            json_integer((json_int_t)conn_oauth_personal_revoke_all(st, v, ob, c)));
    /* 2. the local credentials go, whatever the provider will answer */
    e = conn_delete(st, who, c->row.id, ei);
    /* 3. the requests (they carry their own copies of the tokens) */
    for (size_t i = 0; i < 2; i++) {
        struct revoke_one *one;
        if (!built[i] || e != ERR_OK) {
            out_request_release(&rq[i]);
            continue;
        }
        one = xcalloc(1, sizeof(*one));
        one->job = j;
        one->hint = hints[i];
        j->pending++;
        if (outbound_send(ob, &rq[i], on_revoked, one, NULL) != ERR_OK) {
            j->pending--;
            json_object_set_new(j->outcome, hints[i],
                                json_pack("{s:s, s:s}", "outcome", "failed", "detail",
                                          "the request could not be sent"));
            free(one);
        }
    }
    if (e != ERR_OK) {
        json_decref(j->outcome);
        free(j);
        return e;
    }
    if (skip) {
        json_object_set_new(j->outcome, "outcome", json_string("skipped"));
        json_object_set_new(j->outcome, "detail", json_string(skip));
        log_kv(LOG_INFO, "oauth.revoke_skipped", "s:connection", c->row.id, "s:detail", skip,
               LOG_END);
    }
    if (j->pending > 0) {
        *pending = true;
        return ERR_OK;
    }
    j->done = NULL; /* answered now: the caller renders conn_oauth_delete's outcome itself */
    if (done)
        done(j->outcome, arg);
    revoke_finish(j);
    return ERR_OK;
}

/* ---- providers from OpenAPI imports ---- */

/* s -> a slug of at most max bytes: lower-case alnum, runs of anything
 * else one '_', no leading or trailing '_'. */
static void
slugify(const char *s, char *out, size_t max)
{
    size_t n = 0;
    bool sep = false;

    for (; s && *s && n < max; s++) {
        unsigned char c = (unsigned char)*s;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum) {
            sep = n > 0;
            continue;
        }
        if (sep && n + 1 < max)
            out[n++] = '_';
        sep = false;
        out[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = '\0';
}

enum err
conn_oauth_provider_from_spec(const json_t *ent, json_t **def, struct errinfo *ei)
{
    const json_t *flow = json_object_get(json_object_get(ent, "flows"), "authorizationCode");
    const char *au = json_string_value(json_object_get(flow, "authorization_url"));
    const char *tu = json_string_value(json_object_get(flow, "token_url"));
    const json_t *scopes = json_object_get(flow, "scopes");
    struct url_info ui;
    struct oauth_provider p = {0};
    char id[OAUTH_MAX_ID_LEN + 1], tier[OAUTH_MAX_TIER_NAME_LEN + 1];
    json_t *tiers, *all, *names, *d;
    const char *k;
    json_t *v;
    enum err e;

    *def = NULL;
    if (au == NULL || tu == NULL)
        return err_set(ei, ERR_INVALID, "unsupported_auth", "auth",
                       "the spec's OAuth2 scheme has no authorization-code flow (with "
                       "authorizationUrl and tokenUrl): pass auth explicitly");
    if (json_object_size(scopes) == 0 || json_object_size(scopes) > OAUTH_MAX_SCOPES)
        return err_set(ei, ERR_INVALID, "unsupported_auth", "auth",
                       "the spec's OAuth2 scheme declares %s scopes (1..%d make tiers): register "
                       "a provider and pass auth {\"type\": \"oauth2\", \"provider\": ...}",
                       json_object_size(scopes) ? "too many" : "no", OAUTH_MAX_SCOPES);
    e = url_validate(au, "auth.authorization_url", &ui, ei);
    if (e != ERR_OK)
        return e;
    /* the id: the authorization server's host ("auth.example.com" -> auth_example_com) */
    slugify(ui.host, id, sizeof(id));
    tiers = json_object();
    all = json_array();
    names = json_array();
    /* a tier per scope while they fit, and "all" including every one of them */
    json_object_foreach ((json_t *)scopes, k, v) {
        (void)v;
        json_array_append_new(all, json_string(k));
        slugify(k, tier, sizeof(tier));
        if (json_object_size(scopes) < OAUTH_MAX_TIERS && tier[0] && strcmp(tier, "all") != 0 &&
            json_object_get(tiers, tier) == NULL) {
            json_object_set_new(tiers, tier, json_pack("{s:[s]}", "scopes", k));
            json_array_append_new(names, json_string(tier));
        }
    }
    json_object_set_new(tiers, "all", json_pack("{s:o, s:o}", "scopes", all, "includes", names));
    d = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", id, "name", ui.host, "authorize_url", au,
                  "token_url", tu, "tiers", tiers);
    e = oauth_provider_from_json(d, &p, ei);
    oauth_provider_release(&p);
    if (e != ERR_OK) {
        err_field_prefix(ei, "spec.oauth2");
        json_decref(d);
        return e;
    }
    *def = d;
    return ERR_OK;
}

enum err
conn_oauth_provider_adopt(struct store *st, const json_t *def, struct errinfo *ei)
{
    const char *id = json_string_value(json_object_get(def, "id"));
    struct oauth_provider have = {0};
    char *text;
    enum err e = conn_oauth_provider(st, id, &have, ei);

    if (e == ERR_OK) { /* known: the same endpoints, or a clear refusal */
        const char *tu = json_string_value(json_object_get(def, "token_url"));
        const char *au = json_string_value(json_object_get(def, "authorize_url"));
        bool same = tu && au && have.token_url && have.authorize_url &&
                    strcmp(have.token_url, tu) == 0 && strcmp(have.authorize_url, au) == 0;
        oauth_provider_release(&have);
        return same
                   ? ERR_OK
                   : err_set(ei, ERR_CONFLICT, "provider_conflict", "auth",
                             "provider %s already exists with other endpoints: pass auth "
                             "{\"type\": \"oauth2\", \"provider\": \"<id>\"} naming the one to use",
                             id);
    }
    if (e != ERR_NOT_FOUND)
        return e;
    memset(ei, 0, sizeof(*ei));
    text = json_dumps(def, JSON_COMPACT);
    if (text == NULL)
        return ERR_NOMEM;
    /* no client credentials: a platform admin adds them (PUT) before anyone connects */
    e = store_oauth_provider_put(st, id, text, NULL, ei);
    free(text);
    if (e == ERR_OK)
        log_kv(LOG_INFO, "oauth.provider_imported", "s:provider", id, LOG_END);
    return e;
}

/* ---- deleting a provider ---- */

static bool
is_builtin(const char *id)
{
    for (const char *const *b = oauth_provider_builtin_ids(); b && *b; b++)
        if (strcmp(*b, id) == 0)
            return true;
    return false;
}

enum err
conn_oauth_provider_delete(struct store *st, const char *id, json_t **out, struct errinfo *ei)
{
    char *def = NULL;
    int64_t users = 0;
    bool had_secret = false;
    enum err e = store_oauth_provider_get(st, id, &def, NULL, ei);

    free(def);
    if (e == ERR_NOT_FOUND && is_builtin(id))
        return err_set(ei, ERR_INVALID, "builtin_provider", "provider",
                       "%s is built in and cannot be deleted; only a registry entry overriding "
                       "it can",
                       id);
    if (e == ERR_OK)
        e = store_oauth_provider_users(st, id, &users, ei);
    if (e == ERR_OK && users > 0)
        e = err_set(ei, ERR_CONFLICT, "provider_in_use", "provider",
                    "%lld connection(s) still use provider %s: delete them, or move them to "
                    "another provider, first",
                    (long long)users, id);
    if (e == ERR_OK)
        e = store_secret_delete(st, 0, "oauth_provider", id, "client_secret", &had_secret, ei);
    if (e == ERR_OK)
        e = store_oauth_provider_delete(st, id, ei);
    if (e == ERR_OK) {
        log_kv(LOG_INFO, "oauth.provider_deleted", "s:provider", id, "b:had_secret", had_secret,
               LOG_END);
        *out =
            json_pack("{s:b, s:s, s:b}", "deleted", 1, "id", id, "builtin_remains", is_builtin(id));
    }
    return e;
}

enum err
conn_oauth_client(struct store *st, const struct vault *v, const char *provider_id,
                  struct oauth_client *c, struct errinfo *ei)
{
    return client_of(st, v, provider_id, c, ei);
}
