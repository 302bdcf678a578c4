/* core/log: the line format written without printf on the hot path:
 * timestamp shape (cached per second), integers at their extremes, %.3f
 * durations, string escapes (quotes, control bytes, invalid UTF-8) around
 * plain runs, and the level filter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_and_timestamp),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_level_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
