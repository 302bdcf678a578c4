/* oauth/provider: provider definitions (built-in and admin), tiers <-> scopes,
 * client credential resolution. See provider.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/util.h"
#include "oauth/provider.h"
#include "outbound/ssrf.h"
#include "core/banned.h"

/* ---- lists ---- */

void
oauth_list_release(struct oauth_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

bool
oauth_list_has(const struct oauth_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

enum err
oauth_list_add(struct oauth_list *l, const char *s, size_t max)
{
    char **nv;

    if (oauth_list_has(l, s))
        return ERR_OK;
    if (l->n >= max)
        return ERR_TOO_LARGE;
    nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
    if (nv == NULL)
        return ERR_NOMEM;
    l->v = nv;
    l->v[l->n++] = xstrdup(s);
    return ERR_OK;
}

enum err
oauth_list_join(const struct oauth_list *l, char sep, char **out)
{
    size_t n = 1, off = 0;
    char *s;

    for (size_t i = 0; i < l->n; i++)
        n += strlen(l->v[i]) + 1;
    s = malloc(n);
    if (s == NULL)
        return ERR_NOMEM;
    for (size_t i = 0; i < l->n; i++) {
        size_t k = strlen(l->v[i]);
        if (i > 0)
            s[off++] = sep;
        memcpy(s + off, l->v[i], k);
        off += k;
    }
    s[off] = '\0';
    *out = s;
    return ERR_OK;
}

/* ---- release ---- */

void
oauth_provider_release(struct oauth_provider *p)
{
    if (p == NULL)
        return;
    free(p->id);
    free(p->name);
    free(p->authorize_url);
    free(p->token_url);
    free(p->revocation_url);
    free(p->userinfo_url);
    free(p->issuer);
    oauth_list_release(&p->default_scopes);
    for (size_t i = 0; i < p->ntiers; i++) {
        free(p->tiers[i].name);
        free(p->tiers[i].description);
        oauth_list_release(&p->tiers[i].scopes);
        oauth_list_release(&p->tiers[i].includes);
    }
    free(p->tiers);
    for (size_t i = 0; i < p->nextras; i++) {
        free(p->extras[i].name);
        free(p->extras[i].value);
    }
    free(p->extras);
    memset(p, 0, sizeof(*p));
}

const struct oauth_tier *
oauth_provider_tier(const struct oauth_provider *p, const char *name)
{
    for (size_t i = 0; i < p->ntiers; i++)
        if (strcmp(p->tiers[i].name, name) == 0)
            return &p->tiers[i];
    return NULL;
}

/* ---- validation helpers ---- */

/* RFC 6749 §3.3 NQCHAR minus ',' (we split granted scopes on commas too). */
static bool
scope_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > OAUTH_MAX_SCOPE_LEN)
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x21 || *c > 0x7e || *c == '"' || *c == '\\' || *c == ',')
            return false;
    return true;
}

static bool
param_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > OAUTH_MAX_EXTRA_LEN)
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (!isalnum(*c) && *c != '_' && *c != '-' && *c != '.')
            return false;
    return true;
}

static bool
param_value_ok(const char *s)
{
    if (strlen(s) > OAUTH_MAX_EXTRA_LEN)
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            return false;
    return true;
}

static const char *const reserved_params[] = {
    "response_type", "client_id",      "redirect_uri",          "scope",
    "state",         "code_challenge", "code_challenge_method", NULL,
};

static bool
is_reserved_param(const char *name)
{
    for (size_t i = 0; reserved_params[i]; i++)
        if (strcasecmp(reserved_params[i], name) == 0)
            return true;
    return false;
}

static bool
is_loopback_host(const struct url_info *u)
{
    return strcmp(u->host, "127.0.0.1") == 0 || strcmp(u->host, "::1") == 0 ||
           strcmp(u->host, "localhost") == 0;
}

/* A URL field: valid per url_validate, no fragment, https unless loopback
 * (test peers). Optional ones may be absent or null. */
