/* oauth/token: token endpoint requests and answers, revocation, expiry.
 * See token.h. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/util.h"
#include "oauth/token.h"
#include "core/banned.h"

/* ---- form bodies, built in wiped memory ---- */

/* A fixed-size writer over a struct secret: no realloc, so no stray copies
 * of the client secret or tokens are left in freed memory. */
struct formw {
    struct secret s;
    size_t len;
    bool overflow;
};

static void
fw_putc(struct formw *w, char c)
{
    if (w->len + 1 > w->s.len) {
        w->overflow = true;
        return;
    }
    w->s.p[w->len++] = c;
}

static void
fw_puts(struct formw *w, const char *s)
{
    for (; *s; s++)
        fw_putc(w, *s);
}

/* RFC 3986 unreserved kept, everything else %XX (space included: "%20" is
 * decoded correctly by form decoders and by decodeURIComponent alike). */
static void
fw_pct(struct formw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            fw_putc(w, (char)c);
        } else {
            fw_putc(w, '%');
            fw_putc(w, hex[c >> 4]);
            fw_putc(w, hex[c & 15]);
        }
    }
}

static void
fw_param(struct formw *w, const char *k, const char *v, size_t vlen)
{
    if (w->len > 0)
        fw_putc(w, '&');
    fw_puts(w, k);
    fw_putc(w, '=');
    fw_pct(w, v, vlen);
}

struct form_item {
    const char *k;
    const char *v;
    size_t vlen;
};

/* Encodes items (v == NULL skipped) into rq->body. */
static enum err
form_body(struct out_request *rq, const struct form_item *it, size_t n)
{
    struct formw w = {0};
    size_t need = 1;
    enum err e;

    for (size_t i = 0; i < n; i++)
        if (it[i].v != NULL)
            need += strlen(it[i].k) + 2 + 3 * it[i].vlen;
    e = secret_alloc(&w.s, need);
    if (e != ERR_OK)
        return e;
    for (size_t i = 0; i < n; i++)
        if (it[i].v != NULL)
            fw_param(&w, it[i].k, it[i].v, it[i].vlen);
    e = w.overflow ? ERR_INTERNAL : buf_append(&rq->body, w.s.p, w.len);
    rq->cred_body = true; /* a code, refresh token or client secret (SSRF-124) */
    secret_release(&w.s);
    return e;
}

/* Authorization: Basic base64(urlenc(id) ":" urlenc(secret)) (RFC 6749 §2.3.1). */
static enum err
basic_header(struct out_request *rq, const struct oauth_client *c, struct errinfo *ei)
{
    struct formw w = {0};
    struct secret hdr = {0};
    size_t idlen = strlen(c->client_id), need = 3 * idlen + 1 + 3 * c->secret.len + 1;
    enum err e;

    e = secret_alloc(&w.s, need);
    if (e == ERR_OK) {
        fw_pct(&w, c->client_id, idlen);
        fw_putc(&w, ':');
        fw_pct(&w, c->secret.p, c->secret.len);
        e = w.overflow ? ERR_INTERNAL : secret_alloc(&hdr, 6 + 4 * ((w.len + 2) / 3) + 1);
    }
    if (e == ERR_OK) {
        memcpy(hdr.p, "Basic ", 6);
        hdr.len = 6 + b64_encode((const unsigned char *)w.s.p, w.len, hdr.p + 6);
        e = out_request_add_header(rq, "Authorization", hdr.p, true, ei);
    } else {
        err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    }
    secret_release(&w.s);
    secret_release(&hdr);
    return e;
}

/* Process-wide, set once at start-up (serve --oauth-token-timeout) before
 * any worker runs. */
static unsigned token_timeout_ms = OAUTH_TOKEN_TIMEOUT_MS;

