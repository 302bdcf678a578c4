/*
 * conn_gmail: `gmail` connections (issue 8, item 4).
 *
 * Two ways to authenticate, both ending in a Bearer access token:
 *  - auth {"type": "oauth2", "provider": "gmail", "tiers": [...]}: personal
 *    OAuth through the gmail provider (conn_oauth.c does the rest);
 *  - auth {"type": "google_service_account", "subject": "user@domain",
 *    "tiers": [...], "service_account": "<key file JSON>"}: the key is sealed;
 *    before a call an RS256 JWT is signed with it (services/gsa.c) for the
 *    subject (domain-wide delegation) and the tiers' scopes, and exchanged at
 *    the key's token_uri (Google's default one is replaced by
 *    --service-base-url google_oauth=... + "/token", for tests and proxies).
 *    The access token is sealed like an OAuth one (oauth.access_token, with
 *    expiry and health in oauth_tokens) and reused until it nears expiry.
 *
 * The tools are the services' gmail tools (send_message, list_messages,
 * get_message), each needing its tier; the API base URL is the connection's
 * base_url, by default service_base_url("gmail").
 *
 * JWT exchanges are not single-flight: a jwt-bearer grant rotates nothing,
 * so two concurrent exchanges are harmless (the later commit wins).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn_gmail.h"
#include "conn/conn_oauth.h"
#include "core/log.h"
#include "core/util.h"
#include "oauth/token.h"
#include "services/gmail.h"
#include "services/registry.h"
#include "core/banned.h"

#define KIND "connection"

/* ---- the connection ---- */

enum err
conn_gmail_check_auth(const struct conn_draft *d, struct errinfo *ei)
{
    const char *type = json_string_value(json_object_get(d->auth_pub, "type"));
    const struct secret *key = auth_values_get(&d->vals, "service_account");
    enum err e = ERR_OK;

    if (type == NULL ||
        (strcmp(type, "oauth2") != 0 && strcmp(type, "google_service_account") != 0))
        return err_set(ei, ERR_INVALID, "invalid_value", "auth.type",
                       "a gmail connection's auth is {\"type\": \"oauth2\", \"provider\": "
                       "\"gmail\", \"tiers\": [...]} or {\"type\": \"google_service_account\", "
                       "\"subject\": \"user@domain\", \"tiers\": [...], \"service_account\": "
                       "\"<key file JSON>\"}");
    if (strcmp(type, "oauth2") == 0 &&
        strcmp(json_string_value(json_object_get(d->auth_pub, "provider")), "gmail") != 0)
        return err_set(ei, ERR_INVALID, "invalid_value", "auth.provider",
                       "a gmail connection uses the gmail OAuth provider");
    if (key) { /* refuse a key that cannot sign now, not at the first call */
        struct gsa_key k = {0};
        e = gsa_key_parse(key, &k, ei);
        gsa_key_release(&k);
        if (e != ERR_OK) {
            snprintf(ei->field, sizeof(ei->field), "auth.service_account");
            return ERR_INVALID;
        }
    }
    return ERR_OK;
}

enum err
conn_gmail_draft(struct conn_draft *d, struct errinfo *ei)
{
    enum err e = conn_gmail_check_auth(d, ei);

    if (e != ERR_OK)
        return e;
    d->operations = json_array();
    for (size_t i = 0; i < gmail_tool_count(); i++) {
        const struct gmail_tool *t = gmail_tool_at(i);
        json_t *schema = json_loads(t->input_schema, 0, NULL);
        if (schema == NULL)
            return ERR_NOMEM;
        json_array_append_new(d->operations,
                              json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", t->name, "gmail_tool",
                                        t->name, "tier", t->tier, "description", t->description,
                                        "input_schema", schema));
    }
    d->ops_changed = true;
    return ERR_OK;
}

/* ---- service-account tokens ---- */

struct gsa_job {
    conn_fresh_cb done;
    void *arg;
    struct store *st;
    const struct vault *v;
    int64_t ws;
    char conn_id[ID_MAX];
    char *tiers; /* csv, what the token is for */
    char *scope; /* space-separated */
    struct oauth_use use;
};

static void
gsa_job_free(struct gsa_job *j)
{
    free(j->tiers);
    free(j->scope);
    free(j);
}

