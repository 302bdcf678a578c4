/* gate: the execution concurrency limits (HTTP-010) at N and N + 1, per
 * workspace and in total, and slots coming back on leave. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "http/gate.h"

static void
http_010_gate_limits(void **state)
{
    struct gate *g = gate_new(3, 2);
    struct errinfo ei = {0};
    (void)state;

    assert_non_null(g);
    assert_null(gate_new(0, 1));
    assert_null(gate_new(1, 0));
    /* per workspace: 2 pass, the 3rd is refused */
    assert_int_equal(gate_enter(g, 1, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 1, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 1, &ei), ERR_RATE_LIMITED);
    assert_string_equal(ei.code, "too_many_calls");
    assert_non_null(strstr(ei.msg, "workspace"));
    /* in total: 3 pass, the 4th is refused, whatever the workspace */
    assert_int_equal(gate_enter(g, 2, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 3, &ei), ERR_RATE_LIMITED);
    assert_non_null(strstr(ei.msg, "server"));
    /* leaving frees the slot for anyone */
    gate_leave(g, 1);
    assert_int_equal(gate_enter(g, 3, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 1, &ei), ERR_RATE_LIMITED);
    /* a workspace's entry is reused once it has no call left */
    gate_leave(g, 1);
    gate_leave(g, 2);
    gate_leave(g, 3);
    gate_leave(g, 9); /* never entered: no effect */
    for (int64_t ws = 10; ws < 40; ws++) {
        assert_int_equal(gate_enter(g, ws, &ei), ERR_OK);
        gate_leave(g, ws);
    }
    assert_int_equal(gate_enter(g, 4, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 4, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 5, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 6, &ei), ERR_RATE_LIMITED);
    gate_free(g);
    gate_free(NULL);
}

/* The table holds only workspaces with calls in flight: when one leaves, the
 * last entry moves into its place and keeps its count. */
static void
http_010_gate_entry_moves_keep_counts(void **state)
{
    struct gate *g = gate_new(4, 2);
    struct errinfo ei = {0};
    (void)state;

    assert_non_null(g);
    assert_int_equal(gate_enter(g, 1, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 2, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 3, &ei), ERR_OK);
    gate_leave(g, 1); /* workspace 3's entry moves into the first place */
    assert_int_equal(gate_enter(g, 3, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 3, &ei), ERR_RATE_LIMITED); /* still 2 of 3's */
    assert_int_equal(gate_enter(g, 2, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 2, &ei), ERR_RATE_LIMITED);
    assert_int_equal(gate_enter(g, 7, &ei), ERR_RATE_LIMITED); /* 4 in flight */
    gate_leave(g, 3);
    gate_leave(g, 3);
    gate_leave(g, 3); /* one too many: no effect on the others */
    assert_int_equal(gate_enter(g, 7, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 7, &ei), ERR_OK);
    assert_int_equal(gate_enter(g, 8, &ei), ERR_RATE_LIMITED);
    gate_free(g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_010_gate_limits),
        cmocka_unit_test(http_010_gate_entry_moves_keep_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
