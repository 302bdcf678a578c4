/*
 * redirect: following a 3xx by hand (CURLOPT_FOLLOWLOCATION is off).
 *
 * Each Location is checked for raw bytes curl and WHATWG read differently,
 * resolved against the current URL (curl_url) when relative, and validated
 * with url_validate() like a stored URL; the connect-time guard then checks
 * the address of the new hop. On a change of origin every credential header
 * (and any Authorization, Proxy-Authorization or Cookie header) is dropped for
 * the rest of the transfer, and credential query keys are removed from every
 * later URL. 303 (and 301/302 after POST) continue as GET without a body.
 * 307/308 (and 301/302 after other methods) keep method and body on the same
 * origin only: a body is never replayed to another origin; the transfer fails
 * with OUT_FAIL_REDIRECTS instead, naming the new origin.
 */
#include "outbound/internal.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util.h"
#include "core/banned.h"

static void
wipe_free(char *s)
{
    if (s != NULL)
        OPENSSL_cleanse(s, strlen(s));
    free(s);
}

/* true when the n bytes at s, percent-decoded, equal key. */
static bool
key_matches(const char *s, size_t n, const char *key)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++, k++) {
        int c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
            c = hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]);
            i += 2;
        }
        if (key[k] == '\0' || (unsigned char)key[k] != c)
            return false;
    }
    return key[k] == '\0';
}

char *
url_strip_query_keys(const char *url, char *const *keys, size_t nkeys)
{
    const char *q = strchr(url, '?'), *frag = strchr(url, '#'), *p, *end;
    struct buf b;
    bool first = true;

    if (frag != NULL && q != NULL && q > frag)
        q = NULL;
    if (q == NULL || nkeys == 0)
        return xstrdup(url);
    end = frag ? frag : url + strlen(url);
    buf_init(&b, strlen(url) + 1);
    if (buf_append(&b, url, (size_t)(q - url)) != ERR_OK)
        goto fail;
    for (p = q + 1; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        size_t kn = (size_t)((eq ? eq : pe) - p);
        bool drop = false;
        for (size_t i = 0; i < nkeys && !drop; i++)
            drop = key_matches(p, kn, keys[i]);
        if (!drop && pe > p) {
            if (buf_putc(&b, first ? '?' : '&') != ERR_OK ||
                buf_append(&b, p, (size_t)(pe - p)) != ERR_OK)
                goto fail;
            first = false;
        }
        p = amp ? amp + 1 : end;
    }
    if (frag != NULL && buf_puts(&b, frag) != ERR_OK)
        goto fail;
    return buf_take(&b, NULL);
fail:
    buf_wipe_release(&b);
    return NULL;
}

static bool
has_scheme(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return false;
    for (s++; *s; s++) {
        if (*s == ':')
            return true;
        if (!isalnum((unsigned char)*s) && *s != '+' && *s != '-' && *s != '.')
            return false;
    }
    return false;
}

/* The absolute URL a Location points to, or NULL with *why set. An absolute
 * Location is used exactly as sent, so url_validate() sees its raw spelling. */
