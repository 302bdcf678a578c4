/* oauth/flow: PKCE, state, authorize URL, callback checks. See flow.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/buf.h"
#include "core/util.h"
#include "oauth/flow.h"
#include "outbound/ssrf.h"
#include "core/banned.h"

size_t
oauth_b64url(const unsigned char *p, size_t n, char *out)
{
    size_t k = b64_encode(p, n, out);

    while (k > 0 && out[k - 1] == '=')
        k--;
    out[k] = '\0';
    for (size_t i = 0; i < k; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return k;
}

static bool
is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool
is_b64url(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_';
}

/* ---- PKCE ---- */

enum err
oauth_pkce_challenge(const char *verifier, size_t len, char out[OAUTH_CHALLENGE_LEN + 1])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char tmp[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];

    out[0] = '\0';
    if (verifier == NULL || len < 43 || len > 128)
        return ERR_INVALID;
    for (size_t i = 0; i < len; i++)
        if (!is_unreserved((unsigned char)verifier[i]))
            return ERR_INVALID;
    SHA256((const unsigned char *)verifier, len, md);
    oauth_b64url(md, sizeof(md), tmp);
    memcpy(out, tmp, OAUTH_CHALLENGE_LEN + 1);
    return ERR_OK;
}

enum err
oauth_pkce_new(struct oauth_pkce *out, struct errinfo *ei)
{
    unsigned char raw[OAUTH_VERIFIER_BYTES];
    enum err e;

    memset(out, 0, sizeof(*out));
    e = rand_bytes(raw, sizeof(raw));
    if (e != ERR_OK)
        return err_set(ei, ERR_INTERNAL, NULL, NULL, "no randomness available");
    e = secret_alloc(&out->verifier, 4 * ((sizeof(raw) + 2) / 3));
    if (e == ERR_OK) {
        out->verifier.len = oauth_b64url(raw, sizeof(raw), out->verifier.p);
        e = oauth_pkce_challenge(out->verifier.p, out->verifier.len, out->challenge);
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    if (e != ERR_OK) {
        oauth_pkce_release(out);
        return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    }
    return ERR_OK;
}

void
oauth_pkce_release(struct oauth_pkce *p)
{
    if (p == NULL)
        return;
    secret_release(&p->verifier);
    memset(p, 0, sizeof(*p));
}

/* ---- state ---- */

enum err
oauth_state_new(char out[OAUTH_STATE_LEN + 1], struct errinfo *ei)
{
    unsigned char raw[OAUTH_STATE_BYTES];
    char tmp[4 * ((OAUTH_STATE_BYTES + 2) / 3) + 1];

    out[0] = '\0';
    if (rand_bytes(raw, sizeof(raw)) != ERR_OK)
        return err_set(ei, ERR_INTERNAL, NULL, NULL, "no randomness available");
    oauth_b64url(raw, sizeof(raw), tmp);
    memcpy(out, tmp, OAUTH_STATE_LEN + 1);
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return ERR_OK;
}

bool
oauth_state_wellformed(const char *s)
{
    size_t i;

    if (s == NULL)
        return false;
    for (i = 0; i <= OAUTH_STATE_LEN && s[i]; i++)
        if (!is_b64url((unsigned char)s[i]))
            return false;
    return i == OAUTH_STATE_LEN && s[i] == '\0';
}

void
oauth_state_hash(const char *state, char out[OAUTH_STATE_HASH_LEN + 1])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)state, strlen(state), md);
    hex_encode(md, sizeof(md), out);
}

/* ---- authorize URL ---- */

