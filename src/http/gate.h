/*
 * gate: how many executions (action calls, connection tests) may be in
 * flight at once, in the whole process and per workspace (HTTP-010).
 *
 * There is no queue: a call past either limit is refused at once with
 * ERR_RATE_LIMITED "too_many_calls" (429, Retry-After: GATE_RETRY_AFTER_S),
 * so a burst costs nothing but the refusal. Shared by every worker thread
 * (one mutex; the table holds one entry per workspace with calls in flight,
 * so at most `global` entries).
 */
#ifndef CONNHUB_HTTP_GATE_H
#define CONNHUB_HTTP_GATE_H

#include <stdint.h>

#include "core/err.h"

#define GATE_RETRY_AFTER_S "1"

struct gate;

/* global, per_ws >= 1. NULL on allocation failure. */
struct gate *gate_new(unsigned global, unsigned per_ws);
void gate_free(struct gate *g); /* NULL is fine */

/* Takes a slot for workspace ws: ERR_OK, or ERR_RATE_LIMITED (ei names which
 * limit). Every ERR_OK is paired with exactly one gate_leave(g, ws). */
enum err gate_enter(struct gate *g, int64_t ws, struct errinfo *ei) WARN_UNUSED;
void gate_leave(struct gate *g, int64_t ws);

#endif
