#include "auth/auth.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/util.h"
#include "core/banned.h"

/* ---- secret values ---- */

void
auth_values_release(struct auth_values *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->name[i]);
        secret_release(&v->value[i]);
    }
    v->n = 0;
}

enum err
auth_values_add(struct auth_values *v, const char *name, const char *p, size_t len)
{
    if (v->n >= AUTH_MAX_SECRETS)
        return ERR_TOO_LARGE;
    if (secret_set(&v->value[v->n], p, len) != ERR_OK)
        return ERR_NOMEM;
    v->name[v->n] = xstrdup(name);
    v->n++;
    return ERR_OK;
}

const struct secret *
auth_values_get(const struct auth_values *v, const char *name)
{
    for (size_t i = 0; v && i < v->n; i++)
        if (strcmp(v->name[i], name) == 0)
            return &v->value[i];
    return NULL;
}

/* ---- shared checks ---- */

static bool
is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
is_token(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > MAX_HEADER_NAME_LEN)
        return false;
    for (; *s; s++)
        if (!is_token_char(*s))
            return false;
    return true;
}

static bool
is_ident(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64 ||
        !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/* Refuses keys of in that are not in allowed (typos must not be ignored). */
static enum err
only_keys(const json_t *in, const char *const *allowed, struct errinfo *ei)
{
    const char *k;
    json_t *v;

    json_object_foreach ((json_t *)in, k, v) {
        bool ok = false;
        (void)v;
        for (size_t i = 0; allowed[i]; i++)
            ok = ok || strcmp(allowed[i], k) == 0;
        if (!ok)
            return err_set(ei, ERR_INVALID, "unknown_field", k, "is not a field of this auth type");
    }
    return ERR_OK;
}

/* A string field: required or optional, max length, no control chars. */
static enum err
get_str(const json_t *in, const char *key, bool required, size_t max, const char **out,
        struct errinfo *ei)
{
    json_t *v = json_object_get(in, key);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return err_set(ei, ERR_INVALID, "missing_field", key, "is required");
        return ERR_OK;
    }
    if (!json_is_string(v))
        return err_set(ei, ERR_INVALID, "invalid_type", key, "must be a string");
    if (json_string_length(v) > max)
        return err_set(ei, ERR_INVALID, "too_long", key, "must be at most %zu characters", max);
    if (strlen(json_string_value(v)) != json_string_length(v) || str_has_ctl(json_string_value(v)))
        return err_set(ei, ERR_INVALID, "invalid_characters", key,
                       "must not contain control characters");
    *out = json_string_value(v);
    return ERR_OK;
}

/* Control bytes other than HTAB (which a header value may hold). */
static bool
has_ctl_but_tab(const char *s)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
            return true;
    return false;
}

/* Picks the non-blank secret values the client sent for the given fields. */
static enum err
take_secrets(const json_t *src, const char *const *fields, size_t n, struct auth_values *vals,
             struct errinfo *ei)
{
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(src, fields[i]);
        size_t len;
        if (v == NULL || json_is_null(v))
            continue;
        if (!json_is_string(v))
            return err_set(ei, ERR_INVALID, "invalid_type", fields[i], "must be a string");
        len = json_string_length(v);
        if (len == 0)
            continue; /* blank keeps the stored value */
        if (len > MAX_SECRET_LEN)
            return err_set(ei, ERR_INVALID, "too_long", fields[i], "must be at most %zu bytes",
                           MAX_SECRET_LEN);
        /* Header and URL injection: no control bytes in any credential (SSRF-169);
         * they could never be sent as a header value anyway. */
        if (strlen(json_string_value(v)) != len || has_ctl_but_tab(json_string_value(v)))
            return err_set(ei, ERR_INVALID, "invalid_characters", fields[i],
                           "must not contain CR, LF, NUL or other control characters");
        if (auth_values_add(vals, fields[i], json_string_value(v), len) != ERR_OK)
            return err_set(ei, ERR_TOO_LARGE, "too_many_fields", fields[i], "too many fields");
    }
    return ERR_OK;
}

/* ---- none ---- */

