/* Tests for src/mcp/sse.c: WHATWG event-stream parsing, chunking, limits.
 * Named after the security catalogue: PARSE-020..023, 025. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "mcp/sse.h"

/* Every event is logged as "type:data#id;" with bytes outside printable
 * ASCII written as \xHH, so expectations are plain strings. */
struct log {
    struct buf b;
    int64_t last_retry;
    int stop_after; /* callback fails on this event number (1-based); 0 = never */
    int n;
};

static void
esc(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f)
            assert_int_equal(buf_printf(b, "\\x%02x", c), ERR_OK);
        else
            assert_int_equal(buf_putc(b, (char)c), ERR_OK);
    }
}

static enum err
on_event(void *arg, const struct sse_event *ev)
{
    struct log *l = arg;

    l->n++;
    esc(&l->b, ev->type, ev->type_len);
    assert_int_equal(buf_putc(&l->b, ':'), ERR_OK);
    esc(&l->b, ev->data, ev->data_len);
    assert_int_equal(buf_putc(&l->b, '#'), ERR_OK);
    esc(&l->b, ev->id, strlen(ev->id));
    assert_int_equal(buf_putc(&l->b, ';'), ERR_OK);
    assert_int_equal(ev->data[ev->data_len], '\0');
    l->last_retry = ev->retry_ms;
    if (l->stop_after != 0 && l->n == l->stop_after)
        return ERR_UNPROCESSABLE;
    return ERR_OK;
}

static void
log_init(struct log *l)
{
    memset(l, 0, sizeof(*l));
    buf_init(&l->b, 1u << 20);
    assert_int_equal(buf_puts(&l->b, ""), ERR_OK);
}

/* Parses s (n bytes) cut at the given split points; returns the log (caller frees). */
static char *
parse_split(const char *s, size_t n, const size_t *cuts, size_t ncuts, int64_t *retry)
{
    struct sse_parser p;
    struct log l;
    size_t at = 0;

    log_init(&l);
    sse_init(&p, NULL, on_event, &l);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        assert_int_equal(sse_feed(&p, s + at, end - at), ERR_OK);
        at = end;
    }
    sse_finish(&p);
    if (retry)
        *retry = sse_retry_ms(&p);
    sse_release(&p);
    return buf_take(&l.b, NULL);
}

/* ---- PARSE-021 / PARSE-022 / PARSE-025: the WHATWG rules, as a table ---- */

