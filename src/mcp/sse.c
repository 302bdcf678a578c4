#include "mcp/sse.h"

#include <stdint.h>
#include <string.h>

#include "core/util.h"

#include "core/banned.h"

static const unsigned char bom_bytes[3] = {0xef, 0xbb, 0xbf};

void
sse_limits_default(struct sse_limits *l)
{
    l->max_line = SSE_MAX_LINE;
    l->max_event = SSE_MAX_EVENT;
    l->max_events = 0;
}

void
sse_init(struct sse_parser *p, const struct sse_limits *lim, sse_event_cb cb, void *arg)
{
    memset(p, 0, sizeof(*p));
    if (lim != NULL)
        p->lim = *lim;
    else
        sse_limits_default(&p->lim);
    if (p->lim.max_line == 0)
        p->lim.max_line = SSE_MAX_LINE;
    if (p->lim.max_event == 0)
        p->lim.max_event = SSE_MAX_EVENT;
    p->cb = cb;
    p->arg = arg;
    buf_init(&p->line, p->lim.max_line);
    /* A repaired line: each bad byte may become 3 bytes (U+FFFD). */
    buf_init(&p->fixed, p->lim.max_line > SIZE_MAX / 3 ? SIZE_MAX : p->lim.max_line * 3);
    buf_init(&p->data, p->lim.max_event + 1);
    buf_init(&p->type, p->lim.max_line);
    buf_init(&p->id, SSE_MAX_ID);
    buf_init(&p->last_id, SSE_MAX_ID);
    p->retry_ms = -1;
}

void
sse_release(struct sse_parser *p)
{
    buf_release(&p->line);
    buf_release(&p->fixed);
    buf_release(&p->data);
    buf_release(&p->type);
    buf_release(&p->id);
    buf_release(&p->last_id);
}

void
sse_restart(struct sse_parser *p)
{
    buf_reset(&p->line);
    buf_reset(&p->data);
    buf_reset(&p->type);
    buf_reset(&p->id);
    p->nevents = 0;
    p->bom = 0;
    p->started = false;
    p->after_cr = false;
    p->failed = false;
    p->fail = ERR_OK;
    memset(&p->ei, 0, sizeof(p->ei));
}

const char *
sse_last_event_id(const struct sse_parser *p)
{
    return p->last_id.data ? p->last_id.data : "";
}

int64_t
sse_retry_ms(const struct sse_parser *p)
{
    return p->retry_ms;
}

static enum err
fail(struct sse_parser *p, enum err e, const char *field, const char *what, size_t limit)
{
    p->failed = true;
    p->fail = e;
    if (e == ERR_TOO_LARGE)
        err_set(&p->ei, e, "sse_too_large", field, "SSE stream: %s over the limit of %zu", what,
                limit);
    else if (e == ERR_NOMEM)
        err_set(&p->ei, e, NULL, field, "SSE stream: out of memory");
    return e;
}

/* Copies s into out replacing each maximal invalid UTF-8 subpart by U+FFFD
 * (WHATWG "UTF-8 decode"). */
static enum err
utf8_repair(const unsigned char *s, size_t n, struct buf *out)
{
    static const char fffd[3] = {(char)0xef, (char)0xbf, (char)0xbd};
    size_t i = 0, run = 0;
    enum err e = ERR_OK;

    buf_reset(out);
    while (i < n && e == ERR_OK) {
        unsigned char c = s[i], lo = 0x80, hi = 0xbf;
        size_t need, j;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            need = 0; /* never valid as a lead byte */
        }
        for (j = 1; need > 0 && j <= need && i + j < n; j++) {
            unsigned char b = s[i + j];
            if (b < (j == 1 ? lo : 0x80) || b > (j == 1 ? hi : 0xbf))
                break;
        }
        if (need > 0 && j > need) {
            i += j;
            continue;
        }
        /* s[run..i) is valid; s[i..i+j) is one maximal subpart. */
        e = buf_append(out, s + run, i - run);
        if (e == ERR_OK)
            e = buf_append(out, fffd, sizeof(fffd));
        i += need == 0 ? 1 : j;
        run = i;
    }
    if (e == ERR_OK)
        e = buf_append(out, s + run, n - run);
    return e;
}

static bool
field_is(const char *f, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(f, name, n) == 0;
}

static enum err
dispatch(struct sse_parser *p)
{
    struct sse_event ev;
    enum err e;

    buf_reset(&p->last_id);
    e = buf_append(&p->last_id, p->id.data ? p->id.data : "", p->id.len);
    if (e != ERR_OK)
        return fail(p, e, "id", "last event id", SSE_MAX_ID);
    if (p->data.len == 0) {
        buf_reset(&p->type);
        return ERR_OK;
    }
    p->data.len--; /* the final "\n" */
    p->data.data[p->data.len] = '\0';
    if (p->lim.max_events > 0 && p->nevents >= p->lim.max_events)
        return fail(p, ERR_TOO_LARGE, "events", "number of events", p->lim.max_events);
    p->nevents++;
    ev.type = p->type.len > 0 ? p->type.data : "message";
    ev.type_len = p->type.len > 0 ? p->type.len : 7;
    ev.data = p->data.data;
    ev.data_len = p->data.len;
    ev.id = sse_last_event_id(p);
    ev.retry_ms = p->retry_ms;
    e = p->cb != NULL ? p->cb(p->arg, &ev) : ERR_OK;
    buf_reset(&p->data);
    buf_reset(&p->type);
    if (e != ERR_OK) {
        p->failed = true;
        p->fail = e;
        err_set(&p->ei, e, "sse_stopped", NULL, "SSE stream: stopped by the event handler");
    }
    return e;
}

