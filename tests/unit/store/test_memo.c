/* memo (src/store/memo.c): kept results by key, and each of its limits at N
 * and N+1: MEMO_MAX_ENTRY_BYTES, MEMO_MAX_ROWS, MEMO_MAX_KEY_BYTES,
 * MEMO_MAX_ARGS, MEMO_MAX_BYTES, MEMO_WAYS (keys of one set). The store's use of it (when it may
 * answer, and that every change is seen) is in test_store.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "store/memo.h"

static struct memo_arg
text_arg(const char *s)
{
    struct memo_arg a = {false, false, 0, s, s ? strlen(s) : 0};
    return a;
}

static struct memo_arg
int_arg(int64_t i)
{
    struct memo_arg a = {true, false, i, NULL, 0};
    return a;
}

/* One row, one text column of n bytes ('x'). */
static struct memo_rows *
text_rows(size_t n)
{
    struct memo_rows *r = memo_rows_new(1);
    char *t = malloc(n + 1);

    assert_non_null(t);
    memset(t, 'x', n);
    memo_rows_add(r);
    memo_rows_set(r, 0, false, 0, t, n);
    free(t);
    return r;
}

static void
test_put_get_and_cells(void **state)
{
    struct memo *m = memo_new();
    struct memo_arg a[2] = {int_arg(7), text_arg("abc")};
    struct memo_arg b[2] = {int_arg(7), text_arg("abd")};
    struct memo_arg nul[2] = {int_arg(7), text_arg(NULL)};
    struct memo_arg empty[2] = {int_arg(7), text_arg("")};
    struct memo_key ka = {S_CONN_GET_ID, a, 2}, kb = {S_CONN_GET_ID, b, 2};
    struct memo_key kslug = {S_CONN_GET_SLUG, a, 2};
    struct memo_key knul = {S_CONN_GET_ID, nul, 2}, kempty = {S_CONN_GET_ID, empty, 2};
    struct memo_rows *r = memo_rows_new(3);
    const struct memo_rows *got;
    unsigned char blob[3] = {0, 1, 2};
    unsigned char *bc;
    struct cols c;
    size_t len;

    (void)state;
    memo_rows_add(r);
    memo_rows_set(r, 0, false, 42, "42", 2);
    memo_rows_set(r, 1, true, 0, NULL, 0);
    memo_rows_set(r, 2, false, 0, blob, 3);
    memo_rows_add(r);
    memo_rows_set(r, 0, false, 0, "second", 6);
    assert_null(memo_get(m, &ka));
    assert_ptr_equal(memo_put(m, &ka, r), r);
    got = memo_get(m, &ka);
    assert_ptr_equal(got, r);
    assert_int_equal(memo_rows_count(got), 2);
    c = memo_rows_cols(got, 0);
    assert_int_equal(c.i64(&c, 0), 42);
    assert_string_equal(c.text(&c, 0), "42");
    assert_null(c.text(&c, 1)); /* SQL NULL */
    bc = c.blob(&c, 2, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(bc, blob, 3); /* a blob with a NUL inside keeps its bytes */
    free(bc);
    bc = c.blob(&c, 1, &len); /* NULL as a blob: an empty copy, never NULL */
    assert_non_null(bc);
    assert_int_equal(len, 0);
    free(bc);
    c = memo_rows_cols(got, 1);
    assert_string_equal(c.text(&c, 0), "second");
    assert_null(c.text(&c, 1)); /* cells of a new row start as NULL */
    assert_null(c.text(&c, 9)); /* out of range */

    /* other parameters, another statement, NULL vs "": all other keys */
    assert_null(memo_get(m, &kb));
    assert_null(memo_get(m, &kslug));
    assert_null(memo_get(m, &knul));
    assert_null(memo_get(m, &kempty));
    assert_true(memo_bytes(m) > 0);
    memo_clear(m);
    assert_null(memo_get(m, &ka));
    assert_int_equal(memo_bytes(m), 0);
    memo_free(m);
    memo_free(NULL);
}

/* An entry of exactly MEMO_MAX_ENTRY_BYTES is kept; one byte more is not
 * (memo_put returns NULL and the rows stay the caller's). */
static void
test_max_entry_bytes(void **state)
{
    struct memo *m = memo_new();
    struct memo_arg a = text_arg("k");
    struct memo_key k = {S_OP_GET, &a, 1};
    struct memo_rows *probe = text_rows(0);
    size_t base = memo_rows_bytes(probe) + memo_key_bytes(&k);
    struct memo_rows *r;

    (void)state;
    memo_rows_free(probe);
    r = text_rows(MEMO_MAX_ENTRY_BYTES - base);
    assert_int_equal(memo_rows_bytes(r) + memo_key_bytes(&k), MEMO_MAX_ENTRY_BYTES);
    assert_ptr_equal(memo_put(m, &k, r), r);
    assert_int_equal(memo_bytes(m), MEMO_MAX_ENTRY_BYTES);
    r = text_rows(MEMO_MAX_ENTRY_BYTES - base + 1);
    assert_null(memo_put(m, &k, r));
    memo_rows_free(r);
    assert_non_null(memo_get(m, &k)); /* the kept one stays */
    memo_free(m);
}

static void
test_max_rows(void **state)
{
    struct memo *m = memo_new();
    struct memo_arg a = int_arg(1);
    struct memo_key k = {S_SECRETS_GET, &a, 1};
    struct memo_rows *r = memo_rows_new(1);

    (void)state;
    for (int i = 0; i < MEMO_MAX_ROWS; i++) {
        memo_rows_add(r);
        memo_rows_set(r, 0, false, i, "v", 1);
    }
    assert_ptr_equal(memo_put(m, &k, r), r);
    r = memo_rows_new(1);
    for (int i = 0; i < MEMO_MAX_ROWS + 1; i++) {
        memo_rows_add(r);
        memo_rows_set(r, 0, false, i, "v", 1);
    }
    assert_int_equal(memo_rows_count(r), MEMO_MAX_ROWS + 1); /* a result is never cut */
    assert_null(memo_put(m, &k, r));
    memo_rows_free(r);
    memo_free(m);
}

/* Keys: MEMO_MAX_KEY_BYTES bytes fit, one more does not; MEMO_MAX_ARGS
 * parameters fit, one more does not. */
static void
test_max_key_bytes_and_args(void **state)
{
    struct memo *m = memo_new();
    struct memo_arg one = text_arg("");
    struct memo_key k = {S_OP_GET, &one, 1};
    size_t over = memo_key_bytes(&k); /* the key with an empty text */
    char *t = malloc(MEMO_MAX_KEY_BYTES + 1);
    struct memo_arg args[MEMO_MAX_ARGS + 1];
    struct memo_rows *r;

    (void)state;
    assert_non_null(t);
    memset(t, 'k', MEMO_MAX_KEY_BYTES);
    t[MEMO_MAX_KEY_BYTES - over] = '\0';
    one = text_arg(t);
    assert_int_equal(memo_key_bytes(&k), MEMO_MAX_KEY_BYTES);
    r = text_rows(1);
    assert_ptr_equal(memo_put(m, &k, r), r);
    assert_non_null(memo_get(m, &k));
    t[MEMO_MAX_KEY_BYTES - over] = 'k';
    t[MEMO_MAX_KEY_BYTES - over + 1] = '\0';
    one = text_arg(t);
    assert_int_equal(memo_key_bytes(&k), 0);
    r = text_rows(1);
    assert_null(memo_put(m, &k, r));
    assert_null(memo_get(m, &k));
    memo_rows_free(r);

    for (int i = 0; i <= MEMO_MAX_ARGS; i++)
        args[i] = int_arg(i);
    k.args = args;
    k.nargs = MEMO_MAX_ARGS;
    assert_true(memo_key_bytes(&k) > 0);
    k.nargs = MEMO_MAX_ARGS + 1;
    assert_int_equal(memo_key_bytes(&k), 0);
    free(t);
    memo_free(m);
}

/* Past MEMO_MAX_BYTES in all, the memo starts empty again (then keeps the
 * new entry): it never holds more. Filled with quarter-size entries (a
 * slot's old entry may be replaced, which only lowers the total), then one
 * of the largest size cannot fit even after its slot is freed. */
static void
test_max_bytes_starts_over(void **state)
{
    struct memo *m = memo_new();
    struct memo_arg a = text_arg("k");
    struct memo_key k = {S_OP_GET, &a, 1};
    struct memo_rows *probe = text_rows(0), *r;
    size_t base = memo_rows_bytes(probe) + memo_key_bytes(&k), q;
    int64_t i = 0;

    (void)state;
    memo_rows_free(probe);
    q = MEMO_MAX_ENTRY_BYTES / 4;
    a = int_arg(0);
    for (;;) {
        size_t need, before = memo_bytes(m);
        a = int_arg(i++);
        r = text_rows(q);
        need = memo_rows_bytes(r) + memo_key_bytes(&k);
        if (before + need > MEMO_MAX_BYTES) {
            memo_rows_free(r);
            break;
        }
        assert_ptr_equal(memo_put(m, &k, r), r);
        assert_true(memo_bytes(m) <= MEMO_MAX_BYTES);
        assert_true(memo_bytes(m) >= need); /* never started over while it fitted */
        q = MEMO_MAX_ENTRY_BYTES / 4;
    }
    assert_true(memo_bytes(m) > MEMO_MAX_BYTES - 2 * (q + base + 16));
    a = text_arg("k");
    r = text_rows(MEMO_MAX_ENTRY_BYTES - base);
    assert_ptr_equal(memo_put(m, &k, r), r);
    assert_int_equal(memo_bytes(m), MEMO_MAX_ENTRY_BYTES); /* started over with just this one */
    assert_non_null(memo_get(m, &k));
    a = int_arg(0);
    assert_null(memo_get(m, &k));
    memo_free(m);
}

/* MEMO_WAYS keys that share a set are all kept (N); one more (N+1) takes
 * the place of the least recently used one, and only that one. */
static void
test_ways_keep_a_set(void **state)
{
    struct memo *m = memo_new();
    struct memo_arg a[MEMO_WAYS + 1];
    struct memo_key k[MEMO_WAYS + 1];
    size_t set, found = 0;

    (void)state;
    a[0] = int_arg(0);
    k[0] = (struct memo_key){S_CONN_GET_ID, &a[0], 1};
    set = memo_set_of(&k[0]);
    for (int64_t i = 1; found < MEMO_WAYS; i++) { /* keys that go to key 0's set */
        struct memo_arg t = int_arg(i);
        struct memo_key kt = {S_CONN_GET_ID, &t, 1};
        if (memo_set_of(&kt) != set)
            continue;
        found++;
        a[found] = t;
        k[found] = (struct memo_key){S_CONN_GET_ID, &a[found], 1};
    }
    for (size_t i = 0; i < MEMO_WAYS; i++)
        assert_non_null(memo_put(m, &k[i], text_rows(8)));
    /* N: all there; found in the order 1, 0, 2, 3..., so key 1 is the least recently used */
    assert_non_null(memo_get(m, &k[1]));
    assert_non_null(memo_get(m, &k[0]));
    for (size_t i = 2; i < MEMO_WAYS; i++)
        assert_non_null(memo_get(m, &k[i]));
    assert_non_null(memo_put(m, &k[MEMO_WAYS], text_rows(8))); /* N+1 */
    assert_null(memo_get(m, &k[1]));
    assert_non_null(memo_get(m, &k[0]));
    for (size_t i = 2; i <= MEMO_WAYS; i++)
        assert_non_null(memo_get(m, &k[i]));
    memo_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_and_cells),
        cmocka_unit_test(test_max_entry_bytes),
        cmocka_unit_test(test_max_rows),
        cmocka_unit_test(test_max_key_bytes_and_args),
        cmocka_unit_test(test_max_bytes_starts_over),
        cmocka_unit_test(test_ways_keep_a_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