static const struct {
    const char *name;
    const char *in;
    size_t len; /* 0 = strlen(in) */
    const char *want;
    int64_t retry;
} cases[] = {
    {"lf", "data: a\n\n", 0, "message:a#;", -1},
    {"crlf", "data: a\r\n\r\n", 0, "message:a#;", -1},
    {"cr", "data: a\r\rdata: b\r\r", 0, "message:a#;message:b#;", -1},
    {"mixed endings", "event: x\rdata: 1\r\ndata: 2\n\r\n", 0, "x:1\\x0a2#;", -1},
    {"PARSE-021 bom at start dropped",
     "\xef\xbb\xbf"
     "data: a\n\n",
     0, "message:a#;", -1},
    {"PARSE-021 second bom kept as data",
     "\xef\xbb\xbf"
     "data: \xef\xbb\xbf"
     "a\n\n",
     0, "message:\\xef\\xbb\\xbfa#;", -1},
    {"PARSE-021 second bom at line start: unknown field",
     "\xef\xbb\xbf\xef\xbb\xbf"
     "data: a\n\n",
     0, "", -1},
    {"bom prefix that is not a bom",
     "\xef"
     "data: a\n\ndata: b\n\n",
     0, "message:b#;", -1},
    {"comments", ": hello\ndata: a\n: x\n\n", 0, "message:a#;", -1},
    {"no space after colon", "data:a\n\n", 0, "message:a#;", -1},
    {"only one space stripped", "data:  a\n\n", 0, "message: a#;", -1},
    {"field without colon", "data\n\n", 0, "message:#;", -1},
    {"two empty data lines", "data\ndata\n\n", 0, "message:\\x0a#;", -1},
    {"PARSE-022 multi-line data joined", "data: a\ndata: b\ndata: c\n\n", 0,
     "message:a\\x0ab\\x0ac#;", -1},
    {"PARSE-022 final LF stripped once", "data: a\ndata: \n\n", 0, "message:a\\x0a#;", -1},
    {"PARSE-022 id with NUL ignored", "id: 7\ndata: x\n\nid: a\0b\ndata: y\n\n", 32,
     "message:x#7;message:y#7;", -1},
    {"id persists", "id: 1\ndata: a\n\ndata: b\n\n", 0, "message:a#1;message:b#1;", -1},
    {"empty id resets", "id: 1\ndata: a\n\nid\ndata: b\n\n", 0, "message:a#1;message:b#;", -1},
    {"PARSE-022 retry with letters ignored", "retry: 12a\ndata: a\n\n", 0, "message:a#;", -1},
    {"retry digits", "retry: 1500\ndata: a\n\n", 0, "message:a#;", 1500},
    {"retry empty ignored", "retry:\ndata: a\n\n", 0, "message:a#;", -1},
    {"retry huge saturates", "retry: 99999999999999999999999\n\n", 0, "", INT64_MAX},
    {"PARSE-022 unterminated last event discarded", "data: a\n\ndata: b", 0, "message:a#;", -1},
    {"last event without blank line discarded", "data: a\n\ndata: b\n", 0, "message:a#;", -1},
    {"event without data not dispatched", "event: x\n\ndata: a\n\n", 0, "message:a#;", -1},
    {"PARSE-022 event type", "event: endpoint\ndata: /message?sessionId=1\n\n", 0,
     "endpoint:/message?sessionId=1#;", -1},
    {"priming event (MCP 2025-11-25)", "id: p1\ndata: \n\n", 0, "message:#p1;", -1},
    {"unknown field ignored", "foo: bar\ndata: a\n\n", 0, "message:a#;", -1},
    {"extra blank lines", "data: a\n\n\n\n", 0, "message:a#;", -1},
    {"NUL in event type kept", "event: a\0b\ndata: x\n\n", 20, "a\\x00b:x#;", -1},
    {"NUL in data kept", "data: a\0b\n\n", 11, "message:a\\x00b#;", -1},
    {"PARSE-025 invalid byte replaced",
     "data: a\xff"
     "b\n\n",
     0, "message:a\\xef\\xbf\\xbdb#;", -1},
    {"PARSE-025 truncated sequence is one U+FFFD", "data: \xe2\x82\n\n", 0,
     "message:\\xef\\xbf\\xbd#;", -1},
    {"PARSE-025 overlong is three U+FFFD", "data: \xf0\x80\x80\n\n", 0,
     "message:\\xef\\xbf\\xbd\\xef\\xbf\\xbd\\xef\\xbf\\xbd#;", -1},
    {"PARSE-025 surrogate is three U+FFFD", "data: \xed\xa0\x80\n\n", 0,
     "message:\\xef\\xbf\\xbd\\xef\\xbf\\xbd\\xef\\xbf\\xbd#;", -1},
    {"valid UTF-8 untouched", "data: r\xc3\xa9sum\xc3\xa9 \xf0\x9f\x98\x80\n\n", 0,
     "message:r\\xc3\\xa9sum\\xc3\\xa9 \\xf0\\x9f\\x98\\x80#;", -1},
};

static void
test_whatwg_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in);
        int64_t retry;
        char *got = parse_split(cases[i].in, n, NULL, 0, &retry);
        if (strcmp(got, cases[i].want) != 0 || retry != cases[i].retry)
            fail_msg("case \"%s\": got \"%s\" retry %lld, want \"%s\" retry %lld", cases[i].name,
                     got, (long long)retry, cases[i].want, (long long)cases[i].retry);
        free(got);
        /* and byte by byte */
        {
            size_t cuts[128];
            assert_true(n <= 128);
            for (size_t k = 1; k < n; k++)
                cuts[k - 1] = k;
            got = parse_split(cases[i].in, n, cuts, n > 0 ? n - 1 : 0, &retry);
            if (strcmp(got, cases[i].want) != 0)
                fail_msg("case \"%s\" (1-byte chunks): got \"%s\"", cases[i].name, got);
            free(got);
        }
    }
}

/* ---- PARSE-020: every split point gives the same events ---- */

static const char stream020[] =
    "\xef\xbb\xbf"
    ": keep-alive\r\n"
    "retry: 500\r"
    "id: 1\r\n"
    "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\r\n"
    "\r\n"
    "event: message\n"
    "id: 2\n"
    "data: line one \xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\n"
    "data:line two\r"
    "data\r"
    "\r"
    "id: p\r\ndata: \r\n\r\n"
    "data: bad \xff\xfe byte\n\n"
    "event: x\r\n: comment\r\ndata: last\r\n\r\n"
    "data: never dispatched";