static enum err
get_url(const json_t *j, const char *key, bool required, char **out, struct errinfo *ei)
{
    const json_t *v = json_object_get(j, key);
    struct url_info u;
    const char *s;
    enum err e;

    if (v == NULL || json_is_null(v)) {
        if (!required)
            return ERR_OK;
        return err_set(ei, ERR_INVALID, "missing_field", key, "%s is required", key);
    }
    if (!json_is_string(v))
        return err_set(ei, ERR_INVALID, "invalid_field", key, "%s must be a string", key);
    s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return err_set(ei, ERR_INVALID, "invalid_url", key, "%s contains a NUL byte", key);
    e = url_validate(s, key, &u, ei);
    if (e != ERR_OK)
        return e;
    if (strchr(s, '#') != NULL)
        return err_set(ei, ERR_INVALID, "invalid_url", key, "%s must not have a fragment", key);
    if (strcmp(u.scheme, "https") != 0 && !is_loopback_host(&u))
        return err_set(ei, ERR_INVALID, "invalid_url", key,
                       "%s must use https (http is accepted for loopback test peers only)", key);
    *out = xstrdup(s);
    return ERR_OK;
}

static enum err
get_bool(const json_t *j, const char *key, bool dflt, bool *out, struct errinfo *ei)
{
    const json_t *v = json_object_get(j, key);

    if (v == NULL || json_is_null(v)) {
        *out = dflt;
        return ERR_OK;
    }
    if (!json_is_boolean(v))
        return err_set(ei, ERR_INVALID, "invalid_field", key, "%s must be true or false", key);
    *out = json_is_true(v);
    return ERR_OK;
}

/* An array of scopes into l. */
static enum err
get_scopes(const json_t *v, const char *field, struct oauth_list *l, struct errinfo *ei)
{
    size_t i;
    const json_t *it;

    if (!json_is_array(v))
        return err_set(ei, ERR_INVALID, "invalid_field", field, "%s must be an array of strings",
                       field);
    if (json_array_size(v) > OAUTH_MAX_SCOPES)
        return err_set(ei, ERR_TOO_LARGE, "too_many_scopes", field, "%s has more than %d scopes",
                       field, OAUTH_MAX_SCOPES);
    json_array_foreach (v, i, it) {
        const char *s = json_string_value(it);
        if (s == NULL || strlen(s) != json_string_length(it) || !scope_ok(s))
            return err_set(ei, ERR_INVALID, "invalid_scope", field,
                           "%s[%zu] must be a scope of 1..%d printable characters without "
                           "space, comma, quote or backslash",
                           field, i, OAUTH_MAX_SCOPE_LEN);
        if (oauth_list_add(l, s, OAUTH_MAX_SCOPES) != ERR_OK)
            return err_set(ei, ERR_NOMEM, NULL, field, "out of memory");
    }
    return ERR_OK;
}

static enum err
parse_tier(const char *name, const json_t *v, struct oauth_tier *t, struct errinfo *ei)
{
    static const char *const keys[] = {"scopes", "includes", "description", NULL};
    char field[96];
    const char *key;
    const json_t *x;
    enum err e;

    snprintf(field, sizeof(field), "tiers.%s", name);
    if (!json_is_object(v))
        return err_set(ei, ERR_INVALID, "invalid_field", field, "%s must be an object", field);
    json_object_foreach ((json_t *)v, key, x) {
        bool known = false;
        for (size_t i = 0; keys[i]; i++)
            known = known || strcmp(keys[i], key) == 0;
        if (!known)
            return err_set(ei, ERR_INVALID, "unknown_field", field, "%s has unknown key \"%.40s\"",
                           field, key);
    }
    t->name = xstrdup(name);
    snprintf(field, sizeof(field), "tiers.%s.scopes", name);
    x = json_object_get(v, "scopes");
    if (x == NULL)
        return err_set(ei, ERR_INVALID, "missing_field", field, "%s is required", field);
    e = get_scopes(x, field, &t->scopes, ei);
    if (e == ERR_OK && t->scopes.n == 0)
        e = err_set(ei, ERR_INVALID, "invalid_field", field, "%s must not be empty", field);
    if (e != ERR_OK)
        return e;
    x = json_object_get(v, "includes");
    if (x != NULL) {
        size_t i;
        const json_t *it;
        snprintf(field, sizeof(field), "tiers.%s.includes", name);
        if (!json_is_array(x) || json_array_size(x) > OAUTH_MAX_TIERS)
            return err_set(ei, ERR_INVALID, "invalid_field", field,
                           "%s must be an array of at most %d tier names", field, OAUTH_MAX_TIERS);
        json_array_foreach (x, i, it) {
            const char *s = json_string_value(it);
            if (s == NULL || !str_is_slug(s, OAUTH_MAX_TIER_NAME_LEN) || strcmp(s, name) == 0)
                return err_set(ei, ERR_INVALID, "invalid_field", field,
                               "%s[%zu] must name another tier", field, i);
            if (oauth_list_add(&t->includes, s, OAUTH_MAX_TIERS) != ERR_OK)
                return err_set(ei, ERR_NOMEM, NULL, field, "out of memory");
        }
    }
    x = json_object_get(v, "description");
    if (x != NULL && !json_is_null(x)) {
        const char *s = json_string_value(x);
        snprintf(field, sizeof(field), "tiers.%s.description", name);
        if (s == NULL || strlen(s) > MAX_NAME_LEN || str_has_ctl(s) || !str_is_utf8(s, strlen(s)))
            return err_set(ei, ERR_INVALID, "invalid_field", field,
                           "%s must be text of at most %d bytes", field, MAX_NAME_LEN);
        t->description = xstrdup(s);
    }
    return ERR_OK;
}

