#include "conn/conn.h"
#include "conn/internal.h"
#include "conn/conn_gmail.h"
#include "conn/conn_oauth.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "engine/schema.h"
#include "engine/template.h"
#include "mcp/client.h"
#include "services/registry.h"
#include "services/telegram.h"
#include "outbound/ssrf.h"
#include "core/banned.h"

#define KIND "connection"

static const char *const service_types[] = {"http", "openapi", "mcp", "telegram", "gmail", NULL};
static const char *const later_service_types[] = {NULL};
static const char *const fulfillments[] = {"static", "caller", "participant", NULL};
static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", NULL};
static const char *const writable[] = {"name",
                                       "slug",
                                       "service_type",
                                       "base_url",
                                       "auth",
                                       "operations",
                                       "fulfillment",
                                       "participant_role",
                                       "description",
                                       "test_operation",
                                       "spec",
                                       "exclude_operations",
                                       "rename_operations",
                                       "transport",
                                       "timeout_ms",
                                       NULL};
static const char *const mcp_keys[] = {"transport", "timeout_ms", NULL};
static const char *const mcp_auth_types[] = {"none", "bearer", "api_key_header", NULL};
static const char *const spec_keys[] = {"spec", "exclude_operations", "rename_operations", NULL};
static const char *const read_only[] = {"id",           "owner",      "owner_id",   "workspace",
                                        "workspace_id", "created_at", "updated_at", "version",
                                        "key_id",       "created_by", NULL};

static bool
in_set(const char *s, const char *const *set)
{
    for (size_t i = 0; s && set[i]; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

void
conn_release(struct conn *c)
{
    if (c == NULL)
        return;
    conn_row_release(&c->row);
    json_decref(c->config);
    c->config = NULL;
    c->auth = NULL;
}

void
conn_slug_from_name(const char *name, char *out, size_t outlen)
{
    size_t n = 0;
    bool sep = false;

    for (const char *p = name; *p && n + 1 < outlen && n < MAX_SLUG_LEN; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) && c < 0x80) {
            if (sep && n > 0)
                out[n++] = '_';
            if (n + 1 < outlen)
                out[n++] = (char)tolower(c);
            sep = false;
        } else {
            sep = true;
        }
    }
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, outlen, "connection");
}

/* ---- validation ---- */

static enum err
check_keys(const json_t *body, struct errinfo *ei)
{
    const char *k;
    json_t *v;

    if (!json_is_object(body))
        return err_set(ei, ERR_INVALID, "invalid_body", NULL, "the body must be a JSON object");
    json_object_foreach ((json_t *)body, k, v) {
        (void)v;
        if (in_set(k, read_only))
            return err_set(ei, ERR_INVALID, "read_only_field", k, "is set by connhub");
        if (!in_set(k, writable))
            return err_set(ei, ERR_INVALID, "unknown_field", k, "is not a connection field");
    }
    return ERR_OK;
}

/* Descriptions may span lines: CR, LF and TAB are fine there. */
static bool
has_ctl_but_space(const char *s)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\n' && *s != '\r' && *s != '\t') || *s == 0x7f)
            return true;
    return false;
}

/* A string field of at most max bytes; multiline allows CR, LF and TAB
 * (descriptions), every other control byte is refused. */
static enum err
string_field(const json_t *body, const char *key, size_t max, bool required, bool multiline,
             const char **out, struct errinfo *ei)
{
    json_t *v = json_object_get(body, key);

    *out = NULL;
    if (v == NULL) {
        if (required)
            return err_set(ei, ERR_INVALID, "missing_field", key, "is required");
        return ERR_OK;
    }
    if (!json_is_string(v))
        return err_set(ei, ERR_INVALID, "invalid_type", key, "must be a string");
    if (json_string_length(v) > max)
        return err_set(ei, ERR_INVALID, "too_long", key, "must be at most %zu characters", max);
    if (strlen(json_string_value(v)) != json_string_length(v) ||
        (multiline ? has_ctl_but_space(json_string_value(v)) : str_has_ctl(json_string_value(v))))
        return err_set(ei, ERR_INVALID, "invalid_characters", key,
                       "must not contain control characters");
    *out = json_string_value(v);
    return ERR_OK;
}

static enum err
text_field(const json_t *body, const char *key, size_t max, bool required, const char **out,
           struct errinfo *ei)
{
    return string_field(body, key, max, required, false, out, ei);
}

static enum err
check_operation(json_t *op, size_t i, json_t *names, struct errinfo *ei)
{
    static const char *const keys[] = {
        "name",          "method", "path",         "description", "input_schema",
        "output_schema", "params", "operation_id", "tier",        NULL};
    const char *name, *method, *path, *desc, *tier = NULL, *k;
    char f[48];
    json_t *v;
    enum err e = ERR_OK;

    snprintf(f, sizeof(f), "operations[%zu]", i);
    if (!json_is_object(op))
        return err_set(ei, ERR_INVALID, "invalid_type", f, "must be an object");
    json_object_foreach (op, k, v) {
        (void)v;
        if (!in_set(k, keys))
            return err_set(ei, ERR_INVALID, "unknown_field", f, "%s is not an operation field", k);
    }
    e = text_field(op, "name", MAX_OPERATION_NAME_LEN, true, &name, ei);
    if (e == ERR_OK && !str_is_slug(name, MAX_OPERATION_NAME_LEN))
        e = err_set(ei, ERR_INVALID, "invalid_name", "name",
                    "must be lower-case letters, digits and _ (at most %d)",
                    MAX_OPERATION_NAME_LEN);
    if (e == ERR_OK && json_object_get(names, name) != NULL)
        e = err_set(ei, ERR_INVALID, "duplicate_name", "name",
                    "another operation already has this name");
    if (e == ERR_OK)
        e = text_field(op, "method", 8, true, &method, ei);
    if (e == ERR_OK) {
        char up[9]; /* at most 8 characters + NUL */
        size_t n = strlen(method);
        for (size_t j = 0; j <= n; j++)
            up[j] = (char)toupper((unsigned char)method[j]);
        if (!in_set(up, methods))
            e = err_set(ei, ERR_INVALID, "invalid_method", "method",
                        "must be one of GET, POST, PUT, PATCH, DELETE, HEAD");
        else
            json_object_set_new(op, "method", json_string(up));
    }
    if (e == ERR_OK)
        e = text_field(op, "path", MAX_OP_PATH_LEN, true, &path, ei);
    if (e == ERR_OK)
        e = tmpl_check(path, "path", NULL, ei);
    if (e == ERR_OK)
        e = string_field(op, "description", MAX_DESCRIPTION_LEN, false, true, &desc, ei);
    if (e == ERR_OK && json_object_get(op, "input_schema"))
        e = schema_check(json_object_get(op, "input_schema"), "input_schema", ei);
    if (e == ERR_OK && json_object_get(op, "output_schema"))
        e = schema_check(json_object_get(op, "output_schema"), "output_schema", ei);
    if (e == ERR_OK && json_object_get(op, "params") &&
        !json_is_array(json_object_get(op, "params")))
        e = err_set(ei, ERR_INVALID, "invalid_type", "params", "must be an array");
    /* the OAuth tier the operation needs (oauth2 connections; checked at call time) */
    if (e == ERR_OK)
        e = text_field(op, "tier", OAUTH_MAX_TIER_NAME_LEN + 1, false, &tier, ei);
    if (e == ERR_OK && tier && !str_is_slug(tier, OAUTH_MAX_TIER_NAME_LEN))
        e = err_set(ei, ERR_INVALID, "invalid_name", "tier",
                    "must be a tier name: lower-case letters, digits and _ (at most %d)",
                    OAUTH_MAX_TIER_NAME_LEN);
    if (e != ERR_OK) {
        err_field_prefix(ei, f);
        return e;
    }
    json_object_set_new(names, name, json_true());
    return ERR_OK;
}