static enum err
none_parse(const json_t *in, json_t **pub, struct errinfo *ei)
{
    static const char *const keys[] = {"type", NULL};
    enum err e = only_keys(in, keys, ei);

    if (e == ERR_OK)
        *pub = json_pack("{s:s}", "type", "none");
    return e;
}

static size_t
no_fields(const json_t *pub, const char **out, size_t max)
{
    (void)pub;
    (void)out;
    (void)max;
    return 0;
}

static enum err
none_inject(const json_t *pub, const struct auth_values *vals, struct out_request *rq, json_t *body,
            struct errinfo *ei)
{
    (void)pub;
    (void)vals;
    (void)rq;
    (void)body;
    (void)ei;
    return ERR_OK;
}

/* ---- api keys ---- */

static enum err
apikey_parse(const json_t *in, json_t **pub, struct errinfo *ei)
{
    static const char *const keys[] = {"type", "name", "key", NULL};
    const char *type = json_string_value(json_object_get(in, "type"));
    const char *name;
    enum err e = only_keys(in, keys, ei);

    if (e == ERR_OK)
        e = get_str(in, "name", true, MAX_HEADER_NAME_LEN, &name, ei);
    if (e != ERR_OK)
        return e;
    if (strcmp(type, "api_key_query") != 0 && !is_token(name))
        return err_set(ei, ERR_INVALID, "invalid_name", "name",
                       "must be a valid header or cookie name (letters, digits and "
                       "!#$%%&'*+-.^_`|~)");
    if (name[0] == '\0')
        return err_set(ei, ERR_INVALID, "invalid_name", "name", "must not be empty");
    *pub = json_pack("{s:s, s:s}", "type", type, "name", name);
    return ERR_OK;
}

static size_t
key_field(const json_t *pub, const char **out, size_t max)
{
    (void)pub;
    if (max < 1)
        return 0;
    out[0] = "key";
    return 1;
}

static enum err
need(const struct auth_values *vals, const char *field, const struct secret **out,
     struct errinfo *ei)
{
    char f[96];

    *out = auth_values_get(vals, field);
    if (*out != NULL)
        return ERR_OK;
    snprintf(f, sizeof(f), "auth.%s", field);
    return err_set(ei, ERR_UNPROCESSABLE, "credential_missing", f,
                   "the connection has no %s set; edit the connection to add it", field);
}

static enum err
add_cookie(struct out_request *rq, const char *name, const char *value, struct errinfo *ei)
{
    struct buf b;
    enum err e;

    buf_init(&b, MAX_SECRET_LEN + MAX_HEADER_NAME_LEN + 2);
    e = buf_printf(&b, "%s=%s", name, value);
    if (e == ERR_TOO_LARGE)
        e = err_set(ei, e, "credential_too_large", "auth", "the %s cookie would be too large",
                    name);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Cookie", b.data, true, ei);
    buf_wipe_release(&b);
    return e;
}

static enum err
apikey_inject(const json_t *pub, const struct auth_values *vals, struct out_request *rq,
              json_t *body, struct errinfo *ei)
{
    const char *type = json_string_value(json_object_get(pub, "type"));
    const char *name = json_string_value(json_object_get(pub, "name"));
    const struct secret *key;
    enum err e = need(vals, "key", &key, ei);

    (void)body;
    if (e != ERR_OK)
        return e;
    if (strcmp(type, "api_key_header") == 0)
        return out_request_add_header(rq, name, key->p, true, ei);
    if (strcmp(type, "api_key_query") == 0)
        return out_request_add_query(rq, name, key->p, true, ei);
    return add_cookie(rq, name, key->p, ei);
}

/* ---- bearer ---- */

static enum err
bearer_parse(const json_t *in, json_t **pub, struct errinfo *ei)
{
    static const char *const keys[] = {"type", "token", NULL};
    enum err e = only_keys(in, keys, ei);

    if (e == ERR_OK)
        *pub = json_pack("{s:s}", "type", "bearer");
    return e;
}

static size_t
token_field(const json_t *pub, const char **out, size_t max)
{
    (void)pub;
    if (max < 1)
        return 0;
    out[0] = "token";
    return 1;
}

