/*
 * loop: one epoll event loop per worker thread. The HTTP server (MHD in
 * external-epoll mode) and the outbound client (libcurl multi_socket) both
 * register here, so a request and its upstream call run on one thread with no
 * hand-off (see perf-notes: the measured fastest shape).
 *
 * Not thread-safe except loop_wake(), which any thread may call.
 * Ownership: a watcher or timer struct belongs to its caller and must stay
 * alive while registered.
 */
#ifndef CONNHUB_CORE_LOOP_H
#define CONNHUB_CORE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct loop;

typedef void (*loop_fd_cb)(struct loop *lp, int fd, uint32_t events, void *arg);
typedef void (*loop_timer_cb)(struct loop *lp, void *arg);
typedef void (*loop_hook_cb)(struct loop *lp, void *arg);

/* A one-shot timer. Re-arm from its callback if needed. Timers sit in a
 * binary min-heap (thousands of transfers each have one: start, stop and
 * the next deadline are O(log n) / O(1)). */
struct loop_timer {
    int64_t deadline; /* mono_ms(); 0 = not armed */
    loop_timer_cb cb;
    void *arg;
    size_t heap_index; /* position in the heap + 1; 0 = not armed */
    uint64_t pass;     /* the run_timers() pass that armed it due at once; 0 = none */
};

enum err loop_new(struct loop **out) WARN_UNUSED;
void loop_free(struct loop *lp); /* NULL is fine */

/* Watches fd for events (EPOLLIN/EPOLLOUT...); a second call on the same fd
 * changes the events and callback. */
enum err loop_watch(struct loop *lp, int fd, uint32_t events, loop_fd_cb cb, void *arg) WARN_UNUSED;
void loop_unwatch(struct loop *lp, int fd);
/* Like loop_unwatch for a descriptor that is likely to be watched again
 * soon (an idle keep-alive socket): no callback runs for it any more, but it
 * stays in the epoll set, so the next loop_watch with the same events and
 * callback makes no epoll_ctl at all (one otherwise) instead of two. The
 * first event that arrives while it is parked (the peer closed it) takes it
 * out of the set. A parked descriptor may be closed: the kernel drops it from
 * the set, and its owner calls loop_forget() on the number when it opens the
 * next descriptor (see there). */
void loop_park(struct loop *lp, int fd);
/* A descriptor number was just returned by socket()/accept(): whatever was
 * watched under it before is gone from the epoll set (closed). An owner that
 * parks descriptors calls this for each one it opens, so that loop_watch of
 * a parked number (no epoll_ctl when the events and callback are the same)
 * never mistakes a new descriptor for the parked one. */
void loop_forget(struct loop *lp, int fd);

/* Arms t to fire once after ms milliseconds (0 = on the next turn). */
void loop_timer_start(struct loop *lp, struct loop_timer *t, int64_t ms, loop_timer_cb cb,
                      void *arg);
void loop_timer_stop(struct loop *lp, struct loop_timer *t);
static inline bool
loop_timer_armed(const struct loop_timer *t)
{
    return t->heap_index != 0;
}

/* Runs after every batch of events and timers: the HTTP layer uses it to
 * call MHD_run() again after a connection was resumed. One hook per loop. */
void loop_set_hook(struct loop *lp, loop_hook_cb cb, void *arg);
/* Ask for another zero-wait turn (e.g. something was resumed). */
void loop_kick(struct loop *lp);

/* Runs until loop_stop(). Returns ERR_OK, or ERR_INTERNAL if epoll fails. */
enum err loop_run(struct loop *lp);
void loop_stop(struct loop *lp);
/* Thread-safe: makes a blocked loop_run() return from epoll_wait now, and
 * then calls the wake callback on the loop's thread. */
void loop_wake(struct loop *lp);
void loop_set_wake_cb(struct loop *lp, loop_hook_cb cb, void *arg);

#endif
