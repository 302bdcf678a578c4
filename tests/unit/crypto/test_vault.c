/* Vault: sealing, opening, tampering, AAD binding, key parsing, rotation. IDs from
 * security-catalogue.md part B. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/vault.h"

static const unsigned char K1[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const unsigned char K2[32] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6,
                                     7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22};

static const struct vault_aad A = {7, "connection", "conn_abc", "auth.token"};

static struct vault *
mk(const unsigned char *primary, const unsigned char (*prev)[32], size_t n)
{
    struct vault *v = NULL;
    struct errinfo ei;
    assert_int_equal(vault_new(primary, prev, n, &v, &ei), ERR_OK);
    return v;
}

static void
seal(struct vault *v, const struct vault_aad *a, const char *pt, unsigned char **ct, size_t *n)
{
    struct errinfo ei;
    assert_int_equal(vault_seal(v, a, pt, strlen(pt), ct, n, &ei), ERR_OK);
}

static void
test_roundtrip_and_layout_cry006(void **st)
{
    struct vault *v = mk(K1, NULL, 0);
    unsigned char *ct;
    size_t n;
    struct secret s = {0};
    struct errinfo ei;
    uint32_t id;
    (void)st;

    seal(v, &A, "CANARY_token_0123", &ct, &n);
    assert_int_equal(n, 1 + 4 + 12 + strlen("CANARY_token_0123") + 16);
    assert_int_equal(ct[0], VAULT_FORMAT_V1);
    assert_true(vault_sealed_key_id(ct, n, &id));
    assert_int_equal(id, vault_primary_id(v));
    assert_null(memmem(ct, n, "CANARY", 6));
    assert_int_equal(vault_open(v, &A, ct, n, &s, &ei), ERR_OK);
    assert_int_equal(s.len, strlen("CANARY_token_0123"));
    assert_string_equal(s.p, "CANARY_token_0123");
    secret_release(&s);
    assert_null(s.p);
    free(ct);
    vault_free(v);
}

static void
test_wrong_key_cry003(void **st)
{
    struct vault *v1 = mk(K1, NULL, 0), *v2 = mk(K2, NULL, 0);
    unsigned char *ct;
    size_t n;
    struct secret s = {0};
    struct errinfo ei;
    (void)st;

    seal(v1, &A, "secret", &ct, &n);
    assert_int_equal(vault_open(v2, &A, ct, n, &s, &ei), ERR_CRYPTO);
    assert_string_equal(ei.code, "credential_undecryptable");
    assert_null(s.p);
    assert_null(strstr(ei.msg, "secret"));
    free(ct);
    vault_free(v1);
    vault_free(v2);
}

static void
test_every_bit_flip_rejected_cry007(void **st)
{
    struct vault *v = mk(K1, NULL, 0);
    unsigned char *ct;
    size_t n;
    struct errinfo ei;
    int rejected = 0, tried = 0;
    (void)st;

    seal(v, &A, "CANARY_bitflip_value", &ct, &n);
    for (size_t i = 0; i < n; i++) {
        for (int b = 0; b < 8; b++) {
            struct secret s = {0};
            ct[i] ^= (unsigned char)(1 << b);
            tried++;
            if (vault_open(v, &A, ct, n, &s, &ei) == ERR_CRYPTO && s.p == NULL)
                rejected++;
            secret_release(&s);
            ct[i] ^= (unsigned char)(1 << b);
        }
    }
    assert_int_equal(rejected, tried);
    free(ct);
    vault_free(v);
}

static void
test_short_and_unknown_format_cry008(void **st)
{
    struct vault *v = mk(K1, NULL, 0);
    unsigned char *ct;
    size_t n;
    struct errinfo ei;
    struct secret s = {0};
    (void)st;

    seal(v, &A, "x", &ct, &n);
    /* truncated tags, header only, empty */
    size_t lens[] = {n - 1, n - 4, VAULT_OVERHEAD - 1, VAULT_HEADER_LEN, 1, 0};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        assert_int_equal(vault_open(v, &A, ct, lens[i], &s, &ei), ERR_CRYPTO);
        assert_null(s.p);
    }
    assert_int_equal(vault_open(v, &A, NULL, 0, &s, &ei), ERR_CRYPTO);
    ct[0] = 0x02;
    assert_int_equal(vault_open(v, &A, ct, n, &s, &ei), ERR_CRYPTO);
    free(ct);
    vault_free(v);
}

