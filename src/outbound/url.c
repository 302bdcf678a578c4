/*
 * url: url_validate() and url_same_origin() (declared in ssrf.h).
 *
 * The validator accepts only the canonical spelling of a URL: anything that
 * two URL parsers might read differently (catalogue A.1, A.6, A.7) is
 * rejected before it is stored or followed. It parses the authority itself,
 * then asks curl_url() for its reading, and rejects any disagreement, so the
 * host checked here is the host libcurl connects to.
 */
#include "outbound/ssrf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "core/banned.h"

#define HOST_MAX 253
#define LABEL_MAX 63

static enum err
bad(struct errinfo *ei, const char *field, const char *msg)
{
    return err_set(ei, ERR_INVALID, "invalid_url", field, "%s", msg);
}

/* Printable ASCII only, no backslash: whitespace, control and non-ASCII bytes
 * are read differently by WHATWG and curl, and must be percent-encoded. */
static const char *
check_chars(const char *url)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)url; *p; p++, n++) {
        if (*p <= 0x20 || *p >= 0x7f)
            return "contains whitespace, a control character or a non-ASCII byte";
        if (*p == '\\')
            return "contains a backslash";
    }
    if (n == 0)
        return "is empty";
    if (n > URL_MAX_LEN)
        return "is too long";
    return NULL;
}

static bool
all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* "0".."255" in canonical decimal. */
static bool
canonical_octet(const char *s, size_t n)
{
    unsigned v = 0;

    if (!all_digits(s, n) || n > 3 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v <= 255;
}

/* A host name or IPv4 literal, already lower-cased, without port. */
static const char *
check_name(const char *h, size_t n, bool *is_ip)
{
    const char *label = h, *last = h;
    size_t nlabels = 0, lastlen = 0;
    bool quad = true;

    if (n == 0)
        return "has an empty host";
    if (n > HOST_MAX)
        return "has a host name longer than 253 bytes";
    if (h[n - 1] == '.')
        return "has a host with a trailing dot";
    while (label <= h + n) {
        const char *dot = memchr(label, '.', (size_t)(h + n - label));
        size_t ln = dot ? (size_t)(dot - label) : (size_t)(h + n - label);
        if (ln == 0)
            return "has a host with an empty label";
        if (ln > LABEL_MAX)
            return "has a host label longer than 63 bytes";
        for (size_t i = 0; i < ln; i++)
            if (!isalnum((unsigned char)label[i]) && label[i] != '-')
                return "has a host with a character outside letters, digits, '-' and '.'";
        if (label[0] == '-' || label[ln - 1] == '-')
            return "has a host label that starts or ends with '-'";
        if (!canonical_octet(label, ln))
            quad = false;
        nlabels++;
        last = label;
        lastlen = ln;
        if (dot == NULL)
            break;
        label = dot + 1;
    }
    /* WHATWG and inet_aton read a host whose last label is numeric (decimal,
     * octal or 0x-hex) as an IPv4 address: only the canonical quad is allowed. */
    if (all_digits(last, lastlen) || (lastlen >= 2 && last[0] == '0' && last[1] == 'x')) {
        if (!quad || nlabels != 4)
            return "has an IPv4 address not written as four decimal numbers 0-255 without "
                   "leading zeros";
        *is_ip = true;
        return NULL;
    }
    if ((n == 9 && memcmp(h, "localhost", 9) == 0) ||
        (n > 10 && memcmp(h + n - 10, ".localhost", 10) == 0))
        return "names the local host (localhost)";
    *is_ip = false;
    return NULL;
}

/* "[v6]" without zone id; fills host with the compressed form. */
static const char *
check_v6(const char *b, size_t n, char *host, size_t hostlen)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    unsigned char a[16];

    if (n < 2 || n - 2 >= sizeof(tmp))
        return "has a malformed IPv6 address";
    memcpy(tmp, b + 1, n - 2);
    tmp[n - 2] = '\0';
    for (const char *p = tmp; *p; p++)
        if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
            return "has a malformed IPv6 address (zone ids are not allowed)";
    if (inet_pton(AF_INET6, tmp, a) != 1 ||
        inet_ntop(AF_INET6, a, host, (socklen_t)hostlen) == NULL)
        return "has a malformed IPv6 address";
    return NULL;
}