static void
test_parse020_every_split(void **state)
{
    size_t n = sizeof(stream020) - 1;
    int64_t retry;
    char *want = parse_split(stream020, n, NULL, 0, &retry);

    (void)state;
    assert_int_equal(retry, 500);
    /* Sanity: the reference is what the rules say. */
    assert_string_equal(want,
                        "message:{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}#1;"
                        "message:line one \\xc3\\xa9\\xe6\\x97\\xa5\\xf0\\x9f\\x98\\x80\\x0aline "
                        "two\\x0a#2;"
                        "message:#p;"
                        "message:bad \\xef\\xbf\\xbd\\xef\\xbf\\xbd byte#p;"
                        "x:last#p;");
    for (size_t i = 0; i <= n; i++) {
        char *got = parse_split(stream020, n, &i, 1, NULL);
        if (strcmp(got, want) != 0)
            fail_msg("split at %zu: got \"%s\"", i, got);
        free(got);
    }
    /* every pair of split points: three chunks */
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j += 3) {
            size_t cuts[2] = {i, j};
            char *got = parse_split(stream020, n, cuts, 2, NULL);
            if (strcmp(got, want) != 0)
                fail_msg("split at %zu and %zu: got \"%s\"", i, j, got);
            free(got);
        }
    }
    free(want);
}

/* ---- limits: N and N+1 ---- */

static enum err
feed_str(struct sse_parser *p, const char *s)
{
    return sse_feed(p, s, strlen(s));
}

static void
test_max_line(void **state)
{
    struct sse_limits lim = {.max_line = 16, .max_event = 1024};
    struct sse_parser p;
    struct log l;

    (void)state;
    log_init(&l);
    sse_init(&p, &lim, on_event, &l);
    assert_int_equal(feed_str(&p, "data: 0123456789\n\n"), ERR_OK); /* 16 bytes: ok */
    assert_int_equal(feed_str(&p, "data: 01234"), ERR_OK);
    assert_int_equal(feed_str(&p, "56789"), ERR_OK);
    assert_int_equal(feed_str(&p, "X"), ERR_TOO_LARGE); /* 17: refused even unterminated */
    assert_string_equal(p.ei.code, "sse_too_large");
    assert_non_null(strstr(p.ei.msg, "16"));
    assert_int_equal(feed_str(&p, "\n\ndata: ok\n\n"), ERR_TOO_LARGE); /* refuses further input */
    assert_string_equal(l.b.data, "message:0123456789#;");
    /* a whole line in one chunk is refused the same way */
    sse_restart(&p);
    assert_int_equal(feed_str(&p, "data: 0123456789X\n\n"), ERR_TOO_LARGE);
    sse_release(&p);
    buf_release(&l.b);
}

static void
test_max_event(void **state)
{
    struct sse_limits lim = {.max_line = 64, .max_event = 8};
    struct sse_parser p;
    struct log l;

    (void)state;
    log_init(&l);
    sse_init(&p, &lim, on_event, &l);
    assert_int_equal(feed_str(&p, "data: 1234\ndata: 567\n\n"), ERR_OK);         /* 8 bytes */
    assert_int_equal(feed_str(&p, "data: 1234\ndata: 5678\n\n"), ERR_TOO_LARGE); /* 9 */
    assert_string_equal(p.ei.field, "data");
    assert_string_equal(l.b.data, "message:1234\\x0a567#;");
    sse_release(&p);
    buf_release(&l.b);
}

static void
test_max_events(void **state)
{
    struct sse_limits lim = {.max_line = 64, .max_event = 64, .max_events = 2};
    struct sse_parser p;
    struct log l;

    (void)state;
    log_init(&l);
    sse_init(&p, &lim, on_event, &l);
    assert_int_equal(feed_str(&p, "data: 1\n\ndata: 2\n\n: c\n\n"), ERR_OK);
    assert_int_equal(feed_str(&p, "data: 3\n\n"), ERR_TOO_LARGE);
    assert_int_equal(l.n, 2);
    /* a new stream (reconnection) starts counting again */
    sse_restart(&p);
    assert_int_equal(feed_str(&p, "data: 4\n\n"), ERR_OK);
    assert_int_equal(l.n, 3);
    sse_release(&p);
    buf_release(&l.b);
}