enum err
oauth_token_timeout_set(unsigned ms, struct errinfo *ei)
{
    if (ms < OAUTH_MIN_TOKEN_TIMEOUT_MS || ms > OAUTH_TOKEN_TIMEOUT_MS)
        return err_set(ei, ERR_INVALID, "invalid_value", "oauth-token-timeout",
                       "must be from %u to %u milliseconds", OAUTH_MIN_TOKEN_TIMEOUT_MS,
                       OAUTH_TOKEN_TIMEOUT_MS);
    token_timeout_ms = ms;
    return ERR_OK;
}

unsigned
oauth_token_timeout_ms(void)
{
    return token_timeout_ms;
}

static enum err
token_post(const char *url, const char *field, struct out_request *rq, struct errinfo *ei)
{
    enum err e;

    if (url == NULL)
        return err_set(ei, ERR_UNPROCESSABLE, "no_revocation_endpoint", field,
                       "the provider has no %s", field);
    e = out_request_init(rq, "POST", url, ei);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Content-Type", "application/x-www-form-urlencoded", false,
                                   ei);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Accept", "application/json", false, ei);
    rq->limits.total_timeout_ms = token_timeout_ms;
    if (rq->limits.connect_timeout_ms > token_timeout_ms)
        rq->limits.connect_timeout_ms = token_timeout_ms;
    rq->limits.max_response = OAUTH_MAX_TOKEN_RESPONSE;
    rq->limits.max_redirects = 0;
    return e;
}

/* Adds client authentication to items (body) or to rq (basic). Public
 * clients (empty secret) send client_id in the body only. */
static enum err
client_auth(const struct oauth_provider *p, const struct oauth_client *c, struct out_request *rq,
            struct form_item *items, size_t *n, struct errinfo *ei)
{
    if (c == NULL || c->client_id == NULL || c->client_id[0] == '\0')
        return err_set(ei, ERR_UNPROCESSABLE, "provider_not_configured", "client_id",
                       "no client credentials for %s", p->id);
    if (c->secret.len == 0 || p->client_auth == OAUTH_AUTH_BODY) {
        items[(*n)++] = (struct form_item){"client_id", c->client_id, strlen(c->client_id)};
        if (c->secret.len > 0)
            items[(*n)++] = (struct form_item){"client_secret", c->secret.p, c->secret.len};
        return ERR_OK;
    }
    return basic_header(rq, c, ei);
}

static enum err
finish(struct out_request *rq, const struct form_item *items, size_t n, enum err e,
       struct errinfo *ei)
{
    if (e == ERR_OK) {
        e = form_body(rq, items, n);
        if (e != ERR_OK)
            err_set(ei, e, NULL, "body", "token request body too large");
    }
    if (e != ERR_OK)
        out_request_release(rq);
    return e;
}

static bool
secret_ok(const struct secret *s)
{
    return s != NULL && s->p != NULL && s->len > 0;
}

enum err
oauth_token_request_code(const struct oauth_provider *p, const struct oauth_client *c,
                         const struct secret *code, const char *redirect_uri,
                         const struct secret *verifier, struct out_request *rq, struct errinfo *ei)
{
    struct form_item items[8];
    size_t n = 0;
    enum err e;

    memset(rq, 0, sizeof(*rq));
    if (!secret_ok(code) || redirect_uri == NULL)
        return err_set(ei, ERR_INVALID, "invalid_field", "code", "code or redirect_uri missing");
    if (p->pkce && !secret_ok(verifier))
        return err_set(ei, ERR_INVALID, "invalid_field", "code_verifier",
                       "%s uses PKCE: code_verifier is required", p->id);
    e = token_post(p->token_url, "token_url", rq, ei);
    items[n++] = (struct form_item){"grant_type", "authorization_code", 18};
    items[n++] = (struct form_item){"code", code->p, code->len};
    items[n++] = (struct form_item){"redirect_uri", redirect_uri, strlen(redirect_uri)};
    if (p->pkce)
        items[n++] = (struct form_item){"code_verifier", verifier->p, verifier->len};
    if (e == ERR_OK)
        e = client_auth(p, c, rq, items, &n, ei);
    return finish(rq, items, n, e, ei);
}

