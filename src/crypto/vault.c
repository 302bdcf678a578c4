#include "crypto/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "crypto/aead.h"
#include "core/banned.h"

#define NONCE_LEN AEAD_NONCE_LEN
_Static_assert(VAULT_TAG_LEN == AEAD_TAG_LEN, "the vault format's tag is the cipher's");
_Static_assert(VAULT_HEADER_LEN == 1 + 4 + AEAD_NONCE_LEN, "version, key id, nonce");
#define AAD_LABEL "connhub/secret/v1"

struct vkey {
    uint32_t id;
    bool retired;          /* configured, but values under it are refused (CRY-024) */
    unsigned char enc[32]; /* HKDF-derived AES-256 key */
    unsigned char fp[32];  /* HKDF-derived key of vault_fingerprint */
    struct aead_key aead;  /* the cipher with enc set (aead.h) */
};

struct vault {
    struct vkey keys[1 + VAULT_MAX_PREVIOUS_KEYS]; /* keys[0] is the primary */
    size_t nkeys;
};

static atomic_uint_fast64_t g_opens;
static atomic_uint_fast64_t g_retired_refusals;

uint64_t
vault_open_count(void)
{
    return atomic_load(&g_opens);
}

uint64_t
vault_retired_refusal_count(void)
{
    return atomic_load(&g_retired_refusals);
}

static bool
b64_any_decode(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
    char tmp[64];
    unsigned char dec[48];
    long k;
    size_t m = 0;

    if (n > 44 || n < 42)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        tmp[m++] = (char)(c == '-' ? '+' : c == '_' ? '/' : c);
    }
    while (m % 4 != 0)
        tmp[m++] = '=';
    k = b64_decode(tmp, m, dec);
    if (k < 0 || (size_t)k > sizeof(dec))
        return false;
    if (k == 32)
        memcpy(out, dec, 32);
    *outlen = (size_t)k;
    OPENSSL_cleanse(dec, sizeof(dec));
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return true;
}

enum err
vault_parse_key(const char *text, unsigned char out[32], const char *field, struct errinfo *ei)
{
    size_t n, got = 0;
    bool same = true;

    if (text == NULL || text[0] == '\0')
        return err_set(ei, ERR_INVALID, "key_missing", field, "%s is empty", field);
    n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    if (n == 64 && hex_decode(text, n, out, 32)) {
        got = 32;
    } else if (!b64_any_decode(text, n, out, &got)) {
        return err_set(ei, ERR_INVALID, "key_malformed", field,
                       "%s must be 32 bytes written as 64 hex digits or base64 (44 characters); "
                       "got %zu characters that are neither",
                       field, n);
    }
    if (got != 32) {
        return err_set(ei, ERR_INVALID, "key_wrong_length", field,
                       "%s must decode to exactly 32 bytes; it decodes to %zu", field, got);
    }
    for (int i = 1; i < 32; i++)
        same = same && out[i] == out[0];
    if (same) {
        OPENSSL_cleanse(out, 32);
        return err_set(ei, ERR_INVALID, "key_weak", field,
                       "%s has all 32 bytes equal; generate one with: openssl rand -base64 32",
                       field);
    }
    return ERR_OK;
}

static enum err
derive(const unsigned char master[32], struct vkey *k)
{
    unsigned char mac[32];
    unsigned int maclen = 0;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM params[4];
    enum err e = ERR_CRYPTO;
    static const char id_label[] = "connhub/key-id/v1";
    static const char enc_label[] = "connhub/secret-key/v1";
    static const char fp_label[] = "connhub/fingerprint/v1";

    if (HMAC(EVP_sha256(), master, 32, (const unsigned char *)id_label, sizeof(id_label) - 1, mac,
             &maclen) == NULL)
        goto out;
    k->id = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 | (uint32_t)mac[2] << 8 | mac[3];
    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (kctx == NULL)
        goto out;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master, 32);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)enc_label,
                                                  sizeof(enc_label) - 1);
    params[3] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, k->enc, sizeof(k->enc), params) != 1)
        goto out;
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)fp_label,
                                                  sizeof(fp_label) - 1);
    if (EVP_KDF_derive(kctx, k->fp, sizeof(k->fp), params) != 1)
        goto out;
    e = ERR_OK;
