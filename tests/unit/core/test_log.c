/* core/log: the line format written without printf on the hot path:
 * timestamp shape (cached per second), integers at their extremes, %.3f
 * durations, string escapes (quotes, control bytes, invalid UTF-8) around
 * plain runs, the level filter, and batching (LOG_BATCH_BYTES at N and N+1,
 * warnings written at once, log_flush, batching off). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static char line[8192];

/* Runs the logging done by fn into a pipe and returns what came out. */
static const char *
capture(void (*fn)(void))
{
    int p[2];
    ssize_t n;

    assert_int_equal(pipe(p), 0);
    log_set_fd(p[1]);
    fn();
    log_set_fd(2);
    close(p[1]);
    n = read(p[0], line, sizeof(line) - 1);
    close(p[0]);
    line[n > 0 ? n : 0] = '\0';
    return line;
}

static void
log_numbers(void)
{
    log_kv(LOG_INFO, "t.num", "i:zero", 0, "i:neg", -42, "i:min", INT_MIN, "i:max", INT_MAX,
           "I:llmin", LLONG_MIN, "I:llmax", LLONG_MAX, "f:ms", 12.5, "f:small", 0.0004, "f:neg",
           -1.5, "b:yes", 1, LOG_END);
}

static void
test_numbers_and_timestamp(void **state)
{
    const char *s;
    regex_t re;

    (void)state;
    s = capture(log_numbers);
    assert_int_equal(regcomp(&re,
                             "^\\{\"ts\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                             "\\.[0-9]{3}Z\",\"level\":\"info\",\"event\":\"t\\.num\",",
                             REG_EXTENDED),
                     0);
    assert_int_equal(regexec(&re, s, 0, NULL, 0), 0);
    regfree(&re);
    assert_non_null(strstr(s, "\"zero\":0,\"neg\":-42,\"min\":-2147483648,\"max\":2147483647,"));
    assert_non_null(strstr(s, "\"llmin\":-9223372036854775808,\"llmax\":9223372036854775807,"));
    assert_non_null(strstr(s, "\"ms\":12.500,\"small\":0.000,\"neg\":-1.500,\"yes\":true}\n"));
    /* the second line in the same second reuses the cached prefix */
    s = capture(log_numbers);
    assert_int_equal(strncmp(s, "{\"ts\":\"", 7), 0);
    assert_non_null(strstr(s, "\"level\":\"info\""));
}

static void
log_strings(void)
{
    log_kv(LOG_WARN, "t.str", "s:plain", "GET /api/actions/call", "s:quote", "a\"b\\c", "s:ctl",
           "x\ny\x01z", "s:utf8", "caf\xc3\xa9", "s:bad",
           "a\xff"
           "b",
           "s:null", NULL, LOG_END);
}

static void
test_string_escapes(void **state)
{
    const char *s;

    (void)state;
    s = capture(log_strings);
    assert_non_null(strstr(s, "\"level\":\"warn\""));
    assert_non_null(strstr(s, "\"plain\":\"GET /api/actions/call\","));
    assert_non_null(strstr(s, "\"quote\":\"a\\\"b\\\\c\","));
    assert_non_null(strstr(s, "\"ctl\":\"x\\u000ay\\u0001z\","));
    assert_non_null(strstr(s, "\"utf8\":\"caf\xc3\xa9\","));
    assert_non_null(strstr(s, "\"bad\":\"a?b\","));
    assert_non_null(strstr(s, "\"null\":\"\"}\n"));
}

static void
log_debug(void)
{
    log_kv(LOG_DEBUG, "t.hidden", "i:n", 1, LOG_END);
}

static void
test_level_filter(void **state)
{
    (void)state;
    log_set_level(LOG_INFO);
    assert_string_equal(capture(log_debug), "");
}

static char pad[LOG_BATCH_BYTES];

static void
log_padded(enum log_level lvl, size_t n)
{
    memset(pad, 'p', n);
    pad[n] = '\0';
    log_kv(lvl, "t.batch", "s:p", pad, LOG_END);
}

/* Bytes waiting in the pipe (its read end is non-blocking), read out. */
static size_t
drain_pipe(int fd)
{
    static char b[LOG_BATCH_BYTES * 4];
    ssize_t n = read(fd, b, sizeof(b));

    if (n < 0) {
        assert_int_equal(errno, EAGAIN);
        return 0;
    }
    return (size_t)n;
}

static void
test_batch(void **state)
{
    int p[2];
    size_t base, lines;

    (void)state;
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    log_set_fd(p[1]);
    log_padded(LOG_INFO, 0); /* not batched: written at once; its length */
    base = drain_pipe(p[0]);
    assert_true(base > 0 && base < 256);
    lines = LOG_BATCH_BYTES / 256;
    assert_int_equal(LOG_BATCH_BYTES % 256, 0);

    log_batch(true);
    for (size_t i = 0; i < lines; i++) /* exactly LOG_BATCH_BYTES: held */
        log_padded(LOG_INFO, 256 - base);
    assert_int_equal(drain_pipe(p[0]), 0);
    log_padded(LOG_INFO, 256 - base); /* one more does not fit: the full batch goes */
    assert_int_equal(drain_pipe(p[0]), LOG_BATCH_BYTES);
    assert_int_equal(drain_pipe(p[0]), 0);
    log_flush(); /* the one held */
    assert_int_equal(drain_pipe(p[0]), 256);
    log_flush(); /* nothing held: nothing written */
    assert_int_equal(drain_pipe(p[0]), 0);

    log_padded(LOG_INFO, 0); /* a warning takes what is held with it, in order */
    assert_int_equal(drain_pipe(p[0]), 0);
    log_padded(LOG_WARN, 0);
    assert_int_equal(drain_pipe(p[0]), 2 * base);

    log_padded(LOG_INFO, 0);
    log_padded(LOG_DEBUG, 0); /* filtered out: nothing held */
    log_batch(false);         /* writes what is held */
    assert_int_equal(drain_pipe(p[0]), base);
    log_padded(LOG_INFO, 0); /* not batched any more */
    assert_int_equal(drain_pipe(p[0]), base);
    log_set_fd(2);
    close(p[0]);
    close(p[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_and_timestamp),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_level_filter),
        cmocka_unit_test(test_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
