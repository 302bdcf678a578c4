/* core/loop: loop_park (a descriptor that stays in the epoll set without a
 * callback): no callback while parked, the first event takes it out of the
 * set (a readable parked socket does not make the loop spin), watching it
 * again delivers what is pending, and a parked descriptor that is closed and
 * whose number is reused is watched correctly. One loop_run, driven by the
 * callbacks (loop_stop is sticky). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_park),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