static enum err
bearer_inject(const json_t *pub, const struct auth_values *vals, struct out_request *rq,
              json_t *body, struct errinfo *ei)
{
    const struct secret *tok;
    struct buf b;
    enum err e = need(vals, "token", &tok, ei);

    (void)pub;
    (void)body;
    if (e != ERR_OK)
        return e;
    buf_init(&b, MAX_SECRET_LEN + 16);
    e = buf_printf(&b, "Bearer %s", tok->p);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Authorization", b.data, true, ei);
    buf_wipe_release(&b);
    return e;
}

/* ---- basic ---- */

static enum err
basic_parse(const json_t *in, json_t **pub, struct errinfo *ei)
{
    static const char *const keys[] = {"type", "username", "password", NULL};
    enum err e = only_keys(in, keys, ei);

    if (e == ERR_OK)
        *pub = json_pack("{s:s}", "type", "basic");
    return e;
}

static size_t
basic_fields(const json_t *pub, const char **out, size_t max)
{
    (void)pub;
    if (max < 2)
        return 0;
    out[0] = "username";
    out[1] = "password";
    return 2;
}

static size_t
basic_required(const json_t *pub, const char **out, size_t max)
{
    (void)pub;
    if (max < 1)
        return 0;
    out[0] = "username"; /* an empty password is legitimate */
    return 1;
}

static enum err
basic_inject(const json_t *pub, const struct auth_values *vals, struct out_request *rq,
             json_t *body, struct errinfo *ei)
{
    const struct secret *user, *pass = auth_values_get(vals, "password");
    struct buf raw, hdr;
    enum err e = need(vals, "username", &user, ei);

    (void)pub;
    (void)body;
    if (e != ERR_OK)
        return e;
    if (strchr(user->p, ':'))
        return err_set(ei, ERR_UNPROCESSABLE, "invalid_credential", "auth.username",
                       "a basic-auth username cannot contain ':'");
    buf_init(&raw, 2 * MAX_SECRET_LEN + 2);
    buf_init(&hdr, 4 * MAX_SECRET_LEN);
    e = buf_printf(&raw, "%s:%s", user->p, pass ? pass->p : "");
    if (e == ERR_OK)
        e = buf_puts(&hdr, "Basic ");
    if (e == ERR_OK) {
        size_t need_len = 4 * ((raw.len + 2) / 3) + 1;
        char *enc = OPENSSL_secure_zalloc(need_len);
        if (enc == NULL)
            e = ERR_NOMEM;
        if (e == ERR_OK) {
            b64_encode((const unsigned char *)raw.data, raw.len, enc);
            e = buf_puts(&hdr, enc);
            OPENSSL_secure_clear_free(enc, need_len);
        }
    }
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Authorization", hdr.data, true, ei);
    buf_wipe_release(&raw);
    buf_wipe_release(&hdr);
    return e;
}

/* ---- oauth2: tokens come from the connect flow, not from the client ---- */

static enum err
oauth2_parse(const json_t *in, json_t **pub, struct errinfo *ei)
{
    static const char *const keys[] = {"type", "provider", "tiers", NULL};
    json_t *tiers = json_object_get(in, "tiers"), *t;
    const char *provider;
    size_t i;
    enum err e = only_keys(in, keys, ei);

    if (e == ERR_OK)
        e = get_str(in, "provider", true, 64, &provider, ei);
    if (e == ERR_OK && !is_ident(provider))
        e = err_set(ei, ERR_INVALID, "invalid_value", "provider", "is not a provider id");
    if (e == ERR_OK && tiers && !json_is_array(tiers))
        e = err_set(ei, ERR_INVALID, "invalid_type", "tiers", "must be an array of tier names");
    json_array_foreach (tiers, i, t) {
        if (e == ERR_OK && (!json_is_string(t) || !is_ident(json_string_value(t))))
            e = err_set(ei, ERR_INVALID, "invalid_value", "tiers", "holds a bad tier name");
    }
    if (e == ERR_OK)
        *pub = json_pack("{s:s, s:s, s:O}", "type", "oauth2", "provider", provider, "tiers",
                         tiers ? tiers : json_array());
    return e;
}

