#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int status;
    const char *code;
} kinds[ERR__COUNT] = {
    [ERR_OK] = {200, "ok"},
    [ERR_INVALID] = {400, "invalid_request"},
    [ERR_UNAUTHORIZED] = {401, "unauthorized"},
    [ERR_FORBIDDEN] = {403, "forbidden"},
    [ERR_NOT_FOUND] = {404, "not_found"},
    [ERR_METHOD] = {405, "method_not_allowed"},
    [ERR_CONFLICT] = {409, "conflict"},
    [ERR_TOO_LARGE] = {413, "too_large"},
    [ERR_MEDIA_TYPE] = {415, "unsupported_media_type"},
    [ERR_UNPROCESSABLE] = {422, "unprocessable"},
    [ERR_RATE_LIMITED] = {429, "rate_limited"},
    [ERR_CRYPTO] = {500, "credential_undecryptable"},
    [ERR_STORE] = {500, "store_error"},
    [ERR_NOMEM] = {500, "out_of_memory"},
    [ERR_INTERNAL] = {500, "internal_error"},
    [ERR_UPSTREAM] = {502, "upstream_error"},
    [ERR_UNAVAILABLE] = {503, "unavailable"},
    [ERR_TIMEOUT] = {504, "timeout"},
};

enum err
err_set(struct errinfo *ei, enum err e, const char *code, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (ei == NULL)
        return e;
    snprintf(ei->code, sizeof(ei->code), "%s", code ? code : "");
    snprintf(ei->field, sizeof(ei->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(ei->msg, sizeof(ei->msg), fmt, ap);
    va_end(ap);
    return e;
}

void
err_field_prefix(struct errinfo *ei, const char *prefix)
{
    char tmp[2 * ERRINFO_FIELD + 8];

    if (ei == NULL || prefix == NULL || prefix[0] == '\0')
        return;
    if (ei->field[0] == '\0')
        snprintf(tmp, sizeof(tmp), "%s", prefix);
    else if (ei->field[0] == '[')
        snprintf(tmp, sizeof(tmp), "%s%s", prefix, ei->field);
    else
        snprintf(tmp, sizeof(tmp), "%s.%s", prefix, ei->field);
    snprintf(ei->field, sizeof(ei->field), "%.*s", (int)sizeof(ei->field) - 1, tmp);
}

int
err_http_status(enum err e)
{
    if ((unsigned)e >= ERR__COUNT)
        return 500;
    return kinds[e].status;
}

const char *
err_default_code(enum err e)
{
    if ((unsigned)e >= ERR__COUNT)
        return "internal_error";
    return kinds[e].code;
}
