#include "creds/creds.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "services/registry.h"
#include "core/banned.h"

#define KIND "service_credential"
#define FIELD "key"

static enum err
find(const char *id, const struct service **s, struct errinfo *ei)
{
    *s = service_find(id);
    if (*s == NULL)
        return err_set(ei, ERR_NOT_FOUND, "unknown_service", "service",
                       "unknown service %s; services: openai, anthropic, gemini, brave, telegram",
                       id ? id : "");
    return ERR_OK;
}

static enum err
has_key(struct store *st, int64_t ws, const char *service, bool *has, struct errinfo *ei)
{
    char **fields = NULL;
    size_t n = 0;
    enum err e = store_secret_fields(st, ws, KIND, service, &fields, &n, ei);

    *has = e == ERR_OK && n > 0;
    string_list_free(fields, n);
    return e;
}

static enum err
status_of(struct store *st, const struct service *s, int64_t ws, json_t **out, struct errinfo *ei)
{
    bool wk = false, pk = false;
    enum err e = has_key(st, 0, s->id, &pk, ei);

    if (e == ERR_OK && ws != 0)
        e = has_key(st, ws, s->id, &wk, ei);
    if (e == ERR_OK)
        *out = service_status_json(s, wk, pk);
    return e;
}

enum err
creds_list(struct store *st, int64_t ws, json_t **out, struct errinfo *ei)
{
    json_t *arr = json_array();
    enum err e = ERR_OK;

    for (size_t i = 0; e == ERR_OK && i < service_count(); i++) {
        json_t *one = NULL;
        e = status_of(st, service_at(i), ws, &one, ei);
        if (e == ERR_OK)
            json_array_append_new(arr, one);
    }
    if (e != ERR_OK) {
        json_decref(arr);
        return e;
    }
    *out = json_pack("{s:o}", "services", arr);
    return ERR_OK;
}

enum err
creds_put(struct store *st, const struct vault *v, enum creds_level level, int64_t ws,
          const char *service, const json_t *body, json_t **out, struct errinfo *ei)
{
    const struct service *s;
    struct secret key = {0};
    struct vault_aad aad;
    unsigned char *ct = NULL;
    size_t n = 0;
    bool present = false;
    int64_t at = level == CREDS_PLATFORM ? 0 : ws;
    enum err e = find(service, &s, ei);

    if (e == ERR_OK && level == CREDS_WORKSPACE)
        e = service_check_workspace_key_allowed(s, ei);
    if (e == ERR_OK)
        e = service_key_parse(s, body, &key, &present, ei);
    if (e == ERR_OK && present) {
        service_key_aad(s, at, &aad);
        e = vault_seal(v, &aad, key.p, key.len, &ct, &n, ei);
        if (e == ERR_OK)
            e = store_secret_put(st, at, KIND, s->id, FIELD, ct, n, ei);
        if (e == ERR_OK)
            log_kv(LOG_INFO, "service_credential.set", "s:service", s->id, "s:level",
                   level == CREDS_PLATFORM ? "platform" : "workspace", "I:workspace", (long long)at,
                   LOG_END);
    }
    secret_release(&key);
    free(ct);
    if (e == ERR_OK)
        e = status_of(st, s, ws, out, ei);
    return e;
}

enum err
creds_delete(struct store *st, enum creds_level level, int64_t ws, const char *service,
             json_t **out, struct errinfo *ei)
{
    const struct service *s;
    bool deleted = false;
    int64_t at = level == CREDS_PLATFORM ? 0 : ws;
    enum err e = find(service, &s, ei);

    if (e == ERR_OK && level == CREDS_WORKSPACE)
        e = service_check_workspace_key_allowed(s, ei);
    if (e == ERR_OK)
        e = store_secret_delete(st, at, KIND, s->id, FIELD, &deleted, ei);
    if (e == ERR_OK && !deleted)
        e = err_set(ei, ERR_NOT_FOUND, "no_key", "service", "no %s key is set for %s",
                    level == CREDS_PLATFORM ? "platform" : "workspace", s->id);
    if (e == ERR_OK)
        log_kv(LOG_INFO, "service_credential.removed", "s:service", s->id, "s:level",
               level == CREDS_PLATFORM ? "platform" : "workspace", "I:workspace", (long long)at,
               LOG_END);
    if (e == ERR_OK)
        e = status_of(st, s, ws, out, ei);
    return e;
}

enum err
creds_open(struct store *st, const struct vault *v, int64_t ws, const char *service,
           struct secret *key, struct errinfo *ei)
{
    const struct service *s;
    struct sealed_set wk = {0}, pk = {0};
    enum service_source src = SERVICE_SOURCE_NONE;
    struct vault_aad aad;
    const struct sealed *use;
    enum err e = find(service, &s, ei);

    /* read the values themselves (at most two queries); resolution decides */
    if (e == ERR_OK && s->overridable && ws != 0)
        e = store_secrets_get(st, ws, KIND, s->id, &wk, ei);
    if (e == ERR_OK)
        e = store_secrets_get(st, 0, KIND, s->id, &pk, ei);
    if (e == ERR_OK)
        e = service_resolve(s, wk.n > 0, pk.n > 0, &src, ei);
    use = src == SERVICE_SOURCE_WORKSPACE && wk.n > 0  ? &wk.v[0]
          : src == SERVICE_SOURCE_PLATFORM && pk.n > 0 ? &pk.v[0]
                                                       : NULL;
    if (e == ERR_OK && use == NULL) {
        e = err_set(ei, ERR_INTERNAL, "resolve_failed", "service", "no key to use");
    } else if (e == ERR_OK && use != NULL) {
        service_key_aad(s, src == SERVICE_SOURCE_WORKSPACE ? ws : 0, &aad);
        e = vault_open(v, &aad, use->data, use->len, key, ei);
    }
    sealed_set_release(&wk);
    sealed_set_release(&pk);
    return e;
}
