/*
 * creds: service credentials (openai, anthropic, gemini, brave, telegram).
 * A platform key (set by platform admins) and, for tenant-overridable
 * services, a workspace key (set by workspace admins), each sealed in the
 * vault as kind "service_credential", row = service id, field "key"
 * (workspace 0 for platform keys). Write-only: nothing here returns a key
 * except creds_open, which the call engine uses for one call.
 *
 * Resolution: the workspace key (overridable service, one saved), else the
 * platform key, else "<service> is not configured: set a platform key or a
 * workspace key". No environment fallback.
 */
#ifndef CONNHUB_CREDS_H
#define CONNHUB_CREDS_H

#include <stdbool.h>

#include <jansson.h>

#include "core/err.h"
#include "crypto/vault.h"
#include "store/store.h"

enum creds_level { CREDS_PLATFORM, CREDS_WORKSPACE };

/* GET: every service with overridable, platform_key_set, workspace_key_set and
 * effective for ws (new reference). */
enum err creds_list(struct store *st, int64_t ws, json_t **out, struct errinfo *ei) WARN_UNUSED;
/* PUT {"key": "..."}: a blank key keeps the stored one. ws is ignored for
 * CREDS_PLATFORM. ERR_FORBIDDEN for a workspace key on a service that is not
 * overridable. *out is the service's status entry (new reference). */
enum err creds_put(struct store *st, const struct vault *v, enum creds_level level, int64_t ws,
                   const char *service, const json_t *body, json_t **out,
                   struct errinfo *ei) WARN_UNUSED;
enum err creds_delete(struct store *st, enum creds_level level, int64_t ws, const char *service,
                      json_t **out, struct errinfo *ei) WARN_UNUSED;
/* The key a call in workspace ws uses, opened into *key (secret_release it).
 * ERR_UNPROCESSABLE "service_not_configured" when there is none. */
enum err creds_open(struct store *st, const struct vault *v, int64_t ws, const char *service,
                    struct secret *key, struct errinfo *ei) WARN_UNUSED;

#endif