enum err
oauth_token_request_refresh(const struct oauth_provider *p, const struct oauth_client *c,
                            const struct secret *refresh_token, const char *scope,
                            struct out_request *rq, struct errinfo *ei)
{
    struct form_item items[8];
    size_t n = 0;
    enum err e;

    memset(rq, 0, sizeof(*rq));
    if (!secret_ok(refresh_token))
        return err_set(ei, ERR_UNPROCESSABLE, "no_refresh_token", "refresh_token",
                       "the connection has no refresh token; reconnect it");
    e = token_post(p->token_url, "token_url", rq, ei);
    items[n++] = (struct form_item){"grant_type", "refresh_token", 13};
    items[n++] = (struct form_item){"refresh_token", refresh_token->p, refresh_token->len};
    if (scope != NULL)
        items[n++] = (struct form_item){"scope", scope, strlen(scope)};
    if (e == ERR_OK)
        e = client_auth(p, c, rq, items, &n, ei);
    return finish(rq, items, n, e, ei);
}

enum err
oauth_revoke_request(const struct oauth_provider *p, const struct oauth_client *c,
                     const struct secret *token, const char *hint, struct out_request *rq,
                     struct errinfo *ei)
{
    struct form_item items[8];
    size_t n = 0;
    enum err e;

    memset(rq, 0, sizeof(*rq));
    if (!secret_ok(token))
        return err_set(ei, ERR_INVALID, "invalid_field", "token", "no token to revoke");
    if (hint != NULL && strcmp(hint, "refresh_token") != 0 && strcmp(hint, "access_token") != 0)
        return err_set(ei, ERR_INVALID, "invalid_field", "token_type_hint",
                       "token_type_hint must be refresh_token or access_token");
    e = token_post(p->revocation_url, "revocation_url", rq, ei);
    if (e != ERR_OK)
        return e;
    items[n++] = (struct form_item){"token", token->p, token->len};
    if (hint != NULL)
        items[n++] = (struct form_item){"token_type_hint", hint, strlen(hint)};
    e = client_auth(p, c, rq, items, &n, ei);
    return finish(rq, items, n, e, ei);
}

bool
oauth_revoke_ok(const struct out_response *res)
{
    return res->fail == OUT_OK && res->status >= 200 && res->status < 300;
}

enum err
oauth_bearer_header(struct out_request *rq, const struct secret *at, struct errinfo *ei)
{
    struct secret v = {0};
    enum err e;

    if (!secret_ok(at))
        return err_set(ei, ERR_UNPROCESSABLE, "no_access_token", "access_token",
                       "the connection has no access token");
    e = secret_alloc(&v, 7 + at->len);
    if (e != ERR_OK)
        return err_set(ei, e, NULL, NULL, "out of memory");
    memcpy(v.p, "Bearer ", 7);
    memcpy(v.p + 7, at->p, at->len);
    e = out_request_add_header(rq, "Authorization", v.p, true, ei);
    secret_release(&v);
    return e;
}

/* ---- answers ---- */

const char *
oauth_token_result_name(enum oauth_token_result r)
{
    switch (r) {
    case OAUTH_TOKEN_OK:
        return "ok";
    case OAUTH_TOKEN_INVALID_GRANT:
        return "invalid_grant";
    case OAUTH_TOKEN_CONFIG:
        return "provider_config";
    case OAUTH_TOKEN_REJECTED:
        return "rejected";
    case OAUTH_TOKEN_TRANSIENT:
        return "transient";
    case OAUTH_TOKEN_MALFORMED:
        return "malformed";
    }
    return "unknown";
}

void
oauth_tokens_release(struct oauth_tokens *t)
{
    if (t == NULL)
        return;
    secret_release(&t->access_token);
    secret_release(&t->refresh_token);
    free(t->scope);
    memset(t, 0, sizeof(*t));
}

