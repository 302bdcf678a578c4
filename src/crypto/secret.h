/*
 * secret: plaintext credential bytes, and nothing else, live in a struct
 * secret. Its memory comes from OpenSSL's secure heap when one was set up
 * (secret_heap_init: mlocked, excluded from core dumps) and is always wiped
 * before it is freed. struct secret s = {0} is valid; secret_release on it
 * does nothing.
 */
#ifndef CONNHUB_CRYPTO_SECRET_H
#define CONNHUB_CRYPTO_SECRET_H

#include <stddef.h>

#include "core/err.h"

struct secret {
    char *p; /* NUL-terminated for convenience; len excludes the NUL */
    size_t len;
};

/* Sets up the secure heap (size bytes, mlocked) and makes the process
 * non-dumpable with no core files. Call once at start-up; failure is
 * logged and not fatal (secrets then live in the ordinary heap, still wiped). */
void secret_heap_init(size_t size);

enum err secret_alloc(struct secret *s, size_t len) WARN_UNUSED; /* zeroed, len+1 bytes */
enum err secret_set(struct secret *s, const void *p, size_t len) WARN_UNUSED;
void secret_release(struct secret *s);

#endif
