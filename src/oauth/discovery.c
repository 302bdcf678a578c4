/* discovery: authorization server metadata from an issuer; see discovery.h. */
#include "oauth/discovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/util.h"
#include "outbound/ssrf.h"
#include "core/banned.h"

/* "<a[0, alen)><mid><c[0, clen)>" as a new string (free()); NULL when out
 * of memory. */
static char *
join(const char *a, int alen, const char *mid, const char *c, int clen)
{
    struct buf b;
    char *s = NULL;

    buf_init(&b, (size_t)2 * URL_MAX_LEN);
    if (buf_printf(&b, "%.*s%s%.*s", alen, a, mid, clen, c) == ERR_OK)
        s = buf_take(&b, NULL);
    buf_release(&b);
    return s;
}

enum err
oauth_discovery_urls(const char *issuer, char **oidc, char **rfc8414, struct errinfo *ei)
{
    struct url_info ui;
    const char *host, *path;
    size_t n;
    enum err e;

    *oidc = *rfc8414 = NULL;
    if (issuer == NULL)
        return err_set(ei, ERR_INVALID, "missing_field", "issuer",
                       "discovery needs the provider's issuer URL");
    e = url_validate(issuer, "issuer", &ui, ei);
    if (e != ERR_OK)
        return e;
    if (strpbrk(issuer, "?#") != NULL)
        return err_set(ei, ERR_INVALID, "invalid_field", "issuer",
                       "an issuer has no query or fragment (RFC 8414)");
    n = strlen(issuer);
    while (n > 0 && issuer[n - 1] == '/')
        n--;
    host = strstr(issuer, "://") + 3;
    path = strchr(host, '/');
    if (path == NULL || path > issuer + n)
        path = issuer + n;
    *oidc = join(issuer, (int)n, "/.well-known/openid-configuration", "", 0);
    *rfc8414 = join(issuer, (int)(path - issuer), "/.well-known/oauth-authorization-server", path,
                    (int)(issuer + n - path));
    if (*oidc == NULL || *rfc8414 == NULL) {
        free(*oidc);
        free(*rfc8414);
        *oidc = *rfc8414 = NULL;
        return ERR_NOMEM;
    }
    return ERR_OK;
}

/* Endpoint key of the document -> key of a provider definition. */
static const struct {
    const char *meta, *ours;
    bool required;
} endpoint_keys[] = {
    {"authorization_endpoint", "authorize_url", true},
    {"token_endpoint", "token_url", true},
    {"revocation_endpoint", "revocation_url", false},
    {"userinfo_endpoint", "userinfo_url", false},
};

enum err
oauth_discovery_parse(const char *issuer, const char *body, size_t len, json_t **out,
                      struct errinfo *ei)
{
    json_t *doc, *res;
    json_error_t je;
    const char *iss;
    enum err e = ERR_OK;

    *out = NULL;
    if (len > OAUTH_MAX_DISCOVERY_BYTES)
        return err_set(ei, ERR_TOO_LARGE, "limit_exceeded", "issuer",
                       "the discovery document is larger than %zu bytes",
                       OAUTH_MAX_DISCOVERY_BYTES);
    if (json_text_too_deep(body, len, MAX_JSON_DEPTH, NULL))
        return err_set(ei, ERR_UPSTREAM, "bad_discovery", "issuer",
                       "the discovery document is nested deeper than %d levels", MAX_JSON_DEPTH);
    doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return err_set(ei, ERR_UPSTREAM, "bad_discovery", "issuer",
                       "the discovery document is not a JSON object");
    }
    iss = json_string_value(json_object_get(doc, "issuer"));
    if (iss == NULL || strcmp(iss, issuer) != 0) {
        json_decref(doc);
        return err_set(ei, ERR_UPSTREAM, "issuer_mismatch", "issuer",
                       "the discovery document names another issuer than the one configured "
                       "(RFC 8414 3.3: they must be equal)");
    }
    res = json_object();
    for (size_t i = 0; e == ERR_OK && i < ARRAY_LEN(endpoint_keys); i++) {
        const char *u = json_string_value(json_object_get(doc, endpoint_keys[i].meta));
        if (u == NULL && !endpoint_keys[i].required)
            continue;
        if (u == NULL)
            e = err_set(ei, ERR_UPSTREAM, "bad_discovery", "issuer",
                        "the discovery document has no %s", endpoint_keys[i].meta);
        else if (url_validate(u, endpoint_keys[i].meta, NULL, ei) != ERR_OK)
            e = err_set(ei, ERR_UPSTREAM, "bad_discovery", "issuer",
                        "the discovery document's %s is not a usable URL", endpoint_keys[i].meta);
        else
            json_object_set_new(res, endpoint_keys[i].ours, json_string(u));
    }
    json_decref(doc);
    if (e != ERR_OK) {
        json_decref(res);
        return e;
    }
    *out = res;
    return ERR_OK;
}

