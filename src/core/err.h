/*
 * err: the one result type of every fallible function, and the detail that
 * goes with it to the API caller.
 *
 * A function returns enum err and, on failure, fills a struct errinfo with a
 * stable machine code ("invalid_field"), the field at fault ("auth.token")
 * and a human message. Messages name fields, never values: nothing in an
 * errinfo may ever contain a secret. One table (err_http_status) maps each
 * kind to its HTTP status.
 */
#ifndef CONNHUB_CORE_ERR_H
#define CONNHUB_CORE_ERR_H

#include <stddef.h>

#define WARN_UNUSED __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

#ifdef CONNHUB_TEST
#define TESTABLE
#else
#define TESTABLE static
#endif

enum err {
    ERR_OK = 0,
    ERR_INVALID,       /* 400: the request is wrong; field names what */
    ERR_UNAUTHORIZED,  /* 401 */
    ERR_FORBIDDEN,     /* 403 */
    ERR_NOT_FOUND,     /* 404: also "exists, but in another workspace" */
    ERR_METHOD,        /* 405 */
    ERR_CONFLICT,      /* 409 */
    ERR_TOO_LARGE,     /* 413: a named limit was exceeded */
    ERR_MEDIA_TYPE,    /* 415 */
    ERR_UNPROCESSABLE, /* 422: well-formed, but cannot be done */
    ERR_RATE_LIMITED,  /* 429 */
    ERR_CRYPTO,        /* 500: a sealed value cannot be opened */
    ERR_STORE,         /* 500: the database failed */
    ERR_NOMEM,         /* 500 */
    ERR_INTERNAL,      /* 500 */
    ERR_UPSTREAM,      /* 502: the outside service failed */
    ERR_UNAVAILABLE,   /* 503: shutting down, or a dependency is down */
    ERR_TIMEOUT,       /* 504 */
    ERR__COUNT
};

#define ERRINFO_CODE 48
#define ERRINFO_FIELD 128
#define ERRINFO_MSG 384

struct errinfo {
    char code[ERRINFO_CODE];   /* machine code; "" means the kind's default */
    char field[ERRINFO_FIELD]; /* the field at fault, or "" */
    char msg[ERRINFO_MSG];     /* for humans; never holds a secret */
};

/* Fills ei (if not NULL) and returns e, so callers can write
 * `return err_set(ei, ERR_INVALID, "invalid_field", "slug", "must be ...");`.
 * code and field may be NULL. */
enum err err_set(struct errinfo *ei, enum err e, const char *code, const char *field,
                 const char *fmt, ...) PRINTF_LIKE(5, 6);

/* Prefixes ei->field with "prefix." (for nested validation: "auth" + "token"). */
void err_field_prefix(struct errinfo *ei, const char *prefix);

int err_http_status(enum err e);
const char *err_default_code(enum err e); /* "invalid_request", "not_found", ... */

#endif
