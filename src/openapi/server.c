/* server: the base URL. OpenAPI 3: servers[0].url with {variables} filled
 * from their defaults. Swagger 2.0: schemes[0]://host basePath. A relative
 * result (no http:// or https://) cannot be called: ERR_UNPROCESSABLE asks
 * for base_url_override. Trailing slashes are dropped (paths start with /). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/util.h"
#include "openapi/internal.h"

#include "core/banned.h"

static enum err
need_base(struct errinfo *ei, const char *why)
{
    return err_set(ei, ERR_UNPROCESSABLE, "base_url_required", "base_url",
                   "%s; give a base URL (base_url_override)", why);
}

/* Absolute http(s) URL of printable ASCII, no spaces, fragment or
 * credentials. */
static bool
url_ok(const char *u)
{
    const char *host;
    size_t n = strlen(u);

    if (n == 0 || n > MAX_BASE_URL_LEN)
        return false;
    if (strncasecmp(u, "https://", 8) == 0)
        host = u + 8;
    else if (strncasecmp(u, "http://", 7) == 0)
        host = u + 7;
    else
        return false;
    if (*host == '\0' || *host == '/')
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#' || *p == '{' ||
            *p == '}')
            return false;
    return host[strcspn(host, "/?@")] != '@';
}

static char *
trim(char *u)
{
    size_t n = strlen(u);

    while (n > 0 && u[n - 1] == '/')
        u[--n] = '\0';
    return u;
}

/* Replaces each {name} of url by variables[name].default. */
static enum err
fill_vars(const char *url, const json_t *vars, struct buf *out, struct errinfo *ei)
{
    const char *p = url;

    while (*p) {
        const char *e;
        const char *def;
        if (*p != '{') {
            if (buf_putc(out, *p++) != ERR_OK)
                return need_base(ei, "servers[0].url is too long");
            continue;
        }
        e = strchr(p, '}');
        if (e == NULL)
            return need_base(ei, "servers[0].url has an unclosed {");
        def = json_string_value(
            json_object_get(json_object_getn(vars, p + 1, (size_t)(e - p - 1)), "default"));
        if (def == NULL)
            return need_base(ei, "a servers[0].url variable has no default");
        if (buf_puts(out, def) != ERR_OK)
            return need_base(ei, "servers[0].url is too long");
        p = e + 1;
    }
    return ERR_OK;
}

static enum err
v3_url(struct oa *oa, struct buf *b, struct errinfo *ei)
{
    json_t *srv = json_array_get(oa_top(oa, "servers"), 0);
    const char *url = oa_str(srv, "url");

    if (url == NULL)
        return need_base(ei, "the spec has no servers");
    return fill_vars(url, json_object_get(srv, "variables"), b, ei);
}

static enum err
v2_url(struct oa *oa, struct buf *b, struct errinfo *ei)
{
    const char *host = json_string_value(oa_top(oa, "host"));
    const char *bp = json_string_value(oa_top(oa, "basePath"));
    const char *scheme = json_string_value(json_array_get(oa_top(oa, "schemes"), 0));

    if (host == NULL || host[0] == '\0')
        return need_base(ei, "the spec has no host");
    if (scheme == NULL) {
        scheme = "https";
        oa_warn(oa, "default_scheme", "#/schemes", "no schemes given; using https");
    }
    if (buf_printf(b, "%s://%s%s", scheme, host, bp ? bp : "") != ERR_OK)
        return need_base(ei, "host and basePath are too long");
    return ERR_OK;
}

enum err
oa_base_url(struct oa *oa, char **out, struct errinfo *ei)
{
    struct buf b;
    enum err e;

    *out = NULL;
    if (oa->o.base_url_override != NULL) {
        if (!url_ok(oa->o.base_url_override))
            return err_set(ei, ERR_INVALID, "invalid_field", "base_url_override",
                           "must be an absolute http:// or https:// URL");
        *out = trim(xstrdup(oa->o.base_url_override));
        return ERR_OK;
    }
    buf_init(&b, MAX_BASE_URL_LEN);
    e = oa->v2 ? v2_url(oa, &b, ei) : v3_url(oa, &b, ei);
    if (e == ERR_OK && (b.data == NULL || !url_ok(b.data)))
        e = need_base(ei, "the spec's server URL is relative or not http(s)");
    if (e == ERR_OK)
        *out = trim(buf_take(&b, NULL));
    buf_release(&b);
    return e;
}
