/* oauth/refresh: the lease decision of the single-flight protocol
 * (OAUTH-021/022/023 at the decision level), poll intervals, owner ids. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "oauth/refresh.h"
#include "oauth/token.h"

#define NOW 1800000000000LL
#define HOUR 3600000LL

static void
lease_decide(void **state)
{
    static struct oauth_health_state healthy, degraded_wait, degraded_ready, reauth, revoked;
    static const struct {
        int64_t version;
        const char *owner;
        int64_t lease_until, obtained, expires;
        bool has_rt;
        const struct oauth_health_state *h;
        /* ask */
        const char *me;
        int64_t seen;
        bool forced;
        int64_t wait_started;
        enum oauth_lease_action want;
    } cases[] = {
        /* fresh token: use it */
        {1, NULL, 0, NOW, NOW + HOUR, true, NULL, "me", -1, false, 0, OAUTH_LEASE_USE_CURRENT},
        {1, NULL, 0, NOW, NOW + HOUR, true, &healthy, "me", 1, false, 0, OAUTH_LEASE_USE_CURRENT},
        /* near expiry, lease free: take */
        {1, NULL, 0, NOW - HOUR, NOW + 1000, true, NULL, "me", -1, false, 0, OAUTH_LEASE_TAKE},
        {1, "", 0, NOW - HOUR, NOW + 1000, true, NULL, "me", 1, false, 0, OAUTH_LEASE_TAKE},
        /* expired lease of a dead holder (OAUTH-023): take */
        {1, "other", NOW - 1, NOW - HOUR, NOW - 1, true, NULL, "me", 1, false, 0, OAUTH_LEASE_TAKE},
        {1, "other", NOW, NOW - HOUR, NOW - 1, true, NULL, "me", 1, false, 0, OAUTH_LEASE_TAKE},
        /* live lease of another: wait, then give up */
        {1, "other", NOW + 1, NOW - HOUR, NOW - 1, true, NULL, "me", 1, false, 0, OAUTH_LEASE_WAIT},
        {1, "other", NOW + 1, NOW - HOUR, NOW - 1, true, NULL, "me", 1, false,
         NOW - OAUTH_LEASE_WAIT_MAX_MS + 1, OAUTH_LEASE_WAIT},
        {1, "other", NOW + 1, NOW - HOUR, NOW - 1, true, NULL, "me", 1, false,
         NOW - OAUTH_LEASE_WAIT_MAX_MS, OAUTH_LEASE_GIVE_UP},
        /* our own live lease: carry on */
        {1, "me", NOW + 5000, NOW - HOUR, NOW - 1, true, NULL, "me", 1, false, 0, OAUTH_LEASE_TAKE},
        /* a waiter sees the version move: use the new token, no second refresh (OAUTH-021) */
        {2, NULL, 0, NOW, NOW + HOUR, true, NULL, "me", 1, false, NOW - 100,
         OAUTH_LEASE_USE_CURRENT},
        {2, "other", NOW + 9000, NOW - HOUR, NOW - 1, true, NULL, "me", 1, true, 0,
         OAUTH_LEASE_USE_CURRENT},
        /* forced (upstream 401) on a token that looks fresh */
        {1, NULL, 0, NOW, NOW + HOUR, true, NULL, "me", 1, true, 0, OAUTH_LEASE_TAKE},
        {1, NULL, 0, NOW, 0, true, NULL, "me", 1, true, 0, OAUTH_LEASE_TAKE},
        /* unknown expiry, not forced: use */
        {1, NULL, 0, NOW, 0, true, NULL, "me", 1, false, 0, OAUTH_LEASE_USE_CURRENT},
        /* no refresh token */
        {1, NULL, 0, NOW - HOUR, NOW - 1, false, NULL, "me", 1, false, 0, OAUTH_LEASE_STOP},
        /* health */
        {1, NULL, 0, NOW, NOW + HOUR, true, &reauth, "me", 1, false, 0, OAUTH_LEASE_STOP},
        {1, NULL, 0, NOW, NOW + HOUR, true, &revoked, "me", 1, true, 0, OAUTH_LEASE_STOP},
        {1, NULL, 0, NOW - HOUR, NOW - 1, true, &degraded_wait, "me", 1, false, 0,
         OAUTH_LEASE_BACKOFF},
        {1, NULL, 0, NOW - HOUR, NOW - 1, true, &degraded_ready, "me", 1, false, 0,
         OAUTH_LEASE_TAKE},
    };
    (void)state;
    healthy.status = OAUTH_HEALTHY;
    degraded_wait.status = OAUTH_DEGRADED;
    degraded_wait.next_retry_ms = NOW + 1;
    degraded_ready.status = OAUTH_DEGRADED;
    degraded_ready.next_retry_ms = NOW;
    reauth.status = OAUTH_NEEDS_REAUTH;
    revoked.status = OAUTH_REVOKED;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct oauth_lease_row row = {cases[i].version, cases[i].owner, cases[i].lease_until,
                                      cases[i].obtained, cases[i].expires, cases[i].has_rt,
                                      cases[i].h};
        struct oauth_lease_ask ask = {cases[i].me, NOW, cases[i].seen, cases[i].forced,
                                      OAUTH_REFRESH_MARGIN_S, cases[i].wait_started};
        enum oauth_lease_action a = oauth_lease_decide(&row, &ask);
        if (a != cases[i].want)
            fail_msg("case %zu: %s, want %s", i, oauth_lease_action_name(a),
                     oauth_lease_action_name(cases[i].want));
    }
}