static enum err
oauth2_inject(const json_t *pub, const struct auth_values *vals, struct out_request *rq,
              json_t *body, struct errinfo *ei)
{
    const struct secret *tok = auth_values_get(vals, "access_token");
    struct buf b;
    enum err e;

    (void)body;
    if (tok == NULL)
        return err_set(ei, ERR_UNPROCESSABLE, "not_connected", "auth",
                       "the connection has no OAuth access token: connect it through "
                       "/api/auth/connect/%s/start",
                       json_string_value(json_object_get(pub, "provider")));
    buf_init(&b, MAX_SECRET_LEN + 16);
    e = buf_printf(&b, "Bearer %s", tok->p);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Authorization", b.data, true, ei);
    buf_wipe_release(&b);
    return e;
}

/* ---- google_service_account: a Google service-account key (sealed) and the
 * user it acts for (domain-wide delegation); the access token comes from a
 * signed JWT exchanged by the gmail connection (conn/conn_gmail.c) ---- */

static enum err
gsa_parse(const json_t *in, json_t **pub, struct errinfo *ei)
{
    static const char *const keys[] = {"type", "subject", "tiers", "service_account", NULL};
    static const char *const tier_names[] = {"send", "read", "full", NULL};
    json_t *tiers = json_object_get(in, "tiers"), *t;
    const char *subject = NULL, *at;
    size_t i;
    enum err e = only_keys(in, keys, ei);

    if (e == ERR_OK)
        e = get_str(in, "subject", true, 254, &subject, ei);
    at = subject ? strchr(subject, '@') : NULL;
    for (const char *p = subject; e == ERR_OK && p && *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '<' || *p == '>')
            e = err_set(ei, ERR_INVALID, "invalid_value", "subject",
                        "must be the e-mail address of the user to act for");
    if (e == ERR_OK && (at == NULL || at == subject || at[1] == '\0'))
        e = err_set(ei, ERR_INVALID, "invalid_value", "subject",
                    "must be the e-mail address of the user to act for");
    if (e == ERR_OK &&
        (!json_is_array(tiers) || json_array_size(tiers) == 0 || json_array_size(tiers) > 3))
        e = err_set(ei, ERR_INVALID, "invalid_value", "tiers",
                    "must list the tiers the service account was granted: send, read, full");
    json_array_foreach (tiers, i, t) {
        bool ok = false;
        for (size_t k = 0; json_is_string(t) && tier_names[k]; k++)
            ok = ok || strcmp(json_string_value(t), tier_names[k]) == 0;
        if (e == ERR_OK && !ok)
            e = err_set(ei, ERR_INVALID, "invalid_value", "tiers",
                        "holds an unknown tier (send, read, full)");
    }
    if (e == ERR_OK)
        *pub = json_pack("{s:s, s:s, s:O}", "type", "google_service_account", "subject", subject,
                         "tiers", tiers);
    return e;
}

static size_t
gsa_field(const json_t *pub, const char **out, size_t max)
{
    (void)pub;
    if (max < 1)
        return 0;
    out[0] = "service_account";
    return 1;
}

/* ---- custom: fields from params_schema, placed by inject rules ---- */

static enum err custom_parse(const json_t *in, json_t **pub, struct errinfo *ei);
static size_t custom_fields(const json_t *pub, const char **out, size_t max);
static size_t custom_required(const json_t *pub, const char **out, size_t max);
static enum err custom_inject(const json_t *pub, const struct auth_values *vals,
                              struct out_request *rq, json_t *body, struct errinfo *ei);

static const struct auth_method methods[] = {
    {"none", none_parse, no_fields, no_fields, none_inject},
    {"api_key_header", apikey_parse, key_field, key_field, apikey_inject},
    {"api_key_query", apikey_parse, key_field, key_field, apikey_inject},
    {"api_key_cookie", apikey_parse, key_field, key_field, apikey_inject},
    {"bearer", bearer_parse, token_field, token_field, bearer_inject},
    {"basic", basic_parse, basic_fields, basic_required, basic_inject},
    {"custom", custom_parse, custom_fields, custom_required, custom_inject},
    {"oauth2", oauth2_parse, no_fields, no_fields, oauth2_inject},
    {"google_service_account", gsa_parse, gsa_field, gsa_field, oauth2_inject},
};

const struct auth_method *
auth_method_find(const char *type)
{
    for (size_t i = 0; type && i < ARRAY_LEN(methods); i++)
        if (strcmp(methods[i].type, type) == 0)
            return &methods[i];
    return NULL;
}

