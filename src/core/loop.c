#include "core/loop.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/util.h"
#include "core/banned.h"

#define LOOP_MAX_EVENTS 256

struct watcher {
    int fd;
    loop_fd_cb cb;
    void *arg;
    uint32_t events; /* as last given to epoll_ctl */
    bool parked;     /* still in the epoll set, cb not called (loop_park) */
};

struct loop {
    int epfd;
    int wakefd;
    struct watcher **w; /* indexed by fd */
    int nw;
    struct loop_timer **heap; /* min-heap on deadline */
    size_t nheap, aheap;
    int64_t timers_now; /* while run_timers() runs: its "now" */
    uint64_t pass;      /* run_timers() passes so far */
    loop_hook_cb hook;
    void *hook_arg;
    loop_hook_cb wake_cb;
    void *wake_arg;
    bool kicked;
    atomic_bool stop;
};

enum err
loop_new(struct loop **out)
{
    struct loop *lp = xcalloc(1, sizeof(*lp));
    struct epoll_event ev = {.events = EPOLLIN};

    lp->epfd = epoll_create1(EPOLL_CLOEXEC);
    lp->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (lp->epfd < 0 || lp->wakefd < 0)
        goto fail;
    ev.data.ptr = NULL; /* NULL marks the wake fd */
    if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->wakefd, &ev) != 0)
        goto fail;
    *out = lp;
    return ERR_OK;
fail:
    loop_free(lp);
    return ERR_INTERNAL;
}

void
loop_free(struct loop *lp)
{
    if (lp == NULL)
        return;
    for (int i = 0; i < lp->nw; i++)
        free(lp->w[i]);
    free(lp->w);
    free(lp->heap);
    if (lp->epfd >= 0)
        close(lp->epfd);
    if (lp->wakefd >= 0)
        close(lp->wakefd);
    free(lp);
}

enum err
loop_watch(struct loop *lp, int fd, uint32_t events, loop_fd_cb cb, void *arg)
{
    struct epoll_event ev = {.events = events};
    struct watcher *w;
    int op = EPOLL_CTL_MOD;

    if (fd < 0)
        return ERR_INVALID;
    if (fd >= lp->nw) {
        int n = lp->nw ? lp->nw : 64;
        struct watcher **nwv;
        while (n <= fd)
            n *= 2;
        nwv = realloc(lp->w, (size_t)n * sizeof(struct watcher *));
        if (nwv == NULL)
            return ERR_NOMEM;
        memset(nwv + lp->nw, 0, (size_t)(n - lp->nw) * sizeof(struct watcher *));
        lp->w = nwv;
        lp->nw = n;
    }
    w = lp->w[fd];
    if (w == NULL) {
        w = calloc(1, sizeof(*w));
        if (w == NULL)
            return ERR_NOMEM;
        lp->w[fd] = w;
        op = EPOLL_CTL_ADD;
    } else if (w->cb == NULL) {
        op = EPOLL_CTL_ADD; /* unwatched earlier: no longer in the epoll set */
    } else if (w->parked && w->events == events && w->cb == cb && w->arg == arg) {
        /* a parked descriptor watched again as it was (a kept-alive upstream
         * connection taken by the next transfer): still in the set, so no
         * epoll_ctl at all. Its owner calls loop_forget() when it opens a
         * descriptor, so a closed and reused number never gets here. */
        w->parked = false;
        return ERR_OK;
    }
    w->parked = false;
    w->fd = fd;
    w->cb = cb;
    w->arg = arg;
    w->events = events;
    ev.data.ptr = w;
    /* An fd closed and reused behind our back: epoll dropped it (ENOENT), or
     * it is still there (EEXIST). Either way, retry with the other op. */
    if (epoll_ctl(lp->epfd, op, fd, &ev) == 0)
        return ERR_OK;
    if (errno == ENOENT || errno == EEXIST) {
        op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(lp->epfd, op, fd, &ev) == 0)
            return ERR_OK;
    }
    w->cb = NULL;
    return ERR_INTERNAL;
}

void
loop_unwatch(struct loop *lp, int fd)
{
    if (fd < 0 || fd >= lp->nw || lp->w[fd] == NULL)
        return;
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, fd, NULL);
    /* The watcher may still sit in the current event batch: mark it dead and
     * free it lazily (fd reuse re-initialises it in loop_watch). */
    lp->w[fd]->cb = NULL;
    lp->w[fd]->parked = false;
}

void
loop_park(struct loop *lp, int fd)
{
    struct watcher *w;

    if (fd < 0 || fd >= lp->nw || (w = lp->w[fd]) == NULL || w->cb == NULL)
        return;
    w->parked = true; /* cb and arg stay: loop_watch compares them */
}

void
loop_forget(struct loop *lp, int fd)
{
    if (fd < 0 || fd >= lp->nw || lp->w[fd] == NULL)
        return;
    lp->w[fd]->cb = NULL;
    lp->w[fd]->parked = false;
}

static void
heap_set(struct loop *lp, size_t i, struct loop_timer *t)
{
    lp->heap[i] = t;
    t->heap_index = i + 1;
}

