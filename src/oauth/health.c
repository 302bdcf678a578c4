/* oauth/health: connection health state machine. See health.h. */
#include <stdio.h>
#include <string.h>

#include "oauth/flow.h"
#include "oauth/health.h"
#include "core/banned.h"

static const char *const names[] = {"healthy", "degraded", "needs_reauth", "revoked"};

const char *
oauth_health_name(enum oauth_health h)
{
    return (unsigned)h < sizeof(names) / sizeof(names[0]) ? names[h] : "unknown";
}

bool
oauth_health_parse(const char *s, enum oauth_health *out)
{
    for (unsigned i = 0; s != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum oauth_health)i;
            return true;
        }
    }
    return false;
}

int64_t
oauth_backoff_ms(uint32_t failures, int64_t base_ms, int64_t cap_ms, uint32_t rnd)
{
    int64_t d = base_ms;

    for (uint32_t i = 1; i < failures && d < cap_ms; i++)
        d *= 2;
    if (d > cap_ms)
        d = cap_ms;
    if (d <= 1)
        return d;
    return d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
}

static void
record_failure(struct oauth_health_state *h, int64_t now_ms, const char *code, const char *desc)
{
    h->consecutive_failures++;
    h->total_failures++;
    h->last_failure_ms = now_ms;
    oauth_sanitize_text(code ? code : "error", h->last_error_code, sizeof(h->last_error_code));
    oauth_sanitize_text(desc ? desc : "", h->last_error, sizeof(h->last_error));
}

void
oauth_health_apply(struct oauth_health_state *h, enum oauth_event ev, int64_t now_ms,
                   const char *code, const char *desc, uint32_t rnd)
{
    bool stopped = h->status == OAUTH_NEEDS_REAUTH || h->status == OAUTH_REVOKED;

    switch (ev) {
    case OAUTH_EV_SUCCESS:
        h->successes++;
        h->last_success_ms = now_ms;
        if (stopped)
            break;
        h->status = OAUTH_HEALTHY;
        h->consecutive_failures = 0;
        h->next_retry_ms = 0;
        h->last_error_code[0] = h->last_error[0] = '\0';
        break;
    case OAUTH_EV_TRANSIENT:
    case OAUTH_EV_CONFIG:
        if (stopped)
            break;
        record_failure(h, now_ms,
                       code ? code : (ev == OAUTH_EV_CONFIG ? "provider_config" : "transient"),
                       desc);
        h->status = OAUTH_DEGRADED;
        h->next_retry_ms =
            now_ms + (ev == OAUTH_EV_CONFIG
                          ? oauth_backoff_ms(h->consecutive_failures, OAUTH_CONFIG_BACKOFF_BASE_MS,
                                             OAUTH_CONFIG_BACKOFF_MAX_MS, rnd)
                          : oauth_backoff_ms(h->consecutive_failures, OAUTH_BACKOFF_BASE_MS,
                                             OAUTH_BACKOFF_MAX_MS, rnd));
        break;
    case OAUTH_EV_INVALID_GRANT:
        if (h->status == OAUTH_REVOKED)
            break;
        record_failure(h, now_ms, code ? code : "invalid_grant", desc);
        h->status = OAUTH_NEEDS_REAUTH;
        h->next_retry_ms = 0;
        break;
    case OAUTH_EV_REVOKED:
        h->status = OAUTH_REVOKED;
        h->next_retry_ms = 0;
        snprintf(h->last_error_code, sizeof(h->last_error_code), "revoked");
        h->last_error[0] = '\0';
        h->last_failure_ms = now_ms;
        break;
    case OAUTH_EV_RECONNECTED:
        h->status = OAUTH_HEALTHY;
        h->consecutive_failures = 0;
        h->next_retry_ms = 0;
        h->last_success_ms = now_ms;
        h->last_error_code[0] = h->last_error[0] = '\0';
        break;
    }
}

bool
oauth_health_may_refresh(const struct oauth_health_state *h, int64_t now_ms)
{
    if (h->status == OAUTH_NEEDS_REAUTH || h->status == OAUTH_REVOKED)
        return false;
    return now_ms >= h->next_retry_ms;
}