/* Validates and normalises operations (a new reference in *out). */
static enum err
check_operations(const json_t *in, json_t **out, struct errinfo *ei)
{
    json_t *ops, *names = json_object(), *op;
    size_t i;
    enum err e = ERR_OK;

    *out = NULL;
    if (in == NULL) {
        *out = json_array();
        json_decref(names);
        return ERR_OK;
    }
    if (!json_is_array(in)) {
        json_decref(names);
        return err_set(ei, ERR_INVALID, "invalid_type", "operations", "must be an array");
    }
    if (json_array_size(in) > MAX_OPERATIONS) {
        json_decref(names);
        return err_set(ei, ERR_TOO_LARGE, "too_many", "operations",
                       "at most %d operations per connection", MAX_OPERATIONS);
    }
    ops = json_deep_copy(in);
    json_array_foreach (ops, i, op) {
        e = check_operation(op, i, names, ei);
        if (e != ERR_OK)
            break;
    }
    json_decref(names);
    if (e != ERR_OK) {
        json_decref(ops);
        return e;
    }
    *out = ops;
    return ERR_OK;
}

static enum err
check_enum(const json_t *body, const char *key, const char *const *ok, const char *const *later,
           const char *dflt, const char **out, struct errinfo *ei)
{
    const char *v;
    enum err e = text_field(body, key, 32, false, &v, ei);

    if (e != ERR_OK)
        return e;
    if (v == NULL)
        v = dflt;
    if (later && in_set(v, later))
        return err_set(ei, ERR_INVALID, "not_supported_yet", key,
                       "%s connections are not supported by this server yet", v);
    if (!in_set(v, ok)) {
        char list[160] = "";
        size_t n = 0;
        for (size_t i = 0; ok[i]; i++)
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", ok[i]);
        return err_set(ei, ERR_INVALID, "invalid_value", key, "must be one of: %s", list);
    }
    *out = v;
    return ERR_OK;
}

/* Seals vals into set as "auth.<name>" for connection id. */
static enum err
seal_values(const struct vault *v, int64_t ws, const char *id, const struct auth_values *vals,
            struct sealed_set *set, struct errinfo *ei)
{
    for (size_t i = 0; i < vals->n; i++) {
        char field[96];
        unsigned char *ct;
        size_t n;
        struct vault_aad aad = {ws, KIND, id, field};
        enum err e;
        snprintf(field, sizeof(field), "auth.%s", vals->name[i]);
        e = vault_seal(v, &aad, vals->value[i].p, vals->value[i].len, &ct, &n, ei);
        if (e == ERR_OK)
            e = sealed_set_add(set, field, ct, n);
        if (e != ERR_OK)
            return e;
    }
    return ERR_OK;
}

/* Every required secret is either in vals or among the kept stored fields. */
static enum err
check_required(const json_t *pub, const struct auth_values *vals, char **kept, size_t nkept,
               struct errinfo *ei)
{
    const struct auth_method *m = auth_method_find(json_string_value(json_object_get(pub, "type")));
    const char *req[AUTH_MAX_SECRETS];
    size_t n = m->required_fields(pub, req, AUTH_MAX_SECRETS);
    bool custom = strcmp(m->type, "custom") == 0;

    for (size_t i = 0; i < n; i++) {
        char field[96];
        bool have = auth_values_get(vals, req[i]) != NULL;
        snprintf(field, sizeof(field), "auth.%s", req[i]);
        for (size_t j = 0; !have && j < nkept; j++)
            have = strcmp(kept[j], field) == 0;
        if (!have) {
            snprintf(field, sizeof(field), custom ? "auth.values.%s" : "auth.%s", req[i]);
            return err_set(ei, ERR_INVALID, "missing_field", field, "is required");
        }
    }
    return ERR_OK;
}

void
conn_draft_release(struct conn_draft *d)
{
    json_decref(d->auth_pub);
    json_decref(d->operations);
    spec_import_release(&d->imp);
    auth_values_release(&d->vals);
    json_decref(d->oauth_provider);
}

/* participant fulfillment needs the role of the participant who provides the
 * credential; the role means nothing for the other modes. */
static enum err
check_fulfillment(const struct conn_draft *d, struct errinfo *ei)
{
    bool participant = d->fulfillment && strcmp(d->fulfillment, "participant") == 0;

    if (participant && (d->participant_role == NULL || d->participant_role[0] == '\0'))
        return err_set(ei, ERR_INVALID, "missing_field", "participant_role",
                       "is required when fulfillment is participant (e.g. \"customer\")");
    if (!participant && d->participant_role)
        return err_set(ei, ERR_INVALID, "invalid_value", "participant_role",
                       "is only for fulfillment participant");
    if (participant && !str_is_slug(d->participant_role, MAX_PARTICIPANT_ROLE_LEN))
        return err_set(ei, ERR_INVALID, "invalid_value", "participant_role",
                       "must be 1-%d lower-case letters, digits or _", MAX_PARTICIPANT_ROLE_LEN);
    return ERR_OK;
}