static enum err
pct(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    enum err e = ERR_OK;

    for (const unsigned char *p = (const unsigned char *)s; *p && e == ERR_OK; p++) {
        if (is_unreserved(*p)) {
            e = buf_putc(b, (char)*p);
        } else {
            char t[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            e = buf_append(b, t, 3);
        }
    }
    return e;
}

static enum err
add_param(struct buf *b, const char *k, const char *v)
{
    enum err e = buf_putc(b, '&');

    if (e == ERR_OK)
        e = pct(b, k);
    if (e == ERR_OK)
        e = buf_putc(b, '=');
    if (e == ERR_OK)
        e = pct(b, v);
    return e;
}

enum err
oauth_authorize_url(const struct oauth_provider *p, const struct oauth_authz *a, char **out,
                    struct errinfo *ei)
{
    struct buf b;
    char *scope = NULL;
    const char *q;
    enum err e;

    *out = NULL;
    if (a->client_id == NULL || a->client_id[0] == '\0')
        return err_set(ei, ERR_INVALID, "invalid_field", "client_id", "client_id is missing");
    if (a->redirect_uri == NULL || a->redirect_uri[0] == '\0')
        return err_set(ei, ERR_INVALID, "invalid_field", "redirect_uri", "redirect_uri is missing");
    if (!oauth_state_wellformed(a->state))
        return err_set(ei, ERR_INVALID, "invalid_field", "state",
                       "state must come from oauth_state_new");
    if (p->pkce && (a->code_challenge == NULL || strlen(a->code_challenge) != OAUTH_CHALLENGE_LEN))
        return err_set(ei, ERR_INVALID, "invalid_field", "code_challenge",
                       "code_challenge is missing");
    if (a->scopes == NULL ||
        oauth_list_join(a->scopes, (char)(p->scope_sep ? p->scope_sep : ' '), &scope) != ERR_OK)
        return err_set(ei, ERR_INVALID, "invalid_field", "scope", "scopes are missing");
    buf_init(&b, URL_MAX_LEN);
    q = strchr(p->authorize_url, '?');
    e = buf_puts(&b, p->authorize_url);
    /* The first add_param writes '&'; make that a '?' (or keep the
     * provider's own query and join it with '&'). */
    if (e == ERR_OK && q == NULL)
        e = buf_puts(&b, "?response_type=code");
    else if (e == ERR_OK)
        e = buf_puts(&b, q[1] == '\0' ? "response_type=code" : "&response_type=code");
    if (e == ERR_OK)
        e = add_param(&b, "client_id", a->client_id);
    if (e == ERR_OK)
        e = add_param(&b, "redirect_uri", a->redirect_uri);
    if (e == ERR_OK)
        e = add_param(&b, "scope", scope);
    if (e == ERR_OK)
        e = add_param(&b, "state", a->state);
    if (e == ERR_OK && p->pkce)
        e = add_param(&b, "code_challenge", a->code_challenge);
    if (e == ERR_OK && p->pkce)
        e = add_param(&b, "code_challenge_method", "S256");
    for (size_t i = 0; e == ERR_OK && i < p->nextras; i++)
        e = add_param(&b, p->extras[i].name, p->extras[i].value);
    free(scope);
    if (e != ERR_OK) {
        buf_release(&b);
        return err_set(ei, e, NULL, "scope", "authorize URL would be longer than %d bytes",
                       URL_MAX_LEN);
    }
    *out = buf_take(&b, NULL);
    return *out ? ERR_OK : err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
}

/* ---- callback ---- */

void
oauth_sanitize_text(const char *s, char *out, size_t outlen)
{
    size_t o = 0;

    if (outlen == 0)
        return;
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c && o + 1 < outlen; c++) {
        bool bad = *c < 0x20 || *c > 0x7e || strchr("<>&\"'`", *c) != NULL;
        out[o++] = (char)(bad ? ' ' : *c);
    }
    out[o] = '\0';
}

static void
sanitize_code(const char *s, char *out, size_t outlen)
{
    size_t n = s ? strlen(s) : 0;
    bool ok = n > 0 && n < outlen;

    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        ok = isalnum(c) || c == '_' || c == '-' || c == '.';
    }
    snprintf(out, outlen, "%s", ok ? s : "invalid_error");
}

void
oauth_callback_release(struct oauth_callback *cb)
{
    if (cb == NULL)
        return;
    secret_release(&cb->code);
    memset(cb, 0, sizeof(*cb));
}

static enum err
check_iss(const struct oauth_provider *p, const char *iss, struct errinfo *ei)
{
    if (iss == NULL) {
        if (p->require_iss)
            return err_set(ei, ERR_INVALID, "issuer_mismatch", "iss",
                           "%s always identifies itself (iss), but this answer did not: refused "
                           "as a possible mix-up attack",
                           p->name);
        return ERR_OK;
    }
    if (p->issuer == NULL)
        return err_set(ei, ERR_INVALID, "issuer_mismatch", "iss",
                       "the answer names an issuer, but %s has none configured: refused as a "
                       "possible mix-up attack (set the provider's issuer)",
                       p->name);
    if (strcmp(iss, p->issuer) != 0)
        return err_set(ei, ERR_INVALID, "issuer_mismatch", "iss",
                       "the answer comes from a different authorization server than %s: refused "
                       "as a possible mix-up attack",
                       p->name);
    return ERR_OK;
}

enum err
oauth_callback_check(const struct oauth_provider *p, const struct oauth_callback_in *in,
                     struct oauth_callback *out, struct errinfo *ei)
{
    size_t n;
    enum err e;