const char *
auth_type_list(void)
{
    return "none, api_key_header, api_key_query, api_key_cookie, bearer, basic, custom, oauth2, "
           "google_service_account";
}

/* Checks that every {{name}} in tmpl names a declared field. */
static enum err
check_value_template(const char *tmpl, const json_t *props, const char *field, struct errinfo *ei)
{
    const char *p = tmpl;

    while ((p = strstr(p, "{{")) != NULL) {
        const char *end = strstr(p + 2, "}}");
        char name[80];
        if (end == NULL || (size_t)(end - p - 2) >= sizeof(name))
            return err_set(ei, ERR_INVALID, "invalid_template", field,
                           "has an unterminated {{ placeholder");
        snprintf(name, sizeof(name), "%.*s", (int)(end - p - 2), p + 2);
        if (json_object_get(props, name) == NULL)
            return err_set(ei, ERR_INVALID, "unknown_placeholder", field,
                           "refers to {{%s}}, which params_schema does not declare", name);
        p = end + 2;
    }
    return ERR_OK;
}

static enum err
custom_rules(const json_t *rules, const json_t *props, struct errinfo *ei)
{
    size_t i;
    json_t *r;

    if (!json_is_array(rules) || json_array_size(rules) == 0)
        return err_set(ei, ERR_INVALID, "invalid_type", "inject",
                       "must be a non-empty array of {in, name, value} rules");
    if (json_array_size(rules) > MAX_INJECT_RULES)
        return err_set(ei, ERR_INVALID, "too_many", "inject", "at most %d rules", MAX_INJECT_RULES);
    json_array_foreach (rules, i, r) {
        static const char *const keys[] = {"in", "name", "value", NULL};
        const char *in, *name, *value;
        char f[48];
        enum err e;
        snprintf(f, sizeof(f), "inject[%zu]", i);
        if (!json_is_object(r))
            return err_set(ei, ERR_INVALID, "invalid_type", f, "must be an object");
        e = only_keys(r, keys, ei);
        if (e == ERR_OK)
            e = get_str(r, "in", true, 16, &in, ei);
        if (e == ERR_OK)
            e = get_str(r, "name", true, MAX_HEADER_NAME_LEN, &name, ei);
        if (e == ERR_OK)
            e = get_str(r, "value", true, 1024, &value, ei);
        if (e != ERR_OK) {
            err_field_prefix(ei, f);
            return e;
        }
        if (in == NULL || name == NULL || value == NULL ||
            (strcmp(in, "header") != 0 && strcmp(in, "query") != 0 && strcmp(in, "cookie") != 0 &&
             strcmp(in, "body") != 0))
            return err_set(ei, ERR_INVALID, "invalid_value", f,
                           "in must be one of: header, query, cookie, body");
        if ((strcmp(in, "header") == 0 || strcmp(in, "cookie") == 0) && !is_token(name))
            return err_set(ei, ERR_INVALID, "invalid_name", f, "name is not a valid %s name", in);
        if (name[0] == '\0')
            return err_set(ei, ERR_INVALID, "invalid_name", f, "name must not be empty");
        e = check_value_template(value, props, f, ei);
        if (e != ERR_OK)
            return e;
    }
    return ERR_OK;
}

static enum err
custom_schema(const json_t *schema, struct errinfo *ei)
{
    json_t *props = json_object_get(schema, "properties");
    json_t *req = json_object_get(schema, "required");
    const char *k;
    json_t *v;
    size_t i;

    if (!json_is_object(schema) || !json_is_object(props) || json_object_size(props) == 0)
        return err_set(ei, ERR_INVALID, "invalid_schema", "params_schema",
                       "must be an object schema with at least one property");
    if (json_object_size(props) > MAX_CUSTOM_FIELDS)
        return err_set(ei, ERR_INVALID, "too_many", "params_schema.properties",
                       "at most %d credential fields", MAX_CUSTOM_FIELDS);
    json_object_foreach (props, k, v) {
        if (!is_ident(k))
            return err_set(ei, ERR_INVALID, "invalid_name", "params_schema.properties",
                           "field names must be identifiers ([A-Za-z_][A-Za-z0-9_]*)");
        if (!json_is_object(v))
            return err_set(ei, ERR_INVALID, "invalid_schema", "params_schema.properties",
                           "each field must be a schema object");
    }
    if (req != NULL && !json_is_array(req))
        return err_set(ei, ERR_INVALID, "invalid_type", "params_schema.required",
                       "must be an array of field names");
    json_array_foreach (req, i, v) {
        if (!json_is_string(v) || json_object_get(props, json_string_value(v)) == NULL)
            return err_set(ei, ERR_INVALID, "invalid_value", "params_schema.required",
                           "lists a field that properties does not declare");
    }
    return ERR_OK;
}

