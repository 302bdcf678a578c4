/* core/loop: timers and parked descriptors.
 *
 * Timers: a timer armed due from a timer callback runs on the next pass, at
 * once (not a millisecond later), and cannot starve the others.
 *
 * loop_park (a descriptor that stays in the epoll set without a
 * callback): no callback while parked, the first event takes it out of the
 * set (a readable parked socket does not make the loop spin), watching it
 * again delivers what is pending, and a parked descriptor that is closed and
 * whose number is reused (and forgotten by its owner) is watched correctly.
 * A parked descriptor watched again at once (no epoll_ctl when the events
 * and callback are the same) delivers its next event; with other events, it
 * delivers those. One loop_run, driven by the callbacks (loop_stop is
 * sticky). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

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

struct t {
    struct loop *lp;
    struct loop_timer timer;
    int sv[2];
    int calls, turns, turns_parked;
    int reused_fd;
};

static void on_read(struct loop *lp, int fd, uint32_t events, void *arg);

static void
on_parked_quiet(struct loop *lp, void *arg)
{
    struct t *t = arg;

    /* 5 ms with a readable parked socket: no callback, and no busy loop */
    assert_int_equal(t->calls, 1);
    t->turns_parked = t->turns;
    assert_true(t->turns_parked < 50);
    assert_int_equal(loop_watch(lp, t->sv[0], EPOLLIN, on_read, t), ERR_OK);
}

static void
on_read(struct loop *lp, int fd, uint32_t events, void *arg)
{
    struct t *t = arg;
    char b[64];
    int old;

    (void)events;
    while (read(fd, b, sizeof(b)) > 0)
        ;
    switch (++t->calls) {
    case 1: /* park it; data arrives while parked */
        loop_park(lp, fd);
        t->turns = 0;
        assert_int_equal(write(t->sv[1], "y", 1), 1);
        loop_timer_start(lp, &t->timer, 5, on_parked_quiet, t);
        break;
    case 2: /* the byte sent while parked came; now park, close, reuse the number */
        loop_park(lp, fd);
        old = t->sv[0];
        close(t->sv[0]);
        close(t->sv[1]);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, t->sv), 0);
        t->reused_fd = t->sv[0] == old;
        loop_forget(lp, t->sv[0]); /* the owner's part of the contract */
        loop_forget(lp, t->sv[1]);
        assert_int_equal(loop_watch(lp, t->sv[0], EPOLLIN, on_read, t), ERR_OK);
        assert_int_equal(write(t->sv[1], "z", 1), 1);
        break;
    default:
        loop_stop(lp);
    }
}

static void
count_turn(struct loop *lp, void *arg)
{
    (void)lp;
    ((struct t *)arg)->turns++;
}

static void
test_park(void **state)
{
    struct t t = {0};

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, t.sv), 0);
    assert_int_equal(loop_new(&t.lp), ERR_OK);
    loop_set_hook(t.lp, count_turn, &t);
    assert_int_equal(loop_watch(t.lp, t.sv[0], EPOLLIN, on_read, &t), ERR_OK);
    assert_int_equal(write(t.sv[1], "x", 1), 1);
    assert_int_equal(loop_run(t.lp), ERR_OK);
    assert_int_equal(t.calls, 3);
    assert_true(t.reused_fd);
    close(t.sv[0]);
    close(t.sv[1]);
    loop_free(t.lp);
}

struct rw {
    int sv[2];
    int step;
};

static void
on_rewatch(struct loop *lp, int fd, uint32_t events, void *arg)
{
    struct rw *r = arg;
    char b[8];

    switch (++r->step) {
    case 1: /* parked and taken back at once: the same events, the same callback */
        assert_true(events & EPOLLIN);
        assert_int_equal(read(fd, b, sizeof(b)), 1);
        loop_park(lp, fd);
        assert_int_equal(loop_watch(lp, fd, EPOLLIN, on_rewatch, r), ERR_OK);
        assert_int_equal(write(r->sv[1], "b", 1), 1);
        break;
    case 2: /* parked and taken back for writing: the new events apply */
        assert_true(events & EPOLLIN);
        assert_int_equal(read(fd, b, sizeof(b)), 1);
        loop_park(lp, fd);
        assert_int_equal(loop_watch(lp, fd, EPOLLOUT, on_rewatch, r), ERR_OK);
        break;
    default:
        assert_true(events & EPOLLOUT);
        assert_false(events & EPOLLIN);
        loop_stop(lp);
    }
}

static void
test_park_rewatch(void **state)
{
    struct rw r = {0};
    struct loop *lp;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, r.sv), 0);
    assert_int_equal(loop_new(&lp), ERR_OK);
    assert_int_equal(loop_watch(lp, r.sv[0], EPOLLIN, on_rewatch, &r), ERR_OK);
    assert_int_equal(write(r.sv[1], "a", 1), 1);
    assert_int_equal(loop_run(lp), ERR_OK);
    assert_int_equal(r.step, 3);
    close(r.sv[0]);
    close(r.sv[1]);
    loop_free(lp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_timer_chain_is_immediate_and_fair),
        cmocka_unit_test(test_park),
        cmocka_unit_test(test_park_rewatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