static enum err
draft_common(const json_t *body, struct conn_draft *d, struct errinfo *ei)
{
    struct url_info ui;
    enum err e;

    if (d->slug && !str_is_slug(d->slug, MAX_SLUG_LEN))
        return err_set(ei, ERR_INVALID, "invalid_slug", "slug",
                       "must be 1-%d lower-case letters, digits or _, not starting with _",
                       MAX_SLUG_LEN);
    if (d->name && d->name[0] == '\0')
        return err_set(ei, ERR_INVALID, "invalid_value", "name", "must not be empty");
    if (d->base_url) {
        e = url_validate(d->base_url, "base_url", &ui, ei);
        if (e != ERR_OK)
            return e;
    }
    e = string_field(body, "description", MAX_DESCRIPTION_LEN, false, true, &d->description, ei);
    if (e == ERR_OK)
        e = text_field(body, "test_operation", MAX_OPERATION_NAME_LEN, false, &d->test_op, ei);
    return e;
}

/* telegram: a bot token (auth bearer, checked for shape) and the Bot API tools. */
static enum err
telegram_draft(struct conn_draft *d, struct errinfo *ei)
{
    const struct secret *tok = auth_values_get(&d->vals, "token");
    enum err e;

    if (strcmp(json_string_value(json_object_get(d->auth_pub, "type")), "bearer") != 0)
        return err_set(ei, ERR_INVALID, "invalid_value", "auth.type",
                       "a telegram connection's auth is {\"type\": \"bearer\", \"token\": "
                       "\"<bot token>\"}");
    if (tok) {
        e = telegram_token_check(tok, ei);
        if (e != ERR_OK) { /* a malformed token is bad input here */
            snprintf(ei->field, sizeof(ei->field), "auth.token");
            return ERR_INVALID;
        }
    }
    d->operations = json_array();
    for (size_t i = 0; i < telegram_tool_count(); i++) {
        const struct svc_tool *t = telegram_tool_at(i);
        json_t *op = json_pack("{s:s, s:s, s:s, s:o}", "name", t->name, "telegram_tool", t->name,
                               "description", t->description, "input_schema", svc_tool_schema(t));
        json_array_append_new(d->operations, op);
    }
    d->ops_changed = true;
    return ERR_OK;
}

/* transport and timeout_ms: mcp connections only, checked and kept in d. */
static enum err
check_mcp_keys(const json_t *body, const char *service_type, struct conn_draft *d,
               struct errinfo *ei)
{
    json_t *t = json_object_get(body, "timeout_ms");
    enum mcp_transport tr;

    for (size_t i = 0; mcp_keys[i]; i++)
        if (json_object_get(body, mcp_keys[i]) && strcmp(service_type, "mcp") != 0)
            return err_set(ei, ERR_INVALID, "unknown_field", mcp_keys[i],
                           "is only for service_type mcp");
    if (strcmp(service_type, "mcp") != 0)
        return ERR_OK;
    if (json_object_get(body, "operations"))
        return err_set(ei, ERR_INVALID, "read_only_field", "operations",
                       "an mcp connection's operations are the server's tools (discovered)");
    if (json_object_get(body, "transport")) {
        d->transport = json_string_value(json_object_get(body, "transport"));
        if (d->transport == NULL || !mcp_transport_parse(d->transport, &tr))
            return err_set(ei, ERR_INVALID, "invalid_value", "transport",
                           "must be one of: auto, streamable_http, sse");
    }
    if (t) {
        if (!json_is_integer(t) || json_integer_value(t) < 1000 ||
            json_integer_value(t) > (json_int_t)MCP_MAX_TIMEOUT_MS)
            return err_set(ei, ERR_INVALID, "invalid_value", "timeout_ms",
                           "must be a whole number of milliseconds from 1000 to %u",
                           MCP_MAX_TIMEOUT_MS);
        d->timeout_ms = json_integer_value(t);
    }
    return ERR_OK;
}

/* Spec keys belong to openapi connections only. */
static enum err
check_spec_keys(const json_t *body, const char *service_type, struct errinfo *ei)
{
    for (size_t i = 0; spec_keys[i]; i++)
        if (json_object_get(body, spec_keys[i]) && strcmp(service_type, "openapi") != 0)
            return err_set(ei, ERR_INVALID, "unknown_field", spec_keys[i],
                           "is only for service_type openapi");
    if (strcmp(service_type, "openapi") == 0 && json_object_get(body, "operations"))
        return err_set(ei, ERR_INVALID, "read_only_field", "operations",
                       "an openapi connection's operations come from its spec: use "
                       "exclude_operations and rename_operations");
    return ERR_OK;
}

/* openapi: operations, base URL and default auth from the spec. */
static enum err
draft_import(const json_t *body, const json_t *prev_ops, struct conn_draft *d, struct errinfo *ei)
{
    enum err e = conn_import_spec(body, prev_ops, &d->imp, ei);

    if (e != ERR_OK)
        return e;
    d->spec = json_string_value(json_object_get(body, "spec"));
    d->ops_changed = true;
    if (d->base_url == NULL && prev_ops == NULL)
        d->base_url = d->imp.base_url;
    e = check_operations(d->imp.operations, &d->operations, ei);
    if (e == ERR_OK && d->base_url) {
        struct url_info ui;
        e = url_validate(d->base_url, "base_url", &ui, ei);
    }
    return e;
}

