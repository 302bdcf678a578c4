/* util: str_is_utf8, whose ASCII runs are checked eight bytes at a time: a
 * bad byte must be found at every offset within and after such a run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_table),
        cmocka_unit_test(test_utf8_every_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