    memset(out, 0, sizeof(*out));
    e = check_iss(p, in->iss, ei);
    if (e != ERR_OK)
        return e;
    if (in->error != NULL) {
        bool denied;
        sanitize_code(in->error, out->error, sizeof(out->error));
        oauth_sanitize_text(in->error_description, out->error_description,
                            sizeof(out->error_description));
        denied = strcmp(out->error, "access_denied") == 0;
        return err_set(ei, ERR_UNPROCESSABLE, denied ? "provider_denied" : "provider_error",
                       "error", "%s %s: %s%s%s", p->name,
                       denied ? "access was not granted" : "returned an error", out->error,
                       out->error_description[0] ? " - " : "", out->error_description);
    }
    n = in->code ? strlen(in->code) : 0;
    if (n == 0)
        return err_set(ei, ERR_INVALID, "invalid_callback", "code",
                       "the answer from %s has no authorization code", p->name);
    if (n > OAUTH_MAX_CODE_LEN)
        return err_set(ei, ERR_INVALID, "invalid_callback", "code",
                       "the authorization code is longer than %d bytes", OAUTH_MAX_CODE_LEN);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)in->code[i] < 0x21 || (unsigned char)in->code[i] > 0x7e)
            return err_set(ei, ERR_INVALID, "invalid_callback", "code",
                           "the authorization code contains invalid characters");
    if (secret_set(&out->code, in->code, n) != ERR_OK)
        return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    return ERR_OK;
}

/* ---- URLs for the lead ---- */

enum err
oauth_redirect_uri(const char *app_url, const char *provider_id, char **out)
{
    struct buf b;
    size_t n = app_url ? strlen(app_url) : 0;
    enum err e;

    *out = NULL;
    if (n == 0 || provider_id == NULL)
        return ERR_INVALID;
    if (app_url[n - 1] == '/')
        n--;
    buf_init(&b, URL_MAX_LEN);
    e = buf_append(&b, app_url, n);
    if (e == ERR_OK)
        e = buf_puts(&b, "/api/auth/connect/");
    if (e == ERR_OK)
        e = pct(&b, provider_id);
    if (e == ERR_OK)
        e = buf_puts(&b, "/callback");
    if (e == ERR_OK)
        *out = buf_take(&b, NULL);
    buf_release(&b);
    return e;
}

static enum err
reconnect_url(const struct oauth_provider *p, const struct oauth_list *granted, const char *tier,
              const char *app_url, const char *connection_id, char **out)
{
    struct buf b;
    size_t n = strlen(app_url);
    enum err e;

    if (n > 0 && app_url[n - 1] == '/')
        n--;
    buf_init(&b, URL_MAX_LEN);
    e = buf_append(&b, app_url, n);
    if (e == ERR_OK)
        e = buf_puts(&b, "/api/auth/connect/");
    if (e == ERR_OK)
        e = pct(&b, p->id);
    if (e == ERR_OK)
        e = buf_puts(&b, "/start?tiers=");
    for (size_t i = 0; e == ERR_OK && i < granted->n; i++) {
        e = pct(&b, granted->v[i]);
        if (e == ERR_OK)
            e = buf_puts(&b, "%2C");
    }
    if (e == ERR_OK)
        e = pct(&b, tier);
    if (e == ERR_OK && connection_id != NULL) {
        e = buf_puts(&b, "&connection=");
        if (e == ERR_OK)
            e = pct(&b, connection_id);
    }
    if (e == ERR_OK)
        *out = buf_take(&b, NULL);
    buf_release(&b);
    return e;
}

enum err
oauth_require_tier(const struct oauth_provider *p, const struct oauth_list *granted_tiers,
                   const char *tier, const char *app_url, const char *connection_id,
                   char **reconnect, struct errinfo *ei)
{
    char *url = NULL;
    enum err e;

    if (reconnect != NULL)
        *reconnect = NULL;
    if (tier == NULL || oauth_provider_tier(p, tier) == NULL)
        return err_set(ei, ERR_INTERNAL, NULL, "tier", "%s has no tier %.40s", p->id,
                       tier ? tier : "(null)");
    if (oauth_list_has(granted_tiers, tier))
        return ERR_OK;
    e = reconnect_url(p, granted_tiers, tier, app_url ? app_url : "", connection_id, &url);
    if (e != ERR_OK)
        return err_set(ei, e, NULL, NULL, "reconnect URL too long");
    err_set(ei, ERR_FORBIDDEN, "needs_tier", "tier",
            "this call needs tier %s of %s, which this connection was not granted; reconnect "
            "at %.200s",
            tier, p->name, url);
    if (reconnect != NULL)
        *reconnect = url;
    else
        free(url);
    return ERR_FORBIDDEN;
}