static enum oauth_token_result
classify_error(const char *code, long status)
{
    static const struct {
        const char *code;
        enum oauth_token_result r;
    } map[] = {
        {"invalid_grant", OAUTH_TOKEN_INVALID_GRANT},
        {"bad_verification_code", OAUTH_TOKEN_INVALID_GRANT}, /* GitHub */
        {"bad_refresh_token", OAUTH_TOKEN_INVALID_GRANT},     /* GitHub Apps */
        {"invalid_client", OAUTH_TOKEN_CONFIG},
        {"unauthorized_client", OAUTH_TOKEN_CONFIG},
        {"incorrect_client_credentials", OAUTH_TOKEN_CONFIG}, /* GitHub */
        {"temporarily_unavailable", OAUTH_TOKEN_TRANSIENT},
        {"server_error", OAUTH_TOKEN_TRANSIENT},
        {"slow_down", OAUTH_TOKEN_TRANSIENT},
    };
    for (size_t i = 0; i < ARRAY_LEN(map); i++)
        if (strcmp(map[i].code, code) == 0)
            return map[i].r;
    return (status >= 500 || status == 429) ? OAUTH_TOKEN_TRANSIENT : OAUTH_TOKEN_REJECTED;
}

static void
wipe_json_string(json_t *v)
{
    if (json_is_string(v))
        OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
}

/* A token: string of 1..OAUTH_MAX_TOKEN_LEN bytes in 0x21..0x7e. */
static bool
token_ok(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);

    if (s == NULL || n == 0 || n > OAUTH_MAX_TOKEN_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* expires_in -> seconds; 0 = unknown. */
static int64_t
parse_expires(const json_t *v, bool *clamped)
{
    double d = -1.0;

    *clamped = false;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i <= 0)
            return 0;
        if (i > OAUTH_MAX_EXPIRES_IN_S) {
            *clamped = true;
            return OAUTH_MAX_EXPIRES_IN_S;
        }
        return (int64_t)i;
    }
    if (json_is_real(v))
        d = json_real_value(v);
    else if (json_is_string(v)) {
        uint64_t u;
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n == 0 || n > 12 || strspn(s, "0123456789") != n || !parse_u64(s, UINT64_MAX, &u))
            return 0;
        d = (double)u;
    }
    if (!(d >= 1.0) || !isfinite(d))
        return 0;
    if (d > (double)OAUTH_MAX_EXPIRES_IN_S) {
        *clamped = true;
        return OAUTH_MAX_EXPIRES_IN_S;
    }
    return (int64_t)d;
}

static enum oauth_token_result
fail(enum oauth_token_result r, struct oauth_token_error *terr, const char *code,
     struct errinfo *ei, const char *msg)
{
    snprintf(terr->error, sizeof(terr->error), "%s", code);
    err_set(ei, r == OAUTH_TOKEN_TRANSIENT ? ERR_UPSTREAM : ERR_UNPROCESSABLE, code, "token",
            "token endpoint: %s", msg);
    return r;
}

/* Does s repeat the credential the request carried (LEAK-010)? */
static bool
repeats(const char *s, const struct secret *sent)
{
    return s != NULL && sent != NULL && sent->p != NULL && sent->len > 0 &&
           strstr(s, sent->p) != NULL;
}

/* sent: the refresh token the request carried (may be NULL); an error code or
 * description that repeats it is withheld, before any truncation. */
static enum oauth_token_result
from_error_body(const json_t *j, long status, const struct secret *sent,
                struct oauth_token_error *terr, struct errinfo *ei)
{
    const char *code = json_string_value(json_object_get(j, "error"));
    const char *desc = json_string_value(json_object_get(j, "error_description"));
    enum oauth_token_result r;

    if (repeats(code, sent))
        code = "invalid_error";
    if (repeats(desc, sent))
        desc = "(withheld: it repeated the refresh token)";