static enum err
parse_tiers(const json_t *v, struct oauth_provider *p, struct errinfo *ei)
{
    const char *name;
    const json_t *t;
    size_t n;
    enum err e;

    if (v == NULL)
        return err_set(ei, ERR_INVALID, "missing_field", "tiers", "tiers is required");
    if (!json_is_object(v) || json_object_size(v) == 0)
        return err_set(ei, ERR_INVALID, "invalid_field", "tiers",
                       "tiers must be an object with at least one tier");
    n = json_object_size(v);
    if (n > OAUTH_MAX_TIERS)
        return err_set(ei, ERR_TOO_LARGE, "too_many_tiers", "tiers", "at most %d tiers are allowed",
                       OAUTH_MAX_TIERS);
    p->tiers = xcalloc(n, sizeof(*p->tiers));
    json_object_foreach ((json_t *)v, name, t) {
        if (!str_is_slug(name, OAUTH_MAX_TIER_NAME_LEN))
            return err_set(ei, ERR_INVALID, "invalid_field", "tiers",
                           "tier names must be 1..%d characters of a-z, 0-9 and _",
                           OAUTH_MAX_TIER_NAME_LEN);
        e = parse_tier(name, t, &p->tiers[p->ntiers++], ei);
        if (e != ERR_OK)
            return e;
    }
    for (size_t i = 0; i < p->ntiers; i++)
        for (size_t k = 0; k < p->tiers[i].includes.n; k++)
            if (oauth_provider_tier(p, p->tiers[i].includes.v[k]) == NULL)
                return err_set(ei, ERR_INVALID, "invalid_field", "tiers",
                               "tier %s includes unknown tier %s", p->tiers[i].name,
                               p->tiers[i].includes.v[k]);
    return ERR_OK;
}

static enum err
parse_extras(const json_t *v, struct oauth_provider *p, struct errinfo *ei)
{
    const char *name;
    const json_t *x;

    if (v == NULL || json_is_null(v))
        return ERR_OK;
    if (!json_is_object(v))
        return err_set(ei, ERR_INVALID, "invalid_field", "extra_authorize_params",
                       "extra_authorize_params must be an object of strings");
    if (json_object_size(v) > OAUTH_MAX_EXTRAS)
        return err_set(ei, ERR_TOO_LARGE, "too_many_params", "extra_authorize_params",
                       "at most %d extra authorize parameters", OAUTH_MAX_EXTRAS);
    p->extras = xcalloc(json_object_size(v) + 1, sizeof(*p->extras));
    json_object_foreach ((json_t *)v, name, x) {
        const char *s = json_string_value(x);
        if (!param_name_ok(name))
            return err_set(ei, ERR_INVALID, "invalid_field", "extra_authorize_params",
                           "parameter names must be 1..%d characters of A-Z a-z 0-9 _ - .",
                           OAUTH_MAX_EXTRA_LEN);
        if (is_reserved_param(name))
            return err_set(ei, ERR_INVALID, "reserved_param", "extra_authorize_params",
                           "%s is set by connhub and cannot be overridden", name);
        if (s == NULL || strlen(s) != json_string_length(x) || !param_value_ok(s))
            return err_set(ei, ERR_INVALID, "invalid_field", "extra_authorize_params",
                           "value of %s must be printable ASCII of at most %d bytes", name,
                           OAUTH_MAX_EXTRA_LEN);
        p->extras[p->nextras].name = xstrdup(name);
        p->extras[p->nextras].value = xstrdup(s);
        p->nextras++;
    }
    return ERR_OK;
}

