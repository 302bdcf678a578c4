/* gate: the execution concurrency limits (see gate.h). */
#include "http/gate.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/util.h"
#include "core/banned.h"

struct slot {
    int64_t ws;
    unsigned n; /* 0: free */
};

struct gate {
    pthread_mutex_t mu;
    unsigned global, per_ws, total;
    struct slot *slots; /* slots[0..nslots): the workspaces with calls in flight */
    unsigned nslots;    /* <= global: each has >= 1 call */
};

struct gate *
gate_new(unsigned global, unsigned per_ws)
{
    struct gate *g;

    if (global == 0 || per_ws == 0)
        return NULL;
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->slots = calloc(global, sizeof(*g->slots));
    if (g->slots == NULL || pthread_mutex_init(&g->mu, NULL) != 0) {
        free(g->slots);
        free(g);
        return NULL;
    }
    g->global = global;
    g->per_ws = per_ws;
    return g;
}

void
gate_free(struct gate *g)
{
    if (g == NULL)
        return;
    pthread_mutex_destroy(&g->mu);
    free(g->slots);
    free(g);
}

/* The workspace's slot, or NULL. Only workspaces with calls in flight have
 * one, so the walk is as long as there are such workspaces (few, usually),
 * not as long as the limit. */
static struct slot *
find(struct gate *g, int64_t ws)
{
    for (unsigned i = 0; i < g->nslots; i++)
        if (g->slots[i].ws == ws)
            return &g->slots[i];
    return NULL;
}

enum err
gate_enter(struct gate *g, int64_t ws, struct errinfo *ei)
{
    enum err e = ERR_OK;
    struct slot *s;

    pthread_mutex_lock(&g->mu);
    if (g->total >= g->global) {
        e = err_set(ei, ERR_RATE_LIMITED, "too_many_calls", NULL,
                    "%u calls are in flight on this server; retry shortly", g->global);
        goto out;
    }
    s = find(g, ws);
    if (s == NULL) { /* total < global, so nslots < global */
        s = &g->slots[g->nslots++];
        s->ws = ws;
        s->n = 0;
    }
    if (s->n >= g->per_ws) {
        e = err_set(ei, ERR_RATE_LIMITED, "too_many_calls", NULL,
                    "%u calls of this workspace are in flight; retry shortly", g->per_ws);
        goto out;
    }
    s->n++;
    g->total++;
out:
    pthread_mutex_unlock(&g->mu);
    return e;
}

void
gate_leave(struct gate *g, int64_t ws)
{
    struct slot *s;

    pthread_mutex_lock(&g->mu);
    s = find(g, ws);
    if (s != NULL) {
        g->total--;
        if (--s->n == 0)
            *s = g->slots[--g->nslots]; /* keep slots[0..nslots) dense */
    }
    pthread_mutex_unlock(&g->mu);
}
