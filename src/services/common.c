/*
 * common: base64url, tool-input readers and request helpers used by every
 * builder of src/services/ (declared in services/internal.h).
 */
#include "services/internal.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/util.h"
#include "services/tool.h"
#include "core/banned.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

enum err
svc_b64url_append(struct buf *out, const unsigned char *p, size_t n)
{
    enum err e = ERR_OK;
    size_t i = 0;
    char q[4];

    for (; i + 3 <= n && e == ERR_OK; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        q[0] = b64url_alphabet[v >> 18 & 63];
        q[1] = b64url_alphabet[v >> 12 & 63];
        q[2] = b64url_alphabet[v >> 6 & 63];
        q[3] = b64url_alphabet[v & 63];
        e = buf_append(out, q, 4);
    }
    if (e == ERR_OK && n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        q[0] = b64url_alphabet[v >> 18 & 63];
        q[1] = b64url_alphabet[v >> 12 & 63];
        e = buf_append(out, q, 2);
    } else if (e == ERR_OK && n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        q[0] = b64url_alphabet[v >> 18 & 63];
        q[1] = b64url_alphabet[v >> 12 & 63];
        q[2] = b64url_alphabet[v >> 6 & 63];
        e = buf_append(out, q, 3);
    }
    return e;
}

static int
b64url_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long
svc_b64url_decode(const char *s, size_t n, unsigned char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    long len = 0;

    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_val(s[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    return len;
}

static enum err
bad_input(struct errinfo *ei, const char *key, const char *msg)
{
    enum err e = err_set(ei, ERR_INVALID, "invalid_input", key, "input.%s %s", key, msg);
    err_field_prefix(ei, "input");
    return e;
}

enum err
svc_input_object(const json_t *input, struct errinfo *ei)
{
    if (input != NULL && !json_is_object(input))
        return err_set(ei, ERR_INVALID, "invalid_input", "input", "input must be an object");
    return ERR_OK;
}

enum err
svc_input_str(const json_t *input, const char *key, bool required, size_t max, bool no_ctl,
              const char **out, struct errinfo *ei)
{
    const json_t *v = input ? json_object_get(input, key) : NULL;
    const char *s;
    size_t n;

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return bad_input(ei, key, "is required");
        return ERR_OK;
    }
    if (!json_is_string(v))
        return bad_input(ei, key, "must be a string");
    s = json_string_value(v);
    n = json_string_length(v);
    if (strlen(s) != n)
        return bad_input(ei, key, "must not contain NUL");
    if (required && n == 0)
        return bad_input(ei, key, "must not be empty");
    if (n > max) {
        char msg[64];
        snprintf(msg, sizeof(msg), "must be at most %zu bytes", max);
        return bad_input(ei, key, msg);
    }
    if (no_ctl && str_has_ctl(s))
        return bad_input(ei, key, "must not contain control characters");
    *out = s;
    return ERR_OK;
}

enum err
svc_input_int(const json_t *input, const char *key, int64_t min, int64_t max, bool *present,
              int64_t *out, struct errinfo *ei)
{
    const json_t *v = input ? json_object_get(input, key) : NULL;
    json_int_t n;

    *present = false;
    if (v == NULL || json_is_null(v))
        return ERR_OK;
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != (double)(json_int_t)d)
            return bad_input(ei, key, "must be an integer");
        n = (json_int_t)d;
    } else if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else {
        return bad_input(ei, key, "must be an integer");
    }
    if (n < min || n > max) {
        char msg[96];
        snprintf(msg, sizeof(msg), "must be between %lld and %lld", (long long)min, (long long)max);
        return bad_input(ei, key, msg);
    }
    *present = true;
    *out = n;
    return ERR_OK;
}

enum err
svc_input_bool(const json_t *input, const char *key, bool *present, bool *out, struct errinfo *ei)
{
    const json_t *v = input ? json_object_get(input, key) : NULL;

    *present = false;
    if (v == NULL || json_is_null(v))
        return ERR_OK;
    if (!json_is_boolean(v))
        return bad_input(ei, key, "must be a boolean");
    *present = true;
    *out = json_is_true(v);
    return ERR_OK;
}