static enum err
custom_parse(const json_t *in, json_t **pub, struct errinfo *ei)
{
    static const char *const keys[] = {"type", "params_schema", "inject", "values", NULL};
    json_t *schema = json_object_get(in, "params_schema");
    json_t *values = json_object_get(in, "values");
    enum err e = only_keys(in, keys, ei);

    if (e == ERR_OK)
        e = custom_schema(schema, ei);
    if (e == ERR_OK)
        e = custom_rules(json_object_get(in, "inject"), json_object_get(schema, "properties"), ei);
    if (e == ERR_OK && values != NULL && !json_is_null(values) && !json_is_object(values))
        e = err_set(ei, ERR_INVALID, "invalid_type", "values",
                    "must be an object of credential values");
    if (e == ERR_OK && json_is_object(values)) {
        const char *k;
        json_t *v;
        json_object_foreach (values, k, v) {
            (void)v;
            if (json_object_get(json_object_get(schema, "properties"), k) == NULL)
                return err_set(ei, ERR_INVALID, "unknown_field", "values",
                               "has a field that params_schema does not declare");
        }
    }
    if (e == ERR_OK)
        *pub = json_pack("{s:s, s:O, s:O}", "type", "custom", "params_schema", schema, "inject",
                         json_object_get(in, "inject"));
    return e;
}

static size_t
custom_fields(const json_t *pub, const char **out, size_t max)
{
    json_t *props = json_object_get(json_object_get(pub, "params_schema"), "properties");
    const char *k;
    json_t *v;
    size_t n = 0;

    json_object_foreach (props, k, v) {
        (void)v;
        if (n < max)
            out[n++] = k;
    }
    return n;
}

static size_t
custom_required(const json_t *pub, const char **out, size_t max)
{
    json_t *req = json_object_get(json_object_get(pub, "params_schema"), "required");
    json_t *v;
    size_t i, n = 0;

    json_array_foreach (req, i, v) {
        if (n < max && json_is_string(v))
            out[n++] = json_string_value(v);
    }
    return n;
}

static enum err
render_value(const char *tmpl, const struct auth_values *vals, struct buf *out, struct errinfo *ei)
{
    const char *p = tmpl;
    enum err e = ERR_OK;

    while (e == ERR_OK && *p) {
        const char *open = strstr(p, "{{"), *end;
        const struct secret *s;
        char name[80];
        if (open == NULL) {
            e = buf_puts(out, p);
            break;
        }
        e = buf_append(out, p, (size_t)(open - p));
        end = strstr(open + 2, "}}");
        if (e != ERR_OK)
            break;
        if (end == NULL || (size_t)(end - open - 2) >= sizeof(name))
            return err_set(ei, ERR_INVALID, "invalid_template", "auth.inject",
                           "has an unterminated {{ placeholder");
        snprintf(name, sizeof(name), "%.*s", (int)(end - open - 2), open + 2);
        e = need(vals, name, &s, ei);
        if (e == ERR_OK)
            e = buf_append(out, s->p, s->len);
        p = end + 2;
    }
    if (e == ERR_TOO_LARGE)
        e = err_set(ei, e, "credential_too_large", "auth.inject",
                    "an injected credential value would be over %zu bytes", out->max);
    return e;
}

