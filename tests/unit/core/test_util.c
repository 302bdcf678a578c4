/* util: str_is_utf8, whose ASCII runs are checked eight bytes at a time: a
 * bad byte must be found at every offset within and after such a run;
 * json_text_too_deep (the API body, discovery and OpenAPI nesting limits
 * share it) at N and N+1; hex_digit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static void
test_utf8_table(void **state)
{
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"", true},
        {"plain ascii text, longer than eight bytes", true},
        {"caf\xc3\xa9", true},
        {"\xe2\x82\xac and \xf0\x9f\x98\x80", true},
        {"\xc3", false},             /* cut short */
        {"\xc0\xaf", false},         /* overlong */
        {"\xe0\x80\xaf", false},     /* overlong */
        {"\xed\xa0\x80", false},     /* surrogate */
        {"\xf4\x90\x80\x80", false}, /* past U+10FFFF */
        {"\x80", false},             /* lone continuation */
        {"\xff", false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(str_is_utf8(cases[i].s, strlen(cases[i].s)), cases[i].ok);
}

static void
test_utf8_every_offset(void **state)
{
    char s[40];

    (void)state;
    for (size_t len = 1; len <= sizeof(s); len++) {
        for (size_t at = 0; at < len; at++) {
            memset(s, 'a', sizeof(s));
            s[at] = (char)0x80;
            assert_false(str_is_utf8(s, len));
            if (at + 2 <= len) {
                s[at] = (char)0xc3;
                s[at + 1] = (char)0xa9;
                assert_true(str_is_utf8(s, len));
            }
        }
        memset(s, 'a', sizeof(s));
        s[len - 1] = (char)0x80; /* just past the checked length: not looked at */
        assert_true(str_is_utf8(s, len - 1));
    }
}

static void
test_json_depth(void **state)
{
    size_t at = 99;

    (void)state;
    assert_false(json_text_too_deep("[[1]]", 5, 2, &at));
    assert_int_equal(at, 99); /* untouched when within */
    assert_true(json_text_too_deep("[[[1]]]", 7, 2, &at));
    assert_int_equal(at, 2); /* the first bracket past the limit */
    assert_true(json_text_too_deep("{\"a\":[{}]}", 10, 2, NULL));
    /* brackets in strings, escaped quotes included, do not count */
    assert_false(json_text_too_deep("[\"[[\\\"[[\"]", 10, 1, NULL));
    /* siblings do not add up */
    assert_false(json_text_too_deep("[[],[],[]]", 10, 2, NULL));
}

static void
test_hex_digit(void **state)
{
    (void)state;
    assert_int_equal(hex_digit('0'), 0);
    assert_int_equal(hex_digit('9'), 9);
    assert_int_equal(hex_digit('a'), 10);
    assert_int_equal(hex_digit('F'), 15);
    assert_int_equal(hex_digit('g'), -1);
    assert_int_equal(hex_digit('/'), -1);
    assert_int_equal(hex_digit('\0'), -1);
}

/* array_grow: first, then doubling, *cap follows; the contents survive;
 * a size past SIZE_MAX (count or bytes) is NULL with array and *cap kept. */
static void
test_array_grow(void **state)
{
    size_t cap = 0, big;
    int *a = NULL, *n;

    (void)state;
    a = array_grow(a, &cap, sizeof(*a), 4);
    assert_non_null(a);
    assert_int_equal(cap, 4);
    for (int i = 0; i < 4; i++)
        a[i] = i + 10;
    a = array_grow(a, &cap, sizeof(*a), 4);
    assert_non_null(a);
    assert_int_equal(cap, 8);
    for (int i = 0; i < 4; i++)
        assert_int_equal(a[i], i + 10);
    big = SIZE_MAX / 2 + 1; /* doubling would overflow the count */
    assert_null(array_grow(a, &big, 1, 4));
    assert_int_equal(big, SIZE_MAX / 2 + 1);
    big = SIZE_MAX / 16; /* doubled, times 16 bytes, overflows the size */
    assert_null(array_grow(a, &big, 16, 4));
    assert_int_equal(big, SIZE_MAX / 16);
    cap = 0;
    n = array_grow(NULL, &cap, sizeof(int), 0); /* no first size: nothing to grow to */
    assert_null(n);
    assert_int_equal(cap, 0);
    free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_table), cmocka_unit_test(test_utf8_every_offset),
        cmocka_unit_test(test_json_depth), cmocka_unit_test(test_hex_digit),
        cmocka_unit_test(test_array_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
