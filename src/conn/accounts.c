#include "conn/accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "conn/conn_oauth.h"
#include "core/log.h"
#include "core/util.h"
#include "core/banned.h"

/* ---- helpers ---- */

static const char *
fulfillment_of(const struct conn *c)
{
    return c->row.fulfillment ? c->row.fulfillment : "static";
}

bool
part_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n > MAX_PARTICIPANT_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '@' || c == '-'))
            return false;
    }
    return true;
}

enum err
conn_load_ref(struct store *st, int64_t ws, const char *ref, struct conn *out, struct errinfo *ei)
{
    bool by_id = ref && strncmp(ref, "conn_", 5) == 0;
    enum err e;

    memset(out, 0, sizeof(*out));
    if (ref == NULL || ref[0] == '\0')
        return err_set(ei, ERR_INVALID, "missing_field", "connection",
                       "name the connection (its id or slug)");
    e = conn_load(st, ws, by_id ? ref : NULL, by_id ? NULL : ref, out, ei);
    if (e == ERR_NOT_FOUND)
        return err_set(ei, ERR_NOT_FOUND, "connection_not_found", "connection",
                       "no such connection");
    return e;
}

void
fulfil_creds_release(struct fulfil_cred *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        auth_values_release(&v[i].vals);
    free(v);
}

void
fulfil_set_release(struct fulfil_set *s)
{
    if (s == NULL)
        return;
    free(s->parties);
    fulfil_creds_release(s->creds, s->ncreds);
    memset(s, 0, sizeof(*s));
}

static enum err
parse_parties(const json_t *arr, struct fulfil_set *out, struct errinfo *ei)
{
    json_t *p;
    size_t i;

    if (arr == NULL)
        return ERR_OK;
    if (!json_is_array(arr))
        return err_set(ei, ERR_INVALID, "invalid_type", "participants",
                       "must be an array of {\"id\", \"role\"}");
    if (json_array_size(arr) > MAX_RUN_PARTICIPANTS)
        return err_set(ei, ERR_TOO_LARGE, "too_many", "participants",
                       "a run names at most %d participants", MAX_RUN_PARTICIPANTS);
    out->parties = xcalloc(json_array_size(arr) + 1, sizeof(*out->parties));
    json_array_foreach (arr, i, p) {
        const char *id = json_string_value(json_object_get(p, "id"));
        const char *role = json_string_value(json_object_get(p, "role"));
        char f[48];
        if (!json_is_object(p) || json_object_size(p) != 2 || !part_id_valid(id)) {
            snprintf(f, sizeof(f), "participants[%zu].id", i);
            return err_set(ei, ERR_INVALID, "invalid_value", f,
                           "a participant is {\"id\": 1-%d of A-Z a-z 0-9 _ . @ -, \"role\"}",
                           MAX_PARTICIPANT_ID_LEN);
        }
        if (!str_is_slug(role, MAX_PARTICIPANT_ROLE_LEN)) {
            snprintf(f, sizeof(f), "participants[%zu].role", i);
            return err_set(ei, ERR_INVALID, "invalid_value", f,
                           "must be 1-%d lower-case letters, digits or _",
                           MAX_PARTICIPANT_ROLE_LEN);
        }
        snprintf(out->parties[i].id, sizeof(out->parties[i].id), "%s", id);
        snprintf(out->parties[i].role, sizeof(out->parties[i].role), "%s", role);
        out->nparties = i + 1;
    }
    return ERR_OK;
}

static enum err
parse_creds(struct store *st, int64_t ws, const json_t *obj, struct fulfil_set *out,
            struct errinfo *ei)
{
    const char *slug;
    json_t *v;
    size_t i = 0;
    enum err e = ERR_OK;

