/* Vault: sealing, opening, tampering, AAD binding, key parsing, rotation. IDs from
 * security-catalogue.md part B. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "crypto/vault.h"

/* CRY-014: the test binary's RAND_bytes stands in front of OpenSSL's (core/util.c's
 * rand_bytes calls it), failing while g_rng_fail is set. */
static int g_rng_fail;
int RAND_bytes(unsigned char *buf, int num);
int
RAND_bytes(unsigned char *buf, int num)
{
    static int (*real)(unsigned char *, int);

    if (g_rng_fail)
        return 0;
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "RAND_bytes");
    return real(buf, num);
}

static const unsigned char K1[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                     23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const unsigned char K2[32] = {9, 8, 7, 6,  5,  4,  3,  2,  1,  0,  1,  2,  3,  4,  5,  6,
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

/* CRY-006: layout 0x01 | key id (4) | nonce (12) | ciphertext | tag (16), total 1+4+12+len+16. */
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

/* CRY-007: every bit of version, key id, nonce, ciphertext and tag flipped in turn: each one
 * fails authentication as credential_undecryptable and releases no plaintext. */
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
            if (vault_open(v, &A, ct, n, &s, &ei) == ERR_CRYPTO && s.p == NULL &&
                strcmp(ei.code, "credential_undecryptable") == 0)
                rejected++;
            secret_release(&s);
            ct[i] ^= (unsigned char)(1 << b);
        }
    }
    assert_int_equal(rejected, tried);
    free(ct);
    vault_free(v);
}

/* CRY-008: tag truncated to 15 and 12 bytes, shorter than the header, header only, empty and
 * NULL buffers, unknown version 0x02: refused cleanly (ASan build). */
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
        {7, "connection", "conn_other", "auth.token"},     /* another row */
        {8, "connection", "conn_abc", "auth.token"},       /* another workspace */
        {7, "connection", "conn_abc", "auth.password"},    /* another field */
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

static int
cmp_rec(const void *a, const void *b)
{
    return memcmp(a, b, 12 + 14 + 16);
}

/* CRY-013: the same plaintext sealed N times gives N distinct nonces and N distinct
 * ciphertext+tag values (every pair compared, by sorting). N is 100,000 here (about a second);
 * CONNHUB_CRY013_N=1000000 runs the catalogue's million (about 25 s under ASan). */
static void
test_nonces_distinct_cry013(void **st)
{
    enum { REC = 12 + 14 + 16 }; /* nonce | ciphertext of "same plaintext" | tag */
    const char *env = getenv("CONNHUB_CRY013_N");
    const size_t n_seals = env ? strtoul(env, NULL, 10) : 100000;
    struct vault *v = mk(K1, NULL, 0);
    unsigned char *recs = calloc(n_seals, REC);
    (void)st;

    assert_non_null(recs);
    for (size_t i = 0; i < n_seals; i++) {
        unsigned char *ct;
        size_t n;
        seal(v, &A, "same plaintext", &ct, &n);
        assert_int_equal(n, VAULT_OVERHEAD + 14);
        memcpy(recs + i * REC, ct + 5, REC);
        free(ct);
    }
    /* sorted by nonce first: equal nonces, or equal records, end up side by side */
    qsort(recs, n_seals, REC, cmp_rec);
    for (size_t i = 1; i < n_seals; i++) {
        if (memcmp(recs + (i - 1) * REC, recs + i * REC, REC) == 0)
            fail_msg("CRY-013: two seals gave the same nonce, ciphertext and tag");
        if (memcmp(recs + (i - 1) * REC, recs + i * REC, 12) == 0)
            fail_msg("CRY-013: two seals reused a nonce");
    }
    /* the ciphertext+tag part alone, without the nonce, is distinct too (no equality leak) */
    for (size_t i = 0; i < n_seals; i++)
        memmove(recs + i * REC, recs + i * REC + 12, REC - 12);
    qsort(recs, n_seals, REC, cmp_rec); /* the 12 stale trailing bytes only break ties */
    for (size_t i = 1; i < n_seals; i++)
        if (memcmp(recs + (i - 1) * REC, recs + i * REC, REC - 12) == 0)
            fail_msg("CRY-013: two seals of one plaintext gave equal ciphertexts");
    free(recs);
    vault_free(v);
}

