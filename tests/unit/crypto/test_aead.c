/* aead (src/crypto/aead.c), the AES-256-GCM wrapper the vault seals with.
 *
 * CRY-016 asks for Wycheproof's AES-GCM vectors; Wycheproof is packaged
 * neither in Debian nor on npm, so this runs NIST's CAVP GCM vectors instead,
 * from Debian's python3-cryptography-vectors (tools/install-deps installs it;
 * $CONNHUB_GCM_VECTORS overrides the folder): every 256-bit key, 96-bit IV,
 * 128-bit tag case of gcmEncryptExtIV256.rsp (ciphertext and tag must match,
 * and open back) and gcmDecrypt256.rsp (valid ones open to the plaintext,
 * every FAIL one is refused with the output zeroed). Plus the wrapper's own
 * edges: empty plaintext and AAD, a flipped bit anywhere, the size limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"

#define DEFAULT_DIR "/usr/lib/python3/dist-packages/cryptography_vectors/ciphers/AES/GCM"
#define MAX_HEX 4096 /* bytes of one field; the files' longest is far shorter */

struct vec {
    unsigned char key[64], iv[128], ct[MAX_HEX], aad[MAX_HEX], tag[64], pt[MAX_HEX];
    size_t keylen, ivlen, ctlen, aadlen, taglen, ptlen;
    bool fail, has_pt;
};

static const char *
dir(void)
{
    const char *d = getenv("CONNHUB_GCM_VECTORS");
    return d && *d ? d : DEFAULT_DIR;
}

static size_t
unhex(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;

    while (s[0] && s[1] && s[0] != '\n' && s[0] != '\r') {
        unsigned v;
        assert_true(n < cap);
        assert_int_equal(sscanf(s, "%2x", &v), 1);
        out[n++] = (unsigned char)v;
        s += 2;
    }
    return n;
}

/* "Name = hex" into out; true when the line is that field. */
static bool
field(const char *line, const char *name, unsigned char *out, size_t cap, size_t *len)
{
    size_t nl = strlen(name);

    if (strncmp(line, name, nl) != 0 || strncmp(line + nl, " = ", 3) != 0)
        return false;
    *len = unhex(line + nl + 3, out, cap);
    return true;
}

/* Calls check(v) for each complete record of file; returns how many. */
static size_t
each_vector(const char *file, void (*check)(const struct vec *v))
{
    char path[512], line[2 * MAX_HEX + 64];
    struct vec *v = calloc(1, sizeof(*v));
    bool in = false;
    size_t n = 0;
    FILE *f;

    assert_non_null(v);
    snprintf(path, sizeof(path), "%s/%s", dir(), file);
    f = fopen(path, "r");
    if (f == NULL)
        fail_msg("%s: cannot open (install python3-cryptography-vectors: tools/install-deps)",
                 path);
    for (;;) {
        bool eof = fgets(line, sizeof(line), f) == NULL;
        if (eof || line[0] == '\n' || line[0] == '\r' || line[0] == '[') {
            if (in && v->keylen) {
                check(v);
                n++;
            }
            in = false;
            if (eof)
                break;
            continue;
        }
        if (strncmp(line, "Count = ", 8) == 0) {
            memset(v, 0, sizeof(*v));
            in = true;
        } else if (strncmp(line, "FAIL", 4) == 0) {
            v->fail = true;
        } else if (field(line, "PT", v->pt, sizeof(v->pt), &v->ptlen)) {
            v->has_pt = true;
        } else {
            (void)(field(line, "Key", v->key, sizeof(v->key), &v->keylen) ||
                   field(line, "IV", v->iv, sizeof(v->iv), &v->ivlen) ||
                   field(line, "CT", v->ct, sizeof(v->ct), &v->ctlen) ||
                   field(line, "AAD", v->aad, sizeof(v->aad), &v->aadlen) ||
                   field(line, "Tag", v->tag, sizeof(v->tag), &v->taglen));
        }
    }
    fclose(f);
    free(v);
    return n;
}

static size_t g_used, g_valid, g_invalid;

static bool
ours(const struct vec *v)
{
    return v->keylen == AEAD_KEY_LEN && v->ivlen == AEAD_NONCE_LEN && v->taglen == AEAD_TAG_LEN;
}

static void
check_encrypt(const struct vec *v)
{
    struct aead_key k;
    unsigned char ct[MAX_HEX], tag[AEAD_TAG_LEN], pt[MAX_HEX];

    if (!ours(v))
        return;
    g_used++;
    assert_true(aead_key_init(&k, v->key));
    assert_int_equal(aead_seal(&k, v->iv, v->aad, v->aadlen, v->pt, v->ptlen, ct, tag), ERR_OK);
    assert_int_equal(v->ctlen, v->ptlen);
    if (v->ctlen)
        assert_memory_equal(ct, v->ct, v->ctlen);
    assert_memory_equal(tag, v->tag, AEAD_TAG_LEN);
    assert_int_equal(aead_open(&k, v->iv, v->aad, v->aadlen, ct, v->ctlen, tag, pt), ERR_OK);
    if (v->ptlen)
        assert_memory_equal(pt, v->pt, v->ptlen);
    aead_key_release(&k);
}