static enum err
draft_from_create(const json_t *body, struct conn_draft *d, struct errinfo *ei)
{
    json_t *auth = json_object_get(body, "auth");
    json_t *none = NULL;
    enum err e = check_keys(body, ei);

    if (e == ERR_OK)
        e = text_field(body, "name", MAX_NAME_LEN, true, &d->name, ei);
    if (e == ERR_OK)
        e = text_field(body, "slug", MAX_SLUG_LEN + 1, false, &d->slug, ei);
    if (e == ERR_OK && d->slug == NULL) {
        conn_slug_from_name(d->name, d->slugbuf, sizeof(d->slugbuf));
        d->slug = d->slugbuf;
    }
    if (e == ERR_OK)
        e = check_enum(body, "service_type", service_types, later_service_types, "http",
                       &d->service_type, ei);
    if (e == ERR_OK)
        e = check_spec_keys(body, d->service_type, ei);
    if (e == ERR_OK)
        e = check_mcp_keys(body, d->service_type, d, ei);
    if (e == ERR_OK)
        e = text_field(body, "base_url", MAX_BASE_URL_LEN,
                       strcmp(d->service_type, "openapi") != 0 &&
                           strcmp(d->service_type, "telegram") != 0 &&
                           strcmp(d->service_type, "gmail") != 0,
                       &d->base_url, ei);
    if (e == ERR_OK && strcmp(d->service_type, "gmail") == 0) {
        if (json_object_get(body, "operations"))
            return err_set(ei, ERR_INVALID, "read_only_field", "operations",
                           "a gmail connection's tools are send_message, list_messages and "
                           "get_message");
        if (d->base_url == NULL)
            d->base_url = service_base_url("gmail");
    }
    if (e == ERR_OK && strcmp(d->service_type, "telegram") == 0) {
        if (json_object_get(body, "operations"))
            return err_set(ei, ERR_INVALID, "read_only_field", "operations",
                           "a telegram connection's tools are send_message, send_photo and "
                           "get_updates");
        if (d->base_url == NULL)
            d->base_url = service_base_url("telegram");
    }
    if (e == ERR_OK)
        e = check_enum(body, "fulfillment", fulfillments, NULL, "static", &d->fulfillment, ei);
    if (e == ERR_OK)
        e = text_field(body, "participant_role", MAX_PARTICIPANT_ROLE_LEN, false,
                       &d->participant_role, ei);
    if (e == ERR_OK)
        e = check_fulfillment(d, ei);
    if (e == ERR_OK)
        e = draft_common(body, d, ei);
    if (e == ERR_OK && strcmp(d->service_type, "openapi") == 0)
        e = draft_import(body, NULL, d, ei);
    if (e == ERR_OK && auth == NULL && d->imp.auth) {
        const char *t = json_string_value(json_object_get(d->imp.auth, "type"));
        if (t && strcmp(t, "oauth2") == 0) {
            /* the scheme becomes a provider (adopted at save); its client
             * credentials still come from a platform admin */
            e = conn_oauth_provider_from_spec(d->imp.auth, &d->oauth_provider, ei);
            if (e != ERR_OK)
                return e;
            auth = none = json_pack("{s:s, s:O, s:[s]}", "type", "oauth2", "provider",
                                    json_object_get(d->oauth_provider, "id"), "tiers", "all");
        } else if (t && auth_method_find(t) == NULL) {
            return err_set(ei, ERR_INVALID, "unsupported_auth", "auth",
                           "the spec's security scheme is %s, which connhub cannot use yet: "
                           "pass auth with one of: %s",
                           t, auth_type_list());
        } else {
            /* only what an auth object holds: the spec's scheme label etc. stay out */
            auth = none = json_pack("{s:s}", "type", t);
            if (json_object_get(d->imp.auth, "name"))
                json_object_set(none, "name", json_object_get(d->imp.auth, "name"));
        }
    }
    if (e == ERR_OK && auth == NULL)
        auth = none = json_pack("{s:s}", "type", "none");
    if (e == ERR_OK) {
        e = auth_parse(auth, NULL, &d->auth_pub, &d->vals, ei);
        if (e != ERR_OK)
            err_field_prefix(ei, "auth");
    }
    json_decref(none);
    if (e == ERR_OK && strcmp(d->service_type, "telegram") == 0)
        return telegram_draft(d, ei);
    if (e == ERR_OK && strcmp(d->service_type, "gmail") == 0)
        return conn_gmail_draft(d, ei);
    if (e == ERR_OK && strcmp(json_string_value(json_object_get(d->auth_pub, "type")),
                              "google_service_account") == 0)
        return err_set(ei, ERR_INVALID, "invalid_value", "auth.type",
                       "google_service_account is for service_type gmail");
    if (e == ERR_OK && strcmp(d->service_type, "mcp") == 0) {
        if (!in_set(json_string_value(json_object_get(d->auth_pub, "type")), mcp_auth_types))
            return err_set(ei, ERR_INVALID, "invalid_value", "auth.type",
                           "an mcp connection's auth is one of: none, bearer, api_key_header");
        return ERR_OK; /* operations come from discovery */
    }
    if (e == ERR_OK && d->operations == NULL) {
        d->ops_changed = true;
        e = check_operations(json_object_get(body, "operations"), &d->operations, ei);
    }
    return e;
}

static json_t *
config_doc(const struct conn_draft *d)
{
    json_t *c = json_pack("{s:O}", "auth", d->auth_pub);

    if (d->description)
        json_object_set_new(c, "description", json_string(d->description));
    if (d->test_op)
        json_object_set_new(c, "test_operation", json_string(d->test_op));
    if (d->transport)
        json_object_set_new(c, "transport", json_string(d->transport));
    if (d->timeout_ms)
        json_object_set_new(c, "timeout_ms", json_integer(d->timeout_ms));
    if (d->participant_role)
        json_object_set_new(c, "participant_role", json_string(d->participant_role));
    return c;
}

static enum err
check_test_op(struct store *st, const struct conn_row *r, const struct conn_draft *d,
              struct errinfo *ei)
{
    json_t *op;
    size_t i;

    if (d->test_op == NULL || d->test_op[0] == '\0')
        return ERR_OK;
    if (d->operations == NULL && r != NULL && st != NULL) { /* unchanged: ask the store */
        char *def = NULL;
        struct errinfo tmp;
        enum err e = store_op_get(st, r->workspace_id, r->id, d->test_op, &def, &tmp);
        free(def);
        if (e != ERR_NOT_FOUND) {
            if (ei)
                *ei = tmp;
            return e;
        }
    }
    json_array_foreach (d->operations, i, op) {
        if (strcmp(json_string_value(json_object_get(op, "name")), d->test_op) == 0)
            return ERR_OK;
    }
    return err_set(ei, ERR_INVALID, "unknown_operation", "test_operation",
                   "names no operation of this connection");
}