static const char *const provider_keys[] = {
    "id",
    "name",
    "authorize_url",
    "token_url",
    "revocation_url",
    "userinfo_url",
    "issuer",
    "require_iss",
    "pkce",
    "client_auth",
    "scope_separator",
    "default_scopes",
    "tiers",
    "extra_authorize_params",
    NULL,
};

static enum err
check_keys(const json_t *j, struct errinfo *ei)
{
    const char *key;
    const json_t *v;

    json_object_foreach ((json_t *)j, key, v) {
        bool known = false;
        for (size_t i = 0; provider_keys[i] && !known; i++)
            known = strcmp(provider_keys[i], key) == 0;
        if (!known)
            return err_set(ei, ERR_INVALID, "unknown_field", NULL, "unknown key \"%.40s\"", key);
    }
    return ERR_OK;
}

static enum err
parse_ident(const json_t *j, struct oauth_provider *p, struct errinfo *ei)
{
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *name = json_string_value(json_object_get(j, "name"));

    if (id == NULL || !str_is_slug(id, OAUTH_MAX_ID_LEN))
        return err_set(ei, ERR_INVALID, "invalid_field", "id",
                       "id must be 1..%d characters of a-z, 0-9 and _", OAUTH_MAX_ID_LEN);
    if (name == NULL || name[0] == '\0' || strlen(name) > MAX_NAME_LEN || str_has_ctl(name) ||
        !str_is_utf8(name, strlen(name)))
        return err_set(ei, ERR_INVALID, "invalid_field", "name", "name must be 1..%d bytes of text",
                       MAX_NAME_LEN);
    p->id = xstrdup(id);
    p->name = xstrdup(name);
    return ERR_OK;
}

static enum err
parse_options(const json_t *j, struct oauth_provider *p, struct errinfo *ei)
{
    const json_t *v;
    enum err e;

    e = get_bool(j, "require_iss", false, &p->require_iss, ei);
    if (e == ERR_OK)
        e = get_bool(j, "pkce", true, &p->pkce, ei);
    if (e != ERR_OK)
        return e;
    if (p->require_iss && p->issuer == NULL)
        return err_set(ei, ERR_INVALID, "invalid_field", "require_iss",
                       "require_iss needs issuer to be set");
    v = json_object_get(j, "client_auth");
    p->client_auth = OAUTH_AUTH_BASIC;
    if (v != NULL && !json_is_null(v)) {
        const char *s = json_string_value(v);
        if (s != NULL && strcmp(s, "body") == 0)
            p->client_auth = OAUTH_AUTH_BODY;
        else if (s == NULL || strcmp(s, "basic") != 0)
            return err_set(ei, ERR_INVALID, "invalid_field", "client_auth",
                           "client_auth must be \"basic\" or \"body\"");
    }
    v = json_object_get(j, "scope_separator");
    p->scope_sep = ' ';
    if (v != NULL && !json_is_null(v)) {
        const char *s = json_string_value(v);
        if (s == NULL || (strcmp(s, " ") != 0 && strcmp(s, ",") != 0))
            return err_set(ei, ERR_INVALID, "invalid_field", "scope_separator",
                           "scope_separator must be \" \" or \",\"");
        p->scope_sep = s[0];
    }
    v = json_object_get(j, "default_scopes");
    if (v != NULL && !json_is_null(v))
        return get_scopes(v, "default_scopes", &p->default_scopes, ei);
    return ERR_OK;
}

enum err
oauth_provider_from_json(const json_t *j, struct oauth_provider *out, struct errinfo *ei)
{
    struct oauth_provider p = {0};
    enum err e;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(j)) {
        e = err_set(ei, ERR_INVALID, "invalid_body", NULL, "a provider must be a JSON object");
        goto out;
    }
    e = check_keys(j, ei);
    if (e == ERR_OK)
        e = parse_ident(j, &p, ei);
    if (e == ERR_OK)
        e = get_url(j, "authorize_url", true, &p.authorize_url, ei);
    if (e == ERR_OK)
        e = get_url(j, "token_url", true, &p.token_url, ei);
    if (e == ERR_OK)
        e = get_url(j, "revocation_url", false, &p.revocation_url, ei);
    if (e == ERR_OK)
        e = get_url(j, "userinfo_url", false, &p.userinfo_url, ei);
    if (e == ERR_OK)
        e = get_url(j, "issuer", false, &p.issuer, ei);
    if (e == ERR_OK)
        e = parse_options(j, &p, ei);
    if (e == ERR_OK)
        e = parse_tiers(json_object_get(j, "tiers"), &p, ei);
    if (e == ERR_OK)
        e = parse_extras(json_object_get(j, "extra_authorize_params"), &p, ei);
