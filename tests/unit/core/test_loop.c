/* core/loop timers: a timer armed due from a timer callback runs on the next
 * pass, at once (not a millisecond later), and cannot starve the others. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/loop.h"
#include "core/util.h"

#define CHAIN 200 /* 0-ms timers armed one from the other */

struct chain {
    struct loop *lp;
    struct loop_timer t, other;
    int runs, other_runs, max_gap;
    int last_at; /* runs when `other` last ran */
};

static void
on_other(struct loop *lp, void *arg)
{
    struct chain *c = arg;

    c->other_runs++;
    c->last_at = c->runs;
    if (c->runs < CHAIN)
        loop_timer_start(lp, &c->other, 0, on_other, c);
}

static void
on_chain(struct loop *lp, void *arg)
{
    struct chain *c = arg;

    if (c->runs - c->last_at > c->max_gap)
        c->max_gap = c->runs - c->last_at;
    if (++c->runs < CHAIN)
        loop_timer_start(lp, &c->t, 0, on_chain, c);
    else
        loop_stop(lp);
}

static void
test_zero_timer_chain_is_immediate_and_fair(void **state)
{
    struct chain c = {0};
    int64_t t0;

    (void)state;
    assert_int_equal(loop_new(&c.lp), ERR_OK);
    loop_timer_start(c.lp, &c.t, 0, on_chain, &c);
    loop_timer_start(c.lp, &c.other, 0, on_other, &c);
    t0 = mono_ms();
    assert_int_equal(loop_run(c.lp), ERR_OK);
    /* 1 ms per link before: CHAIN links took >= CHAIN ms */
    assert_true(mono_ms() - t0 < CHAIN / 4);
    assert_int_equal(c.runs, CHAIN);
    /* the other self-rearming timer ran all along: neither one spins alone */
    assert_true(c.other_runs >= CHAIN - 2);
    assert_true(c.max_gap <= 2);
    loop_free(c.lp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_timer_chain_is_immediate_and_fair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
