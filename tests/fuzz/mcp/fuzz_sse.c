/* libFuzzer target for src/mcp/sse.c. The first byte says how many of the
 * following bytes are chunk sizes (1..8); the rest is the stream, fed in
 * chunks of those sizes in turn. Checks that chunked and whole-buffer parsing
 * give the same events and the same result (PARSE-020), under small limits so
 * the limit paths are reached too. */
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acc {
    uint64_t h;
    size_t n;
};

static void
mix(struct acc *a, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        a->h ^= (unsigned char)s[i];
        a->h *= 0x100000001b3ull;
    }
    a->h ^= 0xff;
    a->h *= 0x100000001b3ull;
}

static enum err
on_event(void *arg, const struct sse_event *ev)
{
    struct acc *a = arg;

    if (ev->data[ev->data_len] != '\0' || ev->type[ev->type_len] != '\0' || ev->type_len == 0)
        abort();
    mix(a, ev->type, ev->type_len);
    mix(a, ev->data, ev->data_len);
    mix(a, ev->id, strlen(ev->id));
    a->n++;
    return ERR_OK;
}

static enum err
run(const uint8_t *s, size_t n, const uint8_t *sizes, size_t nsizes, struct acc *a, bool *pend,
    char *last_id, size_t last_id_len)
{
    struct sse_limits lim = {.max_line = 256, .max_event = 1024, .max_events = 64};
    struct sse_parser p;
    size_t at = 0, k = 0;
    enum err e = ERR_OK;

    a->h = 0xcbf29ce484222325ull;
    a->n = 0;
    sse_init(&p, &lim, on_event, a);
    while (at < n && e == ERR_OK) {
        size_t c = nsizes ? (size_t)sizes[k++ % nsizes] + 1 : n;
        if (c > n - at)
            c = n - at;
        e = sse_feed(&p, s + at, c);
        at += c;
    }
    *pend = sse_finish(&p);
    snprintf(last_id, last_id_len, "%s", sse_last_event_id(&p));
    sse_release(&p);
    return e;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct acc a1, a2;
    bool p1, p2;
    char id1[SSE_MAX_ID + 1], id2[SSE_MAX_ID + 1];
    size_t nsizes;
    enum err e1, e2;

    if (size < 1)
        return 0;
    nsizes = (size_t)(data[0] % 8) + 1;
    if (size < 1 + nsizes)
        return 0;
    e1 = run(data + 1 + nsizes, size - 1 - nsizes, data + 1, nsizes, &a1, &p1, id1, sizeof(id1));
    e2 = run(data + 1 + nsizes, size - 1 - nsizes, NULL, 0, &a2, &p2, id2, sizeof(id2));
    if (e1 != e2 || a1.h != a2.h || a1.n != a2.n || strcmp(id1, id2) != 0)
        abort(); /* chunking changed the outcome */
    if (e1 == ERR_OK && p1 != p2)
        abort();
    return 0;
}
