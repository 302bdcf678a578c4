/* password: scrypt hashes with their salt and cost, verified in constant time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/limits.h"
#include "core/util.h"
#include "session/session.h"
#include "core/banned.h"

/* Accepted cost range when reading a stored hash (a tampered row must not make a sign-in take
 * gigabytes). */
#define SCRYPT_LOG2_N_MIN 10
#define SCRYPT_LOG2_N_MAX 20
#define SCRYPT_R_MAX 32
#define SCRYPT_P_MAX 4
#define SCRYPT_MAXMEM ((uint64_t)1 << 30)

static enum err
derive(const char *pw, const unsigned char *salt, size_t saltlen, unsigned ln, unsigned r,
       unsigned p, unsigned char *out, size_t outlen, struct errinfo *ei)
{
    if (EVP_PBE_scrypt(pw, strlen(pw), salt, saltlen, (uint64_t)1 << ln, r, p, SCRYPT_MAXMEM, out,
                       outlen) != 1)
        return err_set(ei, ERR_CRYPTO, "hash_failed", NULL, "password hashing failed");
    return ERR_OK;
}

enum err
password_hash(const char *pw, char out[PASSWORD_ENCODED_MAX], struct errinfo *ei)
{
    unsigned char salt[PASSWORD_SALT_LEN], dk[PASSWORD_HASH_LEN];
    char salt_hex[2 * PASSWORD_SALT_LEN + 1], dk_hex[2 * PASSWORD_HASH_LEN + 1];
    size_t n = pw ? strlen(pw) : 0;
    enum err e;

    if (n < PASSWORD_MIN_LEN || n > PASSWORD_MAX_LEN)
        return err_set(ei, ERR_INVALID, "invalid_password", "password",
                       "a password is %d to %d characters", PASSWORD_MIN_LEN, PASSWORD_MAX_LEN);
    if (rand_bytes(salt, sizeof(salt)) != ERR_OK)
        return err_set(ei, ERR_CRYPTO, "rng_failed", NULL, "random number generator failed");
    e = derive(pw, salt, sizeof(salt), PASSWORD_SCRYPT_LOG2_N, PASSWORD_SCRYPT_R, PASSWORD_SCRYPT_P,
               dk, sizeof(dk), ei);
    if (e == ERR_OK) {
        hex_encode(salt, sizeof(salt), salt_hex);
        hex_encode(dk, sizeof(dk), dk_hex);
        snprintf(out, PASSWORD_ENCODED_MAX, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", PASSWORD_SCRYPT_LOG2_N,
                 PASSWORD_SCRYPT_R, PASSWORD_SCRYPT_P, salt_hex, dk_hex);
    }
    OPENSSL_cleanse(dk, sizeof(dk));
    OPENSSL_cleanse(dk_hex, sizeof(dk_hex));
    return e;
}

/* Reads "name=<number>" up to the next sep; advances *s past sep. */
static bool
param(const char **s, const char *name, char sep, unsigned max, unsigned *out)
{
    size_t nl = strlen(name);
    const char *end;
    char num[8];
    uint64_t v;

    if (strncmp(*s, name, nl) != 0 || (*s)[nl] != '=')
        return false;
    *s += nl + 1;
    end = strchr(*s, sep);
    if (end == NULL || end == *s || (size_t)(end - *s) >= sizeof(num))
        return false;
    memcpy(num, *s, (size_t)(end - *s));
    num[end - *s] = '\0';
    if (!parse_u64(num, max, &v))
        return false;
    *out = (unsigned)v;
    *s = end + 1;
    return true;
}

/* "$scrypt$ln=15,r=8,p=1$<salt hex>$<hash hex>" */
static bool
parse_encoded(const char *s, unsigned *ln, unsigned *r, unsigned *p, unsigned char *salt,
              unsigned char *dk)
{
    const char *dollar;

    if (s == NULL || strncmp(s, "$scrypt$", 8) != 0)
        return false;
    s += 8;
    if (!param(&s, "ln", ',', SCRYPT_LOG2_N_MAX, ln) || !param(&s, "r", ',', SCRYPT_R_MAX, r) ||
        !param(&s, "p", '$', SCRYPT_P_MAX, p))
        return false;
    if (*ln < SCRYPT_LOG2_N_MIN || *r == 0 || *p == 0)
        return false;
    dollar = strchr(s, '$');
    return dollar && hex_decode(s, (size_t)(dollar - s), salt, PASSWORD_SALT_LEN) &&
           hex_decode(dollar + 1, strlen(dollar + 1), dk, PASSWORD_HASH_LEN);
}

enum err
password_verify(const char *pw, const char *encoded, bool *ok, struct errinfo *ei)
{
    unsigned ln = 0, r = 0, p = 0;
    unsigned char salt[PASSWORD_SALT_LEN], want[PASSWORD_HASH_LEN], got[PASSWORD_HASH_LEN];
    enum err e;

    *ok = false;
    if (!parse_encoded(encoded, &ln, &r, &p, salt, want))
        return err_set(ei, ERR_INVALID, "invalid_hash", NULL, "not a password hash");
    if (pw == NULL || strlen(pw) > PASSWORD_MAX_LEN)
        return ERR_OK; /* never matches; not hashed */
    e = derive(pw, salt, sizeof(salt), ln, r, p, got, sizeof(got), ei);
    if (e == ERR_OK)
        *ok = CRYPTO_memcmp(got, want, sizeof(got)) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return e;
}