static void
gsa_finish(struct gsa_job *j, enum err e, const struct errinfo *ei)
{
    struct errinfo none = {0};

    j->done(e, ei ? ei : &none, &j->use, j->arg);
    gsa_job_free(j);
}

static void
on_gsa_token(struct out_response *res, void *arg)
{
    struct gsa_job *j = arg;
    struct oauth_tokens t = {0};
    struct oauth_meta m = {0};
    struct errinfo ei = {0};
    int64_t expires_in = 0;
    bool committed = false;
    enum err e;

    if (res->fail != OUT_OK)
        e = err_set(&ei, res->fail == OUT_FAIL_TIMEOUT ? ERR_TIMEOUT : ERR_UPSTREAM,
                    res->fail == OUT_FAIL_TIMEOUT ? "token_endpoint_timeout"
                                                  : "token_exchange_failed",
                    "auth",
                    "the service-account token exchange failed (%s) within the OAuth token "
                    "timeout (%u ms)",
                    out_fail_name(res->fail), oauth_token_timeout_ms());
    else
        e = gsa_token_parse(res->status, res->body.data, res->body.len, &t.access_token,
                            &expires_in, &ei);
    buf_wipe_release(&res->body);
    if (e == ERR_OK) {
        t.obtained_at_ms = now_ms();
        t.expires_at_ms = t.obtained_at_ms + expires_in * 1000;
        e = conn_oauth_commit(j->st, j->v, j->ws, j->conn_id, "google_service_account", NULL, &t,
                              j->tiers, -1, true, false, &committed, &ei);
    }
    secret_release(&t.access_token);
    if (e == ERR_OK && store_oauth_meta_get(j->st, j->ws, j->conn_id, &m, &ei) == ERR_OK) {
        j->use.version = m.version;
        j->use.healthy = true;
        j->use.last_success_at = m.last_success_at;
        log_kv(LOG_INFO, "gmail.service_account_token", "s:connection", j->conn_id, "s:tiers",
               j->tiers, "I:expires_in", (long long)expires_in, LOG_END);
    } else if (e != ERR_OK) {
        conn_oauth_health_event(j->st, j->ws, j->conn_id,
                                e == ERR_UPSTREAM && res->status >= 400 && res->status < 500
                                    ? OAUTH_EV_CONFIG
                                    : OAUTH_EV_TRANSIENT,
                                ei.code, ei.msg, false);
        log_kv(LOG_WARN, "gmail.service_account_token_failed", "s:connection", j->conn_id, "s:code",
               ei.code, LOG_END);
    }
    oauth_meta_release(&m);
    gsa_finish(j, e, &ei);
}

/* The tiers' scopes, space-separated, and the tiers csv. */
static enum err
tiers_of(const json_t *auth, char **csv, char **scope, struct errinfo *ei)
{
    struct oauth_list tl = {0}, sl = {0};
    json_t *t;
    size_t i;
    enum err e = ERR_OK;

    json_array_foreach (json_object_get(auth, "tiers"), i, t) {
        const char *sc = gmail_scope_for_tier(json_string_value(t));
        if (sc == NULL)
            e = err_set(ei, ERR_INVALID, "invalid_value", "auth.tiers", "unknown tier");
        if (e == ERR_OK)
            e = oauth_list_add(&tl, json_string_value(t), OAUTH_MAX_TIERS);
        if (e == ERR_OK)
            e = oauth_list_add(&sl, sc, OAUTH_MAX_SCOPES);
    }
    if (e == ERR_OK)
        e = oauth_list_join(&tl, ',', csv);
    if (e == ERR_OK)
        e = oauth_list_join(&sl, ' ', scope);
    oauth_list_release(&tl);
    oauth_list_release(&sl);
    return e;
}

static enum err
gsa_request(struct store *st, const struct vault *v, const struct conn *c, const char *scope,
            struct out_request *rq, struct errinfo *ei)
{
    struct sealed_set set = {0};
    const struct sealed *s;
    struct secret json = {0};
    struct gsa_key k = {0};
    char url[MAX_BASE_URL_LEN + 16];
    enum err e = store_secrets_get(st, c->row.workspace_id, KIND, c->row.id, &set, ei);