    if (obj == NULL)
        return ERR_OK;
    if (!json_is_object(obj))
        return err_set(ei, ERR_INVALID, "invalid_type", "credentials",
                       "must be an object {\"<connection slug>\": {\"<field>\": \"<value>\"}}");
    if (json_object_size(obj) > MAX_RUN_CREDENTIALS)
        return err_set(ei, ERR_TOO_LARGE, "too_many", "credentials",
                       "a run brings credentials for at most %d connections", MAX_RUN_CREDENTIALS);
    out->creds = xcalloc(json_object_size(obj) + 1, sizeof(*out->creds));
    json_object_foreach ((json_t *)obj, slug, v) {
        struct conn c = {0};
        char f[MAX_SLUG_LEN + 16];
        snprintf(f, sizeof(f), "credentials.%s", slug);
        if (!str_is_slug(slug, MAX_SLUG_LEN))
            e = err_set(ei, ERR_INVALID, "invalid_value", f, "is not a connection slug");
        if (e == ERR_OK && conn_load(st, ws, NULL, slug, &c, ei) != ERR_OK)
            e = err_set(ei, ERR_INVALID, "unknown_connection", f,
                        "no connection of this workspace has this slug");
        if (e == ERR_OK && strcmp(fulfillment_of(&c), "caller") != 0)
            e = err_set(ei, ERR_INVALID, "wrong_fulfillment", f,
                        "connection %s has fulfillment %s: per-run credentials are for caller "
                        "connections",
                        slug, fulfillment_of(&c));
        if (e == ERR_OK)
            e = acct_parse_values(&c, v, f, &out->creds[i].vals, ei);
        conn_release(&c);
        if (e != ERR_OK)
            return e;
        snprintf(out->creds[i].slug, sizeof(out->creds[i].slug), "%s", slug);
        out->ncreds = ++i;
    }
    return ERR_OK;
}

enum err
fulfil_parse(struct store *st, int64_t ws, const json_t *participants, const json_t *credentials,
             struct fulfil_set *out, struct errinfo *ei)
{
    enum err e;

    memset(out, 0, sizeof(*out));
    e = parse_parties(participants, out, ei);
    if (e == ERR_OK)
        e = parse_creds(st, ws, credentials, out, ei);
    if (e != ERR_OK) {
        fulfil_set_release(out);
        return e;
    }
    out->ctx.parties = out->parties;
    out->ctx.nparties = out->nparties;
    out->ctx.creds = out->creds;
    out->ctx.ncreds = out->ncreds;
    return ERR_OK;
}

void
json_wipe_strings(json_t *j)
{
    const char *k;
    json_t *v;
    size_t i;

    if (json_is_string(j)) {
        /* jansson owns the buffer; it is about to be freed: wipe it first */
        char *p = (char *)json_string_value(j);
        OPENSSL_cleanse(p, json_string_length(j));
    } else if (json_is_object(j)) {
        json_object_foreach (j, k, v) {
            json_wipe_strings(v);
        }
    } else if (json_is_array(j)) {
        json_array_foreach (j, i, v) {
            json_wipe_strings(v);
        }
    }
}

/* owner of a holder's sealed values: "<holder>:<connection id>" */
static void
owner_of(const char *holder, const char *conn_id, char *out, size_t n)
{
    snprintf(out, n, "%s:%s", holder, conn_id);
}

static enum err
open_holder(struct store *st, const struct vault *v, int64_t ws, const char *kind,
            const char *owner, struct auth_values *out, bool *found, struct errinfo *ei)
{
    return conn_open_sealed(st, v, ws, kind, owner, out, found, ei);
}

static enum err
copy_values(const struct auth_values *from, struct auth_values *to)
{
    enum err e = ERR_OK;

    for (size_t i = 0; e == ERR_OK && i < from->n; i++)
        e = auth_values_add(to, from->name[i], from->value[i].p, from->value[i].len);
    return e;
}

/* ---- the call path ---- */

/* True when c's auth type takes no secret at all (auth none). */
static bool
no_secrets(const struct conn *c)
{
    const struct auth_method *m = auth_method_find(c->row.auth_type);
    const char *f[AUTH_MAX_SECRETS];

    return m != NULL && m->secret_fields(c->auth, f, AUTH_MAX_SECRETS) == 0;
}

