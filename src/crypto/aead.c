/* aead: AES-256-GCM through OpenSSL EVP with per-key templates; see aead.h. */
#include "crypto/aead.h"

#include <string.h>

#include <openssl/crypto.h>

#include "core/banned.h"

bool
aead_key_init(struct aead_key *k, const unsigned char key[AEAD_KEY_LEN])
{
    k->seal = EVP_CIPHER_CTX_new();
    k->open = EVP_CIPHER_CTX_new();
    if (k->seal != NULL && k->open != NULL &&
        EVP_EncryptInit_ex(k->seal, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(k->seal, EVP_CTRL_GCM_SET_IVLEN, AEAD_NONCE_LEN, NULL) == 1 &&
        EVP_EncryptInit_ex(k->seal, NULL, NULL, key, NULL) == 1 &&
        EVP_DecryptInit_ex(k->open, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(k->open, EVP_CTRL_GCM_SET_IVLEN, AEAD_NONCE_LEN, NULL) == 1 &&
        EVP_DecryptInit_ex(k->open, NULL, NULL, key, NULL) == 1)
        return true;
    aead_key_release(k);
    return false;
}

void
aead_key_release(struct aead_key *k)
{
    EVP_CIPHER_CTX_free(k->seal);
    EVP_CIPHER_CTX_free(k->open);
    k->seal = k->open = NULL;
}

/* A context copied from tmpl with the nonce set, or NULL. */
static EVP_CIPHER_CTX *
ctx_from(const EVP_CIPHER_CTX *tmpl, const unsigned char *nonce, bool enc)
{
    EVP_CIPHER_CTX *ctx = tmpl ? EVP_CIPHER_CTX_new() : NULL;

    if (ctx == NULL || EVP_CIPHER_CTX_copy(ctx, tmpl) != 1 ||
        (enc ? EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce)
             : EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce)) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

enum err
aead_seal(const struct aead_key *k, const unsigned char nonce[AEAD_NONCE_LEN], const void *aad,
          size_t aadlen, const void *pt, size_t n, unsigned char *ct,
          unsigned char tag[AEAD_TAG_LEN])
{
    EVP_CIPHER_CTX *ctx;
    unsigned char end[AEAD_TAG_LEN]; /* GCM's final writes nothing; a place for an empty ct */
    int len = 0, fin = 0;
    bool ok;

    if (n > AEAD_MAX_LEN || aadlen > AEAD_MAX_LEN)
        return ERR_CRYPTO;
    ctx = ctx_from(k->seal, nonce, true);
    ok = ctx != NULL &&
         (aadlen == 0 || EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aadlen) == 1) &&
         (n == 0 || EVP_EncryptUpdate(ctx, ct, &len, pt, (int)n) == 1) &&
         EVP_EncryptFinal_ex(ctx, n == 0 ? end : ct + len, &fin) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? ERR_OK : ERR_CRYPTO;
}

enum err
aead_open(const struct aead_key *k, const unsigned char nonce[AEAD_NONCE_LEN], const void *aad,
          size_t aadlen, const unsigned char *ct, size_t n, const unsigned char tag[AEAD_TAG_LEN],
          void *pt)
{
    EVP_CIPHER_CTX *ctx;
    unsigned char t[AEAD_TAG_LEN], end[AEAD_TAG_LEN];
    int len = 0, fin = 0;
    bool ok;

    if (n > AEAD_MAX_LEN || aadlen > AEAD_MAX_LEN)
        return ERR_CRYPTO;
    memcpy(t, tag, sizeof(t));
    ctx = ctx_from(k->open, nonce, false);
    ok = ctx != NULL &&
         (aadlen == 0 || EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aadlen) == 1) &&
         (n == 0 || EVP_DecryptUpdate(ctx, pt, &len, ct, (int)n) == 1) &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN, t) == 1 &&
         EVP_DecryptFinal_ex(ctx, n == 0 ? end : (unsigned char *)pt + len, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok && n > 0)
        OPENSSL_cleanse(pt, n);
    return ok ? ERR_OK : ERR_CRYPTO;
}