static void
heap_up(struct loop *lp, size_t i)
{
    struct loop_timer *t = lp->heap[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (lp->heap[parent]->deadline <= t->deadline)
            break;
        heap_set(lp, i, lp->heap[parent]);
        i = parent;
    }
    heap_set(lp, i, t);
}

static void
heap_down(struct loop *lp, size_t i)
{
    struct loop_timer *t = lp->heap[i];

    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        int64_t best = t->deadline;
        if (l < lp->nheap && lp->heap[l]->deadline < best) {
            m = l;
            best = lp->heap[l]->deadline;
        }
        if (r < lp->nheap && lp->heap[r]->deadline < best)
            m = r;
        if (m == i)
            break;
        heap_set(lp, i, lp->heap[m]);
        i = m;
    }
    heap_set(lp, i, t);
}

void
loop_timer_stop(struct loop *lp, struct loop_timer *t)
{
    size_t i;

    if (t->heap_index == 0)
        return;
    i = t->heap_index - 1;
    t->heap_index = 0;
    t->deadline = 0;
    lp->nheap--;
    if (i == lp->nheap)
        return;
    heap_set(lp, i, lp->heap[lp->nheap]);
    heap_down(lp, i);
    heap_up(lp, lp->heap[i]->heap_index - 1);
}

void
loop_timer_start(struct loop *lp, struct loop_timer *t, int64_t ms, loop_timer_cb cb, void *arg)
{
    loop_timer_stop(lp, t);
    if (lp->nheap == lp->aheap) {
        size_t n = lp->aheap ? lp->aheap * 2 : 64;
        struct loop_timer **h = realloc(lp->heap, n * sizeof(struct loop_timer *));
        if (h == NULL)
            abort(); /* a lost timer would hang a transfer: fail loudly */
        lp->heap = h;
        lp->aheap = n;
    }
    t->deadline = mono_ms() + (ms < 0 ? 0 : ms);
    t->pass = 0;
    /* Armed due from a timer callback: it runs on the next pass, not this
     * one, so a timer that re-arms itself with 0 ms cannot spin in
     * run_timers; that pass comes at once (no epoll sleep), not a
     * millisecond later (which cost every chained step of an MCP call 1 ms). */
    if (lp->timers_now && t->deadline <= lp->timers_now) {
        t->deadline = lp->timers_now;
        t->pass = lp->pass;
        lp->kicked = true;
    }
    if (t->deadline == 0)
        t->deadline = 1;
    t->cb = cb;
    t->arg = arg;
    heap_set(lp, lp->nheap++, t);
    heap_up(lp, lp->nheap - 1);
}

void
loop_set_hook(struct loop *lp, loop_hook_cb cb, void *arg)
{
    lp->hook = cb;
    lp->hook_arg = arg;
}

void
loop_kick(struct loop *lp)
{
    lp->kicked = true;
}

/* Sticky: a stop that lands before loop_run() starts still stops it (a
 * SIGTERM right after start-up must not be lost). */
void
loop_stop(struct loop *lp)
{
    atomic_store(&lp->stop, true);
    loop_wake(lp);
}

void
loop_wake(struct loop *lp)
{
    uint64_t one = 1;
    ssize_t w = write(lp->wakefd, &one, sizeof(one));
    (void)w;
}

void
loop_set_wake_cb(struct loop *lp, loop_hook_cb cb, void *arg)
{
    lp->wake_cb = cb;
    lp->wake_arg = arg;
}

static int
next_timeout(struct loop *lp)
{
    int64_t d;

    if (lp->kicked)
        return 0;
    if (lp->nheap == 0)
        return 60000;
    d = lp->heap[0]->deadline - mono_ms();
    if (d < 0)
        d = 0;
    return d > 60000 ? 60000 : (int)d;
}

static void
run_timers(struct loop *lp)
{
    int64_t now = mono_ms();

    /* One due timer at a time, always the earliest: a callback may stop or
     * start others. */
    lp->timers_now = now;
    lp->pass++;
    while (lp->nheap > 0 && lp->heap[0]->deadline <= now && lp->heap[0]->pass != lp->pass) {
        struct loop_timer *t = lp->heap[0];
        loop_timer_stop(lp, t);
        t->cb(lp, t->arg);
    }
    lp->timers_now = 0;
}

enum err
loop_run(struct loop *lp)
{
    struct epoll_event evs[LOOP_MAX_EVENTS];

    while (!atomic_load(&lp->stop)) {
        int n = epoll_wait(lp->epfd, evs, LOOP_MAX_EVENTS, next_timeout(lp));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ERR_INTERNAL;
        }
        lp->kicked = false;
        for (int i = 0; i < n; i++) {
            struct watcher *w = evs[i].data.ptr;
            if (w == NULL) {
                uint64_t v;
                ssize_t r = read(lp->wakefd, &v, sizeof(v));
                (void)r;
                if (lp->wake_cb)
                    lp->wake_cb(lp, lp->wake_arg);
                continue;
            }
            if (w->parked) /* a parked socket woke up: stop watching it for real */
                loop_unwatch(lp, w->fd);
            else if (w->cb)
                w->cb(lp, w->fd, evs[i].events, w->arg);
        }
        run_timers(lp);
        if (lp->hook)
            lp->hook(lp, lp->hook_arg);
    }
    return ERR_OK;
}