/* CRY-009 row, CRY-010 workspace, CRY-011 field, CRY-012 owner/kind. */
static void
test_aad_swaps_rejected_cry009_012(void **st)
{
    static const struct vault_aad other[] = {
        {7, "connection", "conn_other", "auth.token"},   /* another row */
        {8, "connection", "conn_abc", "auth.token"},     /* another workspace */
        {7, "connection", "conn_abc", "auth.password"},  /* another field */
        {7, "personal_account", "conn_abc", "auth.token"}, /* another kind of owner */
    };
    struct vault *v = mk(K1, NULL, 0);
    unsigned char *ct;
    size_t n;
    struct errinfo ei;
    (void)st;

    seal(v, &A, "CANARY", &ct, &n);
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        struct secret s = {0};
        assert_int_equal(vault_open(v, &other[i], ct, n, &s, &ei), ERR_CRYPTO);
        assert_null(s.p);
    }
    free(ct);
    vault_free(v);
}

static void
test_nonces_distinct_cry013(void **st)
{
    enum { N = 20000 };
    struct vault *v = mk(K1, NULL, 0);
    unsigned char(*nonces)[12] = calloc(N, 12);
    (void)st;

    for (int i = 0; i < N; i++) {
        unsigned char *ct;
        size_t n;
        seal(v, &A, "same plaintext", &ct, &n);
        memcpy(nonces[i], ct + 5, 12);
        free(ct);
    }
    /* sort-free check: hash into a table of first 8 bytes */
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < i + 64 && j < N; j++)
            assert_memory_not_equal(nonces[i], nonces[j], 12);
    free(nonces);
    vault_free(v);
}

static void
test_rotation_previous_key_opens_cry017(void **st)
{
    struct vault *old = mk(K1, NULL, 0);
    const unsigned char prev[1][32] = {{0}};
    unsigned char (*p)[32] = (unsigned char(*)[32])prev;
    struct vault *rot;
    unsigned char *ct, *ct2;
    size_t n, n2;
    struct secret s = {0};
    struct errinfo ei;
    uint32_t id;
    (void)st;

    memcpy(p[0], K1, 32);
    rot = mk(K2, (const unsigned char(*)[32])p, 1);
    assert_int_equal(vault_key_count(rot), 2);
    seal(old, &A, "under-k1", &ct, &n);
    assert_int_equal(vault_open(rot, &A, ct, n, &s, &ei), ERR_OK);
    assert_string_equal(s.p, "under-k1");
    secret_release(&s);
    seal(rot, &A, "under-k2", &ct2, &n2);
    assert_true(vault_sealed_key_id(ct2, n2, &id));
    assert_int_equal(id, vault_primary_id(rot));
    assert_int_not_equal(id, vault_primary_id(old));
    assert_true(vault_has_key(rot, vault_primary_id(old)));
    /* the old keyring cannot open values sealed under the new key (CRY-020 shape) */
    assert_int_equal(vault_open(old, &A, ct2, n2, &s, &ei), ERR_CRYPTO);
    assert_non_null(strstr(ei.msg, "not configured"));
    free(ct);
    free(ct2);
    vault_free(old);
    vault_free(rot);
}

static void
test_parse_key_cry002(void **st)
{
    static const struct {
        const char *text;
        enum err want;
    } cases[] = {
        {"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", ERR_OK},  /* base64 of K1 */
        {"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA", ERR_OK},   /* unpadded */
        {"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", ERR_OK},
        {"0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20", ERR_OK},
        {"", ERR_INVALID},
        {"password", ERR_INVALID},
        {"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw==", ERR_INVALID}, /* 31 bytes */
        {"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAh", ERR_INVALID}, /* 33 bytes */
        {"0000000000000000000000000000000000000000000000000000000000000000", ERR_INVALID},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", ERR_INVALID}, /* all zero */
        {"zz02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", ERR_INVALID},
        {"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH!A=", ERR_INVALID},
    };
    (void)st;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char out[32];
        struct errinfo ei = {0};
        enum err e = vault_parse_key(cases[i].text, out, "INTEGRATION_ENCRYPTION_KEY", &ei);
        if (e != cases[i].want)
            fail_msg("case %zu (%s): got %d", i, cases[i].text, e);
        if (e == ERR_OK)
            assert_memory_equal(out, K1, 32);
        else
            assert_string_equal(ei.field, "INTEGRATION_ENCRYPTION_KEY");
    }
}