/* PARSE-023: a 100 MB line without newline, 64 KB chunks, default limits. */
static void
test_parse023_huge_line(void **state)
{
    enum { CHUNK = 64 * 1024 };
    const size_t total = 100u * 1024 * 1024;
    char *chunk = malloc(CHUNK);
    struct sse_parser p;
    struct log l;
    size_t fed = 0, failed_at = 0;

    (void)state;
    assert_non_null(chunk);
    memset(chunk, 'x', CHUNK);
    memcpy(chunk, "data: ", 6);
    log_init(&l);
    sse_init(&p, NULL, on_event, &l);
    while (fed < total) {
        enum err e = sse_feed(&p, chunk, CHUNK);
        fed += CHUNK;
        if (e != ERR_OK) {
            assert_int_equal(e, ERR_TOO_LARGE);
            if (failed_at == 0)
                failed_at = fed;
        }
        memset(chunk, 'x', 6);
    }
    assert_true(failed_at > SSE_MAX_LINE && failed_at <= SSE_MAX_LINE + CHUNK);
    assert_true(p.line.alloc <= 2 * (size_t)SSE_MAX_LINE); /* memory stayed bounded */
    assert_int_equal(l.n, 0);
    sse_release(&p);
    buf_release(&l.b);
    free(chunk);
}

/* PARSE-023 (event side): endless data lines of one event stop at max_event. */
static void
test_parse023_huge_event(void **state)
{
    char line[1024];
    struct sse_parser p;
    struct log l;
    size_t fed = 0;
    enum err e = ERR_OK;

    (void)state;
    memset(line, 'y', sizeof(line));
    memcpy(line, "data: ", 6);
    line[sizeof(line) - 1] = '\n';
    log_init(&l);
    sse_init(&p, NULL, on_event, &l);
    while (e == ERR_OK && fed < 100u * 1024 * 1024) {
        e = sse_feed(&p, line, sizeof(line));
        fed += sizeof(line);
    }
    assert_int_equal(e, ERR_TOO_LARGE);
    assert_true(fed > SSE_MAX_EVENT &&
                fed < SSE_MAX_EVENT + SSE_MAX_EVENT / 64); /* framing overhead */
    assert_true(p.data.len <= SSE_MAX_EVENT);
    assert_true(p.data.alloc <= 2 * (size_t)SSE_MAX_EVENT + 2);
    sse_release(&p);
    buf_release(&l.b);
}

static void
test_callback_stops(void **state)
{
    struct sse_parser p;
    struct log l;

    (void)state;
    log_init(&l);
    l.stop_after = 1;
    sse_init(&p, NULL, on_event, &l);
    assert_int_equal(feed_str(&p, "data: 1\n\ndata: 2\n\n"), ERR_UNPROCESSABLE);
    assert_int_equal(l.n, 1);
    assert_int_equal(feed_str(&p, "data: 3\n\n"), ERR_UNPROCESSABLE);
    sse_release(&p);
    buf_release(&l.b);
}

/* Resumption: the last event id and retry survive a reconnection; a partial
 * event does not; an id seen without a dispatch does not count. */
static void
test_restart_keeps_last_id(void **state)
{
    struct sse_parser p;
    struct log l;

    (void)state;
    log_init(&l);
    sse_init(&p, NULL, on_event, &l);
    assert_int_equal(feed_str(&p, "retry: 500\nid: e-2\ndata: a\n\nid: e-3\ndata: part"), ERR_OK);
    assert_string_equal(sse_last_event_id(&p), "e-2");
    assert_true(sse_finish(&p)); /* cut mid-event */
    sse_restart(&p);
    assert_string_equal(sse_last_event_id(&p), "e-2");
    assert_int_equal(sse_retry_ms(&p), 500);
    assert_int_equal(feed_str(&p, "\xef\xbb\xbf"
                                  "data: b\n\n"),
                     ERR_OK); /* BOM again ok */
    assert_false(sse_finish(&p));
    /* per WHATWG the new stream's id buffer starts empty */
    assert_string_equal(l.b.data, "message:a#e-2;message:b#;");
    sse_release(&p);
    buf_release(&l.b);
}

static void
test_release_zero(void **state)
{
    struct sse_parser p;

    (void)state;
    memset(&p, 0, sizeof(p));
    sse_release(&p);
    sse_init(&p, NULL, NULL, NULL);
    assert_int_equal(feed_str(&p, "data: no callback\n\n"), ERR_OK);
    assert_int_equal(sse_feed(&p, "", 0), ERR_OK);
    sse_release(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whatwg_table),
        cmocka_unit_test(test_parse020_every_split),
        cmocka_unit_test(test_max_line),
        cmocka_unit_test(test_max_event),
        cmocka_unit_test(test_max_events),
        cmocka_unit_test(test_parse023_huge_line),
        cmocka_unit_test(test_parse023_huge_event),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_restart_keeps_last_id),
        cmocka_unit_test(test_release_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
