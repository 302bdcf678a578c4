/* oauth/health: transitions (OAUTH-026/027/028), back-off bounds, names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "oauth/health.h"

#define NOW 1800000000000LL

static void
transitions(void **state)
{
    static const struct {
        enum oauth_health from;
        enum oauth_event ev;
        enum oauth_health to;
    } cases[] = {
        {OAUTH_HEALTHY, OAUTH_EV_SUCCESS, OAUTH_HEALTHY},
        {OAUTH_HEALTHY, OAUTH_EV_TRANSIENT, OAUTH_DEGRADED},
        {OAUTH_HEALTHY, OAUTH_EV_CONFIG, OAUTH_DEGRADED},
        {OAUTH_HEALTHY, OAUTH_EV_INVALID_GRANT, OAUTH_NEEDS_REAUTH},
        {OAUTH_HEALTHY, OAUTH_EV_REVOKED, OAUTH_REVOKED},
        {OAUTH_HEALTHY, OAUTH_EV_RECONNECTED, OAUTH_HEALTHY},
        {OAUTH_DEGRADED, OAUTH_EV_SUCCESS, OAUTH_HEALTHY},
        {OAUTH_DEGRADED, OAUTH_EV_TRANSIENT, OAUTH_DEGRADED},
        {OAUTH_DEGRADED, OAUTH_EV_INVALID_GRANT, OAUTH_NEEDS_REAUTH},
        {OAUTH_DEGRADED, OAUTH_EV_REVOKED, OAUTH_REVOKED},
        {OAUTH_NEEDS_REAUTH, OAUTH_EV_SUCCESS, OAUTH_NEEDS_REAUTH},
        {OAUTH_NEEDS_REAUTH, OAUTH_EV_TRANSIENT, OAUTH_NEEDS_REAUTH},
        {OAUTH_NEEDS_REAUTH, OAUTH_EV_CONFIG, OAUTH_NEEDS_REAUTH},
        {OAUTH_NEEDS_REAUTH, OAUTH_EV_INVALID_GRANT, OAUTH_NEEDS_REAUTH},
        {OAUTH_NEEDS_REAUTH, OAUTH_EV_REVOKED, OAUTH_REVOKED},
        {OAUTH_NEEDS_REAUTH, OAUTH_EV_RECONNECTED, OAUTH_HEALTHY},
        {OAUTH_REVOKED, OAUTH_EV_SUCCESS, OAUTH_REVOKED},
        {OAUTH_REVOKED, OAUTH_EV_TRANSIENT, OAUTH_REVOKED},
        {OAUTH_REVOKED, OAUTH_EV_INVALID_GRANT, OAUTH_REVOKED},
        {OAUTH_REVOKED, OAUTH_EV_RECONNECTED, OAUTH_HEALTHY},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct oauth_health_state h = {0};
        h.status = cases[i].from;
        oauth_health_apply(&h, cases[i].ev, NOW, NULL, NULL, 0);
        if (h.status != cases[i].to)
            fail_msg("case %zu: %s", i, oauth_health_name(h.status));
    }
}

/* OAUTH-026: invalid_grant keeps code, sanitized description, time, attempts; stops refresh. */
static void
oauth_026_invalid_grant(void **state)
{
    struct oauth_health_state h = {0};

    (void)state;
    oauth_health_apply(&h, OAUTH_EV_TRANSIENT, NOW, "http_503", NULL, 0);
    oauth_health_apply(&h, OAUTH_EV_INVALID_GRANT, NOW + 5000, "invalid_grant",
                       "grant <b>revoked</b>\r\n", 0);
    assert_int_equal(h.status, OAUTH_NEEDS_REAUTH);
    assert_string_equal(h.last_error_code, "invalid_grant");
    assert_string_equal(h.last_error, "grant  b revoked /b   ");
    assert_int_equal(h.last_failure_ms, NOW + 5000);
    assert_int_equal(h.consecutive_failures, 2);
    assert_false(oauth_health_may_refresh(&h, NOW + 999999999));
    oauth_health_apply(&h, OAUTH_EV_RECONNECTED, NOW + 10000, NULL, NULL, 0);
    assert_int_equal(h.status, OAUTH_HEALTHY);
    assert_string_equal(h.last_error_code, "");
    assert_int_equal(h.consecutive_failures, 0);
    assert_true(oauth_health_may_refresh(&h, NOW + 10000));
    assert_int_equal(h.total_failures, 2);
}