static enum err
open_caller(struct store *st, const struct vault *v, const struct conn *c,
            const struct principal *who, const struct fulfil_ctx *fc, struct auth_values *out,
            char *holder, struct errinfo *ei)
{
    char uid[32], owner[ACCOUNT_HOLDER_MAX + ID_MAX];
    bool found = false;
    bool oauth = strcmp(c->row.auth_type, "oauth2") == 0;
    enum err e;

    for (size_t i = 0; fc && i < fc->ncreds; i++) {
        if (strcmp(fc->creds[i].slug, c->row.slug) != 0)
            continue;
        if (holder)
            snprintf(holder, ACCOUNT_HOLDER_MAX, "run");
        return copy_values(&fc->creds[i].vals, out);
    }
    if (!oauth && no_secrets(c))
        return ERR_OK; /* e.g. auth none: nothing anyone must provide */
    snprintf(uid, sizeof(uid), "%lld", (long long)who->user_id);
    owner_of(uid, c->row.id, owner, sizeof(owner));
    if (oauth) { /* personal tokens are not refreshed here: an expired one needs a reconnect */
        struct account_row r = {0};
        e = store_account_get(st, who->workspace_id, ACCOUNT_KIND_USER, uid, c->row.id, &r, ei);
        bool expired = e == ERR_OK && r.expires_at != 0 && r.expires_at <= now_ms();
        account_row_release(&r);
        if (expired)
            return err_set(ei, ERR_UNPROCESSABLE, "needs_credential", "connection",
                           "the personal OAuth token of user %s for connection %s has expired: "
                           "reconnect through /api/auth/connect/%s/start?personal=1&connection=%s",
                           who->user_name, c->row.slug,
                           json_string_value(json_object_get(c->auth, "provider")), c->row.id);
        if (e != ERR_OK && e != ERR_NOT_FOUND)
            return e;
    }
    e = open_holder(st, v, who->workspace_id, ACCOUNT_KIND_USER, owner, out, &found, ei);
    if (e == ERR_OK && !found) {
        if (oauth)
            return err_set(ei, ERR_UNPROCESSABLE, "needs_credential", "connection",
                           "connection %s uses the caller's own account: user %s must connect "
                           "it once through /api/auth/connect/%s/start?personal=1&connection=%s",
                           c->row.slug, who->user_name,
                           json_string_value(json_object_get(c->auth, "provider")), c->row.id);
        return err_set(ei, ERR_UNPROCESSABLE, "needs_credential", "connection",
                       "connection %s uses the caller's own account: user %s must add it with "
                       "PUT /api/me/accounts/%s, or the run must bring credentials.%s",
                       c->row.slug, who->user_name, c->row.slug, c->row.slug);
    }
    if (e == ERR_OK && holder)
        snprintf(holder, ACCOUNT_HOLDER_MAX, "user:%s", uid);
    return e;
}

static enum err
open_participant(struct store *st, const struct vault *v, const struct conn *c,
                 const struct fulfil_ctx *fc, struct auth_values *out, char *holder,
                 struct errinfo *ei)
{
    const char *role = json_string_value(json_object_get(c->config, "participant_role"));
    const struct fulfil_party *p = NULL;
    char owner[ACCOUNT_HOLDER_MAX + ID_MAX];
    bool found = false;
    enum err e;

    for (size_t i = 0; role && fc && i < fc->nparties && p == NULL; i++)
        if (strcmp(fc->parties[i].role, role) == 0)
            p = &fc->parties[i];
    if (strcmp(c->row.auth_type, "oauth2") != 0 && no_secrets(c))
        return ERR_OK;
    if (p == NULL)
        return err_set(ei, ERR_UNPROCESSABLE, "needs_credential", "participants",
                       "connection %s takes the credential of the run's %s participant, and "
                       "the run names none: add a participant with role %s",
                       c->row.slug, role ? role : "?", role ? role : "?");
    owner_of(p->id, c->row.id, owner, sizeof(owner));
    e = open_holder(st, v, c->row.workspace_id, ACCOUNT_KIND_PARTICIPANT, owner, out, &found, ei);
    if (e == ERR_OK && !found)
        return err_set(ei, ERR_UNPROCESSABLE, "needs_credential", "participants",
                       "connection %s needs participant %s (role %s) to provide a credential "
                       "first: POST /api/participants/%s/credentials",
                       c->row.slug, p->id, role, p->id);
    if (e == ERR_OK && holder)
        snprintf(holder, ACCOUNT_HOLDER_MAX, "participant:%s", p->id);
    return e;
}

