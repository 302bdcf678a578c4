/*
 * sse: an incremental Server-Sent Events parser (WHATWG HTML, "Parsing an
 * event stream"), with no I/O. The MCP transport feeds it the body bytes as
 * they arrive, in chunks of any size; it calls back once per dispatched event.
 *
 * What it does, per the standard:
 *  - lines end in CRLF, LF or CR, also when a CR ends one chunk and its LF
 *    starts the next; one UTF-8 BOM is dropped at the start of the stream only
 *    (a later BOM is data);
 *  - ":" lines are comments; "field: value" strips one space after the colon;
 *    a line without a colon is a field with an empty value; unknown fields are
 *    ignored;
 *  - "data" lines are joined with "\n" (the final "\n" is removed); an event
 *    whose data buffer is empty (no "data" line at all) is not dispatched;
 *  - "event" sets the type ("message" when absent); "id" sets the last event
 *    id unless the value contains NUL (then the line is ignored); the id
 *    persists across events and across sse_restart() (resumption);
 *  - "retry" is taken only if the value is ASCII digits only;
 *  - invalid UTF-8 is replaced by U+FFFD (maximal subparts), so every string
 *    handed out is valid UTF-8 and NUL-terminated;
 *  - at the end of the stream an unterminated event is discarded (sse_finish).
 *
 * Note for MCP: 2025-11-25 servers first send a "priming" event (`id: x`,
 * `data: ` empty). It is dispatched with data_len 0, as the standard says; the
 * MCP layer skips events with empty data but keeps their id.
 *
 * Bounds (struct sse_limits): the longest line, the largest event (data
 * bytes) and optionally the number of events per stream. Crossing one is
 * ERR_TOO_LARGE with a message naming the limit; the parser then refuses every
 * further sse_feed() (the transport must drop the stream). Memory stays below
 * roughly 2 * max_line + max_event whatever the input. Complete lines inside
 * one chunk are parsed in place; only a line split across chunks is copied.
 *
 * Ownership: struct sse_parser lives in the caller's memory; sse_release()
 * frees its buffers. Pointers in struct sse_event are valid only during the
 * callback. Not thread-safe; one parser per stream.
 */
#ifndef CONNHUB_MCP_SSE_H
#define CONNHUB_MCP_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define SSE_MAX_EVENT ((size_t)4 * 1024 * 1024) /* default: data bytes of one event */
#define SSE_MAX_LINE SSE_MAX_EVENT              /* default: one line, terminator excluded */
#define SSE_MAX_ID 1024                         /* longer "id" values are ignored like NUL ones */

struct sse_limits {
    size_t max_line;   /* SSE_MAX_LINE */
    size_t max_event;  /* SSE_MAX_EVENT */
    size_t max_events; /* events dispatched per stream; 0 = no limit */
};

void sse_limits_default(struct sse_limits *l);

struct sse_event {
    const char *type; /* "message" unless an "event" field said otherwise */
    size_t type_len;  /* the type may contain NUL: compare with type_len */
    const char *data; /* "data" lines joined with "\n"; may be "" */
    size_t data_len;
    const char *id;   /* the last event id at dispatch time; "" if none yet */
    int64_t retry_ms; /* the reconnection time currently in force; -1 if never set */
};

/* Called once per dispatched event. A result other than ERR_OK stops the
 * parser: sse_feed() returns it and refuses further input. */
typedef enum err (*sse_event_cb)(void *arg, const struct sse_event *ev);

struct sse_parser {
    struct sse_limits lim;
    sse_event_cb cb;
    void *arg;
    struct buf line;    /* a line split across chunks */
    struct buf fixed;   /* scratch: a line with invalid UTF-8 repaired */
    struct buf data;    /* data buffer of the event being built */
    struct buf type;    /* event type buffer */
    struct buf id;      /* last event id buffer of this stream */
    struct buf last_id; /* last event id string: set from `id` at each dispatch,
                         * survives sse_restart() (resumption) */
    int64_t retry_ms;   /* -1 = never set */
    size_t nevents;     /* dispatched on this stream */
    unsigned bom;       /* BOM bytes matched so far at stream start (0..3) */
    bool started;       /* past the BOM check */
    bool after_cr;      /* last byte seen was CR: skip one LF */
    bool failed;
    enum err fail;
    struct errinfo ei; /* why it failed */
};

/* lim may be NULL for the defaults. */
void sse_init(struct sse_parser *p, const struct sse_limits *lim, sse_event_cb cb, void *arg);
void sse_release(struct sse_parser *p);

/* Parses len more bytes. ERR_OK, ERR_TOO_LARGE (a limit, see p->ei), ERR_NOMEM,
 * or whatever the callback returned; after a failure every call returns the
 * same error without reading anything. */
enum err sse_feed(struct sse_parser *p, const void *data, size_t len) WARN_UNUSED;

/* End of stream: discards an unterminated event. Returns true if something
 * was pending (the stream was cut mid-event), false after a clean end. */
bool sse_finish(struct sse_parser *p);

/* Prepares for the next stream of the same source (a reconnection with
 * Last-Event-ID): buffers, BOM state, event count and failure are reset; the
 * last event id and retry time are kept. */
void sse_restart(struct sse_parser *p);

const char *sse_last_event_id(const struct sse_parser *p); /* "" if none */
int64_t sse_retry_ms(const struct sse_parser *p);          /* -1 if never set */

#endif