/* OAUTH-027/028: back-off grows, is jittered within [d/2, d], capped; config waits longer. */
static void
oauth_027_backoff(void **state)
{
    struct oauth_health_state h = {0};
    int64_t prev = 0;

    (void)state;
    for (uint32_t n = 1; n < 40; n++) {
        int64_t d = OAUTH_BACKOFF_BASE_MS;
        for (uint32_t k = 1; k < n && d < OAUTH_BACKOFF_MAX_MS; k++)
            d *= 2;
        if (d > OAUTH_BACKOFF_MAX_MS)
            d = OAUTH_BACKOFF_MAX_MS;
        assert_int_equal(oauth_backoff_ms(n, OAUTH_BACKOFF_BASE_MS, OAUTH_BACKOFF_MAX_MS, 0), d / 2);
        assert_int_equal(
            oauth_backoff_ms(n, OAUTH_BACKOFF_BASE_MS, OAUTH_BACKOFF_MAX_MS, (uint32_t)(d / 2)), d);
        assert_true(oauth_backoff_ms(n, OAUTH_BACKOFF_BASE_MS, OAUTH_BACKOFF_MAX_MS, 0xffffffffu) <=
                    d);
    }
    for (int i = 0; i < 5; i++) {
        oauth_health_apply(&h, OAUTH_EV_TRANSIENT, NOW, "http_503", "down", 0);
        assert_int_equal(h.status, OAUTH_DEGRADED);
        assert_false(oauth_health_may_refresh(&h, NOW));
        assert_true(h.next_retry_ms - NOW >= prev);
        prev = h.next_retry_ms - NOW;
        assert_true(oauth_health_may_refresh(&h, h.next_retry_ms));
    }
    assert_int_equal(h.consecutive_failures, 5);
    oauth_health_apply(&h, OAUTH_EV_SUCCESS, NOW + 1, NULL, NULL, 0);
    assert_int_equal(h.status, OAUTH_HEALTHY);
    assert_int_equal(h.next_retry_ms, 0);
    assert_int_equal(h.consecutive_failures, 0);
    oauth_health_apply(&h, OAUTH_EV_CONFIG, NOW, "invalid_client", NULL, 0);
    assert_string_equal(h.last_error_code, "invalid_client");
    assert_true(h.next_retry_ms - NOW >= OAUTH_CONFIG_BACKOFF_BASE_MS / 2);
    assert_int_equal(oauth_backoff_ms(1000, OAUTH_CONFIG_BACKOFF_BASE_MS,
                                      OAUTH_CONFIG_BACKOFF_MAX_MS, 0xffffffffu) <=
                         OAUTH_CONFIG_BACKOFF_MAX_MS,
                     1);
}

static void
names(void **state)
{
    enum oauth_health h;

    (void)state;
    for (int i = OAUTH_HEALTHY; i <= OAUTH_REVOKED; i++) {
        assert_true(oauth_health_parse(oauth_health_name((enum oauth_health)i), &h));
        assert_int_equal(h, i);
    }
    assert_string_equal(oauth_health_name(OAUTH_NEEDS_REAUTH), "needs_reauth");
    assert_false(oauth_health_parse("ok", &h));
    assert_false(oauth_health_parse(NULL, &h));
    assert_string_equal(oauth_health_name((enum oauth_health)42), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transitions),
        cmocka_unit_test(oauth_026_invalid_grant),
        cmocka_unit_test(oauth_027_backoff),
        cmocka_unit_test(names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