out:
    OPENSSL_cleanse(mac, sizeof(mac));
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return e;
}

enum err
vault_new(const unsigned char primary[32], const unsigned char (*prev)[32], size_t nprev,
          struct vault **out, struct errinfo *ei)
{
    struct vault *v;
    enum err e = ERR_OK;

    if (nprev > VAULT_MAX_PREVIOUS_KEYS)
        return err_set(ei, ERR_INVALID, "too_many_keys", "INTEGRATION_ENCRYPTION_KEY_PREVIOUS",
                       "at most %d previous keys", VAULT_MAX_PREVIOUS_KEYS);
    v = OPENSSL_secure_zalloc(sizeof(*v));
    if (v == NULL)
        return ERR_NOMEM;
    for (size_t i = 0; i <= nprev && e == ERR_OK; i++) {
        const unsigned char *m = i == 0 ? primary : prev[i - 1];
        struct vkey k = {0};
        bool dup = false;
        if (derive(m, &k) != ERR_OK) {
            e = err_set(ei, ERR_CRYPTO, "kdf_failed", NULL, "key derivation failed");
            break;
        }
        for (size_t j = 0; j < v->nkeys; j++) {
            if (v->keys[j].id != k.id)
                continue;
            if (CRYPTO_memcmp(v->keys[j].enc, k.enc, 32) != 0)
                e = err_set(ei, ERR_INVALID, "key_id_collision",
                            "INTEGRATION_ENCRYPTION_KEY_PREVIOUS",
                            "two different keys share key id %08x; replace one of them", k.id);
            dup = true;
        }
        if (!dup)
            v->keys[v->nkeys++] = k;
        OPENSSL_cleanse(&k, sizeof(k));
    }
    for (size_t i = 0; i < v->nkeys && e == ERR_OK; i++)
        if (!aead_key_init(&v->keys[i].aead, v->keys[i].enc))
            e = err_set(ei, ERR_CRYPTO, "cipher_failed", NULL, "AES-256-GCM is not available");
    if (e != ERR_OK) {
        vault_free(v);
        return e;
    }
    *out = v;
    return ERR_OK;
}

void
vault_free(struct vault *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->nkeys; i++)
        aead_key_release(&v->keys[i].aead);
    OPENSSL_secure_clear_free(v, sizeof(*v));
}

static bool
fingerprint_with(const struct vkey *k, const void *data, size_t n, unsigned char out[32])
{
    unsigned int len = 0;

    return HMAC(EVP_sha256(), k->fp, sizeof(k->fp), data, n, out, &len) != NULL && len == 32;
}

enum err
vault_fingerprint(const struct vault *v, const void *data, size_t n, unsigned char out[32])
{
    return fingerprint_with(&v->keys[0], data, n, out) ? ERR_OK : ERR_CRYPTO;
}

bool
vault_fingerprint_matches(const struct vault *v, const void *data, size_t n,
                          const unsigned char fp[32])
{
    unsigned char mine[32];
    bool same = false;

    for (size_t i = 0; i < v->nkeys && !same; i++)
        same = fingerprint_with(&v->keys[i], data, n, mine) && CRYPTO_memcmp(mine, fp, 32) == 0;
    OPENSSL_cleanse(mine, sizeof(mine));
    return same;
}

uint32_t
vault_primary_id(const struct vault *v)
{
    return v->keys[0].id;
}

bool
vault_has_key(const struct vault *v, uint32_t key_id)
{
    for (size_t i = 0; i < v->nkeys; i++)
        if (v->keys[i].id == key_id)
            return true;
    return false;
}

size_t
vault_key_count(const struct vault *v)
{
    return v->nkeys;
}

bool
vault_key_retired(const struct vault *v, uint32_t key_id)
{
    for (size_t i = 0; i < v->nkeys; i++)
        if (v->keys[i].id == key_id)
            return v->keys[i].retired;
    return false;
}