/* The draft's operations as store rows (names borrowed, defs malloc'd). */
static struct op_row *
op_rows_of(const json_t *ops, size_t *n)
{
    struct op_row *v = xcalloc(json_array_size(ops) + 1, sizeof(*v));
    json_t *op;
    size_t i;

    json_array_foreach (ops, i, op) {
        v[i].name = (char *)json_string_value(json_object_get(op, "name"));
        v[i].def = json_dumps(op, JSON_COMPACT);
    }
    *n = json_array_size(ops);
    return v;
}

static void
op_rows_release(struct op_row *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].def);
    free(v);
}

/* ---- views ---- */

static json_t *
view(const struct conn_row *r, char **fields, size_t nfields, json_t *ops)
{
    json_t *cfg = json_loads(r->config ? r->config : "{}", 0, NULL);
    json_t *auth, *set = json_array(), *o;
    char created[32], updated[32];

    if (cfg == NULL)
        cfg = json_object();
    auth = json_deep_copy(json_object_get(cfg, "auth"));
    if (auth == NULL)
        auth = json_pack("{s:s}", "type", r->auth_type);
    for (size_t i = 0; i < nfields; i++)
        if (strncmp(fields[i], "auth.", 5) == 0)
            json_array_append_new(set, json_string(fields[i] + 5));
    json_object_set_new(auth, "secrets_set", set);
    iso8601_ms(r->created_at, created);
    iso8601_ms(r->updated_at, updated);
    o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o, s:I, s:s, s:{s:s}, s:s, s:s, s:I}", "id", r->id,
                  "name", r->name, "slug", r->slug, "service_type", r->service_type, "base_url",
                  r->base_url, "auth", auth, "operations_count", (json_int_t)r->op_count,
                  "fulfillment", r->fulfillment, "owner", "name",
                  r->owner_name ? r->owner_name : "", "created_at", created, "updated_at", updated,
                  "version", (json_int_t)r->version);
    if (ops) {
        json_object_set(o, "operations", ops);
        json_object_set_new(o, "operations_count", json_integer((json_int_t)json_array_size(ops)));
    }
    if (json_object_get(cfg, "description"))
        json_object_set(o, "description", json_object_get(cfg, "description"));
    if (json_object_get(cfg, "test_operation"))
        json_object_set(o, "test_operation", json_object_get(cfg, "test_operation"));
    if (json_object_get(cfg, "participant_role"))
        json_object_set(o, "participant_role", json_object_get(cfg, "participant_role"));
    if (strcmp(r->service_type, "mcp") == 0) { /* list_changed seen since the last discovery */
        json_t *st = json_object_get(cfg, "tools_stale");
        json_object_set_new(o, "tools_stale", json_boolean(st != NULL));
        if (json_object_get(st, "since"))
            json_object_set(o, "tools_stale_since", json_object_get(st, "since"));
    }
    json_decref(cfg);
    return o;
}

/* with_ops: the full operation list (GET of one connection); lists only
 * carry operations_count. */
static enum err
view_of(struct store *st, const struct conn_row *r, bool with_ops, json_t **out, struct errinfo *ei)
{
    char **fields = NULL;
    size_t n = 0, nops = 0;
    struct op_row *ops = NULL;
    json_t *arr = NULL;
    enum err e = store_secret_fields(st, r->workspace_id, KIND, r->id, &fields, &n, ei);

    if (e == ERR_OK && with_ops)
        e = store_ops_list(st, r->workspace_id, r->id, &ops, &nops, ei);
    if (e == ERR_OK && with_ops) {
        arr = json_array();
        for (size_t i = 0; i < nops; i++) {
            json_t *op = json_loads(ops[i].def, 0, NULL);
            if (op)
                json_array_append_new(arr, op);
        }
    }
    if (e == ERR_OK)
        *out = view(r, fields, n, arr);
    if (e == ERR_OK && r->auth_type &&
        (strcmp(r->auth_type, "oauth2") == 0 ||
         strcmp(r->auth_type, "google_service_account") == 0)) {
        json_t *h = conn_oauth_health_json(st, r->workspace_id, r->id); /* health, no token */
        if (h)
            json_object_set_new(*out, "oauth", h);
    }
    json_decref(arr);
    op_rows_free(ops, nops);
    string_list_free(fields, n);
    return e;
}

/* ---- API entry points ---- */

enum err
conn_draft_create(const json_t *body, struct conn_draft *d, struct errinfo *ei)
{
    enum err e = draft_from_create(body, d, ei);

    if (e == ERR_OK)
        e = check_test_op(NULL, NULL, d, ei);
    /* caller and participant connections get their credential per run */
    if (e == ERR_OK && strcmp(d->fulfillment, "static") == 0)
        e = check_required(d->auth_pub, &d->vals, NULL, 0, ei);
    return e;
}

enum err
conn_draft_save(struct store *st, const struct vault *v, const struct principal *p,
                struct conn_draft *d, json_t **out, struct errinfo *ei)
{
    struct conn_row r = {0};
    struct sealed_set set = {0};
    json_t *cfg = NULL;
    enum err e = ERR_OK;