static void
test_env_scrubbed_and_dev_key_cry027(void **st)
{
    char dir[] = "/tmp/connhub-vault-XXXXXX";
    char path[256];
    struct vault *v = NULL, *v2 = NULL;
    bool created = false;
    struct errinfo ei;
    struct stat sb;
    (void)st;

    setenv("INTEGRATION_ENCRYPTION_KEY", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", 1);
    assert_int_equal(vault_from_env(NULL, &v, &created, &ei), ERR_OK);
    assert_null(getenv("INTEGRATION_ENCRYPTION_KEY"));
    assert_false(created);
    vault_free(v);

    /* No key and no dev path: refuse (CRY-001). */
    assert_int_equal(vault_from_env(NULL, &v, &created, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "INTEGRATION_ENCRYPTION_KEY");

    /* Bad key refuses even with a dev path. */
    setenv("INTEGRATION_ENCRYPTION_KEY", "password", 1);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/connhub.devkey", dir);
    assert_int_equal(vault_from_env(path, &v, &created, &ei), ERR_INVALID);
    assert_null(getenv("INTEGRATION_ENCRYPTION_KEY"));

    /* Dev key: created 0600 once, then reused. */
    assert_int_equal(vault_from_env(path, &v, &created, &ei), ERR_OK);
    assert_true(created);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(vault_from_env(path, &v2, &created, &ei), ERR_OK);
    assert_false(created);
    assert_int_equal(vault_primary_id(v), vault_primary_id(v2));
    vault_free(v);
    vault_free(v2);
    unlink(path);
    rmdir(dir);
}

static void
test_previous_keys_env_and_dupes(void **st)
{
    struct vault *v = NULL;
    bool created;
    struct errinfo ei;
    (void)st;

    setenv("INTEGRATION_ENCRYPTION_KEY",
           "0908070605040302010001020304050607080900a0b0c0d0e0f1011121314151", 1);
    setenv("INTEGRATION_ENCRYPTION_KEY_PREVIOUS",
           "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=, "
           "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
           1);
    assert_int_equal(vault_from_env(NULL, &v, &created, &ei), ERR_OK);
    assert_int_equal(vault_key_count(v), 2); /* the same key twice counts once */
    assert_null(getenv("INTEGRATION_ENCRYPTION_KEY_PREVIOUS"));
    vault_free(v);

    setenv("INTEGRATION_ENCRYPTION_KEY",
           "0908070605040302010001020304050607080900a0b0c0d0e0f1011121314151", 1);
    setenv("INTEGRATION_ENCRYPTION_KEY_PREVIOUS", "nonsense", 1);
    assert_int_equal(vault_from_env(NULL, &v, &created, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "INTEGRATION_ENCRYPTION_KEY_PREVIOUS");
}

static void
test_open_count_metric(void **st)
{
    struct vault *v = mk(K1, NULL, 0);
    unsigned char *ct;
    size_t n;
    struct secret s = {0};
    struct errinfo ei;
    uint64_t before;
    (void)st;

    seal(v, &A, "x", &ct, &n);
    before = vault_open_count();
    assert_int_equal(vault_open(v, &A, ct, n, &s, &ei), ERR_OK);
    secret_release(&s);
    assert_int_equal(vault_open_count(), before + 1);
    free(ct);
    vault_free(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_layout_cry006),
        cmocka_unit_test(test_wrong_key_cry003),
        cmocka_unit_test(test_every_bit_flip_rejected_cry007),
        cmocka_unit_test(test_short_and_unknown_format_cry008),
        cmocka_unit_test(test_aad_swaps_rejected_cry009_012),
        cmocka_unit_test(test_nonces_distinct_cry013),
        cmocka_unit_test(test_rotation_previous_key_opens_cry017),
        cmocka_unit_test(test_parse_key_cry002),
        cmocka_unit_test(test_env_scrubbed_and_dev_key_cry027),
        cmocka_unit_test(test_previous_keys_env_and_dupes),
        cmocka_unit_test(test_open_count_metric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