enum err
vault_retire(struct vault *v, uint32_t key_id, struct errinfo *ei)
{
    if (key_id == v->keys[0].id)
        return err_set(ei, ERR_INVALID, "key_retire_primary", "INTEGRATION_ENCRYPTION_KEY_RETIRED",
                       "key %08x is the primary key; it cannot be retired", key_id);
    for (size_t i = 1; i < v->nkeys; i++) {
        if (v->keys[i].id == key_id) {
            v->keys[i].retired = true;
            return ERR_OK;
        }
    }
    return err_set(ei, ERR_INVALID, "key_retire_unknown", "INTEGRATION_ENCRYPTION_KEY_RETIRED",
                   "key %08x is not among the configured keys", key_id);
}

static void
put_be32(unsigned char *p, uint32_t x)
{
    p[0] = (unsigned char)(x >> 24);
    p[1] = (unsigned char)(x >> 16);
    p[2] = (unsigned char)(x >> 8);
    p[3] = (unsigned char)x;
}

static enum err
aad_put(struct buf *b, const void *p, size_t n)
{
    unsigned char len[4];

    put_be32(len, (uint32_t)n);
    if (buf_append(b, len, 4) != ERR_OK || buf_append(b, p, n) != ERR_OK)
        return ERR_NOMEM;
    return ERR_OK;
}

/* Length-prefixed AAD: label, header (version + key id), workspace, kind, row, field. */
static enum err
aad_encode(const struct vault_aad *a, const unsigned char *header, struct buf *b)
{
    unsigned char ws[8];
    uint64_t w = (uint64_t)a->workspace_id;
    const char *kind = a->kind ? a->kind : "";
    const char *row = a->row_id ? a->row_id : "";
    const char *field = a->field ? a->field : "";

    for (int i = 7; i >= 0; i--) {
        ws[i] = (unsigned char)w;
        w >>= 8;
    }
    buf_init(b, 16384);
    if (aad_put(b, AAD_LABEL, sizeof(AAD_LABEL) - 1) != ERR_OK || aad_put(b, header, 5) != ERR_OK ||
        aad_put(b, ws, 8) != ERR_OK || aad_put(b, kind, strlen(kind)) != ERR_OK ||
        aad_put(b, row, strlen(row)) != ERR_OK || aad_put(b, field, strlen(field)) != ERR_OK)
        return ERR_NOMEM;
    return ERR_OK;
}

enum err
vault_seal(const struct vault *v, const struct vault_aad *aad, const void *pt, size_t n,
           unsigned char **out, size_t *outlen, struct errinfo *ei)
{
    unsigned char *ct = NULL;
    struct buf a = {0};
    enum err e = ERR_CRYPTO;

    *out = NULL;
    *outlen = 0;
    if (n > MAX_SECRET_LEN * 16)
        return err_set(ei, ERR_TOO_LARGE, "secret_too_large", aad->field, "value is too large");
    ct = malloc(n + VAULT_OVERHEAD);
    if (ct == NULL)
        return ERR_NOMEM;
    ct[0] = VAULT_FORMAT_V1;
    put_be32(ct + 1, v->keys[0].id);
    if (rand_bytes(ct + 5, NONCE_LEN) != ERR_OK) {
        e = err_set(ei, ERR_CRYPTO, "rng_failed", NULL, "random number generator failed");
        goto out;
    }
    if (aad_encode(aad, ct, &a) != ERR_OK) {
        e = ERR_NOMEM;
        goto out;
    }
    if (aead_seal(&v->keys[0].aead, ct + 5, a.data, a.len, pt, n, ct + VAULT_HEADER_LEN,
                  ct + VAULT_HEADER_LEN + n) != ERR_OK) {
        e = err_set(ei, ERR_CRYPTO, "seal_failed", NULL, "encryption failed");
        goto out;
    }
    *out = ct;
    *outlen = n + VAULT_OVERHEAD;
    ct = NULL;
    e = ERR_OK;
out:
    buf_release(&a);
    free(ct);
    return e;
}