static char *
resolve_location(const struct out_handle *x, const char *loc, const char **why)
{
    CURLU *h;
    char *abs = NULL, *out = NULL;

    *why = "is empty";
    if (loc[0] == '\0')
        return NULL;
    *why = "contains whitespace, a control character, a backslash or a non-ASCII byte";
    for (const unsigned char *p = (const unsigned char *)loc; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
            return NULL;
    if (has_scheme(loc))
        return xstrdup(loc);
    if (loc[0] == '/' && loc[1] == '/') {
        struct buf b;
        buf_init(&b, URL_MAX_LEN + 16);
        if (buf_printf(&b, "%s:%s", x->cur.scheme, loc) != ERR_OK) {
            buf_release(&b);
            *why = "is too long";
            return NULL;
        }
        return buf_take(&b, NULL);
    }
    *why = "cannot be resolved against the current URL";
    h = curl_url();
    if (h != NULL && curl_url_set(h, CURLUPART_URL, x->url, 0) == CURLUE_OK &&
        curl_url_set(h, CURLUPART_URL, loc, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_URL, &abs, 0) == CURLUE_OK)
        out = xstrdup(abs);
    if (abs != NULL)
        OPENSSL_cleanse(abs, strlen(abs));
    curl_free(abs);
    curl_url_cleanup(h);
    return out;
}

bool
out_is_auth_header(const char *name)
{
    return strcasecmp(name, "authorization") == 0 || strcasecmp(name, "proxy-authorization") == 0 ||
           strcasecmp(name, "cookie") == 0;
}

/* Drops credential headers for the rest of the transfer; returns how many. */
static int
drop_credentials(struct out_request *rq)
{
    size_t j = 0;
    int dropped = 0;

    for (size_t i = 0; i < rq->nheaders; i++) {
        struct out_header *h = &rq->headers[i];
        if (h->credential || out_is_auth_header(h->name)) {
            h->credential = true; /* wipe the value whatever it was */
            out_header_release(h);
            dropped++;
        } else {
            rq->headers[j++] = *h;
        }
    }
    rq->nheaders = j;
    return dropped;
}

/* Adjusts method and body for the status; false when the body would have to
 * be replayed to another origin. */
static bool
adjust_method(struct out_request *rq, long status, bool same)
{
    bool to_get = (status == 303 && strcmp(rq->method, "HEAD") != 0) ||
                  ((status == 301 || status == 302) && strcmp(rq->method, "POST") == 0);

    if (to_get) {
        snprintf(rq->method, sizeof(rq->method), "GET");
        if (rq->body.data != NULL)
            OPENSSL_cleanse(rq->body.data, rq->body.len);
        buf_reset(&rq->body);
        return true;
    }
    return same || rq->body.len == 0;
}

static enum out_fail
refuse(struct out_handle *x, enum out_fail f, char *nurl, const char *what, const char *detail)
{
    wipe_free(nurl);
    xfer_fail(x, f, "redirect %d refused: %s%s", x->res.redirects + 1, what, detail);
    return f;
}

enum out_fail
redirect_follow(struct out_handle *x, long status, const char *location)
{
    struct url_info ni;
    struct errinfo ei = {0};
    const char *why;
    char *nurl, origin[300];
    bool same;

    if (x->res.redirects >= x->rq.limits.max_redirects) {
        xfer_fail(x, OUT_FAIL_REDIRECTS, "more than %d redirects", x->rq.limits.max_redirects);
        return OUT_FAIL_REDIRECTS;
    }
    nurl = resolve_location(x, location, &why);
    if (nurl == NULL)
        return refuse(x, OUT_FAIL_URL, NULL, "Location ", why);
    if (url_validate(nurl, "location", &ni, &ei) != ERR_OK)
        return refuse(x, OUT_FAIL_URL, nurl, "", ei.msg);
    same = url_same_origin(&x->cur, &ni);
    hop_origin(x, origin, sizeof(origin));
    if (!adjust_method(&x->rq, status, same))
        return refuse(x, OUT_FAIL_REDIRECTS, nurl,
                      "it points to another origin and would replay the request body; from ",
                      origin);
    if (!same) {
        int n = drop_credentials(&x->rq);
        x->crossed = true;
        log_kv(LOG_INFO, "outbound.redirect_cross_origin", "s:from", origin, "s:to_host", ni.host,
               "i:to_port", ni.port, "i:dropped_headers", n, (const char *)NULL);
    }
    if (x->crossed && x->rq.ncred_query > 0) {
        char *s = url_strip_query_keys(nurl, x->rq.cred_query, x->rq.ncred_query);
        wipe_free(nurl);
        if (s == NULL) {
            xfer_fail(x, OUT_FAIL_INTERNAL, "redirect %d: out of memory", x->res.redirects + 1);
            return OUT_FAIL_INTERNAL;
        }
        nurl = s;
    }
    wipe_free(x->url);
    x->url = nurl;
    x->cur = ni;
    x->res.redirects++;
    hop_detach(x, true);
    return hop_start(x);
}