static void
set_retry(struct sse_parser *p, const char *v, size_t n)
{
    int64_t ms = 0;

    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return;
    for (size_t i = 0; i < n; i++) {
        if (ms > (INT64_MAX - 9) / 10) {
            ms = INT64_MAX;
            break;
        }
        ms = ms * 10 + (v[i] - '0');
    }
    p->retry_ms = ms;
}

static enum err
process_line(struct sse_parser *p, const char *l, size_t n)
{
    const char *colon, *v;
    size_t fn, vn;
    enum err e;

    if (n == 0)
        return dispatch(p);
    if (!str_is_utf8(l, n)) {
        e = utf8_repair((const unsigned char *)l, n, &p->fixed);
        if (e != ERR_OK)
            return fail(p, e, "line", "repaired line", p->fixed.max);
        l = p->fixed.data;
        n = p->fixed.len;
    }
    if (l[0] == ':')
        return ERR_OK; /* comment / keep-alive */
    colon = memchr(l, ':', n);
    if (colon != NULL) {
        fn = (size_t)(colon - l);
        v = colon + 1;
        vn = n - fn - 1;
        if (vn > 0 && v[0] == ' ') {
            v++;
            vn--;
        }
    } else {
        fn = n;
        v = l + n;
        vn = 0;
    }
    if (field_is(l, fn, "data")) {
        if (p->data.len + vn > p->lim.max_event)
            return fail(p, ERR_TOO_LARGE, "data", "event data", p->lim.max_event);
        e = buf_append(&p->data, v, vn);
        if (e == ERR_OK)
            e = buf_putc(&p->data, '\n');
        if (e != ERR_OK)
            return fail(p, e, "data", "event data", p->lim.max_event);
    } else if (field_is(l, fn, "event")) {
        buf_reset(&p->type);
        e = buf_append(&p->type, v, vn);
        if (e != ERR_OK)
            return fail(p, e, "event", "event type", p->lim.max_line);
    } else if (field_is(l, fn, "id")) {
        if (memchr(v, '\0', vn) == NULL && vn <= SSE_MAX_ID) {
            buf_reset(&p->id);
            e = buf_append(&p->id, v, vn);
            if (e != ERR_OK)
                return fail(p, e, "id", "event id", SSE_MAX_ID);
        }
    } else if (field_is(l, fn, "retry")) {
        set_retry(p, v, vn);
    }
    return ERR_OK;
}

static enum err
scan(struct sse_parser *p, const unsigned char *s, size_t n)
{
    size_t i = 0;
    enum err e = ERR_OK;

    while (i < n && e == ERR_OK) {
        size_t j = i;

        if (p->after_cr) {
            p->after_cr = false;
            if (s[i] == '\n') {
                i++;
                continue;
            }
        }
        while (j < n && s[j] != '\n' && s[j] != '\r')
            j++;
        if (p->line.len + (j - i) > p->lim.max_line)
            return fail(p, ERR_TOO_LARGE, "line", "line length", p->lim.max_line);
        if (j == n) {
            e = buf_append(&p->line, s + i, j - i);
            if (e != ERR_OK)
                return fail(p, e, "line", "line length", p->lim.max_line);
            break;
        }
        if (p->line.len == 0) {
            e = process_line(p, (const char *)s + i, j - i);
        } else {
            e = buf_append(&p->line, s + i, j - i);
            if (e != ERR_OK)
                return fail(p, e, "line", "line length", p->lim.max_line);
            e = process_line(p, p->line.data, p->line.len);
            buf_reset(&p->line);
        }
        p->after_cr = s[j] == '\r';
        i = j + 1;
    }
    return e;
}

enum err
sse_feed(struct sse_parser *p, const void *data, size_t len)
{
    const unsigned char *s = data;
    size_t i = 0;

    if (p->failed)
        return p->fail;
    if (len == 0)
        return ERR_OK;
    if (!p->started) {
        while (i < len && p->bom < 3 && s[i] == bom_bytes[p->bom]) {
            p->bom++;
            i++;
        }
        if (p->bom < 3 && i == len)
            return ERR_OK; /* a BOM prefix so far: wait for more */
        p->started = true;
        if (p->bom < 3 && p->bom > 0) {
            /* Not a BOM after all: the matched bytes are ordinary input. */
            enum err e = scan(p, bom_bytes, p->bom);
            if (e != ERR_OK)
                return e;
        }
    }
    return scan(p, s + i, len - i);
}

bool
sse_finish(struct sse_parser *p)
{
    bool pending =
        p->line.len > 0 || p->data.len > 0 || p->type.len > 0 || (!p->started && p->bom > 0);

    buf_reset(&p->line);
    buf_reset(&p->data);
    buf_reset(&p->type);
    p->after_cr = false;
    return pending;
}