    *out = NULL;
    if (d->operations == NULL)
        d->operations = json_array();
    if (d->idem.id[0] != '\0')
        snprintf(r.id, sizeof(r.id), "%s", d->idem.id);
    else
        e = id_new("conn", r.id);
    if (e != ERR_OK)
        return e;
    r.workspace_id = p->workspace_id;
    r.owner_id = p->user_id;
    r.name = (char *)d->name;
    r.slug = (char *)d->slug;
    r.service_type = (char *)d->service_type;
    r.auth_type = (char *)json_string_value(json_object_get(d->auth_pub, "type"));
    r.base_url = (char *)d->base_url;
    r.fulfillment = (char *)d->fulfillment;
    cfg = config_doc(d);
    r.config = json_dumps(cfg, JSON_COMPACT);
    r.created_at = r.updated_at = now_ms();
    r.version = 1;
    r.owner_name = (char *)p->user_name;
    e = seal_values(v, p->workspace_id, r.id, &d->vals, &set, ei);
    if (e == ERR_OK && d->oauth_provider)
        e = conn_oauth_provider_adopt(st, d->oauth_provider, ei);
    if (e == ERR_OK) {
        size_t nops = 0;
        struct op_row *ops = op_rows_of(d->operations, &nops);
        e = store_conn_insert(st, &r, ops, nops, d->spec, &set, ei);
        op_rows_release(ops, nops);
        r.op_count = (int64_t)nops;
    }
    if (e == ERR_OK) {
        char **fields = xcalloc(set.n ? set.n : 1, sizeof(char *));
        for (size_t i = 0; i < set.n; i++)
            fields[i] = set.v[i].field;
        *out = view(&r, fields, set.n, d->operations);
        if (d->imp.warnings && json_array_size(d->imp.warnings) > 0)
            json_object_set(*out, "import_warnings", d->imp.warnings);
        free(fields);
        if (d->idem.id[0] != '\0') {
            struct errinfo dei = {0}; /* the connection exists: a retry finds it either way */
            if (store_idem_done(st, p->workspace_id, p->user_id, d->idem.key, &dei) != ERR_OK)
                log_kv(LOG_WARN, "connection.idempotency_not_marked", "s:id", r.id, LOG_END);
        }
        log_kv(LOG_INFO, "connection.created", "s:id", r.id, "s:workspace", p->workspace_slug,
               "s:user", p->user_name, "s:slug", r.slug, "s:auth_type", r.auth_type, LOG_END);
    }
    free(r.config);
    json_decref(cfg);
    sealed_set_release(&set);
    return e;
}

enum err
conn_create(struct store *st, const struct vault *v, const struct principal *p, const json_t *body,
            const struct conn_idem *idem, json_t **out, struct errinfo *ei)
{
    struct conn_draft d = {0};
    enum err e = conn_draft_create(body, &d, ei);

    if (idem != NULL)
        d.idem = *idem;

    *out = NULL;
    if (e == ERR_OK && strcmp(d.service_type, "mcp") == 0)
        e = err_set(ei, ERR_INTERNAL, "async_required", NULL,
                    "mcp connections are created through conn_mcp_create");
    if (e == ERR_OK)
        e = conn_draft_save(st, v, p, &d, out, ei);
    conn_draft_release(&d);
    return e;
}

enum err
conn_get_view(struct store *st, const struct principal *p, const char *id, json_t **out,
              struct errinfo *ei)
{
    struct conn_row r = {0};
    enum err e = store_conn_get(st, p->workspace_id, id, &r, ei);

    if (e == ERR_OK)
        e = view_of(st, &r, true, out, ei);
    conn_row_release(&r);
    return e;
}

enum err
conn_list_view(struct store *st, const struct principal *p, const struct conn_filter *f,
               json_t **out, struct errinfo *ei)
{
    struct conn_row *rows = NULL;
    size_t n = 0;
    json_t *arr = json_array();
    enum err e = store_conn_list(st, p->workspace_id, f, &rows, &n, ei);

    for (size_t i = 0; e == ERR_OK && i < n; i++) {
        json_t *o = NULL;
        e = view_of(st, &rows[i], false, &o, ei);
        if (e == ERR_OK)
            json_array_append_new(arr, o);
    }
    if (e == ERR_OK) {
        size_t limit = f && f->limit ? f->limit : MAX_LIST_PAGE;
        *out = json_pack("{s:o, s:s?}", "connections", arr, "next_cursor",
                         n == limit && n > 0 ? rows[n - 1].id : NULL);
    } else {
        json_decref(arr);
    }
    conn_rows_free(rows, n);
    return e;
}

enum err
conn_may_change(const struct principal *p, const struct conn_row *r, struct errinfo *ei)
{
    if (p->role == ROLE_ADMIN || r->owner_id == p->user_id)
        return ERR_OK;
    return err_set(ei, ERR_FORBIDDEN, "not_owner", NULL,
                   "only the connection's owner or a workspace admin can change it");
}

/* Applies a PATCH body onto the stored connection (r, cfg) into d. */
/* PATCH with a new spec: re-import, keeping the names of unchanged operations. */
static enum err
reimport(struct store *st, const json_t *body, const struct conn_row *r, struct conn_draft *d,
         struct errinfo *ei)
{
    struct op_row *ops = NULL;
    size_t n = 0;
    json_t *prev = json_array();
    enum err e = store_ops_list(st, r->workspace_id, r->id, &ops, &n, ei);

    for (size_t i = 0; e == ERR_OK && i < n; i++) {
        json_t *op = json_loads(ops[i].def, 0, NULL);
        if (op)
            json_array_append_new(prev, op);
    }
    op_rows_free(ops, n);
    if (e == ERR_OK)
        e = draft_import(body, prev, d, ei);
    json_decref(prev);
    return e;
}

static enum err
draft_from_patch(struct store *st, const json_t *body, const struct conn_row *r, const json_t *cfg,
                 struct conn_draft *d, struct errinfo *ei)
{
    json_t *auth = json_object_get(body, "auth");
    const char *stype;
    enum err e = check_keys(body, ei);