enum err
svc_input_unknown(const char *key, struct errinfo *ei)
{
    /* the key is the caller's, not a secret, but keep it short and printable */
    char k[65];
    size_t n = strlen(key) < 64 ? strlen(key) : 64;

    memcpy(k, key, n);
    k[n] = '\0';
    if (str_has_ctl(k) || !str_is_utf8(k, n))
        snprintf(k, sizeof(k), "?");
    return bad_input(ei, k, "is not a known property");
}

enum err
svc_input_only(const json_t *input, const char *const *allowed, struct errinfo *ei)
{
    const char *key;
    const json_t *v;

    if (input == NULL)
        return ERR_OK;
    json_object_foreach ((json_t *)input, key, v) {
        bool ok = false;
        (void)v;
        for (size_t i = 0; allowed[i] != NULL && !ok; i++)
            ok = strcmp(allowed[i], key) == 0;
        if (!ok)
            return svc_input_unknown(key, ei);
    }
    return ERR_OK;
}

enum err
svc_request_init(struct out_request *rq, const char *method, const char *base, const char *path,
                 struct errinfo *ei)
{
    struct buf url;
    enum err e;

    buf_init(&url, MAX_BASE_URL_LEN + MAX_OP_PATH_LEN + MAX_SECRET_LEN);
    e = buf_puts(&url, base ? base : "");
    if (e == ERR_OK)
        e = buf_puts(&url, path);
    if (e != ERR_OK) {
        buf_wipe_release(&url);
        memset(rq, 0, sizeof(*rq));
        return err_set(ei, ERR_TOO_LARGE, NULL, "url", "request URL is too long");
    }
    e = out_request_init(rq, method, url.data, ei);
    buf_wipe_release(&url); /* a Telegram URL carries the bot token */
    if (e != ERR_OK)
        out_request_release(rq);
    return e;
}

enum err
svc_json_body(struct out_request *rq, const json_t *body, struct errinfo *ei)
{
    char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    enum err e;

    if (s == NULL)
        return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    buf_reset(&rq->body);
    e = buf_puts(&rq->body, s);
    OPENSSL_cleanse(s, strlen(s));
    free(s);
    if (e != ERR_OK)
        return err_set(ei, e, "too_large", "input", "request body would exceed %zu bytes",
                       (size_t)OUT_MAX_REQUEST_BODY);
    return out_request_add_header(rq, "Content-Type", "application/json", false, ei);
}

enum err
svc_check_header_key(const struct secret *key, const char *what, struct errinfo *ei)
{
    if (key == NULL || key->p == NULL || key->len == 0)
        return err_set(ei, ERR_UNPROCESSABLE, "credential_missing", what, "%s is not set", what);
    if (key->len > MAX_SECRET_LEN || strlen(key->p) != key->len)
        return err_set(ei, ERR_UNPROCESSABLE, "credential_invalid", what,
                       "%s is too long or contains NUL", what);
    for (size_t i = 0; i < key->len; i++) {
        unsigned char c = (unsigned char)key->p[i];
        if (c < 0x21 || c > 0x7e)
            return err_set(ei, ERR_UNPROCESSABLE, "credential_invalid", what,
                           "%s must be printable ASCII without spaces", what);
    }
    return ERR_OK;
}

void
svc_json_string_wipe(json_t *v)
{
    if (v == NULL || !json_is_string(v))
        return;
    /* jansson owns the bytes; overwriting them in place keeps the length
     * and leaves no plaintext behind when the value is freed. */
    OPENSSL_cleanse((char *)(uintptr_t)json_string_value(v), json_string_length(v));
}

json_t *
svc_tool_schema(const struct svc_tool *t)
{
    return json_loads(t->input_schema, 0, NULL);
}

bool
svc_tier_allows(const char *granted, const char *needed)
{
    if (needed == NULL)
        return true;
    if (granted == NULL)
        return false;
    return strcmp(granted, "full") == 0 || strcmp(granted, needed) == 0;
}
