/*
 * services/registry: the services connhub calls with credentials of its own
 * (issue 8): openai, anthropic, gemini, brave, telegram.
 *
 * Each service has a platform key (set by an instance admin) and, when it is
 * overridable, a workspace key (set by a workspace admin). Both are sealed in
 * the vault (service_key_aad says where). Resolution is a pure decision:
 *
 *     workspace key (overridable and set) -> platform key -> error
 *     "<service> is not configured: set a platform key or a workspace key"
 *
 * There is no environment fallback: nothing here reads getenv(), so an
 * OPENAI_API_KEY in connhub's environment is never used (the "env-free"
 * property of the table).
 *
 * Base URLs: each service (and the endpoints "gmail" and "google_oauth" used
 * by gmail connections) has a default base URL that start-up may replace
 * (serve --service-base-url openai=http://127.0.0.2:PORT), so tests can point
 * a provider at a local upstream. The table is process-wide, written only at
 * start-up (not thread-safe), read-only afterwards.
 */
#ifndef CONNHUB_SERVICES_REGISTRY_H
#define CONNHUB_SERVICES_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "crypto/secret.h"
#include "crypto/vault.h"

struct service {
    const char *id;           /* "openai": the {service} of the API paths */
    const char *name;         /* "OpenAI": for people */
    bool overridable;         /* a workspace may set its own key */
    const char *default_base; /* "https://api.openai.com", no trailing '/' */
};

/* The credential services, in table order. NULL when i is out of range or
 * id unknown. Only these take platform/workspace keys; "gmail" and
 * "google_oauth" are base-URL endpoints only and are not found here. */
size_t service_count(void);
const struct service *service_at(size_t i);
const struct service *service_find(const char *id);

/* ---- keys ---- */

enum service_source {
    SERVICE_SOURCE_NONE = 0,
    SERVICE_SOURCE_WORKSPACE,
    SERVICE_SOURCE_PLATFORM,
};
const char *service_source_name(enum service_source s); /* "none", "workspace", "platform" */

/* Which key a call uses, from what is stored. has_workspace_key is ignored
 * for a service that is not overridable (a row left from before would never
 * be used). With neither key: SERVICE_SOURCE_NONE and ERR_UNPROCESSABLE, code
 * "service_not_configured", field "service", message exactly
 * "<id> is not configured: set a platform key or a workspace key". */
enum err service_resolve(const struct service *s, bool has_workspace_key, bool has_platform_key,
                         enum service_source *out, struct errinfo *ei) WARN_UNUSED;

/* PUT/DELETE /api/workspace/service-credentials/{id}: ERR_FORBIDDEN, code
 * "service_not_overridable", when s is not overridable (telegram). */
enum err service_check_workspace_key_allowed(const struct service *s,
                                             struct errinfo *ei) WARN_UNUSED;

/* Reads {"key": "..."} of a PUT body. A missing, null or blank (only spaces)
 * key means "keep the stored one": *present = false and out stays {0}. Else
 * the key (surrounding whitespace trimmed) is checked for the service (1..
 * MAX_SECRET_LEN printable ASCII bytes with no space; telegram: a bot token
 * "<digits>:<[A-Za-z0-9_-]>") and copied into out (caller releases). Other
 * members are refused. Errors name field "key", never the value. */
enum err service_key_parse(const struct service *s, const json_t *body, struct secret *out,
                           bool *present, struct errinfo *ei) WARN_UNUSED;

/* Where a service key is sealed: workspace_id 0 for the platform key, kind
 * "service_credential", row_id the service id, field "key". */
void service_key_aad(const struct service *s, int64_t workspace_id, struct vault_aad *out);

/* One entry of GET .../service-credentials (new reference):
 * {"service","name","overridable","platform_key_set","workspace_key_set",
 *  "effective": "workspace"|"platform"|"none"}. */
json_t *service_status_json(const struct service *s, bool has_workspace_key, bool has_platform_key);

/* ---- base URLs ---- */

/* The base URL of a service or endpoint id ("openai", ..., "gmail",
 * "google_oauth"), without a trailing '/'; NULL for an unknown id. */
const char *service_base_url(const char *id);

/* Replaces the base URL of id. url must pass url_validate() (field
 * "service_base_url"), have no query or fragment, and at most
 * MAX_BASE_URL_LEN bytes; a trailing '/' is dropped. ERR_NOT_FOUND for an
 * unknown id. Start-up only. */
enum err services_set_base_url(const char *id, const char *url, struct errinfo *ei) WARN_UNUSED;

/* Parses one "--service-base-url id=url" flag value and applies it. */
enum err services_base_url_flag(const char *arg, struct errinfo *ei) WARN_UNUSED;

/* Back to the defaults (tests). */
void services_reset_base_urls(void);

#endif