    if (e == ERR_OK)
        e = text_field(body, "name", MAX_NAME_LEN, false, &d->name, ei);
    if (e == ERR_OK)
        e = text_field(body, "slug", MAX_SLUG_LEN + 1, false, &d->slug, ei);
    if (e == ERR_OK)
        e = text_field(body, "base_url", MAX_BASE_URL_LEN, false, &d->base_url, ei);
    if (e == ERR_OK)
        e = text_field(body, "service_type", 32, false, &stype, ei);
    if (e == ERR_OK && stype && strcmp(stype, r->service_type) != 0)
        e = err_set(ei, ERR_INVALID, "immutable_field", "service_type",
                    "cannot be changed; create a new connection instead");
    if (e == ERR_OK && json_object_get(body, "fulfillment"))
        e = check_enum(body, "fulfillment", fulfillments, NULL, "static", &d->fulfillment, ei);
    if (e == ERR_OK)
        e = text_field(body, "participant_role", MAX_PARTICIPANT_ROLE_LEN, false,
                       &d->participant_role, ei);
    if (e == ERR_OK)
        e = draft_common(body, d, ei);
    if (e != ERR_OK)
        return e;
    if (d->fulfillment == NULL)
        d->fulfillment = r->fulfillment;
    /* the stored role stays unless the body changes it or leaves participant */
    if (d->participant_role == NULL && json_object_get(body, "participant_role") == NULL &&
        strcmp(d->fulfillment, "participant") == 0)
        d->participant_role = json_string_value(json_object_get(cfg, "participant_role"));
    e = check_fulfillment(d, ei);
    if (e != ERR_OK)
        return e;
    if (d->name == NULL)
        d->name = r->name;
    if (d->slug == NULL)
        d->slug = r->slug;
    if (d->base_url == NULL)
        d->base_url = r->base_url;
    d->service_type = r->service_type;
    if (d->description == NULL && json_object_get(body, "description") == NULL)
        d->description = json_string_value(json_object_get(cfg, "description"));
    if (d->test_op == NULL && json_object_get(body, "test_operation") == NULL)
        d->test_op = json_string_value(json_object_get(cfg, "test_operation"));
    if (auth) {
        e = auth_parse(auth, json_object_get(cfg, "auth"), &d->auth_pub, &d->vals, ei);
        if (e != ERR_OK) {
            err_field_prefix(ei, "auth");
            return e;
        }
    } else {
        d->auth_pub = json_incref(json_object_get(cfg, "auth"));
    }
    e = check_spec_keys(body, r->service_type, ei);
    if (e == ERR_OK)
        e = check_mcp_keys(body, r->service_type, d, ei);
    if (e == ERR_OK && d->transport == NULL)
        d->transport = json_string_value(json_object_get(cfg, "transport"));
    if (e == ERR_OK && d->timeout_ms == 0)
        d->timeout_ms = json_integer_value(json_object_get(cfg, "timeout_ms"));
    if (e == ERR_OK && json_object_get(body, "spec"))
        e = reimport(st, body, r, d, ei);
    else if (e == ERR_OK && (json_object_get(body, "exclude_operations") ||
                             json_object_get(body, "rename_operations")))
        e = err_set(ei, ERR_INVALID, "missing_field", "spec",
                    "send the spec again with exclude_operations or rename_operations");
    if (e == ERR_OK && strcmp(r->service_type, "gmail") == 0) {
        if (json_object_get(body, "operations"))
            return err_set(ei, ERR_INVALID, "read_only_field", "operations",
                           "a gmail connection's tools are send_message, list_messages and "
                           "get_message");
        return conn_gmail_check_auth(d, ei);
    }
    if (e != ERR_OK || d->operations)
        return e;
    if (json_object_get(body, "operations")) {
        d->ops_changed = true;
        return check_operations(json_object_get(body, "operations"), &d->operations, ei);
    }
    return ERR_OK; /* operations unchanged: d->operations stays NULL */
}

enum err
conn_update(struct store *st, const struct vault *v, const struct principal *p, const char *id,
            const json_t *body, json_t **out, struct errinfo *ei)
{
    struct conn_row r = {0}, nr;
    struct conn_draft d = {0};
    struct sealed_set set = {0};
    char **stored = NULL;
    size_t nstored = 0;
    json_t *cfg = NULL, *ncfg = NULL;
    bool type_changed;
    enum err e;

    *out = NULL;
    e = store_conn_get(st, p->workspace_id, id, &r, ei);
    if (e == ERR_OK)
        e = conn_may_change(p, &r, ei);
    if (e == ERR_OK) {
        cfg = json_loads(r.config, 0, NULL);
        if (cfg == NULL)
            e = err_set(ei, ERR_INTERNAL, "corrupt_row", NULL, "stored connection is unreadable");
    }
    if (e == ERR_OK)
        e = draft_from_patch(st, body, &r, cfg, &d, ei);
    if (e == ERR_OK)
        e = check_test_op(st, &r, &d, ei);
    if (e == ERR_OK)
        e = store_secret_fields(st, p->workspace_id, KIND, r.id, &stored, &nstored, ei);
    if (e != ERR_OK)
        goto out;
    type_changed = strcmp(json_string_value(json_object_get(d.auth_pub, "type")), r.auth_type);
    /* A new auth type starts with no stored secrets: forget the old ones. */
    if (strcmp(d.fulfillment, "static") == 0)
        e = check_required(d.auth_pub, &d.vals, type_changed ? NULL : stored,
                           type_changed ? 0 : nstored, ei);
    if (e == ERR_OK)
        e = seal_values(v, p->workspace_id, r.id, &d.vals, &set, ei);
    if (e != ERR_OK)
        goto out;
    nr = r;
    nr.name = (char *)d.name;
    nr.slug = (char *)d.slug;
    nr.base_url = (char *)d.base_url;
    nr.fulfillment = (char *)d.fulfillment;
    nr.auth_type = (char *)json_string_value(json_object_get(d.auth_pub, "type"));
    ncfg = config_doc(&d);
    if (json_object_get(cfg, "tools_stale") && !d.ops_changed) /* until refresh-tools */
        json_object_set(ncfg, "tools_stale", json_object_get(cfg, "tools_stale"));
    nr.config = json_dumps(ncfg, JSON_COMPACT);
    {
        size_t nops = 0;
        struct op_row *ops = d.ops_changed ? op_rows_of(d.operations, &nops) : NULL;
        e = store_conn_update(st, &nr, ops, nops, d.ops_changed, d.spec, &set,
                              (const char *const *)stored, type_changed ? 0 : nstored, ei);
        op_rows_release(ops, nops);
    }
    free(nr.config);
    nr.config = NULL;
    if (e == ERR_OK) {
        log_kv(LOG_INFO, "connection.updated", "s:id", r.id, "s:workspace", p->workspace_slug,
               "s:user", p->user_name, "i:secrets_changed", (int)set.n, LOG_END);
        e = conn_get_view(st, p, r.id, out, ei);
    }
out:
    string_list_free(stored, nstored);
    json_decref(cfg);
    json_decref(ncfg);
    sealed_set_release(&set);
    conn_draft_release(&d);
    conn_row_release(&r);
    return e;
}

