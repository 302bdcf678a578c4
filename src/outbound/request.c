/*
 * request: building a struct out_request (method, headers, query) and
 * releasing requests and responses. Header names are RFC 9110 tokens and
 * values carry no CR, LF, NUL or other control byte except HTAB, because
 * libcurl sends header strings verbatim (SSRF-169).
 */
#include "outbound/outbound.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/util.h"
#include "core/banned.h"

void
out_limits_default(struct out_limits *l)
{
    l->connect_timeout_ms = OUT_CONNECT_TIMEOUT_MS;
    l->total_timeout_ms = OUT_TOTAL_TIMEOUT_MS;
    l->idle_timeout_ms = OUT_IDLE_TIMEOUT_MS;
    l->max_response =
        OUT_MAX_RESPONSE; /* NOLINT(bugprone-implicit-widening-of-multiplication-result) */
    l->max_redirects = OUT_MAX_REDIRECTS;
}

/* RFC 9110 tchar */
static bool
is_tchar(unsigned char c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

bool
out_is_token(const char *s, size_t max)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++)
        if (!is_tchar((unsigned char)s[n]) || n >= max)
            return false;
    return n > 0;
}

bool
out_is_header_value(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return false;
    return true;
}

enum err
out_request_init(struct out_request *rq, const char *method, const char *url, struct errinfo *ei)
{
    memset(rq, 0, sizeof(*rq));
    out_limits_default(&rq->limits);
    buf_init(&rq->body, OUT_MAX_REQUEST_BODY);
    if (method == NULL || strlen(method) >= sizeof(rq->method) ||
        !out_is_token(method, sizeof(rq->method) - 1))
        return err_set(ei, ERR_INVALID, "invalid_field", "method",
                       "method must be a token "
                       "of at most %zu characters",
                       sizeof(rq->method) - 1);
    for (size_t i = 0; method[i]; i++)
        rq->method[i] = (char)toupper((unsigned char)method[i]);
    if (url == NULL)
        return err_set(ei, ERR_INVALID, "invalid_url", "url", "URL is missing");
    rq->url = xstrdup(url);
    return ERR_OK;
}

enum err
out_request_add_header(struct out_request *rq, const char *name, const char *value, bool credential,
                       struct errinfo *ei)
{
    struct out_header *h;

    if (name == NULL || !out_is_token(name, MAX_HEADER_NAME_LEN))
        return err_set(ei, ERR_INVALID, "invalid_header", "headers",
                       "header name must be an RFC 9110 token of at most %d bytes",
                       MAX_HEADER_NAME_LEN);
    if (value == NULL || !out_is_header_value(value))
        return err_set(ei, ERR_INVALID, "invalid_header", "headers",
                       "value of header %s contains CR, LF or a control character", name);
    if (rq->nheaders == rq->aheaders) {
        size_t n = rq->aheaders ? rq->aheaders * 2 : 8;
        struct out_header *nh = realloc(rq->headers, n * sizeof(*nh));
        if (nh == NULL)
            return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
        rq->headers = nh;
        rq->aheaders = n;
    }
    h = &rq->headers[rq->nheaders++];
    h->name = xstrdup(name);
    h->value = xstrdup(value);
    h->credential = credential;
    return ERR_OK;
}

/* RFC 3986 percent-encoding: unreserved characters are kept. */
static enum err
pct_encode(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    enum err e = ERR_OK;

    for (const unsigned char *p = (const unsigned char *)s; *p && e == ERR_OK; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            e = buf_putc(b, (char)*p);
        } else {
            char t[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            e = buf_append(b, t, 3);
        }
    }
    return e;
}

enum err
out_request_add_query(struct out_request *rq, const char *key, const char *value, bool credential,
                      struct errinfo *ei)
{
    struct buf b;
    const char *frag;
    size_t base;
    enum err e;

    if (rq->url == NULL || key == NULL || key[0] == '\0' || value == NULL)
        return err_set(ei, ERR_INVALID, "invalid_field", "query", "query key is empty");
    buf_init(&b, URL_MAX_LEN);
    frag = strchr(rq->url, '#');
    base = frag ? (size_t)(frag - rq->url) : strlen(rq->url);
    e = buf_append(&b, rq->url, base);
    if (e == ERR_OK)
        e = buf_putc(&b, memchr(rq->url, '?', base) ? '&' : '?');
    if (e == ERR_OK)
        e = pct_encode(&b, key);
    if (e == ERR_OK)
        e = buf_putc(&b, '=');
    if (e == ERR_OK)
        e = pct_encode(&b, value);
    if (e == ERR_OK && frag)
        e = buf_puts(&b, frag);
    if (e != ERR_OK) {
        buf_wipe_release(&b);
        return err_set(ei, e, NULL, "query", "URL would be longer than %d bytes", URL_MAX_LEN);
    }
    if (credential) {
        char **nq = realloc(rq->cred_query, (rq->ncred_query + 1) * sizeof(*nq));
        if (nq == NULL) {
            buf_wipe_release(&b);
            return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
        }
        rq->cred_query = nq;
        rq->cred_query[rq->ncred_query++] = xstrdup(key);
    }
    OPENSSL_cleanse(rq->url, strlen(rq->url));
    free(rq->url);
    rq->url = buf_take(&b, NULL);
    return ERR_OK;
}

void
out_header_release(struct out_header *h)
{
    if (h->value != NULL && h->credential)
        OPENSSL_cleanse(h->value, strlen(h->value));
    free(h->name);
    free(h->value);
    h->name = h->value = NULL;
}

void
out_request_release(struct out_request *rq)
{
    if (rq == NULL)
        return;
    for (size_t i = 0; i < rq->nheaders; i++)
        out_header_release(&rq->headers[i]);
    free(rq->headers);
    for (size_t i = 0; i < rq->ncred_query; i++)
        free(rq->cred_query[i]);
    free(rq->cred_query);
    if (rq->url != NULL) /* may carry a credential query parameter */
        OPENSSL_cleanse(rq->url, strlen(rq->url));
    free(rq->url);
    buf_wipe_release(&rq->body);
    memset(rq, 0, sizeof(*rq));
}

const char *
out_fail_name(enum out_fail f)
{
    static const char *const names[] = {
        [OUT_OK] = "ok",
        [OUT_FAIL_URL] = "url",
        [OUT_FAIL_BLOCKED] = "blocked",
        [OUT_FAIL_RESOLVE] = "resolve",
        [OUT_FAIL_CONNECT] = "connect",
        [OUT_FAIL_TLS] = "tls",
        [OUT_FAIL_TIMEOUT] = "timeout",
        [OUT_FAIL_TOO_LARGE] = "too_large",
        [OUT_FAIL_REDIRECTS] = "redirects",
        [OUT_FAIL_PROTOCOL] = "protocol",
        [OUT_FAIL_CANCELLED] = "cancelled",
        [OUT_FAIL_INTERNAL] = "internal",
    };
    if ((unsigned)f >= ARRAY_LEN(names) || names[f] == NULL)
        return "internal";
    return names[f];
}

void
out_response_release(struct out_response *res)
{
    if (res == NULL)
        return;
    for (size_t i = 0; i < res->nheaders; i++)
        out_header_release(&res->headers[i]);
    free(res->headers);
    buf_wipe_release(&res->body);
    free(res->content_type);
    memset(res, 0, sizeof(*res));
}

const char *
out_response_header(const struct out_response *res, const char *name_lc)
{
    for (size_t i = 0; i < res->nheaders; i++)
        if (strcmp(res->headers[i].name, name_lc) == 0)
            return res->headers[i].value;
    return NULL;
}
