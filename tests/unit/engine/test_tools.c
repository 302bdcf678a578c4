/* Unit tests for engine/tools: function names for LLM function-calling APIs
 * at TOOL_FUNCTION_NAME_MAX (N) and N+1, and with the longest slug and
 * operation name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "engine/call.h"

static bool
fn_chars_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

static void
test_function_name_short(void **state)
{
    char out[TOOL_FUNCTION_NAME_MAX + 1];

    (void)state;
    tool_function_name("github", "create_issue", out);
    assert_string_equal(out, "github__create_issue");
}

/* slug + "__" + op of exactly N bytes is kept; N+1 becomes 55 bytes + "_" + 8 hex. */
static void
test_function_name_at_n_and_n_plus_1(void **state)
{
    char slug[MAX_SLUG_LEN + 1], op[MAX_OPERATION_NAME_LEN + 1];
    char out[TOOL_FUNCTION_NAME_MAX + 1], out2[TOOL_FUNCTION_NAME_MAX + 1];
    size_t ol = TOOL_FUNCTION_NAME_MAX - 2 - 30;

    (void)state;
    memset(slug, 's', 30);
    slug[30] = '\0';
    memset(op, 'o', ol);
    op[ol] = '\0';
    tool_function_name(slug, op, out);
    assert_int_equal(strlen(out), TOOL_FUNCTION_NAME_MAX);
    assert_int_equal(strncmp(out + 30, "__", 2), 0);
    assert_int_equal(strspn(out + 32, "o"), ol);

    op[ol] = 'o';
    op[ol + 1] = '\0';
    tool_function_name(slug, op, out);
    assert_int_equal(strlen(out), TOOL_FUNCTION_NAME_MAX);
    assert_true(fn_chars_ok(out));
    assert_int_equal(out[TOOL_FUNCTION_NAME_MAX - 9], '_');
    assert_int_equal(strspn(out + TOOL_FUNCTION_NAME_MAX - 8, "0123456789abcdef"), 8);
    /* stable, and another long name with the same first 55 bytes differs */
    tool_function_name(slug, op, out2);
    assert_string_equal(out, out2);
    op[ol] = 'p';
    tool_function_name(slug, op, out2);
    assert_string_not_equal(out, out2);
    assert_int_equal(strncmp(out, out2, TOOL_FUNCTION_NAME_MAX - 9), 0);
}

static void
test_function_name_longest(void **state)
{
    char slug[MAX_SLUG_LEN + 1], op[MAX_OPERATION_NAME_LEN + 1];
    char out[TOOL_FUNCTION_NAME_MAX + 1];

    (void)state;
    memset(slug, 'a', MAX_SLUG_LEN);
    slug[MAX_SLUG_LEN] = '\0';
    memset(op, 'b', MAX_OPERATION_NAME_LEN);
    op[MAX_OPERATION_NAME_LEN] = '\0';
    tool_function_name(slug, op, out);
    assert_int_equal(strlen(out), TOOL_FUNCTION_NAME_MAX);
    assert_true(fn_chars_ok(out));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_function_name_short),
        cmocka_unit_test(test_function_name_at_n_and_n_plus_1),
        cmocka_unit_test(test_function_name_longest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
