/*
 * registry: the table of credential services, key resolution and the
 * process-wide base URLs (services/registry.h).
 */
#include "services/registry.h"

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "core/limits.h"
#include "core/util.h"
#include "outbound/ssrf.h"
#include "services/internal.h"
#include "services/telegram.h"
#include "core/banned.h"

static const struct service services[] = {
    {"openai", "OpenAI", true, "https://api.openai.com"},
    {"anthropic", "Anthropic", true, "https://api.anthropic.com"},
    {"gemini", "Google Gemini", true, "https://generativelanguage.googleapis.com"},
    {"brave", "Brave Search", true, "https://api.search.brave.com"},
    {"telegram", "Telegram", false, "https://api.telegram.org"},
};

/* Every id with a base URL: the services, then endpoints without keys. */
struct endpoint {
    const char *id;
    const char *default_base;
};
static const struct endpoint extra_endpoints[] = {
    {"gmail", "https://gmail.googleapis.com"},
    {"google_oauth", "https://oauth2.googleapis.com"},
};

#define N_ENDPOINTS (ARRAY_LEN(services) + ARRAY_LEN(extra_endpoints))
static char base_override[N_ENDPOINTS][MAX_BASE_URL_LEN + 1];

size_t
service_count(void)
{
    return ARRAY_LEN(services);
}

const struct service *
service_at(size_t i)
{
    return i < ARRAY_LEN(services) ? &services[i] : NULL;
}

const struct service *
service_find(const char *id)
{
    if (id == NULL)
        return NULL;
    for (size_t i = 0; i < ARRAY_LEN(services); i++)
        if (strcmp(services[i].id, id) == 0)
            return &services[i];
    return NULL;
}

const char *
service_source_name(enum service_source s)
{
    switch (s) {
    case SERVICE_SOURCE_WORKSPACE:
        return "workspace";
    case SERVICE_SOURCE_PLATFORM:
        return "platform";
    case SERVICE_SOURCE_NONE:
        break;
    }
    return "none";
}

enum err
service_resolve(const struct service *s, bool has_workspace_key, bool has_platform_key,
                enum service_source *out, struct errinfo *ei)
{
    *out = SERVICE_SOURCE_NONE;
    if (s == NULL)
        return err_set(ei, ERR_NOT_FOUND, "unknown_service", "service", "unknown service");
    if (s->overridable && has_workspace_key) {
        *out = SERVICE_SOURCE_WORKSPACE;
        return ERR_OK;
    }
    if (has_platform_key) {
        *out = SERVICE_SOURCE_PLATFORM;
        return ERR_OK;
    }
    return err_set(ei, ERR_UNPROCESSABLE, "service_not_configured", "service",
                   "%s is not configured: set a platform key or a workspace key", s->id);
}

enum err
service_check_workspace_key_allowed(const struct service *s, struct errinfo *ei)
{
    if (s == NULL)
        return err_set(ei, ERR_NOT_FOUND, "unknown_service", "service", "unknown service");
    if (!s->overridable)
        return err_set(ei, ERR_FORBIDDEN, "service_not_overridable", "service",
                       "%s uses the platform key only; a workspace cannot set its own", s->id);
    return ERR_OK;
}

static bool
is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

enum err
service_key_parse(const struct service *s, const json_t *body, struct secret *out, bool *present,
                  struct errinfo *ei)
{
    const json_t *v;
    const char *p;
    size_t n;
    enum err e;

    *present = false;
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return err_set(ei, ERR_NOT_FOUND, "unknown_service", "service", "unknown service");
    if (!json_is_object(body))
        return err_set(ei, ERR_INVALID, "invalid_body", NULL, "body must be a JSON object");
    {
        const char *k;
        json_t *val;
        json_object_foreach ((json_t *)body, k, val) {
            (void)val;
            if (strcmp(k, "key") != 0)
                return err_set(ei, ERR_INVALID, "invalid_field", "body",
                               "only \"key\" may be sent");
        }
    }
    v = json_object_get(body, "key");
    if (v == NULL || json_is_null(v))
        return ERR_OK;
    if (!json_is_string(v))
        return err_set(ei, ERR_INVALID, "invalid_field", "key", "key must be a string");
    p = json_string_value(v);
    n = json_string_length(v);
    if (is_blank(p, n))
        return ERR_OK;
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    if (n > MAX_SECRET_LEN)
        return err_set(ei, ERR_TOO_LARGE, "invalid_field", "key", "key is longer than %u bytes",
                       (unsigned)MAX_SECRET_LEN);
    e = secret_set(out, p, n);
    if (e != ERR_OK)
        return err_set(ei, e, NULL, "key", "out of memory");
    if (strcmp(s->id, "telegram") == 0)
        e = telegram_token_check(out, ei);
    else
        e = svc_check_header_key(out, "key", ei);
    if (e != ERR_OK) {
        secret_release(out);
        /* a bad value is the caller's mistake, whichever check found it */
        if (e == ERR_UNPROCESSABLE)
            e = ERR_INVALID;
        if (ei != NULL) {
            snprintf(ei->field, sizeof(ei->field), "key");
            snprintf(ei->code, sizeof(ei->code), "invalid_field");
        }
        return e;
    }
    *present = true;
    return ERR_OK;
}