static void
check_decrypt(const struct vec *v)
{
    struct aead_key k;
    unsigned char pt[MAX_HEX];
    enum err e;

    if (!ours(v))
        return;
    g_used++;
    assert_true(aead_key_init(&k, v->key));
    memset(pt, 0xa5, sizeof(pt));
    e = aead_open(&k, v->iv, v->aad, v->aadlen, v->ct, v->ctlen, v->tag, pt);
    if (v->fail) {
        g_invalid++;
        assert_int_equal(e, ERR_CRYPTO);
        for (size_t i = 0; i < v->ctlen; i++)
            assert_int_equal(pt[i], 0); /* nothing of a forged plaintext comes out */
    } else {
        g_valid++;
        assert_true(v->has_pt);
        assert_int_equal(e, ERR_OK);
        assert_int_equal(v->ptlen, v->ctlen);
        if (v->ptlen)
            assert_memory_equal(pt, v->pt, v->ptlen);
    }
    aead_key_release(&k);
}

/* CRY-016 */
static void
cry_016_nist_gcm_encrypt_vectors(void **state)
{
    size_t all;

    (void)state;
    g_used = 0;
    all = each_vector("gcmEncryptExtIV256.rsp", check_encrypt);
    printf("    gcmEncryptExtIV256.rsp: %zu of %zu cases are 96-bit IV, 128-bit tag\n", g_used,
           all);
    assert_true(g_used >= 300); /* 375 of the file's 7,875 cases are ours */
}

/* CRY-016 */
static void
cry_016_nist_gcm_decrypt_vectors(void **state)
{
    size_t all;

    (void)state;
    g_used = g_valid = g_invalid = 0;
    all = each_vector("gcmDecrypt256.rsp", check_decrypt);
    printf("    gcmDecrypt256.rsp: %zu of %zu cases used: %zu valid opened, %zu forged refused\n",
           g_used, all, g_valid, g_invalid);
    assert_true(g_valid >= 50);
    assert_true(g_invalid >= 20);
}

/* Round trips at the edges, and one flipped bit anywhere (nonce, AAD,
 * ciphertext, tag) refuses the value; past AEAD_MAX_LEN is refused. */
static void
aead_tamper_and_limits(void **state)
{
    static const unsigned char key[AEAD_KEY_LEN] = {1, 2, 3};
    unsigned char nonce[AEAD_NONCE_LEN] = {9}, tag[AEAD_TAG_LEN], ct[32], pt[32];
    const char aad[] = "ws|connection|c1|auth.token", msg[] = "a secret value";
    struct aead_key k;
    size_t n = sizeof(msg) - 1;

    (void)state;
    assert_true(aead_key_init(&k, key));
    /* empty plaintext and AAD, with NULL buffers */
    assert_int_equal(aead_seal(&k, nonce, NULL, 0, NULL, 0, NULL, tag), ERR_OK);
    assert_int_equal(aead_open(&k, nonce, NULL, 0, NULL, 0, tag, NULL), ERR_OK);
    tag[0] ^= 1;
    assert_int_equal(aead_open(&k, nonce, NULL, 0, NULL, 0, tag, NULL), ERR_CRYPTO);

    assert_int_equal(aead_seal(&k, nonce, aad, sizeof(aad) - 1, msg, n, ct, tag), ERR_OK);
    assert_int_equal(aead_open(&k, nonce, aad, sizeof(aad) - 1, ct, n, tag, pt), ERR_OK);
    assert_memory_equal(pt, msg, n);
    for (int part = 0; part < 4; part++) {
        unsigned char nn[AEAD_NONCE_LEN], aa[sizeof(aad)], cc[32], tt[AEAD_TAG_LEN];
        memcpy(nn, nonce, sizeof(nn));
        memcpy(aa, aad, sizeof(aa));
        memcpy(cc, ct, n);
        memcpy(tt, tag, sizeof(tt));
        (part == 0 ? nn : part == 1 ? aa : part == 2 ? cc : tt)[3] ^= 0x10;
        memset(pt, 0x5a, sizeof(pt));
        assert_int_equal(aead_open(&k, nn, aa, sizeof(aad) - 1, cc, n, tt, pt), ERR_CRYPTO);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(pt[i], 0);
    }
    /* AEAD_MAX_LEN + 1 is refused before any work (no buffer is touched) */
    assert_int_equal(aead_seal(&k, nonce, NULL, 0, msg, AEAD_MAX_LEN + 1, ct, tag), ERR_CRYPTO);
    assert_int_equal(aead_open(&k, nonce, aad, AEAD_MAX_LEN + 1, ct, n, tag, pt), ERR_CRYPTO);
    aead_key_release(&k);
    aead_key_release(&k); /* twice is fine */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cry_016_nist_gcm_encrypt_vectors),
        cmocka_unit_test(cry_016_nist_gcm_decrypt_vectors),
        cmocka_unit_test(aead_tamper_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
