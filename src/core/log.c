#include "core/log.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/banned.h"

#define LOG_LINE_MAX 4096
_Static_assert(LOG_LINE_MAX <= LOG_BATCH_BYTES, "a line fits in an empty batch");
_Static_assert(LOG_BATCH_BYTES <= PIPE_BUF, "a batch is one atomic write to a pipe");

static enum log_level g_level = LOG_INFO;
static int g_fd = 2;

/* The calling thread's batch (log_batch): whole lines, written together. */
static _Thread_local struct {
    char b[LOG_BATCH_BYTES];
    size_t n;
    bool on;
} t_batch;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_set_level(enum log_level lvl)
{
    g_level = lvl;
}

bool
log_enabled(enum log_level lvl)
{
    return lvl >= g_level;
}

void
log_set_fd(int fd)
{
    g_fd = fd;
}

bool
log_parse_level(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

struct line {
    char b[LOG_LINE_MAX];
    size_t n;
};

static void
put(struct line *l, const char *s, size_t n)
{
    if (l->n + n > sizeof(l->b) - 2) /* keep room for "}\n" */
        n = sizeof(l->b) - 2 - l->n;
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

static void
puts_raw(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* Decimal, without printf (one per field of every request's line). */
static void
put_int(struct line *l, long long v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        tmp[--i] = '-';
    put(l, tmp + i, sizeof(tmp) - i);
}

/* %.3f without printf for the usual case (a duration in ms). */
static void
put_fixed3(struct line *l, double v)
{
    char num[64];
    long long m;

    if (!(v >= 0.0 && v < 1e12)) { /* negative, huge, NaN */
        snprintf(num, sizeof(num), "%.3f", v);
        puts_raw(l, num);
        return;
    }
    m = (long long)(v * 1000.0 + 0.5);
    put_int(l, m / 1000);
    num[0] = '.';
    num[1] = (char)('0' + m / 100 % 10);
    num[2] = (char)('0' + m / 10 % 10);
    num[3] = (char)('0' + m % 10);
    put(l, num, 4);
}

/* The timestamp up to the second, remembered per thread. */
static _Thread_local time_t t_sec = -1;
static _Thread_local char t_prefix[48];
static _Thread_local size_t t_len;

/* JSON string with escapes; bytes >= 0x80 are copied when they form valid
 * UTF-8, else replaced by '?', so the line is always valid JSON. */
static void
put_str(struct line *l, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    char tmp[8];

    put(l, "\"", 1);
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            put(l, tmp, 2);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof(tmp), "\\u%04x", c);
            put(l, tmp, 6);
            p++;
        } else if (c < 0x80) {
            const unsigned char *q = p + 1; /* a run of plain ASCII: one copy */
            while (*q >= 0x20 && *q < 0x7f && *q != '"' && *q != '\\')
                q++;
            put(l, (const char *)p, (size_t)(q - p));
            p = q;
        } else {
            size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
            size_t i;
            for (i = 1; n && i < n; i++)
                if ((p[i] & 0xc0) != 0x80)
                    n = 0;
            if (n == 0) {
                put(l, "?", 1);
                p++;
            } else {
                put(l, (const char *)p, n);
                p += n;
            }
        }
    }
    put(l, "\"", 1);
}

/* Whole lines, one write(2); a logger has nowhere to report its own failure. */
static void
emit(const char *p, size_t n)
{
    ssize_t w = write(g_fd, p, n);
    (void)w;
}

void
log_kv(enum log_level lvl, const char *event, ...)
{
    struct line l;
    struct timeval tv;
    struct tm tm;
    char ts[4];
    int ms;
    va_list ap;
    const char *key;

    if (!log_enabled(lvl))
        return;
    l.n = 0;
    gettimeofday(&tv, NULL);
    /* the date and time to the second change once a second: format them then */
    if (tv.tv_sec != t_sec) {
        gmtime_r(&tv.tv_sec, &tm);
        t_len = (size_t)snprintf(t_prefix, sizeof(t_prefix),
                                 "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (t_len >= sizeof(t_prefix))
            t_len = 0;
        t_sec = tv.tv_sec;
    }
    put(&l, t_prefix, t_len);
    ms = (int)(tv.tv_usec / 1000);
    ts[0] = (char)('0' + ms / 100);
    ts[1] = (char)('0' + ms / 10 % 10);
    ts[2] = (char)('0' + ms % 10);
    put(&l, ts, 3);
    puts_raw(&l, "Z\",\"level\":\"");
    puts_raw(&l, level_names[lvl]);
    puts_raw(&l, "\",\"event\":");
    put_str(&l, event);

    va_start(ap, event);
    while ((key = va_arg(ap, const char *)) != NULL) {
        char type = key[0];
        if (key[0] == '\0' || key[1] != ':')
            break; /* malformed call: stop rather than read garbage */
        puts_raw(&l, ",");
        put_str(&l, key + 2);
        puts_raw(&l, ":");
        switch (type) {
        case 's':
            put_str(&l, va_arg(ap, const char *));
            break;
        case 'i':
            put_int(&l, va_arg(ap, int));
            break;
        case 'I':
            put_int(&l, va_arg(ap, long long));
            break;
        case 'f':
            put_fixed3(&l, va_arg(ap, double));
            break;
        case 'b':
            puts_raw(&l, va_arg(ap, int) ? "true" : "false");
            break;
        default:
            puts_raw(&l, "null");
            va_end(ap);
            goto done;
        }
    }
    va_end(ap);
done:
    l.b[l.n++] = '}';
    l.b[l.n++] = '\n';
    if (t_batch.on) {
        if (l.n > sizeof(t_batch.b) - t_batch.n)
            log_flush();
        memcpy(t_batch.b + t_batch.n, l.b, l.n);
        t_batch.n += l.n;
        if (lvl >= LOG_WARN) /* an operator sees warnings at once */
            log_flush();
        return;
    }
    emit(l.b, l.n);
}

void
log_batch(bool on)
{
    log_flush();
    t_batch.on = on;
}

void
log_flush(void)
{
    if (t_batch.n > 0) {
        emit(t_batch.b, t_batch.n);
        t_batch.n = 0;
    }
}

void
log_redact_url(const char *url, char *out, size_t outlen)
{
    const char *p, *host, *at, *end;
    size_t n = 0;

    if (outlen == 0)
        return;
    out[0] = '\0';
    if (url == NULL)
        return;
    p = strstr(url, "://");
    host = p ? p + 3 : url;
    /* scheme */
    if (p) {
        size_t k = (size_t)(host - url);
        if (k >= outlen)
            k = outlen - 1;
        memcpy(out, url, k);
        n = k;
    }
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(end - host));
    while (at) { /* last '@' of the authority */
        const char *nx = memchr(at + 1, '@', (size_t)(end - at - 1));
        if (!nx)
            break;
        at = nx;
    }
    if (at)
        host = at + 1;
    end = host + strcspn(host, "?#");
    {
        size_t k = (size_t)(end - host);
        if (n + k >= outlen)
            k = outlen - 1 - n;
        memcpy(out + n, host, k);
        n += k;
    }
    out[n] = '\0';
}
