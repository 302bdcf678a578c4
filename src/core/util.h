/*
 * util: small helpers every module uses: clocks, randomness, opaque ids,
 * hex and base64 (OpenSSL does the coding), and string checks.
 */
#ifndef CONNHUB_CORE_UTIL_H
#define CONNHUB_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

int64_t now_ms(void);  /* wall clock, ms since the epoch */
int64_t mono_ms(void); /* monotonic */
/* The allocator behind this process's malloc: "mimalloc X.Y.Z" when mimalloc
 * replaced it (the release build links it; LD_PRELOAD counts too), else
 * "system malloc". Looked up at run time, so builds without it (ASan,
 * valgrind) share the code. out: ALLOC_NAME_MAX bytes. */
#define ALLOC_NAME_MAX 32
void alloc_name(char out[ALLOC_NAME_MAX]);
void iso8601_ms(int64_t ms, char out[32]);

/* Fills p with n cryptographically random bytes (fails closed). */
enum err rand_bytes(void *p, size_t n) WARN_UNUSED;

/* An opaque id: prefix + '_' + 26 lower-case base32 chars (128 random bits),
 * e.g. "conn_3f9k...". out must hold ID_MAX bytes. */
#define ID_MAX 48
enum err id_new(const char *prefix, char out[ID_MAX]) WARN_UNUSED;

void hex_encode(const unsigned char *p, size_t n, char *out); /* out: 2n+1 */
/* Decodes exactly outlen bytes from 2*outlen hex digits; false otherwise. */
bool hex_decode(const char *s, size_t slen, unsigned char *out, size_t outlen);

/* Standard base64 with padding. out needs 4*((n+2)/3)+1 bytes. */
size_t b64_encode(const unsigned char *p, size_t n, char *out);
/* Strict standard base64 (padding required, no whitespace). Returns the
 * decoded length, or -1. out needs 3*(slen/4) bytes. */
long b64_decode(const char *s, size_t slen, unsigned char *out);

bool str_is_utf8(const char *s, size_t n);
/* Do [ and { (outside strings) nest deeper than limit in this JSON text?
 * Counted without parsing, so that 100,000 '[' are refused before a parser
 * recurses; *at (when not NULL) is then the offset of the first one too deep. */
bool json_text_too_deep(const char *p, size_t n, int limit, size_t *at);
/* The value of hex digit c, or -1. */
int hex_digit(char c);
bool str_has_ctl(const char *s); /* any byte < 0x20 or 0x7f */
/* Lower-case [a-z0-9_], 1..max chars, starts with a letter or digit. */
bool str_is_slug(const char *s, size_t max);
char *xstrdup(const char *s); /* NULL in, NULL out; aborts on OOM */
void *xcalloc(size_t n, size_t sz);
void *xmalloc(size_t n);           /* aborts on OOM */
void *xrealloc(void *p, size_t n); /* aborts on OOM */
/* Room for more elements in an array of *cap elements of elem bytes: the
 * array reallocated to twice *cap (first when empty), *cap updated; NULL
 * (the array and *cap untouched) when memory runs out or the size would
 * overflow. For arrays whose owner reports out-of-memory instead of
 * aborting. */
void *array_grow(void *arr, size_t *cap, size_t elem, size_t first);

/* A single-thread free list of zeroed blocks of one size (the first get
 * fixes it). Blocks of 1 KB and more are the ones glibc serves through its
 * slow path (large bins, consolidating small free chunks first), which gets
 * slower as the heap fragments under thousands of calls in flight; reusing
 * the blocks of finished calls skips it. At most BLK_POOL_MAX are kept. */
#define BLK_POOL_MAX 64
struct blk_pool {
    size_t size;
    size_t n;
    void *free[BLK_POOL_MAX];
};
void *blk_pool_get(struct blk_pool *p, size_t size);         /* zeroed; aborts on OOM */
void blk_pool_put(struct blk_pool *p, void *b, size_t size); /* NULL is fine */
void blk_pool_drain(struct blk_pool *p);
bool parse_u64(const char *s, uint64_t max, uint64_t *out);

#ifdef CONNHUB_TEST
/* Test builds only: the process dies at once (SIGKILL, as from kill -9) when
 * $CONNHUB_TEST_CRASH equals name; a crash point in the code is where a test
 * kills the server (OAUTH-024). Release builds compile it away. */
void test_crash_point(const char *name);
#else
#define test_crash_point(name) ((void)0)
#endif

#endif