bool
vault_sealed_key_id(const unsigned char *ct, size_t n, uint32_t *key_id)
{
    if (ct == NULL || n < VAULT_OVERHEAD || ct[0] != VAULT_FORMAT_V1)
        return false;
    *key_id = (uint32_t)ct[1] << 24 | (uint32_t)ct[2] << 16 | (uint32_t)ct[3] << 8 | ct[4];
    return true;
}

enum err
vault_open(const struct vault *v, const struct vault_aad *aad, const unsigned char *ct, size_t n,
           struct secret *out, struct errinfo *ei)
{
    const struct vkey *k = NULL;
    struct buf a = {0};
    uint32_t id;
    size_t ptlen;
    enum err e;

    out->p = NULL;
    out->len = 0;
    if (!vault_sealed_key_id(ct, n, &id))
        return err_set(ei, ERR_CRYPTO, "credential_undecryptable", aad->field,
                       "stored credential is malformed");
    for (size_t i = 0; i < v->nkeys; i++)
        if (v->keys[i].id == id)
            k = &v->keys[i];
    if (k == NULL)
        return err_set(ei, ERR_CRYPTO, "credential_undecryptable", aad->field,
                       "stored credential was sealed with key %08x, which is not configured", id);
    if (k->retired) {
        atomic_fetch_add(&g_retired_refusals, 1);
        return err_set(ei, ERR_CRYPTO, "credential_key_retired", aad->field,
                       "stored credential was sealed with key %08x, which is retired: enter the "
                       "credential again (or un-retire the key and run connhub rekey)",
                       id);
    }
    ptlen = n - VAULT_OVERHEAD;
    e = secret_alloc(out, ptlen);
    if (e != ERR_OK)
        return e;
    if (aad_encode(aad, ct, &a) != ERR_OK) {
        e = ERR_NOMEM;
        goto out;
    }
    if (aead_open(&k->aead, ct + 5, a.data, a.len, ct + VAULT_HEADER_LEN, ptlen,
                  ct + VAULT_HEADER_LEN + ptlen, out->p) != ERR_OK) {
        e = err_set(ei, ERR_CRYPTO, "credential_undecryptable", aad->field,
                    "stored credential failed authentication (tampered, or moved from another "
                    "row)");
        goto out;
    }
    atomic_fetch_add(&g_opens, 1);
    e = ERR_OK;
out:
    if (e != ERR_OK)
        secret_release(out);
    buf_release(&a);
    return e;
}

/* ---- keys from the environment ---- */

static void
scrub_env(const char *name)
{
    char *v = getenv(name);

    if (v)
        OPENSSL_cleanse(v, strlen(v)); /* overwrite in place: /proc/PID/environ shows it */
    unsetenv(name);
}

static enum err
read_dev_key(const char *path, unsigned char key[32], bool *created, struct errinfo *ei)
{
    char text[80] = {0};
    unsigned char raw[32];
    char hex[65];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    enum err e;

    *created = false;
    if (fd >= 0) {
        n = read(fd, text, sizeof(text) - 1);
        close(fd);
        if (n <= 0)
            return err_set(ei, ERR_INVALID, "dev_key_unreadable", "dev key file",
                           "cannot read the development key file %s", path);
        e = vault_parse_key(text, key, "dev key file", ei);
        OPENSSL_cleanse(text, sizeof(text));
        return e;
    }
    if (errno != ENOENT)
        return err_set(ei, ERR_INVALID, "dev_key_unreadable", "dev key file",
                       "cannot open the development key file %s: %s", path, strerror(errno));
    if (rand_bytes(raw, sizeof(raw)) != ERR_OK)
        return err_set(ei, ERR_CRYPTO, "rng_failed", NULL, "random number generator failed");
    hex_encode(raw, 32, hex);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, hex, 64) != 64 || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        if (fd >= 0)
            close(fd);
        OPENSSL_cleanse(hex, sizeof(hex));
        OPENSSL_cleanse(raw, sizeof(raw));
        return err_set(ei, ERR_INVALID, "dev_key_unwritable", "dev key file",
                       "cannot create the development key file %s", path);
    }
    close(fd);
    memcpy(key, raw, 32);
    OPENSSL_cleanse(hex, sizeof(hex));
    OPENSSL_cleanse(raw, sizeof(raw));
    *created = true;
    return ERR_OK;
}

