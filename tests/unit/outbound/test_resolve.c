/* SSRF-137: a resolver failure is an error, fails closed and has no fallback.
 *
 * There is no local DNS server on this machine and the only configured one is
 * off limits, so the process first moves into a network namespace of its own
 * (unshare(2); a user namespace too when not root): there the resolver cannot
 * reach any server, exactly as when it answers SERVFAIL or nothing. No packet
 * leaves the namespace. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/log.h"
#include "outbound/outbound.h"
#include "support/netns.h"

static int
setup(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    return netns_isolate();
}

static void
ssrf_137_resolver_failure_fails_closed(void **state)
{
    static const char *const urls[] = {
        "http://api.example.com/v1/x?api_key=SECRETQ",
        "https://unresolvable.test/",
    };
    struct ssrf_policy open_pol = {0};
    struct errinfo ei;
    (void)state;

    /* even an allow-everything policy: there is no address to allow */
    assert_int_equal(ssrf_policy_parse(&open_pol, "0.0.0.0/0,::/0", &ei), ERR_OK);
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct out_request rq;
        struct out_response res;

        assert_int_equal(out_request_init(&rq, "GET", urls[i], &ei), ERR_OK);
        assert_int_equal(outbound_fetch(&open_pol, &rq, &res), ERR_OK);
        if (res.fail != OUT_FAIL_RESOLVE)
            fail_msg("%s: got %s (%s)", urls[i], out_fail_name(res.fail), res.error);
        assert_int_equal(res.status, 0);
        assert_int_equal(res.body.len, 0);
        assert_null(strstr(res.error, "SECRETQ"));
        out_response_release(&res);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ssrf_137_resolver_failure_fails_closed),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