    s = e == ERR_OK ? sealed_set_find(&set, "auth.service_account") : NULL;
    if (e == ERR_OK && s == NULL)
        e = err_set(ei, ERR_UNPROCESSABLE, "credential_missing", "auth.service_account",
                    "the connection has no service-account key set");
    if (e == ERR_OK && s != NULL) {
        struct vault_aad aad = {c->row.workspace_id, KIND, c->row.id, "auth.service_account"};
        e = vault_open(v, &aad, s->data, s->len, &json, ei);
    }
    if (e == ERR_OK)
        e = gsa_key_parse(&json, &k, ei);
    secret_release(&json);
    if (e == ERR_OK) {
        /* Google's own token URI goes where --service-base-url google_oauth says */
        bool google = strcmp(k.token_uri, GSA_DEFAULT_TOKEN_URI) == 0;
        snprintf(url, sizeof(url), "%s/token", service_base_url("google_oauth"));
        e = gsa_token_request(&k, json_string_value(json_object_get(c->auth, "subject")), scope,
                              now_ms() / 1000, google ? url : NULL, rq, ei);
    }
    if (e == ERR_OK) {
        rq->limits.total_timeout_ms = oauth_token_timeout_ms();
        if (rq->limits.connect_timeout_ms > oauth_token_timeout_ms())
            rq->limits.connect_timeout_ms = oauth_token_timeout_ms();
    }
    gsa_key_release(&k);
    sealed_set_release(&set);
    return e;
}

enum err
conn_gsa_fresh(struct store *st, const struct vault *v, struct outbound *ob, const struct conn *c,
               const char *need_tier, int64_t forced_from, struct oauth_use *use, bool *ready,
               conn_fresh_cb done, void *arg, struct errinfo *ei)
{
    struct oauth_meta m = {0};
    struct gsa_job *j = xcalloc(1, sizeof(*j));
    struct out_request rq = {0};
    enum err e = tiers_of(c->auth, &j->tiers, &j->scope, ei);

    *ready = false;
    memset(use, 0, sizeof(*use));
    use->version = -1;
    if (e == ERR_OK && need_tier) {
        struct oauth_provider p = {0}; /* the gmail tiers: full includes send and read */
        if (oauth_provider_builtin("gmail", &p, ei) == ERR_OK &&
            conn_oauth_check_tier(&p, "gmail", j->tiers, need_tier, c->row.id, ei) != ERR_OK)
            e = err_set(ei, ERR_FORBIDDEN, "needs_tier", "tier",
                        "this tool needs tier %s, which the service-account connection does not "
                        "have (tiers: %s): add it to auth.tiers and grant its scope %s to the "
                        "service account's client in the Google Workspace admin console",
                        need_tier, j->tiers, gmail_scope_for_tier(need_tier));
        oauth_provider_release(&p);
    }
    if (e == ERR_OK && store_oauth_meta_get(st, c->row.workspace_id, c->row.id, &m, ei) == ERR_OK &&
        forced_from < 0 && m.tiers && strcmp(m.tiers, j->tiers) == 0 &&
        !oauth_needs_refresh(now_ms(), m.obtained_at, m.expires_at, OAUTH_REFRESH_MARGIN_S)) {
        use->version = m.version;
        use->last_success_at = m.last_success_at;
        use->healthy = m.health == NULL || strcmp(m.health, "healthy") == 0;
        *ready = true;
    }
    oauth_meta_release(&m);
    if (e == ERR_OK)
        memset(ei, 0, sizeof(*ei)); /* "not connected yet" is no error here */
    if (e != ERR_OK || *ready) {
        gsa_job_free(j);
        return e;
    }
    j->done = done;
    j->arg = arg;
    j->st = st;
    j->v = v;
    j->ws = c->row.workspace_id;
    j->use.version = -1;
    snprintf(j->conn_id, sizeof(j->conn_id), "%s", c->row.id);
    e = gsa_request(st, v, c, j->scope, &rq, ei);
    if (e == ERR_OK)
        e = outbound_send(ob, &rq, on_gsa_token, j, NULL);
    else
        out_request_release(&rq);
    if (e != ERR_OK)
        gsa_job_free(j);
    return e;
}