out:
    if (e == ERR_OK)
        *out = p;
    else
        oauth_provider_release(&p);
    return e;
}

enum err
oauth_provider_parse(const char *text, size_t len, struct oauth_provider *out, struct errinfo *ei)
{
    json_error_t je;
    json_t *j;
    enum err e;

    memset(out, 0, sizeof(*out));
    if (len > OAUTH_MAX_PROVIDER_JSON)
        return err_set(ei, ERR_TOO_LARGE, "too_large", NULL,
                       "a provider definition is limited to %zu bytes", OAUTH_MAX_PROVIDER_JSON);
    j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        return err_set(ei, ERR_INVALID, "invalid_json", NULL, "not valid JSON (line %d: %.80s)",
                       je.line, je.text);
    e = oauth_provider_from_json(j, out, ei);
    json_decref(j);
    return e;
}

static json_t *
list_to_json(const struct oauth_list *l)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < l->n; i++)
        json_array_append_new(a, json_string(l->v[i]));
    return a;
}

static void
set_opt(json_t *j, const char *key, const char *v)
{
    if (v != NULL)
        json_object_set_new(j, key, json_string(v));
}

json_t *
oauth_provider_to_json(const struct oauth_provider *p)
{
    json_t *j = json_object(), *tiers = json_object(), *extras = json_object();
    char sep[2] = {(char)(p->scope_sep ? p->scope_sep : ' '), '\0'};

    if (j == NULL || tiers == NULL || extras == NULL) {
        json_decref(j);
        json_decref(tiers);
        json_decref(extras);
        return NULL;
    }
    set_opt(j, "id", p->id);
    set_opt(j, "name", p->name);
    set_opt(j, "authorize_url", p->authorize_url);
    set_opt(j, "token_url", p->token_url);
    set_opt(j, "revocation_url", p->revocation_url);
    set_opt(j, "userinfo_url", p->userinfo_url);
    set_opt(j, "issuer", p->issuer);
    json_object_set_new(j, "require_iss", json_boolean(p->require_iss));
    json_object_set_new(j, "pkce", json_boolean(p->pkce));
    json_object_set_new(j, "client_auth",
                        json_string(p->client_auth == OAUTH_AUTH_BODY ? "body" : "basic"));
    json_object_set_new(j, "scope_separator", json_string(sep));
    json_object_set_new(j, "default_scopes", list_to_json(&p->default_scopes));
    for (size_t i = 0; i < p->ntiers; i++) {
        json_t *t = json_object();
        json_object_set_new(t, "scopes", list_to_json(&p->tiers[i].scopes));
        if (p->tiers[i].includes.n > 0)
            json_object_set_new(t, "includes", list_to_json(&p->tiers[i].includes));
        set_opt(t, "description", p->tiers[i].description);
        json_object_set_new(tiers, p->tiers[i].name, t);
    }
    json_object_set_new(j, "tiers", tiers);
    for (size_t i = 0; i < p->nextras; i++)
        json_object_set_new(extras, p->extras[i].name, json_string(p->extras[i].value));
    json_object_set_new(j, "extra_authorize_params", extras);
    return j;
}

/* ---- built-ins ----
 * gmail: Google's OAuth 2.0 endpoints. "openid email" are default scopes so
 * the connect page can say which account was connected (userinfo); tiers use
 * Google's full scope URLs because that is what the token response returns.
 * "full" (https://mail.google.com/) is a superset of send and read.
 * github: GitHub OAuth Apps. Classic scopes have no read-only private-repo
 * scope, so: read = profile, e-mail and org membership (public repos need no
 * scope); repo = full access to private and public repositories; full = repo
 * plus workflow files, gists and org read. GitHub answers scopes comma-
 * separated (handled by oauth_scopes_split), wants client_id/secret in the
 * body, issues non-expiring tokens without a refresh token (OAuth Apps), and
 * has no RFC 7009 endpoint (revocation is DELETE /applications/{client_id}/
 * grant with JSON: not covered here). */