/* Calls item() on each comma- (or space-) separated item of list, stopping at
 * the first error; the working copy is wiped (the list may hold keys). */
static enum err
each_item(const char *list, enum err (*item)(const char *tok, void *arg, struct errinfo *ei),
          void *arg, struct errinfo *ei)
{
    char *copy = strdup(list), *save = NULL, *tok;
    enum err e = ERR_OK;

    if (copy == NULL)
        return ERR_NOMEM;
    for (tok = strtok_r(copy, ", \n\t", &save); tok && e == ERR_OK;
         tok = strtok_r(NULL, ", \n\t", &save))
        e = item(tok, arg, ei);
    OPENSSL_cleanse(copy, strlen(list));
    free(copy);
    return e;
}

struct prev_keys {
    unsigned char (*key)[32];
    size_t n;
};

static enum err
previous_item(const char *tok, void *arg, struct errinfo *ei)
{
    struct prev_keys *pk = arg;
    enum err e;

    if (pk->n >= VAULT_MAX_PREVIOUS_KEYS)
        return err_set(ei, ERR_INVALID, "too_many_keys", "INTEGRATION_ENCRYPTION_KEY_PREVIOUS",
                       "at most %d previous keys", VAULT_MAX_PREVIOUS_KEYS);
    e = vault_parse_key(tok, pk->key[pk->n], "INTEGRATION_ENCRYPTION_KEY_PREVIOUS", ei);
    if (e == ERR_OK)
        pk->n++;
    return e;
}

/* INTEGRATION_ENCRYPTION_KEY_RETIRED: key ids, 8 hex digits each. */
static enum err
retired_item(const char *tok, void *arg, struct errinfo *ei)
{
    unsigned char id[4];

    if (strlen(tok) != 8 || !hex_decode(tok, 8, id, 4))
        return err_set(ei, ERR_INVALID, "key_id_malformed", "INTEGRATION_ENCRYPTION_KEY_RETIRED",
                       "key ids are 8 hex digits (as the start-up log prints them)");
    return vault_retire(
        arg, (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3], ei);
}

enum err
vault_from_env(const char *dev_key_path, struct vault **out, bool *dev_created, struct errinfo *ei)
{
    unsigned char primary[32];
    unsigned char prev[VAULT_MAX_PREVIOUS_KEYS][32];
    size_t nprev = 0;
    const char *k = getenv("INTEGRATION_ENCRYPTION_KEY");
    const char *p = getenv("INTEGRATION_ENCRYPTION_KEY_PREVIOUS");
    enum err e;

    *dev_created = false;
    if (k != NULL && k[0] != '\0') {
        e = vault_parse_key(k, primary, "INTEGRATION_ENCRYPTION_KEY", ei);
    } else if (dev_key_path != NULL) {
        e = read_dev_key(dev_key_path, primary, dev_created, ei);
    } else {
        e = err_set(ei, ERR_INVALID, "key_missing", "INTEGRATION_ENCRYPTION_KEY",
                    "INTEGRATION_ENCRYPTION_KEY is not set: set it to 32 random bytes "
                    "(openssl rand -base64 32), or run serve --dev for a development key");
    }
    if (e == ERR_OK && p != NULL && p[0] != '\0') {
        struct prev_keys pk = {prev, 0};
        e = each_item(p, previous_item, &pk, ei);
        nprev = pk.n;
    }
    scrub_env("INTEGRATION_ENCRYPTION_KEY");
    scrub_env("INTEGRATION_ENCRYPTION_KEY_PREVIOUS");
    if (e == ERR_OK)
        e = vault_new(primary, (const unsigned char(*)[32])prev, nprev, out, ei);
    if (e == ERR_OK && (p = getenv("INTEGRATION_ENCRYPTION_KEY_RETIRED")) != NULL &&
        (e = each_item(p, retired_item, *out, ei)) != ERR_OK) {
        vault_free(*out);
        *out = NULL;
    }
    OPENSSL_cleanse(primary, sizeof(primary));
    OPENSSL_cleanse(prev, sizeof(prev));
    return e;
}