/* ---- fetching ---- */

struct disco {
    oauth_discover_cb done;
    void *arg;
    struct outbound *ob;
    char *issuer, *next; /* next: the RFC 8414 place, tried after a 404 */
};

static void on_doc(struct out_response *res, void *arg);

static enum err
fetch(struct disco *d, const char *url, struct errinfo *ei)
{
    struct out_request rq;
    enum err e = out_request_init(&rq, "GET", url, ei);

    if (e == ERR_OK)
        e = out_request_add_header(&rq, "Accept", "application/json", false, ei);
    if (e != ERR_OK) {
        out_request_release(&rq);
        return e;
    }
    rq.limits.max_response = OAUTH_MAX_DISCOVERY_BYTES;
    rq.limits.max_redirects = 0;
    return outbound_send(d->ob, &rq, on_doc, d, NULL);
}

static void
finish(struct disco *d, enum err e, json_t *endpoints, const struct errinfo *ei)
{
    d->done(e, endpoints, ei, d->arg);
    free(d->issuer);
    free(d->next);
    free(d);
}

static void
on_doc(struct out_response *res, void *arg)
{
    struct disco *d = arg;
    struct errinfo ei = {0};
    json_t *endpoints = NULL;
    enum err e;

    if (res->fail == OUT_OK && res->status == 404 && d->next != NULL) {
        char *next = d->next;
        d->next = NULL;
        e = fetch(d, next, &ei);
        free(next);
        if (e == ERR_OK)
            return;
        finish(d, e, NULL, &ei);
        return;
    }
    if (res->fail == OUT_FAIL_TOO_LARGE)
        e = err_set(&ei, ERR_TOO_LARGE, "limit_exceeded", "issuer",
                    "the discovery document is larger than %zu bytes", OAUTH_MAX_DISCOVERY_BYTES);
    else if (res->fail != OUT_OK)
        e = err_set(&ei, ERR_UPSTREAM, "discovery_failed", "issuer",
                    "fetching the discovery document failed: %s", res->error);
    else if (res->status != 200)
        e = err_set(&ei, ERR_UPSTREAM, "discovery_failed", "issuer",
                    "the discovery document was answered with HTTP %ld", res->status);
    else
        e = oauth_discovery_parse(d->issuer, res->body.data ? res->body.data : "", res->body.len,
                                  &endpoints, &ei);
    finish(d, e, endpoints, &ei);
}

enum err
oauth_discover(struct outbound *ob, const char *issuer, oauth_discover_cb done, void *arg,
               struct errinfo *ei)
{
    struct disco *d = xcalloc(1, sizeof(*d));
    char *first = NULL;
    enum err e = oauth_discovery_urls(issuer, &first, &d->next, ei);

    d->done = done;
    d->arg = arg;
    d->ob = ob;
    d->issuer = xstrdup(issuer);
    if (e == ERR_OK)
        e = fetch(d, first, ei);
    free(first);
    if (e != ERR_OK) {
        free(d->issuer);
        free(d->next);
        free(d);
    }
    return e;
}
