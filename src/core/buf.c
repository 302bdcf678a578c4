#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/banned.h"

void
buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->max = max;
}

static enum err
buf_reserve(struct buf *b, size_t extra)
{
    size_t need, n;
    char *p;

    if (extra > b->max || b->len > b->max - extra)
        return ERR_TOO_LARGE;
    need = b->len + extra + 1;
    if (need <= b->alloc)
        return ERR_OK;
    n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > ((size_t)-1) / 2 ? need : n * 2;
    p = realloc(b->data, n);
    if (p == NULL)
        return ERR_NOMEM;
    b->data = p;
    b->alloc = n;
    return ERR_OK;
}

enum err
buf_append(struct buf *b, const void *p, size_t n)
{
    enum err e = buf_reserve(b, n);

    if (e != ERR_OK)
        return e;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ERR_OK;
}

enum err
buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

enum err
buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

enum err
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    enum err e;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ERR_INTERNAL;
    e = buf_reserve(b, (size_t)n);
    if (e != ERR_OK)
        return e;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ERR_OK;
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *
buf_take(struct buf *b, size_t *len)
{
    char *p = b->data;

    if (p == NULL)
        p = calloc(1, 1);
    if (len)
        *len = b->data ? b->len : 0;
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    return p;
}

void
buf_release(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}

void
buf_wipe_release(struct buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->alloc);
    buf_release(b);
}