enum err
acct_open(struct store *st, const struct vault *v, const struct conn *c,
          const struct principal *who, const struct fulfil_ctx *fc, struct auth_values *out,
          char *holder, struct errinfo *ei)
{
    const char *f = fulfillment_of(c);

    if (holder)
        holder[0] = '\0';
    if (strcmp(f, "caller") == 0)
        return open_caller(st, v, c, who, fc, out, holder, ei);
    if (strcmp(f, "participant") == 0)
        return open_participant(st, v, c, fc, out, holder, ei);
    return conn_open_secrets(st, v, c, out, ei);
}

/* ---- entering a key ---- */

enum err
acct_parse_values(const struct conn *c, const json_t *creds, const char *prefix,
                  struct auth_values *out, struct errinfo *ei)
{
    const char *type = c->row.auth_type;
    const struct auth_method *m = auth_method_find(type);
    const char *fields[AUTH_MAX_SECRETS], *req[AUTH_MAX_SECRETS];
    bool custom;
    json_t *in, *pub = NULL;
    const char *k;
    json_t *val;
    size_t n, nreq;
    enum err e = ERR_OK;

    if (m == NULL || type == NULL)
        return err_set(ei, ERR_INTERNAL, "unknown_auth_type", "auth.type", "unknown auth type");
    custom = strcmp(type, "custom") == 0;
    if (strcmp(type, "oauth2") == 0)
        return err_set(ei, ERR_INVALID, "oauth2_connection", prefix,
                       "connection %s uses OAuth2: connect it through "
                       "/api/auth/connect/%s/start?personal=1&connection=%s",
                       c->row.slug, json_string_value(json_object_get(c->auth, "provider")),
                       c->row.id);
    if (!json_is_object(creds))
        return err_set(ei, ERR_INVALID, "invalid_type", prefix,
                       "must be an object of the connection's credential fields");
    n = m->secret_fields(c->auth, fields, AUTH_MAX_SECRETS);
    json_object_foreach ((json_t *)creds, k, val) {
        bool known = false;
        char field[160];
        (void)val;
        for (size_t i = 0; i < n; i++)
            known = known || strcmp(fields[i], k) == 0;
        if (!known) {
            snprintf(field, sizeof(field), "%s.%s", prefix, k);
            return err_set(ei, ERR_INVALID, "unknown_field", field,
                           "is not a credential field of connection %s (auth type %s)", c->row.slug,
                           type);
        }
    }
    in = json_deep_copy(c->auth);
    if (in == NULL)
        return ERR_NOMEM;
    json_object_del(in, "secrets_set");
    if (custom) {
        json_object_set(in, "values", (json_t *)creds);
    } else {
        json_object_foreach ((json_t *)creds, k, val) {
            json_object_set(in, k, val);
        }
    }
    e = auth_parse(in, c->auth, &pub, out, ei);
    json_decref(in);
    json_decref(pub);
    if (e == ERR_OK) {
        nreq = m->required_fields(c->auth, req, AUTH_MAX_SECRETS);
        for (size_t i = 0; i < nreq; i++)
            if (auth_values_get(out, req[i]) == NULL) {
                auth_values_release(out);
                return err_set(ei, ERR_INVALID, "missing_field", prefix, "%s.%s is required",
                               prefix, req[i]);
            }
        return ERR_OK;
    }
    if (custom && strncmp(ei->field, "values.", 7) == 0)
        memmove(ei->field, ei->field + 7, strlen(ei->field + 7) + 1);
    err_field_prefix(ei, prefix);
    return e;
}

/* Seals vals as auth.<name> of (kind, holder, connection) and stores the row. */
static enum err
save_holder(struct store *st, const struct vault *v, struct account_row *r,
            const struct auth_values *vals, struct errinfo *ei)
{
    struct sealed_set set = {0};
    char owner[ACCOUNT_HOLDER_MAX + ID_MAX];
    enum err e = ERR_OK;

    owner_of(r->holder, r->connection_id, owner, sizeof(owner));
    for (size_t i = 0; e == ERR_OK && i < vals->n; i++) {
        char field[96];
        unsigned char *ct = NULL;
        size_t n = 0;
        struct vault_aad aad = {r->workspace_id, r->kind, owner, field};
        snprintf(field, sizeof(field), "auth.%s", vals->name[i]);
        e = vault_seal(v, &aad, vals->value[i].p, vals->value[i].len, &ct, &n, ei);
        if (e == ERR_OK)
            e = sealed_set_add(&set, field, ct, n);
    }
    if (e == ERR_OK)
        e = store_account_put(st, r, &set, ei);
    sealed_set_release(&set);
    return e;
}