/* Many deciders racing on one row: only the one whose CAS wins refreshes;
 * everyone after sees a live lease (WAIT) and then the new version. */
static void
oauth_021_single_flight_model(void **state)
{
    struct oauth_lease_row row = {7, NULL, 0, NOW - HOUR, NOW - 1, true, NULL};
    char owner[64];
    int takes = 0, waits = 0, uses = 0;

    (void)state;
    for (int w = 0; w < 50; w++) {
        struct oauth_lease_ask ask = {NULL, NOW, 7, false, OAUTH_REFRESH_MARGIN_S, 0};
        char me[OAUTH_LEASE_OWNER_MAX];
        assert_int_equal(oauth_lease_owner_new(me), ERR_OK);
        ask.me = me;
        switch (oauth_lease_decide(&row, &ask)) {
        case OAUTH_LEASE_TAKE:
            /* the CAS: version unchanged and lease free -> ours */
            takes++;
            memcpy(owner, me, strlen(me) + 1);
            row.lease_owner = owner;
            row.lease_until_ms = NOW + OAUTH_LEASE_TTL_MS;
            break;
        case OAUTH_LEASE_WAIT:
            waits++;
            break;
        default:
            fail();
        }
    }
    assert_int_equal(takes, 1);
    assert_int_equal(waits, 49);
    /* commit: version+1, lease cleared; every waiter re-reads and uses it */
    row.version = 8;
    row.lease_owner = NULL;
    row.obtained_at_ms = NOW;
    row.expires_at_ms = NOW + HOUR;
    for (int w = 0; w < 49; w++) {
        struct oauth_lease_ask ask = {"x", NOW + 100, 7, false, OAUTH_REFRESH_MARGIN_S, NOW};
        uses += oauth_lease_decide(&row, &ask) == OAUTH_LEASE_USE_CURRENT;
    }
    assert_int_equal(uses, 49);
}

static void
lease_constants(void **state)
{
    (void)state;
    /* the lease outlives a token request, and a dead holder frees it in <= 30 s (OAUTH-023) */
    assert_true(OAUTH_LEASE_TTL_MS > (int64_t)OAUTH_TOKEN_TIMEOUT_MS + 1000);
    assert_true(OAUTH_LEASE_TTL_MS <= 30000);
    assert_true(OAUTH_LEASE_WAIT_MAX_MS > OAUTH_LEASE_TTL_MS);
}

static void
poll_and_owner(void **state)
{
    static const int64_t want[] = {50, 100, 200, 400, 800, 1000, 1000};
    char a[OAUTH_LEASE_OWNER_MAX], b[OAUTH_LEASE_OWNER_MAX];

    (void)state;
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(oauth_lease_poll_ms(i), want[i]);
    assert_int_equal(oauth_lease_poll_ms(1000000), 1000);
    assert_int_equal(oauth_lease_owner_new(a), ERR_OK);
    assert_int_equal(oauth_lease_owner_new(b), ERR_OK);
    assert_string_not_equal(a, b);
    assert_int_equal(strncmp(a, "lease_", 6), 0);
    assert_string_equal(oauth_lease_action_name(OAUTH_LEASE_GIVE_UP), "give_up");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lease_decide),
        cmocka_unit_test(oauth_021_single_flight_model),
        cmocka_unit_test(lease_constants),
        cmocka_unit_test(poll_and_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