static enum err
custom_inject(const json_t *pub, const struct auth_values *vals, struct out_request *rq,
              json_t *body, struct errinfo *ei)
{
    json_t *rules = json_object_get(pub, "inject"), *r;
    size_t i;
    enum err e = ERR_OK;

    json_array_foreach (rules, i, r) {
        const char *in = json_string_value(json_object_get(r, "in"));
        const char *name = json_string_value(json_object_get(r, "name"));
        struct buf v;
        buf_init(&v, MAX_SECRET_LEN * 2);
        e = render_value(json_string_value(json_object_get(r, "value")), vals, &v, ei);
        if (e == ERR_OK && strcmp(in, "header") == 0)
            e = out_request_add_header(rq, name, v.data ? v.data : "", true, ei);
        else if (e == ERR_OK && strcmp(in, "query") == 0)
            e = out_request_add_query(rq, name, v.data ? v.data : "", true, ei);
        else if (e == ERR_OK && strcmp(in, "cookie") == 0)
            e = add_cookie(rq, name, v.data ? v.data : "", ei);
        else if (e == ERR_OK && body == NULL)
            e = err_set(ei, ERR_UNPROCESSABLE, "no_body", "auth.inject",
                        "a body credential needs an operation that sends a JSON body");
        else if (e == ERR_OK)
            e = json_object_set_new(body, name, json_stringn(v.data ? v.data : "", v.len)) == 0
                    ? ERR_OK
                    : ERR_NOMEM;
        buf_wipe_release(&v);
        if (e != ERR_OK)
            break;
    }
    return e;
}

/* ---- entry points ---- */

enum err
auth_parse(const json_t *in, const json_t *prev_pub, json_t **pub, struct auth_values *vals,
           struct errinfo *ei)
{
    const struct auth_method *m;
    const char *fields[AUTH_MAX_SECRETS];
    json_t *merged = NULL;
    const char *type;
    size_t n;
    enum err e;

    *pub = NULL;
    if (!json_is_object(in))
        return err_set(ei, ERR_INVALID, "invalid_type", "", "must be an object");
    type = json_string_value(json_object_get(in, "type"));
    if (type == NULL && prev_pub != NULL)
        type = json_string_value(json_object_get(prev_pub, "type"));
    if (type == NULL)
        return err_set(ei, ERR_INVALID, "missing_field", "type", "is required (one of: %s)",
                       auth_type_list());
    m = auth_method_find(type);
    if (m == NULL)
        return err_set(ei, ERR_INVALID, "unknown_auth_type", "type",
                       "unknown auth type; use one of: %s", auth_type_list());
    /* PATCH with the same type: start from the stored public part, then apply. */
    merged = json_deep_copy(in);
    if (merged == NULL)
        return ERR_NOMEM;
    if (prev_pub && strcmp(json_string_value(json_object_get(prev_pub, "type")), type) == 0) {
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)prev_pub, k, v) {
            if (json_object_get(merged, k) == NULL)
                json_object_set(merged, k, v);
        }
    }
    json_object_set_new(merged, "type", json_string(type));
    e = m->parse_public(merged, pub, ei);
    if (e == ERR_OK) {
        const json_t *src =
            strcmp(type, "custom") == 0 ? json_object_get(merged, "values") : merged;
        n = m->secret_fields(*pub, fields, AUTH_MAX_SECRETS);
        e = take_secrets(src, fields, n, vals, ei);
        if (e != ERR_OK && strcmp(type, "custom") == 0)
            err_field_prefix(ei, "values");
    }
    json_decref(merged);
    if (e != ERR_OK) {
        json_decref(*pub);
        *pub = NULL;
        auth_values_release(vals);
    }
    return e;
}

enum err
auth_inject(const json_t *pub, const struct auth_values *vals, struct out_request *rq, json_t *body,
            struct errinfo *ei)
{
    const struct auth_method *m = auth_method_find(json_string_value(json_object_get(pub, "type")));
    const char *req[AUTH_MAX_SECRETS];
    size_t n;

    if (m == NULL)
        return err_set(ei, ERR_INTERNAL, "unknown_auth_type", "auth.type",
                       "the stored auth type is unknown");
    n = m->required_fields(pub, req, AUTH_MAX_SECRETS);
    for (size_t i = 0; i < n; i++) {
        const struct secret *s;
        enum err e = need(vals, req[i], &s, ei);
        if (e != ERR_OK)
            return e;
    }
    return m->inject(pub, vals, rq, body, ei);
}
