#include "core/util.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/banned.h"

int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
alloc_name(char out[ALLOC_NAME_MAX])
{
    /* mimalloc's override makes malloc an alias of mi_malloc: the same address
     * proves that it is the one in use, not merely loaded. */
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    void *mi = dlsym(RTLD_DEFAULT, "mi_malloc");
    int (*ver)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "mi_version");

    if (m != NULL && m == mi && ver != NULL) {
        int v = ver(); /* 209 is 2.0.9 */
        snprintf(out, ALLOC_NAME_MAX, "mimalloc %d.%d.%d", v / 100, v / 10 % 10, v % 10);
    } else {
        snprintf(out, ALLOC_NAME_MAX, "system malloc");
    }
}

int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
iso8601_ms(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char tmp[96];

    gmtime_r(&t, &tm);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    snprintf(out, 32, "%.31s", tmp);
}

enum err
rand_bytes(void *p, size_t n)
{
    if (n > 0x7fffffff || RAND_bytes(p, (int)n) != 1)
        return ERR_CRYPTO;
    return ERR_OK;
}

enum err
id_new(const char *prefix, char out[ID_MAX])
{
    static const char alpha[] = "0123456789abcdefghjkmnpqrstvwxyz";
    unsigned char r[17];
    size_t n;
    unsigned acc = 0;
    int bits = 0;
    size_t ri = 0;

    if (rand_bytes(r, 16) != ERR_OK)
        return ERR_CRYPTO;
    r[16] = 0;
    n = (size_t)snprintf(out, ID_MAX, "%s_", prefix);
    if (n + 27 > ID_MAX)
        return ERR_INTERNAL;
    for (int i = 0; i < 26; i++) {
        if (bits < 5) {
            acc = (acc << 8) | r[ri++];
            bits += 8;
        }
        out[n++] = alpha[(acc >> (bits - 5)) & 31];
        bits -= 5;
    }
    out[n] = '\0';
    return ERR_OK;
}

void
hex_encode(const unsigned char *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int
hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool
hex_decode(const char *s, size_t slen, unsigned char *out, size_t outlen)
{
    if (slen != 2 * outlen)
        return false;
    for (size_t i = 0; i < outlen; i++) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

size_t
b64_encode(const unsigned char *p, size_t n, char *out)
{
    if (n == 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

long
b64_decode(const char *s, size_t slen, unsigned char *out)
{
    size_t pad = 0;
    int n;

    if (slen == 0)
        return 0;
    if (slen % 4 != 0 || slen > 0x7ffffff0)
        return -1;
    for (size_t i = 0; i < slen; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/';
        if (c == '=' && i >= slen - 2) {
            pad++;
            continue;
        }
        if (!ok || pad > 0)
            return -1;
    }
    n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)slen);
    if (n < 0)
        return -1;
    return (long)n - (long)pad;
}

bool
str_is_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        size_t k;
        unsigned cp;
        uint64_t w;
        if (c < 0x80) {
            /* ASCII runs 8 bytes at a time (specs are mostly ASCII) */
            while (i + 8 <= n && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ull) == 0))
                i += 8;
            if (i < n && p[i] < 0x80)
                i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + k >= n)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

bool
str_has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

bool
str_is_slug(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    if (s[0] == '_')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

char *
xstrdup(const char *s)
{
    char *p;

    if (s == NULL)
        return NULL;
    p = strdup(s);
    if (p == NULL)
        abort();
    return p;
}

void *
xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);

    if (p == NULL)
        abort();
    return p;
}

bool
json_text_too_deep(const char *p, size_t n, int limit, size_t *at)
{
    int depth = 0;
    bool in_str = false;

    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) {
                if (at)
                    *at = i;
                return true;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return false;
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        abort();
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        abort();
    return q;
}

void *
array_grow(void *arr, size_t *cap, size_t elem, size_t first)
{
    size_t n = *cap > SIZE_MAX / 2 ? 0 : *cap ? *cap * 2 : first;
    void *q;

    if (n == 0 || elem == 0 || n > SIZE_MAX / elem)
        return NULL;
    q = realloc(arr, n * elem);
    if (q != NULL)
        *cap = n;
    return q;
}

void *
blk_pool_get(struct blk_pool *p, size_t size)
{
    if (p->n == 0 || p->size != size)
        return xcalloc(1, size);
    p->n--;
    memset(p->free[p->n], 0, size);
    return p->free[p->n];
}

void
blk_pool_put(struct blk_pool *p, void *b, size_t size)
{
    if (b == NULL)
        return;
    if (p->n == 0)
        p->size = size;
    if (p->size != size || p->n == BLK_POOL_MAX) {
        free(b);
        return;
    }
    p->free[p->n++] = b;
}

void
blk_pool_drain(struct blk_pool *p)
{
    while (p->n > 0)
        free(p->free[--p->n]);
}

bool
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (max - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

#ifdef CONNHUB_TEST
void
test_crash_point(const char *name)
{
    const char *want = getenv("CONNHUB_TEST_CRASH");

    if (want != NULL && strcmp(want, name) == 0)
        raise(SIGKILL);
}
#endif