    {
        size_t n = strlen(code);
        bool ok = n > 0 && n <= OAUTH_MAX_ERROR_LEN;
        for (size_t i = 0; ok && i < n; i++)
            ok = isalnum((unsigned char)code[i]) || strchr("_-.", code[i]) != NULL;
        snprintf(terr->error, sizeof(terr->error), "%s", ok ? code : "invalid_error");
    }
    oauth_sanitize_text(desc, terr->description, sizeof(terr->description));
    r = classify_error(terr->error, status);
    err_set(ei,
            r == OAUTH_TOKEN_TRANSIENT       ? ERR_UPSTREAM
            : r == OAUTH_TOKEN_INVALID_GRANT ? ERR_UNAUTHORIZED
                                             : ERR_UNPROCESSABLE,
            terr->error, "token", "token endpoint answered %s%s%s", terr->error,
            terr->description[0] ? ": " : "", terr->description);
    return r;
}

static enum oauth_token_result
by_status(long status, struct oauth_token_error *terr, struct errinfo *ei)
{
    char code[32];

    snprintf(code, sizeof(code), "http_%ld", status);
    if (status >= 500 || status == 429)
        return fail(OAUTH_TOKEN_TRANSIENT, terr, code, ei, "the provider is unavailable");
    if ((status >= 300 && status < 400) || status == 401 || status == 403 || status == 404)
        return fail(OAUTH_TOKEN_CONFIG, terr, code, ei,
                    "refused the client or is not a token endpoint (check the provider's "
                    "token_url and client credentials)");
    return fail(OAUTH_TOKEN_REJECTED, terr, code, ei, "the request was refused");
}

static enum oauth_token_result
take_tokens(json_t *j, const struct secret *old_refresh, int64_t now_ms, struct oauth_tokens *t,
            struct oauth_token_error *terr, struct errinfo *ei)
{
    json_t *at = json_object_get(j, "access_token"), *rt = json_object_get(j, "refresh_token");
    const json_t *tt = json_object_get(j, "token_type"), *sc = json_object_get(j, "scope");
    const json_t *ex = json_object_get(j, "expires_in");

    if (!token_ok(at))
        return fail(OAUTH_TOKEN_MALFORMED, terr, "invalid_token_response", ei,
                    "access_token is missing, empty, too long or has invalid characters");
    if (tt != NULL && !json_is_null(tt) &&
        (!json_is_string(tt) || strcasecmp(json_string_value(tt), "bearer") != 0))
        return fail(OAUTH_TOKEN_MALFORMED, terr, "unsupported_token_type", ei,
                    "token_type is not Bearer");
    if (rt != NULL && !json_is_null(rt) &&
        !(json_is_string(rt) && (json_string_length(rt) == 0 || token_ok(rt))))
        return fail(OAUTH_TOKEN_MALFORMED, terr, "invalid_token_response", ei,
                    "refresh_token is too long or has invalid characters");
    if (sc != NULL && !json_is_null(sc)) {
        struct oauth_list l = {0};
        if (!json_is_string(sc) || oauth_scopes_split(json_string_value(sc), &l, NULL) != ERR_OK)
            return fail(OAUTH_TOKEN_MALFORMED, terr, "invalid_token_response", ei,
                        "scope is not a valid scope string");
        if (oauth_list_join(&l, ' ', &t->scope) != ERR_OK)
            t->scope = NULL;
        oauth_list_release(&l);
        if (t->scope == NULL)
            return fail(OAUTH_TOKEN_TRANSIENT, terr, "nomem", ei, "out of memory");
    }
    t->obtained_at_ms = now_ms;
    t->expires_in_s = parse_expires(ex, &t->expires_clamped);
    t->expires_at_ms = t->expires_in_s ? now_ms + t->expires_in_s * 1000 : 0;
    if (secret_set(&t->access_token, json_string_value(at), json_string_length(at)) != ERR_OK)
        return fail(OAUTH_TOKEN_TRANSIENT, terr, "nomem", ei, "out of memory");
    if (json_is_string(rt) && json_string_length(rt) > 0) {
        t->refresh_rotated =
            !secret_ok(old_refresh) || old_refresh->len != json_string_length(rt) ||
            CRYPTO_memcmp(old_refresh->p, json_string_value(rt), old_refresh->len) != 0;
        if (secret_set(&t->refresh_token, json_string_value(rt), json_string_length(rt)) != ERR_OK)
            return fail(OAUTH_TOKEN_TRANSIENT, terr, "nomem", ei, "out of memory");
    } else if (secret_ok(old_refresh)) {
        if (secret_set(&t->refresh_token, old_refresh->p, old_refresh->len) != ERR_OK)
            return fail(OAUTH_TOKEN_TRANSIENT, terr, "nomem", ei, "out of memory");
    }
    return OAUTH_TOKEN_OK;
}

