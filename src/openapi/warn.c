/* warn: the proposal's warnings list (capped) and small jansson helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "openapi/internal.h"

#include "core/banned.h"

static void
add(struct oa *oa, const char *code, const char *loc, const char *msg)
{
    size_t n = json_array_size(oa->warnings);
    json_t *w;

    if (n > OPENAPI_MAX_WARNINGS)
        return;
    if (n == OPENAPI_MAX_WARNINGS) {
        code = "warnings_truncated";
        loc = "#";
        msg = "too many warnings; the rest are not listed";
    }
    w = json_pack("{s:s, s:s, s:s}", "code", code, "message", msg, "location", loc ? loc : "#");
    if (w == NULL) /* message not UTF-8 after truncation: keep the code */
        w = json_pack("{s:s, s:s, s:s}", "code", code, "message", code, "location", "#");
    json_array_append_new(oa->warnings, w);
}

void
oa_warn(struct oa *oa, const char *code, const char *loc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    add(oa, code, loc, msg);
}

void
oa_warn_once(struct oa *oa, const char *code, const char *key, const char *loc, const char *fmt,
             ...)
{
    char msg[512];
    struct buf k;
    va_list ap;

    buf_init(&k, (size_t)1 << 20);
    if (buf_printf(&k, "%s\n%s", code, key) != ERR_OK || json_object_get(oa->warned, k.data)) {
        buf_release(&k);
        return;
    }
    json_object_set_new(oa->warned, k.data, json_true());
    buf_release(&k);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    add(oa, code, loc, msg);
}

static void
put_token(struct buf *b, const char *s)
{
    for (; *s; s++) {
        enum err e;
        if (*s == '~')
            e = buf_puts(b, "~0");
        else if (*s == '/')
            e = buf_puts(b, "~1");
        else
            e = buf_putc(b, *s);
        if (e != ERR_OK)
            return;
    }
}

char *
oa_loc(const char *a, const char *b, const char *c)
{
    struct buf out;
    const char *parts[3] = {a, b, c};

    buf_init(&out, (size_t)1 << 20);
    if (buf_putc(&out, '#') != ERR_OK)
        return strdup("#");
    for (int i = 0; i < 3; i++) {
        if (parts[i] == NULL)
            continue;
        if (buf_putc(&out, '/') != ERR_OK)
            break;
        put_token(&out, parts[i]);
    }
    return buf_take(&out, NULL);
}

const char *
oa_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

int
oa_set_str(json_t *obj, const char *key, const char *val)
{
    json_t *s = json_string(val);

    if (s == NULL)
        return -1;
    return json_object_set_new(obj, key, s);
}