static json_t *
account_view(const struct account_row *r, const struct auth_values *vals)
{
    char created[32], updated[32];
    json_t *tiers = json_array(), *fields = json_array();
    json_t *o;

    if (r->tiers) {
        char *t = xstrdup(r->tiers), *save = NULL;
        for (char *p = strtok_r(t, ",", &save); p; p = strtok_r(NULL, ",", &save))
            json_array_append_new(tiers, json_string(p));
        free(t);
    }
    for (size_t i = 0; vals && i < vals->n; i++)
        json_array_append_new(fields, json_string(vals->name[i]));
    iso8601_ms(r->created_at, created);
    iso8601_ms(r->updated_at, updated);
    o = json_pack("{s:s, s:s?, s:s?, s:s, s:o, s:s, s:s}", "connection_id", r->connection_id,
                  "connection", r->conn_slug, "connection_name", r->conn_name, "method", r->method,
                  "tiers", tiers, "created_at", created, "updated_at", updated);
    if (r->provider_id)
        json_object_set_new(o, "provider", json_string(r->provider_id));
    if (r->role)
        json_object_set_new(o, "role", json_string(r->role));
    if (vals)
        json_object_set_new(o, "fields_set", fields);
    else
        json_decref(fields);
    return o;
}

static enum err
put_values(struct store *st, const struct vault *v, const struct principal *who, const char *kind,
           const char *holder, const char *need_fulfillment, const char *conn_ref,
           const json_t *creds, json_t **out, struct errinfo *ei)
{
    struct conn c = {0};
    struct auth_values vals = {0};
    struct account_row r = {0};
    enum err e = conn_load_ref(st, who->workspace_id, conn_ref, &c, ei);

    if (e == ERR_OK && strcmp(fulfillment_of(&c), need_fulfillment) != 0)
        e = err_set(ei, ERR_INVALID, "wrong_fulfillment", "connection",
                    "connection %s has fulfillment %s, not %s", c.row.slug, fulfillment_of(&c),
                    need_fulfillment);
    if (e == ERR_OK && creds == NULL)
        e = err_set(ei, ERR_INVALID, "missing_field", "credentials", "is required");
    if (e == ERR_OK)
        e = acct_parse_values(&c, creds, "credentials", &vals, ei);
    if (e == ERR_OK) {
        r.workspace_id = who->workspace_id;
        r.kind = (char *)kind;
        r.holder = (char *)holder;
        r.connection_id = c.row.id;
        r.method = (char *)"key";
        r.role = (char *)json_string_value(json_object_get(c.config, "participant_role"));
        e = save_holder(st, v, &r, &vals, ei);
    }
    if (e == ERR_OK) {
        struct account_row got = {0};
        e = store_account_get(st, who->workspace_id, kind, holder, c.row.id, &got, ei);
        if (e == ERR_OK)
            *out = account_view(&got, &vals);
        account_row_release(&got);
        log_kv(LOG_INFO, "account.saved", "s:kind", kind, "s:holder", holder, "s:connection",
               c.row.id, "s:workspace", who->workspace_slug, "s:user", who->user_name, LOG_END);
    }
    auth_values_release(&vals);
    conn_release(&c);
    return e;
}