enum oauth_token_result
oauth_token_parse(struct out_response *res, const struct secret *old_refresh, int64_t now_ms,
                  struct oauth_tokens *out, struct oauth_token_error *terr, struct errinfo *ei)
{
    struct oauth_token_error te = {0};
    enum oauth_token_result r;
    json_t *j = NULL;

    memset(out, 0, sizeof(*out));
    te.status = res->fail == OUT_OK ? res->status : 0;
    if (res->fail != OUT_OK) {
        enum out_fail f = res->fail;
        r = (f == OUT_FAIL_TOO_LARGE || f == OUT_FAIL_PROTOCOL) ? OAUTH_TOKEN_MALFORMED
            : (f == OUT_FAIL_URL || f == OUT_FAIL_BLOCKED || f == OUT_FAIL_REDIRECTS)
                ? OAUTH_TOKEN_CONFIG
                : OAUTH_TOKEN_TRANSIENT;
        r = fail(r, &te, out_fail_name(f), ei, res->error);
        goto out;
    }
    if (res->body.len > OAUTH_MAX_TOKEN_RESPONSE) {
        r = fail(OAUTH_TOKEN_MALFORMED, &te, "too_large", ei, "the answer is too large");
        goto out;
    }
    if (res->body.len > 0)
        j = json_loadb(res->body.data, res->body.len, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(j) && json_is_string(json_object_get(j, "error")) &&
        (res->status < 200 || res->status >= 300 || json_object_get(j, "access_token") == NULL)) {
        r = from_error_body(j, res->status, old_refresh, &te, ei);
        goto out;
    }
    if (res->status < 200 || res->status >= 300) {
        r = by_status(res->status, &te, ei);
        goto out;
    }
    if (!json_is_object(j)) {
        r = fail(OAUTH_TOKEN_MALFORMED, &te, "invalid_token_response", ei,
                 "the answer is not a JSON object (or repeats a key)");
        goto out;
    }
    r = take_tokens(j, old_refresh, now_ms, out, &te, ei);
out:
    if (j != NULL) {
        wipe_json_string(json_object_get(j, "access_token"));
        wipe_json_string(json_object_get(j, "refresh_token"));
        wipe_json_string(json_object_get(j, "id_token"));
        json_decref(j);
    }
    if (res->body.data != NULL)
        OPENSSL_cleanse(res->body.data, res->body.len);
    if (r != OAUTH_TOKEN_OK)
        oauth_tokens_release(out);
    if (terr != NULL)
        *terr = te;
    return r;
}

/* ---- expiry ---- */

bool
oauth_needs_refresh(int64_t now_ms, int64_t obtained_at_ms, int64_t expires_at_ms, int64_t margin_s)
{
    int64_t life, m;

    if (expires_at_ms <= 0)
        return false;
    life = expires_at_ms - obtained_at_ms;
    if (obtained_at_ms <= 0 || life <= 0)
        return now_ms >= expires_at_ms - margin_s * 1000;
    if (now_ms < obtained_at_ms - life)
        return true;
    m = margin_s * 1000;
    if (m > life / 2)
        m = life / 2;
    return now_ms >= expires_at_ms - m;
}