static const char builtin_gmail[] =
    "{\"id\":\"gmail\",\"name\":\"Gmail\","
    "\"authorize_url\":\"https://accounts.google.com/o/oauth2/v2/auth\","
    "\"token_url\":\"https://oauth2.googleapis.com/token\","
    "\"revocation_url\":\"https://oauth2.googleapis.com/revoke\","
    "\"userinfo_url\":\"https://openidconnect.googleapis.com/v1/userinfo\","
    "\"issuer\":\"https://accounts.google.com\",\"require_iss\":false,"
    "\"pkce\":true,\"client_auth\":\"body\",\"scope_separator\":\" \","
    "\"default_scopes\":[\"openid\",\"email\"],"
    "\"tiers\":{"
    "\"send\":{\"scopes\":[\"https://www.googleapis.com/auth/gmail.send\"],"
    "\"description\":\"Send e-mail as you\"},"
    "\"read\":{\"scopes\":[\"https://www.googleapis.com/auth/gmail.readonly\"],"
    "\"description\":\"Read your e-mail and settings\"},"
    "\"full\":{\"scopes\":[\"https://mail.google.com/\"],\"includes\":[\"send\",\"read\"],"
    "\"description\":\"Full access to your mailbox, including permanent deletion\"}},"
    "\"extra_authorize_params\":{\"access_type\":\"offline\",\"prompt\":\"consent\"}}";

static const char builtin_github[] =
    "{\"id\":\"github\",\"name\":\"GitHub\","
    "\"authorize_url\":\"https://github.com/login/oauth/authorize\","
    "\"token_url\":\"https://github.com/login/oauth/access_token\","
    "\"userinfo_url\":\"https://api.github.com/user\","
    "\"pkce\":true,\"client_auth\":\"body\",\"scope_separator\":\" \","
    "\"tiers\":{"
    "\"read\":{\"scopes\":[\"read:user\",\"user:email\",\"read:org\"],"
    "\"description\":\"Read your profile, e-mail addresses and organizations\"},"
    "\"repo\":{\"scopes\":[\"repo\"],"
    "\"description\":\"Full control of your public and private repositories\"},"
    "\"full\":{\"scopes\":[\"repo\",\"workflow\",\"gist\",\"read:user\",\"user:email\","
    "\"read:org\"],\"includes\":[\"read\",\"repo\"],"
    "\"description\":\"Repositories, workflows, gists, profile and organizations\"}},"
    "\"extra_authorize_params\":{\"allow_signup\":\"false\"}}";

static const struct {
    const char *id;
    const char *json;
} builtins[] = {
    {"gmail", builtin_gmail},
    {"github", builtin_github},
};

const char *const *
oauth_provider_builtin_ids(void)
{
    static const char *const ids[] = {"gmail", "github", NULL};
    return ids;
}

enum err
oauth_provider_builtin(const char *id, struct oauth_provider *out, struct errinfo *ei)
{
    enum err e;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; id != NULL && i < ARRAY_LEN(builtins); i++) {
        if (strcmp(builtins[i].id, id) != 0)
            continue;
        e = oauth_provider_parse(builtins[i].json, strlen(builtins[i].json), out, ei);
        if (e == ERR_OK)
            out->builtin = true;
        return e;
    }
    return err_set(ei, ERR_NOT_FOUND, "unknown_provider", "provider", "no such provider");
}

/* ---- tiers <-> scopes ---- */

static void
list_names(const struct oauth_provider *p, char *out, size_t outlen)
{
    size_t off = 0;

    out[0] = '\0';
    for (size_t i = 0; i < p->ntiers && off < outlen; i++) {
        int k = snprintf(out + off, outlen - off, "%s%s", i ? ", " : "", p->tiers[i].name);
        if (k < 0)
            break;
        off += (size_t)k;
    }
}

enum err
oauth_tiers_to_scopes(const struct oauth_provider *p, const char *tiers_csv,
                      struct oauth_list *scopes_out, struct oauth_list *tiers_out,
                      struct errinfo *ei)
{
    struct oauth_list scopes = {0}, tiers = {0};
    char valid[200];
    enum err e = ERR_OK;
    const char *s = tiers_csv;

    list_names(p, valid, sizeof(valid));
    if (s == NULL || s[0] == '\0') {
        e = err_set(ei, ERR_INVALID, "invalid_field", "tiers", "choose at least one tier of %s: %s",
                    p->id, valid);
        goto out;
    }
    while (e == ERR_OK) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        char name[OAUTH_MAX_TIER_NAME_LEN + 1];
        const struct oauth_tier *t = NULL;