static enum err
list_holder(struct store *st, const struct principal *who, const char *kind, const char *holder,
            const char *key, json_t **out, struct errinfo *ei)
{
    struct account_row *rows = NULL;
    size_t n = 0;
    json_t *arr = json_array();
    enum err e = store_account_list(st, who->workspace_id, kind, holder, &rows, &n, ei);

    for (size_t i = 0; e == ERR_OK && i < n; i++) {
        char owner[ACCOUNT_HOLDER_MAX + ID_MAX];
        char **fields = NULL;
        size_t nf = 0;
        json_t *o = account_view(&rows[i], NULL), *fa = json_array();
        owner_of(holder, rows[i].connection_id, owner, sizeof(owner));
        e = store_secret_fields(st, who->workspace_id, kind, owner, &fields, &nf, ei);
        for (size_t j = 0; j < nf; j++)
            json_array_append_new(
                fa, json_string(strncmp(fields[j], "auth.", 5) == 0 ? fields[j] + 5 : fields[j]));
        string_list_free(fields, nf);
        json_object_set_new(o, "fields_set", fa);
        json_array_append_new(arr, o);
    }
    account_rows_free(rows, n);
    if (e != ERR_OK) {
        json_decref(arr);
        return e;
    }
    *out = json_pack("{s:o}", key, arr);
    return ERR_OK;
}

/* ---- personal accounts ---- */

enum err
acct_put_key(struct store *st, const struct vault *v, const struct principal *who,
             const char *conn_ref, const json_t *body, json_t **out, struct errinfo *ei)
{
    char uid[32];
    const char *k;
    json_t *val;

    json_object_foreach ((json_t *)body, k, val) {
        (void)val;
        if (strcmp(k, "credentials") != 0)
            return err_set(ei, ERR_INVALID, "unknown_field", k,
                           "is not a field of a personal account (credentials)");
    }
    snprintf(uid, sizeof(uid), "%lld", (long long)who->user_id);
    return put_values(st, v, who, ACCOUNT_KIND_USER, uid, "caller", conn_ref,
                      json_object_get(body, "credentials"), out, ei);
}

enum err
acct_list(struct store *st, const struct principal *who, json_t **out, struct errinfo *ei)
{
    char uid[32];

    snprintf(uid, sizeof(uid), "%lld", (long long)who->user_id);
    return list_holder(st, who, ACCOUNT_KIND_USER, uid, "accounts", out, ei);
}

enum err
acct_delete(struct store *st, const struct vault *v, struct outbound *ob,
            const struct principal *who, const char *conn_ref, struct errinfo *ei)
{
    struct conn c = {0};
    struct account_row r = {0};
    char uid[32];
    enum err e = conn_load_ref(st, who->workspace_id, conn_ref, &c, ei);

    snprintf(uid, sizeof(uid), "%lld", (long long)who->user_id);
    if (e == ERR_OK)
        e = store_account_get(st, who->workspace_id, ACCOUNT_KIND_USER, uid, c.row.id, &r, ei);
    if (e == ERR_OK && strcmp(r.method, "oauth") == 0) /* best effort, before the tokens go */
        conn_oauth_personal_revoke(st, v, ob, &c, who->user_id);
    if (e == ERR_OK)
        e = store_account_delete(st, who->workspace_id, ACCOUNT_KIND_USER, uid, c.row.id, ei);
    if (e == ERR_OK)
        log_kv(LOG_INFO, "account.deleted", "s:connection", c.row.id, "s:workspace",
               who->workspace_slug, "s:user", who->user_name, "s:method", r.method, LOG_END);
    account_row_release(&r);
    conn_release(&c);
    return e;
}

/* ---- participants ---- */

static enum err
check_pid(const char *pid, struct errinfo *ei)
{
    if (!part_id_valid(pid))
        return err_set(ei, ERR_INVALID, "invalid_value", "id",
                       "a participant id is 1-%d of A-Z a-z 0-9 _ . @ -", MAX_PARTICIPANT_ID_LEN);
    return ERR_OK;
}

enum err
part_put(struct store *st, const struct vault *v, const struct principal *who, const char *pid,
         const json_t *body, json_t **out, struct errinfo *ei)
{
    const char *k;
    json_t *val;
    enum err e = check_pid(pid, ei);

    if (e != ERR_OK)
        return e;
    json_object_foreach ((json_t *)body, k, val) {
        (void)val;
        if (strcmp(k, "credentials") != 0 && strcmp(k, "connection") != 0)
            return err_set(ei, ERR_INVALID, "unknown_field", k,
                           "is not a field of a participant credential (connection, "
                           "credentials)");
    }
    if (json_object_get(body, "connection") && !json_is_string(json_object_get(body, "connection")))
        return err_set(ei, ERR_INVALID, "invalid_type", "connection", "must be a string");
    e = put_values(st, v, who, ACCOUNT_KIND_PARTICIPANT, pid, "participant",
                   json_string_value(json_object_get(body, "connection")),
                   json_object_get(body, "credentials"), out, ei);
    if (e == ERR_OK)
        json_object_set_new(*out, "participant", json_string(pid));
    return e;
}