enum err
conn_delete(struct store *st, const struct principal *p, const char *id, struct errinfo *ei)
{
    struct conn_row r = {0};
    enum err e = store_conn_get(st, p->workspace_id, id, &r, ei);

    if (e == ERR_OK)
        e = conn_may_change(p, &r, ei);
    if (e == ERR_OK)
        e = store_conn_delete(st, p->workspace_id, id, ei);
    if (e == ERR_OK)
        log_kv(LOG_INFO, "connection.deleted", "s:id", r.id, "s:workspace", p->workspace_slug,
               "s:user", p->user_name, LOG_END);
    conn_row_release(&r);
    return e;
}

/* ---- for the call engine ---- */

/* ---- parsed JSON of stored rows, per thread ----
 * An action call parses its connection's config and its operation's
 * definition (~17k instructions with jansson, ~5 % of a call). The text is
 * still read from the store on every call, so a cache keyed by the exact
 * text can never serve stale data: a changed row has a different text. The
 * values handed out are shared (json_incref): read-only by contract. */
#define JSON_CACHE_SLOTS 64
#define JSON_CACHE_MAX_TEXT ((size_t)16 * 1024) /* larger texts are parsed every time */

struct json_cache_slot {
    char *text;
    json_t *json;
};

static _Thread_local struct json_cache_slot json_cache[JSON_CACHE_SLOTS];
static _Thread_local bool json_cache_armed;
static pthread_key_t json_cache_key;
static pthread_once_t json_cache_once = PTHREAD_ONCE_INIT;

static void
json_cache_at_exit(void *unused)
{
    (void)unused;
    conn_json_cache_clear();
}

static void
json_cache_key_init(void)
{
    /* other threads: the key's destructor; the main thread: atexit */
    (void)pthread_key_create(&json_cache_key, json_cache_at_exit);
    (void)atexit(conn_json_cache_clear);
}

static json_t *
parse_shared(const char *text)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    struct json_cache_slot *sl;
    size_t n = 0;
    json_t *j;

    if (text == NULL)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++, n++)
        h = (h ^ *p) * 1099511628211ULL;
    if (n > JSON_CACHE_MAX_TEXT)
        return json_loads(text, 0, NULL);
    sl = &json_cache[h % JSON_CACHE_SLOTS];
    if (sl->text != NULL && strcmp(sl->text, text) == 0)
        return json_incref(sl->json);
    j = json_loads(text, 0, NULL);
    if (j == NULL)
        return NULL;
    if (!json_cache_armed) { /* free this thread's entries when it exits */
        pthread_once(&json_cache_once, json_cache_key_init);
        json_cache_armed = pthread_setspecific(json_cache_key, &json_cache_armed) == 0;
    }
    json_decref(sl->json);
    free(sl->text);
    sl->text = xstrdup(text);
    sl->json = json_incref(j);
    return j;
}

void
conn_json_cache_clear(void)
{
    for (size_t i = 0; i < JSON_CACHE_SLOTS; i++) {
        json_decref(json_cache[i].json);
        free(json_cache[i].text);
        json_cache[i].json = NULL;
        json_cache[i].text = NULL;
    }
}

static enum err
load(struct store *st, int64_t ws, const char *id, const char *slug, bool shared, struct conn *out,
     struct errinfo *ei)
{
    enum err e;

    memset(out, 0, sizeof(*out));
    e = id ? store_conn_get(st, ws, id, &out->row, ei)
           : store_conn_get_by_slug(st, ws, slug, &out->row, ei);
    if (e != ERR_OK)
        return e;
    out->config = shared ? parse_shared(out->row.config) : json_loads(out->row.config, 0, NULL);
    if (out->config == NULL) {
        conn_release(out);
        return err_set(ei, ERR_INTERNAL, "corrupt_row", NULL, "stored connection is unreadable");
    }
    out->auth = json_object_get(out->config, "auth");
    return ERR_OK;
}

enum err
conn_load_shared(struct store *st, int64_t ws, const char *id, const char *slug, struct conn *out,
                 struct errinfo *ei)
{
    return load(st, ws, id, slug, true, out, ei);
}

enum err
conn_load(struct store *st, int64_t ws, const char *id, const char *slug, struct conn *out,
          struct errinfo *ei)
{
    return load(st, ws, id, slug, false, out, ei);
}

enum err
conn_open_sealed(struct store *st, const struct vault *v, int64_t ws, const char *kind,
                 const char *owner, struct auth_values *out, bool *found, struct errinfo *ei)
{
    struct sealed_set set = {0};
    enum err e = store_secrets_get(st, ws, kind, owner, &set, ei);

    /* What a call injects: the auth.* values, and an OAuth2 access token
     * (never its refresh token, which only the refresher opens). One query,
     * each value opened once. */
    if (found)
        *found = false;
    for (size_t i = 0; e == ERR_OK && i < set.n; i++) {
        struct vault_aad aad = {ws, kind, owner, set.v[i].field};
        struct secret s = {0};
        const char *name = strncmp(set.v[i].field, "auth.", 5) == 0            ? set.v[i].field + 5
                           : strcmp(set.v[i].field, "oauth.access_token") == 0 ? "access_token"
                                                                               : NULL;
        if (name == NULL)
            continue;
        e = vault_open(v, &aad, set.v[i].data, set.v[i].len, &s, ei);
        if (e == ERR_OK)
            e = auth_values_add(out, name, s.p, s.len);
        secret_release(&s);
        if (found)
            *found = true;
    }
    sealed_set_release(&set);
    if (e != ERR_OK)
        auth_values_release(out);
    return e;
}

enum err
conn_open_secrets(struct store *st, const struct vault *v, const struct conn *c,
                  struct auth_values *out, struct errinfo *ei)
{
    return conn_open_sealed(st, v, c->row.workspace_id, KIND, c->row.id, out, NULL, ei);
}

enum err
conn_operation(struct store *st, const struct conn *c, const char *name, json_t **op,
               struct errinfo *ei)
{
    char *def = NULL;
    enum err e = store_op_get(st, c->row.workspace_id, c->row.id, name, &def, ei);

    *op = NULL;
    if (e == ERR_OK) {
        *op = parse_shared(def);
        if (*op == NULL)
            e = err_set(ei, ERR_INTERNAL, "corrupt_row", NULL, "stored operation is unreadable");
    }
    free(def);
    return e;
}
