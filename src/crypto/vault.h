/*
 * vault: seals and opens every secret connhub stores, with AES-256-GCM
 * (OpenSSL EVP). Nothing else in connhub touches key material.
 *
 * Keys: INTEGRATION_ENCRYPTION_KEY holds the primary 32-byte master key
 * (base64 or hex); INTEGRATION_ENCRYPTION_KEY_PREVIOUS holds older ones
 * (comma-separated) that still open old values. From each master key the
 * vault derives an encryption key (HKDF-SHA256, info "connhub/secret-key/v1"),
 * a fingerprint key (info "connhub/fingerprint/v1", vault_fingerprint) and a
 * 4-byte key id (HMAC-SHA256(master, "connhub/key-id/v1")), so a sealed
 * value names its key without revealing anything about it.
 *
 * Sealed format (CRY-006):  0x01 | key id (4, big-endian) | nonce (12, random)
 *                           | ciphertext | tag (16)
 * Associated data binds a value to where it lives: length-prefixed
 * ("connhub/secret/v1", version, key id, workspace id, kind, row id, field), so
 * a ciphertext copied to another row, workspace, owner or field fails to open.
 *
 * Retiring a key (CRY-024, like Vault's min_decryption_version): key ids in
 * INTEGRATION_ENCRYPTION_KEY_RETIRED (comma-separated, 8 hex digits) stay
 * configured, so start-up still counts what they seal, but every value sealed
 * under them is refused with "credential_key_retired" and counted
 * (vault_retired_refusal_count, shown by /metrics). Retire a key after rekey.
 *
 * Thread-safe: a struct vault is immutable once built (vault_retire runs
 * before it is shared).
 */
#ifndef CONNHUB_CRYPTO_VAULT_H
#define CONNHUB_CRYPTO_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "crypto/secret.h"

#define VAULT_FORMAT_V1 0x01
#define VAULT_HEADER_LEN (1 + 4 + 12)
#define VAULT_TAG_LEN 16
#define VAULT_OVERHEAD (VAULT_HEADER_LEN + VAULT_TAG_LEN)

struct vault;

/* Where a sealed value lives. kind: "connection", "oauth_provider", ...;
 * row_id: the owning row's id; field: which credential ("auth.token"). */
struct vault_aad {
    int64_t workspace_id; /* 0 for platform-level secrets */
    const char *kind;
    const char *row_id;
    const char *field;
};

/* Parses a 32-byte key written as base64 (standard or url-safe, padding
 * optional) or 64 hex digits. Refuses other lengths and keys whose bytes are
 * all the same. The message says what is wrong, never the key. */
enum err vault_parse_key(const char *text, unsigned char out[32], const char *field,
                         struct errinfo *ei) WARN_UNUSED;

/* Builds a vault from a primary key and nprev previous keys. Refuses a
 * keyring in which two different keys share a key id (CRY-030). */
enum err vault_new(const unsigned char primary[32], const unsigned char (*prev)[32], size_t nprev,
                   struct vault **out, struct errinfo *ei) WARN_UNUSED;

/* Reads INTEGRATION_ENCRYPTION_KEY and INTEGRATION_ENCRYPTION_KEY_PREVIOUS
 * and scrubs their values from the environment (CRY-027). With no primary key:
 * if dev_key_path is set (serve --dev), that file is read, or created with a
 * fresh random key (mode 0600) and *dev_created set; else ERR_INVALID. */
enum err vault_from_env(const char *dev_key_path, struct vault **out, bool *dev_created,
                        struct errinfo *ei) WARN_UNUSED;

void vault_free(struct vault *v); /* wipes keys; NULL is fine */

/* Marks configured, non-primary key key_id retired. ERR_INVALID for the
 * primary or a key the vault does not have. Start-up only. */
enum err vault_retire(struct vault *v, uint32_t key_id, struct errinfo *ei) WARN_UNUSED;
bool vault_key_retired(const struct vault *v, uint32_t key_id);

uint32_t vault_primary_id(const struct vault *v);
bool vault_has_key(const struct vault *v, uint32_t key_id);
size_t vault_key_count(const struct vault *v);

/* Seals n bytes under the primary key. On ERR_OK *out (malloc'd, caller
 * frees) holds n + VAULT_OVERHEAD bytes. RNG failure fails closed. */
enum err vault_seal(const struct vault *v, const struct vault_aad *aad, const void *pt, size_t n,
                    unsigned char **out, size_t *outlen, struct errinfo *ei) WARN_UNUSED;

/* Opens a sealed value into *out (caller calls secret_release). Any mismatch
 * (format, unknown key, tampering, wrong place) is ERR_CRYPTO with code
 * "credential_undecryptable"; a retired key, "credential_key_retired". No
 * partial plaintext is ever released. */
enum err vault_open(const struct vault *v, const struct vault_aad *aad, const unsigned char *ct,
                    size_t n, struct secret *out, struct errinfo *ei) WARN_UNUSED;

/* The key id a sealed value names, or false when it is too short or of an
 * unknown format. */
bool vault_sealed_key_id(const unsigned char *ct, size_t n, uint32_t *key_id);

/* A keyed fingerprint of data that may carry a secret (a request body with
 * a credential in it): HMAC-SHA-256 under a key derived from the primary
 * master key (HKDF, info "connhub/fingerprint/v1"). Kept where a plain hash
 * would let whoever reads the database test guesses of a weak credential
 * against it. ERR_CRYPTO when HMAC fails. */
enum err vault_fingerprint(const struct vault *v, const void *data, size_t n,
                           unsigned char out[32]) WARN_UNUSED;
/* Is fp data's fingerprint under any configured key (the primary or a
 * previous one: a fingerprint kept before a key rotation still matches)? */
bool vault_fingerprint_matches(const struct vault *v, const void *data, size_t n,
                               const unsigned char fp[32]);

/* Process-wide count of successful vault_open() calls (metrics, CRY-026). */
uint64_t vault_open_count(void);
/* Process-wide count of values refused because their key is retired (CRY-024). */
uint64_t vault_retired_refusal_count(void);

#endif