        if (n > 0 && n <= OAUTH_MAX_TIER_NAME_LEN) {
            memcpy(name, s, n);
            name[n] = '\0';
            t = oauth_provider_tier(p, name);
        }
        if (t == NULL) {
            e = err_set(ei, ERR_INVALID, "unknown_tier", "tiers",
                        "%s has no tier \"%.*s\"; valid tiers: %s", p->id,
                        (int)(n > OAUTH_MAX_TIER_NAME_LEN ? OAUTH_MAX_TIER_NAME_LEN : n), s, valid);
            break;
        }
        e = oauth_list_add(&tiers, t->name, OAUTH_MAX_TIERS);
        if (comma == NULL)
            break;
        s = comma + 1;
    }
    /* Scopes in definition order of the tiers asked for, then defaults. */
    for (size_t i = 0; e == ERR_OK && i < p->ntiers; i++) {
        if (!oauth_list_has(&tiers, p->tiers[i].name))
            continue;
        for (size_t k = 0; e == ERR_OK && k < p->tiers[i].scopes.n; k++)
            e = oauth_list_add(&scopes, p->tiers[i].scopes.v[k], OAUTH_MAX_SCOPES);
    }
    for (size_t k = 0; e == ERR_OK && k < p->default_scopes.n; k++)
        e = oauth_list_add(&scopes, p->default_scopes.v[k], OAUTH_MAX_SCOPES);
    if (e == ERR_TOO_LARGE)
        err_set(ei, e, "too_many_scopes", "tiers", "these tiers ask for more than %d scopes",
                OAUTH_MAX_SCOPES);
    else if (e == ERR_NOMEM)
        err_set(ei, e, NULL, NULL, "out of memory");
out:
    if (e == ERR_OK) {
        *scopes_out = scopes;
        if (tiers_out != NULL)
            *tiers_out = tiers;
        else
            oauth_list_release(&tiers);
    } else {
        oauth_list_release(&scopes);
        oauth_list_release(&tiers);
    }
    return e;
}

enum err
oauth_scopes_split(const char *s, struct oauth_list *out, struct errinfo *ei)
{
    struct oauth_list l = {0};
    enum err e = ERR_OK;

    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return ERR_OK;
    if (strlen(s) > OAUTH_MAX_SCOPE_STRING)
        return err_set(ei, ERR_INVALID, "invalid_scope", "scope",
                       "scope string longer than %d bytes", OAUTH_MAX_SCOPE_STRING);
    while (*s && e == ERR_OK) {
        char tok[OAUTH_MAX_SCOPE_LEN + 1];
        size_t n = strcspn(s, " ,");

        if (n == 0) {
            s++;
            continue;
        }
        if (n > OAUTH_MAX_SCOPE_LEN) {
            e = err_set(ei, ERR_INVALID, "invalid_scope", "scope",
                        "a scope is longer than %d bytes", OAUTH_MAX_SCOPE_LEN);
            break;
        }
        memcpy(tok, s, n);
        tok[n] = '\0';
        if (!scope_ok(tok)) {
            e = err_set(ei, ERR_INVALID, "invalid_scope", "scope",
                        "a scope contains a character outside RFC 6749 NQCHAR");
            break;
        }
        e = oauth_list_add(&l, tok, OAUTH_MAX_SCOPES);
        if (e == ERR_TOO_LARGE)
            err_set(ei, e, "too_many_scopes", "scope", "more than %d scopes", OAUTH_MAX_SCOPES);
        s += n;
    }
    if (e == ERR_OK)
        *out = l;
    else
        oauth_list_release(&l);
    return e;
}

enum err
oauth_scopes_to_tiers(const struct oauth_provider *p, const char *granted,
                      struct oauth_list *tiers_out, struct errinfo *ei)
{
    struct oauth_list g = {0};
    bool cov[OAUTH_MAX_TIERS] = {false};
    struct oauth_list res = {0};
    enum err e;
    bool changed = true;

