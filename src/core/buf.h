/*
 * buf: a growing byte buffer with a hard cap fixed at init. Appending past the
 * cap fails with ERR_TOO_LARGE and leaves the buffer as it was. The data is
 * always NUL-terminated (the NUL is not counted in len).
 *
 * buf_release() frees; buf_wipe_release() zeroes first (for anything that may
 * have held a credential). struct buf b = {0} is a valid empty buffer with
 * cap 0 that refuses every append; release on it does nothing.
 */
#ifndef CONNHUB_CORE_BUF_H
#define CONNHUB_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/err.h"

struct buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t max; /* the cap: len never exceeds it */
};

void buf_init(struct buf *b, size_t max);
enum err buf_append(struct buf *b, const void *p, size_t n) WARN_UNUSED;
enum err buf_puts(struct buf *b, const char *s) WARN_UNUSED;
enum err buf_putc(struct buf *b, char c) WARN_UNUSED;
enum err buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3) WARN_UNUSED;
void buf_reset(struct buf *b); /* len = 0, keeps memory */
/* Hands the data to the caller (free() it) and leaves b empty. Never NULL
 * unless allocation fails. */
char *buf_take(struct buf *b, size_t *len);
void buf_release(struct buf *b);
void buf_wipe_release(struct buf *b);

#endif