static void
test_rotation_previous_key_opens_cry017(void **st)
{
    struct vault *old = mk(K1, NULL, 0);
    const unsigned char prev[1][32] = {{0}};
    unsigned char(*p)[32] = (unsigned char(*)[32])prev;
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
        {"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", ERR_OK}, /* base64 of K1 */
        {"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA", ERR_OK},  /* unpadded */
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

/* CRY-030: two different master keys whose 4-byte key ids collide (found by a birthday
 * search over HMAC-SHA256(key, "connhub/key-id/v1"); both ids are ca2eb07e): the keyring is
 * refused, whichever is primary, and a keyring of either key alone is fine. */
static void
test_key_id_collision_refused_cry030(void **st)
{
    static const char *hex[2] = {
        "2f5b0b7b836fde1c7579a32611a8696c0378f59c8f0b4244419044af9464dac1",
        "3ecec1db552c11854bf6114d2aae2482f1041e629839173351732588795e39be",
    };
    unsigned char k[2][32];
    struct vault *v = NULL;
    struct errinfo ei = {0};
    (void)st;

    for (int i = 0; i < 2; i++)
        assert_int_equal(vault_parse_key(hex[i], k[i], "k", &ei), ERR_OK);
    assert_memory_not_equal(k[0], k[1], 32);
    v = mk(k[0], NULL, 0);
    assert_int_equal(vault_primary_id(v), 0xca2eb07eu);
    vault_free(v);
    v = mk(k[1], NULL, 0);
    assert_int_equal(vault_primary_id(v), 0xca2eb07eu);
    vault_free(v);
    v = NULL;
    for (int i = 0; i < 2; i++) {
        memset(&ei, 0, sizeof(ei));
        assert_int_equal(vault_new(k[i], (const unsigned char(*)[32])k[1 - i], 1, &v, &ei),
                         ERR_INVALID);
        assert_null(v);
        assert_string_equal(ei.code, "key_id_collision");
        assert_non_null(strstr(ei.msg, "ca2eb07e"));
    }
}

/* CRY-014: with the RNG failing, sealing fails closed (rng_failed, no output, nothing for a
 * caller to store); once it works again so does sealing. */
static void
test_rng_failure_fails_closed_cry014(void **st)
{
    struct vault *v = mk(K1, NULL, 0);
    unsigned char *ct = (unsigned char *)"untouched";
    size_t n = 99;
    struct errinfo ei = {0};
    (void)st;

    g_rng_fail = 1;
    assert_int_equal(vault_seal(v, &A, "CANARY_rng", 10, &ct, &n, &ei), ERR_CRYPTO);
    g_rng_fail = 0;
    assert_string_equal(ei.code, "rng_failed");
    assert_null(ct);
    assert_int_equal(n, 0);
    assert_int_equal(vault_seal(v, &A, "CANARY_rng", 10, &ct, &n, &ei), ERR_OK);
    assert_int_equal(n, 10 + VAULT_OVERHEAD);
    free(ct);
    vault_free(v);
}

/* CRY-024: a retired key (still configured) opens nothing: its values fail with
 * credential_key_retired, naming the key, and are counted; values under the other keys open;
 * the primary and unknown keys cannot be retired; INTEGRATION_ENCRYPTION_KEY_RETIRED lists ids. */
static void
test_retired_key_refused_cry024(void **st)
{
    struct vault *old = mk(K1, NULL, 0), *v = NULL;
    unsigned char prev[1][32];
    unsigned char *ct1, *ct2;
    size_t n1, n2;
    struct secret s = {0};
    struct errinfo ei = {0};
    uint64_t before;
    char id[16];
    bool created;
    (void)st;

    memcpy(prev[0], K1, 32);
    v = mk(K2, (const unsigned char(*)[32])prev, 1);
    seal(old, &A, "CANARY_retired", &ct1, &n1);
    seal(v, &A, "CANARY_current", &ct2, &n2);
    assert_int_equal(vault_retire(v, vault_primary_id(v), &ei), ERR_INVALID);
    assert_string_equal(ei.code, "key_retire_primary");
    assert_int_equal(vault_retire(v, 0x12345678u, &ei), ERR_INVALID);
    assert_int_equal(vault_open(v, &A, ct1, n1, &s, &ei), ERR_OK); /* not yet retired */
    secret_release(&s);
    assert_int_equal(vault_retire(v, vault_primary_id(old), &ei), ERR_OK);
    assert_true(vault_key_retired(v, vault_primary_id(old)));
    assert_true(vault_has_key(v, vault_primary_id(old)));
    before = vault_retired_refusal_count();
    assert_int_equal(vault_open(v, &A, ct1, n1, &s, &ei), ERR_CRYPTO);
    assert_null(s.p);
    assert_string_equal(ei.code, "credential_key_retired");
    snprintf(id, sizeof(id), "%08x", vault_primary_id(old));
    assert_non_null(strstr(ei.msg, id));
    assert_int_equal(vault_retired_refusal_count(), before + 1);
    assert_int_equal(vault_open(v, &A, ct2, n2, &s, &ei), ERR_OK);
    assert_string_equal(s.p, "CANARY_current");
    secret_release(&s);
    vault_free(v);

    /* from the environment */
    setenv("INTEGRATION_ENCRYPTION_KEY",
           "0908070605040302010001020304050607080900a0b0c0d0e0f1011121314151", 1);
    setenv("INTEGRATION_ENCRYPTION_KEY_PREVIOUS",
           "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", 1);
    setenv("INTEGRATION_ENCRYPTION_KEY_RETIRED", id, 1);
    assert_int_equal(vault_from_env(NULL, &v, &created, &ei), ERR_OK);
    assert_true(vault_key_retired(v, vault_primary_id(old)));
    assert_int_equal(vault_open(v, &A, ct1, n1, &s, &ei), ERR_CRYPTO);
    assert_string_equal(ei.code, "credential_key_retired");
    vault_free(v);
    setenv("INTEGRATION_ENCRYPTION_KEY",
           "0908070605040302010001020304050607080900a0b0c0d0e0f1011121314151", 1);
    setenv("INTEGRATION_ENCRYPTION_KEY_RETIRED", "nothex!!", 1);
    assert_int_equal(vault_from_env(NULL, &v, &created, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "INTEGRATION_ENCRYPTION_KEY_RETIRED");
    assert_null(v);
    unsetenv("INTEGRATION_ENCRYPTION_KEY_RETIRED");
    free(ct1);
    free(ct2);
    vault_free(old);
}

/* CRY-028, CRY-029: secret_heap_init (what serve calls first) turns core dumps off (RLIMIT_CORE
 * 0, not dumpable) and gives secrets a secure heap; a released secret's bytes are wiped in that
 * heap before they go back to it (the heap's own free-list link aside), so no plaintext is left
 * behind. Runs last: it changes the process. */
static void
test_no_core_dump_and_wiped_plaintext_cry028_cry029(void **st)
{
    char pt[256];
    struct vault *v = mk(K1, NULL, 0);
    struct secret s = {0};
    struct errinfo ei;
    struct rlimit rl;
    unsigned char *ct, *old;
    size_t n, len;
    (void)st;

    for (size_t i = 0; i < sizeof(pt) - 1; i++)
        pt[i] = "CANARY_wipe_"[i % 12];
    pt[sizeof(pt) - 1] = '\0';
    secret_heap_init(1 << 16);
    assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
    assert_int_equal(rl.rlim_cur, 0);
    assert_int_equal(rl.rlim_max, 0);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    if (!CRYPTO_secure_malloc_initialized())
        skip(); /* mlock refused here: secrets fall back to the ordinary heap */
    seal(v, &A, pt, &ct, &n);
    assert_int_equal(vault_open(v, &A, ct, n, &s, &ei), ERR_OK);
    assert_true(CRYPTO_secure_allocated(s.p));
    assert_string_equal(s.p, pt);
    old = (unsigned char *)s.p;
    len = s.len;
    secret_release(&s);
    assert_null(s.p);
    /* the secure heap stays mapped (and outside ASan's view): read what is left */
    assert_null(memmem(old, len, "CANARY", 6));
    for (size_t i = 2 * sizeof(void *); i < len; i++)
        if (old[i] != 0)
            fail_msg("CRY-029: byte %zu of a released secret is %02x, not wiped", i, old[i]);
    free(ct);
    vault_free(v);
}

/* vault_fingerprint: the same data, the same fingerprint under one key;
 * another key, another fingerprint; after a rotation the old one still
 * matches (the old key is a previous one), other data never does, and a
 * vault without the old key does not match it. */
static void
test_fingerprint_keyed_and_rotates(void **st)
{
    struct vault *v1 = mk(K1, NULL, 0), *v2 = mk(K2, NULL, 0);
    struct vault *rot = mk(K2, (const unsigned char(*)[32])K1, 1);
    unsigned char a[32], b[32], c[32];
    static const char data[] = "{\"password\":\"hunter2\"}";

    (void)st;
    assert_int_equal(vault_fingerprint(v1, data, strlen(data), a), ERR_OK);
    assert_int_equal(vault_fingerprint(v1, data, strlen(data), b), ERR_OK);
    assert_memory_equal(a, b, 32);
    assert_int_equal(vault_fingerprint(v2, data, strlen(data), c), ERR_OK);
    assert_memory_not_equal(a, c, 32);
    assert_true(vault_fingerprint_matches(v1, data, strlen(data), a));
    assert_true(vault_fingerprint_matches(rot, data, strlen(data), a)); /* K1 is previous */
    assert_true(vault_fingerprint_matches(rot, data, strlen(data), c)); /* K2 is primary */
    assert_false(vault_fingerprint_matches(v2, data, strlen(data), a));
    assert_false(vault_fingerprint_matches(v1, data, strlen(data) - 1, a));
    vault_free(v1);
    vault_free(v2);
    vault_free(rot);
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
        cmocka_unit_test(test_key_id_collision_refused_cry030),
        cmocka_unit_test(test_rng_failure_fails_closed_cry014),
        cmocka_unit_test(test_retired_key_refused_cry024),
        cmocka_unit_test(test_no_core_dump_and_wiped_plaintext_cry028_cry029),
        cmocka_unit_test(test_fingerprint_keyed_and_rotates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
