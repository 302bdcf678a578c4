/*
 * oauth/health: the health of one OAuth connection, as a pure state machine.
 *
 *   healthy --transient--> degraded --success--> healthy
 *   healthy|degraded --invalid_grant--> needs_reauth   (refresh stops)
 *   healthy|degraded --config--> degraded (long back-off, code "provider_config")
 *   any --revoked--> revoked                           (refresh stops)
 *   any --reconnected--> healthy                       (new grant via the callback)
 *
 * A success does not leave needs_reauth or revoked: only a new grant does.
 * After a transient or config failure no automatic refresh is tried before
 * next_retry_ms (exponential back-off with jitter, OAUTH-027/028). The last
 * error (code, sanitized description, time, attempts) is kept for the API
 * (OAUTH-026). The lead stores these fields as columns (see refresh.h).
 */
#ifndef CONNHUB_OAUTH_HEALTH_H
#define CONNHUB_OAUTH_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#define OAUTH_BACKOFF_BASE_MS 1000                 /* first transient retry */
#define OAUTH_BACKOFF_MAX_MS ((int64_t)15 * 60000) /* cap for transient failures */
#define OAUTH_CONFIG_BACKOFF_BASE_MS 60000         /* first retry after a config error */
#define OAUTH_CONFIG_BACKOFF_MAX_MS 3600000        /* cap for config errors */

enum oauth_health {
    OAUTH_HEALTHY = 0,
    OAUTH_DEGRADED,
    OAUTH_NEEDS_REAUTH,
    OAUTH_REVOKED,
};

enum oauth_event {
    OAUTH_EV_SUCCESS = 0, /* refresh or upstream call worked */
    OAUTH_EV_TRANSIENT,   /* 5xx, timeout, reset, malformed answer */
    OAUTH_EV_CONFIG,      /* invalid_client / unauthorized_client */
    OAUTH_EV_INVALID_GRANT,
    OAUTH_EV_REVOKED,     /* user or admin revoked / deleted the grant */
    OAUTH_EV_RECONNECTED, /* a new authorization completed */
};

struct oauth_health_state {
    enum oauth_health status;
    uint32_t consecutive_failures; /* since the last success */
    uint32_t total_failures;
    uint32_t successes;
    int64_t last_success_ms;
    int64_t last_failure_ms;
    int64_t next_retry_ms; /* 0 = now */
    char last_error_code[48];
    char last_error[256]; /* sanitized; never a token */
};

const char *oauth_health_name(enum oauth_health h); /* "healthy", ... */
bool oauth_health_parse(const char *s, enum oauth_health *out);

/* Applies ev at now_ms. code/desc (may be NULL) describe a failure and are
 * sanitized into the state. rnd is a random 32-bit value for the jitter
 * (tests pass fixed ones). */
void oauth_health_apply(struct oauth_health_state *h, enum oauth_event ev, int64_t now_ms,
                        const char *code, const char *desc, uint32_t rnd);

/* May an automatic (proactive) refresh run now? false in needs_reauth and
 * revoked, and before next_retry_ms. A forced refresh after an upstream 401
 * obeys the same rule. */
bool oauth_health_may_refresh(const struct oauth_health_state *h, int64_t now_ms);

/* Back-off before attempt n+1 after n consecutive failures (n >= 1):
 * d = min(cap, base * 2^(n-1)), result uniform in [d/2, d] from rnd. */
int64_t oauth_backoff_ms(uint32_t failures, int64_t base_ms, int64_t cap_ms, uint32_t rnd);

#endif
