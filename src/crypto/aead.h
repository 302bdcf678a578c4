/*
 * aead: AES-256-GCM with a 96-bit nonce and a 128-bit tag, the one cipher
 * the vault seals with. A key's contexts (key schedule set, no nonce) are
 * made once by aead_key_init and copied for each seal/open, which costs a
 * fraction of a cipher fetch plus key expansion; after init a key is
 * read-only, so threads may use it at once. The key schedule lives in
 * OpenSSL's heap for the key's lifetime (core dumps are off: secret.c).
 */
#ifndef CONNHUB_CRYPTO_AEAD_H
#define CONNHUB_CRYPTO_AEAD_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "core/err.h"

#define AEAD_KEY_LEN 32
#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN 16
/* Largest plaintext, AAD or ciphertext one call takes (OpenSSL counts in int). */
#define AEAD_MAX_LEN ((size_t)1 << 30)

struct aead_key {
    EVP_CIPHER_CTX *seal, *open; /* templates */
};

/* false when OpenSSL cannot give AES-256-GCM (k is left released). */
bool aead_key_init(struct aead_key *k, const unsigned char key[AEAD_KEY_LEN]);
void aead_key_release(struct aead_key *k);

/* ct (n bytes) and tag from pt (n bytes); ERR_CRYPTO on failure. */
enum err aead_seal(const struct aead_key *k, const unsigned char nonce[AEAD_NONCE_LEN],
                   const void *aad, size_t aadlen, const void *pt, size_t n, unsigned char *ct,
                   unsigned char tag[AEAD_TAG_LEN]) WARN_UNUSED;
/* pt (n bytes) from ct; ERR_CRYPTO when the tag does not match (pt is then
 * zeroed, never partly returned). */
enum err aead_open(const struct aead_key *k, const unsigned char nonce[AEAD_NONCE_LEN],
                   const void *aad, size_t aadlen, const unsigned char *ct, size_t n,
                   const unsigned char tag[AEAD_TAG_LEN], void *pt) WARN_UNUSED;

#endif