static const char *
check_port(const char *p, size_t n, int *port)
{
    uint64_t v = 0;

    if (n == 0 || n > 5 || !all_digits(p, n) || p[0] == '0')
        return "has a port that is not a decimal number 1-65535 without leading zeros";
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(p[i] - '0');
    if (v < 1 || v > 65535)
        return "has a port outside 1-65535";
    *port = (int)v;
    return NULL;
}

/* Splits and checks the authority [host or [v6]][:port]. */
static const char *
check_authority(const char *a, size_t n, struct url_info *info)
{
    const char *hend, *why;

    if (memchr(a, '@', n))
        return "contains userinfo (user:password@); put credentials in credential fields";
    if (memchr(a, '%', n))
        return "has a percent-encoded host or a zone id";
    if (n > 0 && a[0] == '[') {
        hend = memchr(a, ']', n);
        if (hend == NULL)
            return "has a malformed IPv6 address";
        hend++;
        why = check_v6(a, (size_t)(hend - a), info->host, sizeof(info->host));
        info->host_is_ip = true;
    } else {
        hend = memchr(a, ':', n);
        if (hend == NULL)
            hend = a + n;
        if ((size_t)(hend - a) >= sizeof(info->host))
            return "has a host name longer than 253 bytes";
        for (size_t i = 0; i < (size_t)(hend - a); i++)
            info->host[i] = (char)tolower((unsigned char)a[i]);
        info->host[hend - a] = '\0';
        why = check_name(info->host, (size_t)(hend - a), &info->host_is_ip);
    }
    if (why != NULL)
        return why;
    if (hend == a + n)
        return NULL;
    if (*hend != ':')
        return "has characters after the IPv6 address";
    return check_port(hend + 1, (size_t)(a + n - hend - 1), &info->port);
}

static bool
same_host(const char *curl_host, const struct url_info *info)
{
    unsigned char x[16], y[16];
    char tmp[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(curl_host);

    if (n > 2 && curl_host[0] == '[' && curl_host[n - 1] == ']') {
        if (n - 2 >= sizeof(tmp))
            return false;
        memcpy(tmp, curl_host + 1, n - 2);
        tmp[n - 2] = '\0';
        return inet_pton(AF_INET6, tmp, x) == 1 && inet_pton(AF_INET6, info->host, y) == 1 &&
               memcmp(x, y, 16) == 0;
    }
    return strcasecmp(curl_host, info->host) == 0;
}

/* true when curl_url() reads url as the same scheme, host and port, without
 * userinfo. */
static bool
url_curl_agrees(const char *url, const struct url_info *info)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
    uint64_t p = 0;
    bool ok = false;

    if (h == NULL || curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto out;
    if (curl_url_get(h, CURLUPART_USER, &user, 0) != CURLUE_NO_USER)
        goto out;
    ok = strcasecmp(scheme, info->scheme) == 0 && same_host(host, info) &&
         parse_u64(port, 65535, &p) && p == (uint64_t)info->port;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_url_cleanup(h);
    return ok;
}

enum err
url_validate(const char *url, const char *field, struct url_info *out, struct errinfo *ei)
{
    struct url_info info = {0};
    const char *why, *auth;
    size_t alen;
    char msg[160];

    if (field == NULL)
        field = "url";
    if (url == NULL)
        return bad(ei, field, "URL is missing");
    why = check_chars(url);
    if (why != NULL)
        goto fail;
    if (strncasecmp(url, "http://", 7) == 0) {
        snprintf(info.scheme, sizeof(info.scheme), "http");
        info.port = 80;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        snprintf(info.scheme, sizeof(info.scheme), "https");
        info.port = 443;
    } else {
        why = "must start with http:// or https://";
        goto fail;
    }
    auth = url + strlen(info.scheme) + 3;
    alen = strcspn(auth, "/?#");
    why = check_authority(auth, alen, &info);
    if (why != NULL)
        goto fail;
    if (!url_curl_agrees(url, &info)) {
        why = "is ambiguous (parsers disagree on its host or port)";
        goto fail;
    }
    if (out != NULL)
        *out = info;
    return ERR_OK;
fail:
    snprintf(msg, sizeof(msg), "URL %s", why);
    return bad(ei, field, msg);
}

bool
url_same_origin(const struct url_info *a, const struct url_info *b)
{
    return strcmp(a->scheme, b->scheme) == 0 && strcasecmp(a->host, b->host) == 0 &&
           a->port == b->port;
}