void
service_key_aad(const struct service *s, int64_t workspace_id, struct vault_aad *out)
{
    out->workspace_id = workspace_id;
    out->kind = "service_credential";
    out->row_id = s->id;
    out->field = "key";
}

json_t *
service_status_json(const struct service *s, bool has_workspace_key, bool has_platform_key)
{
    enum service_source src;
    enum err e = service_resolve(s, has_workspace_key, has_platform_key, &src, NULL);

    (void)e; /* NONE is an answer here, not an error */
    return json_pack("{s:s, s:s, s:b, s:b, s:b, s:s}", "service", s->id, "name", s->name,
                     "overridable", s->overridable, "platform_key_set", has_platform_key,
                     "workspace_key_set", s->overridable && has_workspace_key, "effective",
                     service_source_name(src));
}

/* ---- base URLs ---- */

static ssize_t
endpoint_index(const char *id)
{
    if (id == NULL)
        return -1;
    for (size_t i = 0; i < ARRAY_LEN(services); i++)
        if (strcmp(services[i].id, id) == 0)
            return (ssize_t)i;
    for (size_t i = 0; i < ARRAY_LEN(extra_endpoints); i++)
        if (strcmp(extra_endpoints[i].id, id) == 0)
            return (ssize_t)(ARRAY_LEN(services) + i);
    return -1;
}

const char *
service_base_url(const char *id)
{
    ssize_t i = endpoint_index(id);

    if (i < 0)
        return NULL;
    if (base_override[i][0] != '\0')
        return base_override[i];
    if ((size_t)i < ARRAY_LEN(services))
        return services[i].default_base;
    return extra_endpoints[(size_t)i - ARRAY_LEN(services)].default_base;
}

enum err
services_set_base_url(const char *id, const char *url, struct errinfo *ei)
{
    ssize_t i = endpoint_index(id);
    size_t n;
    enum err e;

    if (i < 0)
        return err_set(ei, ERR_NOT_FOUND, "unknown_service", "service_base_url",
                       "unknown service (known: openai, anthropic, gemini, brave, telegram, "
                       "gmail, google_oauth)");
    if (url == NULL)
        return err_set(ei, ERR_INVALID, "invalid_url", "service_base_url", "URL is missing");
    n = strlen(url);
    if (n > MAX_BASE_URL_LEN)
        return err_set(ei, ERR_INVALID, "invalid_url", "service_base_url",
                       "URL is longer than %d bytes", MAX_BASE_URL_LEN);
    e = url_validate(url, "service_base_url", NULL, ei);
    if (e != ERR_OK)
        return e;
    if (strpbrk(url, "?#") != NULL)
        return err_set(ei, ERR_INVALID, "invalid_url", "service_base_url",
                       "URL must not have a query or fragment");
    while (n > 0 && url[n - 1] == '/')
        n--;
    memcpy(base_override[i], url, n);
    base_override[i][n] = '\0';
    return ERR_OK;
}

enum err
services_base_url_flag(const char *arg, struct errinfo *ei)
{
    char id[32];
    const char *eq = arg ? strchr(arg, '=') : NULL;
    size_t n;

    if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(id))
        return err_set(ei, ERR_INVALID, "invalid_flag", "service_base_url",
                       "expected SERVICE=URL (e.g. openai=http://127.0.0.2:8081)");
    n = (size_t)(eq - arg);
    memcpy(id, arg, n);
    id[n] = '\0';
    return services_set_base_url(id, eq + 1, ei);
}

void
services_reset_base_urls(void)
{
    memset(base_override, 0, sizeof(base_override));
}