    memset(tiers_out, 0, sizeof(*tiers_out));
    e = oauth_scopes_split(granted, &g, ei);
    if (e != ERR_OK)
        return e;
    for (size_t i = 0; i < p->ntiers && i < OAUTH_MAX_TIERS; i++) {
        bool all = true;
        for (size_t k = 0; k < p->tiers[i].scopes.n && all; k++)
            all = oauth_list_has(&g, p->tiers[i].scopes.v[k]);
        cov[i] = all;
    }
    /* includes: a covered tier covers the tiers it includes (transitively). */
    while (changed) {
        changed = false;
        for (size_t i = 0; i < p->ntiers && i < OAUTH_MAX_TIERS; i++) {
            if (!cov[i])
                continue;
            for (size_t k = 0; k < p->ntiers && k < OAUTH_MAX_TIERS; k++)
                if (!cov[k] && oauth_list_has(&p->tiers[i].includes, p->tiers[k].name))
                    cov[k] = changed = true;
        }
    }
    for (size_t i = 0; e == ERR_OK && i < p->ntiers && i < OAUTH_MAX_TIERS; i++)
        if (cov[i])
            e = oauth_list_add(&res, p->tiers[i].name, OAUTH_MAX_TIERS);
    oauth_list_release(&g);
    if (e != ERR_OK) {
        oauth_list_release(&res);
        return err_set(ei, e, NULL, NULL, "out of memory");
    }
    *tiers_out = res;
    return ERR_OK;
}

/* ---- client credentials ---- */

void
oauth_client_release(struct oauth_client *c)
{
    if (c == NULL)
        return;
    free(c->client_id);
    secret_release(&c->secret);
    memset(c, 0, sizeof(*c));
}

void
oauth_env_name(const char *provider_id, const char *suffix, char *out, size_t outlen)
{
    size_t off;
    int k = snprintf(out, outlen, "CONNECT_");

    if (k < 0 || (size_t)k >= outlen)
        return;
    off = (size_t)k;
    for (const unsigned char *c = (const unsigned char *)provider_id; *c && off + 1 < outlen; c++)
        out[off++] = isalnum(*c) ? (char)toupper(*c) : '_';
    out[off] = '\0';
    snprintf(out + off, outlen - off, "_%s", suffix);
}

enum err
oauth_client_creds(const char *provider_id, oauth_registry_lookup_cb cb, void *arg,
                   struct oauth_client *out, struct errinfo *ei)
{
    char id_var[OAUTH_MAX_ID_LEN + 32], secret_var[OAUTH_MAX_ID_LEN + 32];
    const char *cid, *csec;
    enum err e;

    memset(out, 0, sizeof(*out));
    if (provider_id == NULL || !str_is_slug(provider_id, OAUTH_MAX_ID_LEN))
        return err_set(ei, ERR_INVALID, "invalid_field", "provider", "invalid provider id");
    if (cb != NULL) {
        e = cb(arg, provider_id, &out->client_id, &out->secret, ei);
        if (e == ERR_OK && (out->client_id == NULL || out->client_id[0] == '\0')) {
            oauth_client_release(out);
            return err_set(ei, ERR_INTERNAL, NULL, "client_id",
                           "the registry returned an empty client id for %s", provider_id);
        }
        if (e == ERR_OK) {
            out->source = OAUTH_CREDS_REGISTRY;
            return ERR_OK;
        }
        oauth_client_release(out);
        if (e != ERR_NOT_FOUND)
            return e;
    }
    oauth_env_name(provider_id, "CLIENT_ID", id_var, sizeof(id_var));
    oauth_env_name(provider_id, "CLIENT_SECRET", secret_var, sizeof(secret_var));
    cid = getenv(id_var);      /* NOLINT(concurrency-mt-unsafe): env is not modified after start */
    csec = getenv(secret_var); /* NOLINT(concurrency-mt-unsafe) */
    if (cid == NULL || cid[0] == '\0' || csec == NULL || csec[0] == '\0')
        return err_set(ei, ERR_UNPROCESSABLE, "provider_not_configured", "provider",
                       "provider %s is not configured: add its client id and secret in the "
                       "admin provider registry, or set %s and %s in the server's environment%s",
                       provider_id, id_var, secret_var,
                       (cid != NULL && cid[0] != '\0') ? " (only the client id is set)" : "");
    if (strlen(cid) > OAUTH_MAX_CLIENT_ID_LEN || str_has_ctl(cid) ||
        strlen(csec) > OAUTH_MAX_CLIENT_SECRET_LEN)
        return err_set(ei, ERR_UNPROCESSABLE, "provider_not_configured", "provider",
                       "%s or %s is too long or contains control characters", id_var, secret_var);
    e = secret_set(&out->secret, csec, strlen(csec));
    if (e != ERR_OK)
        return err_set(ei, e, NULL, NULL, "out of memory");
    out->client_id = xstrdup(cid);
    out->source = OAUTH_CREDS_ENV;
    return ERR_OK;
}