enum err
part_list(struct store *st, const struct principal *who, const char *pid, json_t **out,
          struct errinfo *ei)
{
    enum err e = check_pid(pid, ei);

    if (e == ERR_OK)
        e = list_holder(st, who, ACCOUNT_KIND_PARTICIPANT, pid, "credentials", out, ei);
    return e;
}

enum err
part_delete(struct store *st, const struct principal *who, const char *pid, const char *conn_ref,
            struct errinfo *ei)
{
    struct conn c = {0};
    enum err e = check_pid(pid, ei);

    if (e == ERR_OK)
        e = conn_load_ref(st, who->workspace_id, conn_ref, &c, ei);
    if (e == ERR_OK)
        e = store_account_delete(st, who->workspace_id, ACCOUNT_KIND_PARTICIPANT, pid, c.row.id,
                                 ei);
    if (e == ERR_OK)
        log_kv(LOG_INFO, "participant.credential_deleted", "s:participant", pid, "s:connection",
               c.row.id, "s:workspace", who->workspace_slug, LOG_END);
    conn_release(&c);
    return e;
}

/* ---- onboarding links ---- */

#define INVITE_TOKEN_BYTES ((size_t)32)

static bool
invite_hash(const char *token, char out[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    size_t n = token ? strlen(token) : 0;

    if (n != 2 * INVITE_TOKEN_BYTES || strspn(token, "0123456789abcdef") != n)
        return false;
    SHA256((const unsigned char *)token, n, d);
    hex_encode(d, sizeof(d), out);
    return true;
}

enum err
part_invite(struct store *st, const char *app_url, const struct principal *who, const char *pid,
            const json_t *body, json_t **out, struct errinfo *ei)
{
    unsigned char raw[INVITE_TOKEN_BYTES];
    char token[2 * INVITE_TOKEN_BYTES + 1], path[2 * INVITE_TOKEN_BYTES + 40], when[32];
    struct invite_row r = {0};
    struct conn c = {0};
    const char *k;
    json_t *val;
    enum err e = check_pid(pid, ei);

    json_object_foreach ((json_t *)body, k, val) {
        (void)val;
        if (e == ERR_OK && strcmp(k, "connection") != 0)
            e = err_set(ei, ERR_INVALID, "unknown_field", k,
                        "is not a field of an onboarding link (connection)");
    }
    if (e == ERR_OK)
        e = conn_load_ref(st, who->workspace_id,
                          json_string_value(json_object_get(body, "connection")), &c, ei);
    if (e == ERR_OK && strcmp(fulfillment_of(&c), "participant") != 0)
        e = err_set(ei, ERR_INVALID, "wrong_fulfillment", "connection",
                    "connection %s has fulfillment %s, not participant", c.row.slug,
                    fulfillment_of(&c));
    if (e == ERR_OK)
        e = rand_bytes(raw, sizeof(raw));
    if (e == ERR_OK) {
        hex_encode(raw, sizeof(raw), token);
        OPENSSL_cleanse(raw, sizeof(raw));
        (void)invite_hash(token, r.token_hash);
        r.workspace_id = who->workspace_id;
        r.participant_id = (char *)pid;
        r.connection_id = c.row.id;
        r.created_by = who->user_id;
        r.expires_at = now_ms() + (int64_t)PARTICIPANT_INVITE_TTL_S * 1000;
        e = store_invite_put(st, &r, ei);
    }
    if (e == ERR_OK) {
        snprintf(path, sizeof(path), "/api/onboarding?token=%s", token);
        iso8601_ms(r.expires_at, when);
        *out = json_pack("{s:s, s:s, s:s, s:s, s:s}", "participant", pid, "connection", c.row.slug,
                         "path", path, "expires_at", when, "token", token);
        if (app_url) {
            char *url = NULL;
            size_t n = strlen(app_url) + strlen(path) + 1;
            url = xcalloc(1, n);
            snprintf(url, n, "%s%s", app_url, path);
            json_object_set_new(*out, "url", json_string(url));
            free(url);
        }
        log_kv(LOG_INFO, "participant.invited", "s:participant", pid, "s:connection", c.row.id,
               "s:workspace", who->workspace_slug, "s:user", who->user_name, LOG_END);
    }
    OPENSSL_cleanse(token, sizeof(token));
    OPENSSL_cleanse(path, sizeof(path));
    conn_release(&c);
    return e;
}

/* The link's row and connection; an expired link is refused like a used one. */
static enum err
invite_load(struct store *st, const char *token, bool take, struct invite_row *r, struct conn *c,
            struct errinfo *ei)
{
    char hash[65];
    enum err e;

    if (!invite_hash(token, hash))
        return err_set(ei, ERR_NOT_FOUND, "unknown_invite", "token",
                       "this onboarding link is unknown or was already used");
    e = store_invite_get(st, hash, take, r, ei);
    if (e == ERR_OK && r->expires_at < now_ms())
        e = err_set(ei, ERR_NOT_FOUND, "expired_invite", "token",
                    "this onboarding link has expired: ask for a new one");
    if (e == ERR_OK)
        e = conn_load(st, r->workspace_id, r->connection_id, NULL, c, ei);
    return e;
}

enum err
part_invite_info(struct store *st, const char *token, json_t **out, struct errinfo *ei)
{
    struct invite_row r = {0};
    struct conn c = {0};
    char when[32];
    enum err e = invite_load(st, token, false, &r, &c, ei);

    if (e == ERR_OK) {
        const struct auth_method *m = auth_method_find(c.row.auth_type);
        const char *f[AUTH_MAX_SECRETS];
        size_t n = m ? m->secret_fields(c.auth, f, AUTH_MAX_SECRETS) : 0;
        json_t *fields = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(fields, json_string(f[i]));
        iso8601_ms(r.expires_at, when);
        *out = json_pack("{s:s, s:s, s:s, s:s?, s:o, s:s}", "participant", r.participant_id,
                         "connection", c.row.slug, "connection_name", c.row.name, "role",
                         json_string_value(json_object_get(c.config, "participant_role")), "fields",
                         fields, "expires_at", when);
    }
    conn_release(&c);
    invite_row_release(&r);
    return e;
}

enum err
part_invite_redeem(struct store *st, const struct vault *v, const char *token, const json_t *body,
                   json_t **out, struct errinfo *ei)
{
    struct invite_row r = {0}, taken = {0};
    struct conn c = {0};
    struct auth_values vals = {0};
    struct principal p = {0};
    const char *k;
    json_t *val;
    enum err e = invite_load(st, token, false, &r, &c, ei);

    json_object_foreach ((json_t *)body, k, val) {
        (void)val;
        if (e == ERR_OK && strcmp(k, "credentials") != 0)
            e = err_set(ei, ERR_INVALID, "unknown_field", k,
                        "is not a field of an onboarding answer (credentials)");
    }
    /* check the values before using the link up */
    if (e == ERR_OK && json_object_get(body, "credentials") == NULL)
        e = err_set(ei, ERR_INVALID, "missing_field", "credentials", "is required");
    if (e == ERR_OK)
        e = acct_parse_values(&c, json_object_get(body, "credentials"), "credentials", &vals, ei);
    auth_values_release(&vals);
    if (e == ERR_OK) {
        conn_release(&c);
        e = invite_load(st, token, true, &taken, &c, ei);
    }
    if (e == ERR_OK) {
        p.workspace_id = taken.workspace_id;
        p.user_id = taken.created_by;
        snprintf(p.user_name, sizeof(p.user_name), "participant");
        e = put_values(st, v, &p, ACCOUNT_KIND_PARTICIPANT, taken.participant_id, "participant",
                       c.row.id, json_object_get(body, "credentials"), out, ei);
    }
    if (e == ERR_OK)
        json_object_set_new(*out, "participant", json_string(taken.participant_id));
    conn_release(&c);
    invite_row_release(&r);
    invite_row_release(&taken);
    return e;
}
