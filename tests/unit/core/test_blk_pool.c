/* core/util blk_pool: blocks come back zeroed and are reused (LIFO), a
 * block of another size is freed rather than kept, the pool keeps at most
 * BLK_POOL_MAX (the N+1th is freed), NULL is ignored, and drain empties it
 * (ASan checks that nothing leaks or is freed twice). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/util.h"

static void
test_reuse_zeroed(void **state)
{
    struct blk_pool p = {0};
    unsigned char *a, *b;

    (void)state;
    a = blk_pool_get(&p, 1200);
    memset(a, 0xab, 1200);
    blk_pool_put(&p, a, 1200);
    assert_int_equal(p.n, 1);
    b = blk_pool_get(&p, 1200);
    assert_ptr_equal(a, b);
    for (size_t i = 0; i < 1200; i++)
        assert_int_equal(b[i], 0);
    assert_int_equal(p.n, 0);
    blk_pool_put(&p, b, 1200);
    blk_pool_put(&p, NULL, 1200);
    assert_int_equal(p.n, 1);
    /* another size: served fresh, and freed when put back */
    a = blk_pool_get(&p, 64);
    assert_ptr_not_equal(a, b);
    blk_pool_put(&p, a, 64);
    assert_int_equal(p.n, 1);
    blk_pool_drain(&p);
    assert_int_equal(p.n, 0);
    blk_pool_drain(&p);
}

static void
test_cap_n_and_n_plus_1(void **state)
{
    struct blk_pool p = {0};
    void *b[BLK_POOL_MAX + 1];

    (void)state;
    for (size_t i = 0; i < BLK_POOL_MAX + 1; i++)
        b[i] = blk_pool_get(&p, 2048);
    for (size_t i = 0; i < BLK_POOL_MAX; i++)
        blk_pool_put(&p, b[i], 2048);
    assert_int_equal(p.n, BLK_POOL_MAX);
    blk_pool_put(&p, b[BLK_POOL_MAX], 2048); /* the N+1th: freed */
    assert_int_equal(p.n, BLK_POOL_MAX);
    assert_ptr_equal(blk_pool_get(&p, 2048), b[BLK_POOL_MAX - 1]);
    blk_pool_put(&p, b[BLK_POOL_MAX - 1], 2048);
    blk_pool_drain(&p);
    assert_int_equal(p.n, 0);
    /* an empty pool takes the size of the first block put back */
    blk_pool_put(&p, blk_pool_get(&p, 100), 100);
    assert_int_equal(p.size, 100);
    blk_pool_drain(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_zeroed),
        cmocka_unit_test(test_cap_n_and_n_plus_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
