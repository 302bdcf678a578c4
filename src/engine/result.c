/*
 * result: an upstream response rendered as connhub's call answer.
 *
 * The envelope is written by hand around the upstream body: a JSON body is
 * validated by a scanner that allocates nothing (json_text_valid) and spliced
 * in as is (parsing into a tree and re-encoding cost ~30 µs per KB,
 * perf-notes §6); text becomes a JSON string; anything else is base64 with
 * "body_encoding":"base64". Headers are written by hand too. Credential values an upstream echoes
 * back are replaced by "[REDACTED]" in the body and headers before anything is rendered (LEAK-006).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "auth/auth.h"
#include "core/util.h"
#include "engine/call.h"
#include "core/banned.h"

#define REDACTED "[REDACTED]"
#define MIN_REDACT_LEN 4 /* shorter values would redact ordinary words */

static const char *const hop_by_hop[] = {
    "connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade",
    "te",         "trailer",    "content-length",    "content-encoding", NULL};

/* Replaces every occurrence of needle in b (in place, via a new buffer). */
static void
redact_one(struct buf *b, const char *needle, size_t nlen)
{
    struct buf out;
    const char *p, *end, *hit;

    if (b->data == NULL || nlen < MIN_REDACT_LEN || b->len < nlen ||
        memmem(b->data, b->len, needle, nlen) == NULL)
        return;
    buf_init(&out, b->max);
    p = b->data;
    end = b->data + b->len;
    while ((hit = memmem(p, (size_t)(end - p), needle, nlen)) != NULL) {
        if (buf_append(&out, p, (size_t)(hit - p)) != ERR_OK || buf_puts(&out, REDACTED) != ERR_OK)
            break;
        p = hit + nlen;
    }
    if (buf_append(&out, p, (size_t)(end - p)) != ERR_OK) {
        buf_wipe_release(&out);
        memset(b->data, '*', b->len); /* could not rebuild: blank it all rather than leak */
        return;
    }
    buf_wipe_release(b);
    *b = out;
}

void
result_redact(struct buf *b, const struct auth_values *sec)
{
    const struct secret *u = auth_values_get(sec, "username");
    const struct secret *pw = auth_values_get(sec, "password");

    for (size_t i = 0; sec && i < sec->n; i++)
        redact_one(b, sec->value[i].p, sec->value[i].len);
    if (u) { /* the basic-auth header value, as an upstream would echo it */
        struct buf raw;
        char *enc;
        buf_init(&raw, 2 * MAX_SECRET_LEN + 2);
        if (buf_printf(&raw, "%s:%s", u->p, pw ? pw->p : "") == ERR_OK) {
            size_t n = 4 * ((raw.len + 2) / 3) + 1;
            enc = OPENSSL_secure_zalloc(n);
            if (enc) {
                b64_encode((const unsigned char *)raw.data, raw.len, enc);
                redact_one(b, enc, strlen(enc));
                OPENSSL_secure_clear_free(enc, n);
            }
        }
        buf_wipe_release(&raw);
    }
}

static bool
in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcasecmp(s, list[i]) == 0)
            return true;
    return false;
}

/* Appends n bytes of UTF-8 text as a JSON string, escaped the way jansson
 * escapes (so answers keep their bytes): \" \\ \b \f \n \r \t, other
 * controls as \u00XX; everything else as is. */
static enum err
put_json_str(struct buf *o, const char *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF", from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
    size_t run = 0;
    enum err e = buf_putc(o, '"');

    for (size_t i = 0; e == ERR_OK && i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        size_t elen = 2;
        const char *m;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        e = buf_append(o, p + run, i - run);
        run = i + 1;
        m = c != 0 ? strchr(from, c) : NULL;
        if (m != NULL) {
            esc[1] = to[m - from];
        } else {
            esc[1] = 'u';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if (e == ERR_OK)
            e = buf_append(o, esc, elen);
    }
    if (e == ERR_OK)
        e = buf_append(o, p + run, n - run);
    return e == ERR_OK ? buf_putc(o, '"') : e;
}

/* One header's value, redacted; false (nothing to show) unless valid UTF-8. */
static bool
header_value(const struct out_header *h, const struct auth_values *sec, struct buf *v)
{
    buf_init(v, 1u << 20);
    if (buf_puts(v, h->value ? h->value : "") != ERR_OK) {
        buf_release(v);
        return false;
    }
    result_redact(v, sec);
    if (v->data == NULL || !str_is_utf8(v->data, v->len)) {
        buf_release(v);
        return false;
    }
    return true;
}

/* "headers":{...}: the final hop's headers less hop-by-hop ones, values
 * redacted, repeated names joined with ", " in the order received. */
static enum err
put_headers(struct buf *o, const struct out_response *res, const struct auth_values *sec)
{
    bool first = true;
    enum err e = buf_puts(o, ",\"headers\":{");

    for (size_t i = 0; e == ERR_OK && i < res->nheaders; i++) {
        const char *name = res->headers[i].name;
        bool seen = false, any = false;
        struct buf joined;
        if (in_list(name, hop_by_hop))
            continue;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(res->headers[j].name, name) == 0;
        if (seen || !str_is_utf8(name, strlen(name)))
            continue; /* written with its first occurrence */
        buf_init(&joined, 2u << 20);
        for (size_t j = i; e == ERR_OK && j < res->nheaders; j++) {
            struct buf v;
            if (strcmp(res->headers[j].name, name) != 0 || !header_value(&res->headers[j], sec, &v))
                continue;
            if (any)
                e = buf_puts(&joined, ", ");
            if (e == ERR_OK)
                e = buf_append(&joined, v.data, v.len);
            any = true;
            buf_release(&v);
        }
        if (e == ERR_OK && any) {
            e = first ? ERR_OK : buf_putc(o, ',');
            first = false;
            if (e == ERR_OK)
                e = put_json_str(o, name, strlen(name));
            if (e == ERR_OK)
                e = buf_putc(o, ':');
            if (e == ERR_OK)
                e = put_json_str(o, joined.data ? joined.data : "", joined.len);
        }
        buf_release(&joined);
    }
    return e == ERR_OK ? buf_putc(o, '}') : e;
}

/* ---- a JSON text check that allocates nothing ---- */

/* jansson's parser refuses nesting past 2048; the answer wraps the body one
 * level deeper, so a deeper body goes out as text (still readable). */
#define SPLICE_MAX_DEPTH 2047

static size_t
skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static long
hex4(const char *s, size_t i, size_t n)
{
    long v = 0;

    if (i + 4 > n)
        return -1;
    for (size_t k = i; k < i + 4; k++) {
        char c = s[k];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* s[i] is '"': the index after the closing quote, 0 if the string is bad
 * (controls, bad escapes, \u0000 or an unpaired surrogate as jansson
 * refuses them, invalid UTF-8). */
static size_t
scan_string(const char *s, size_t i, size_t n)
{
    for (i++; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            long u;
            if (i + 1 >= n)
                return 0;
            c = (unsigned char)s[i + 1];
            if (c != 'u') {
                if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' &&
                    c != 'r' && c != 't')
                    return 0;
                i += 2;
                continue;
            }
            u = hex4(s, i + 2, n);
            i += 6;
            if (u <= 0 || (u >= 0xdc00 && u <= 0xdfff))
                return 0;
            if (u >= 0xd800 && u <= 0xdbff) {
                long lo = i + 1 < n && s[i] == '\\' && s[i + 1] == 'u' ? hex4(s, i + 2, n) : -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return 0;
                i += 6;
            }
            continue;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        {
            size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (k > n - i || !str_is_utf8(s + i, k))
                return 0;
            i += k;
        }
    }
    return 0;
}

static size_t
scan_digits(const char *s, size_t i, size_t n)
{
    size_t start = i;

    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i > start ? i : 0;
}

/* A number at s[i]: the index after it, 0 if malformed. */
static size_t
scan_number(const char *s, size_t i, size_t n)
{
    if (s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if ((i = scan_digits(s, i, n)) == 0)
        return 0;
    if (i < n && s[i] == '.' && (i = scan_digits(s, i + 1, n)) == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if ((i = scan_digits(s, i, n)) == 0)
            return 0;
    }
    return i;
}

static size_t
scan_word(const char *s, size_t i, size_t n, const char *w)
{
    size_t len = strlen(w);

    return len <= n - i && memcmp(s + i, w, len) == 0 ? i + len : 0;
}

/* In an object, after '{' or ',': a key and its ':'; the index of the
 * value, 0 if malformed. */
static size_t
scan_key(const char *s, size_t i, size_t n)
{
    if (i >= n || s[i] != '"' || (i = scan_string(s, i, n)) == 0)
        return 0;
    i = skip_ws(s, i, n);
    return i < n && s[i] == ':' ? skip_ws(s, i + 1, n) : 0;
}

/* Whether s[0..n) is one JSON value (RFC 8259) that jansson would accept,
 * surrounded by whitespace only; nesting up to SPLICE_MAX_DEPTH. */
static bool
json_text_valid(const char *s, size_t n)
{
    unsigned char is_obj[(SPLICE_MAX_DEPTH + 7) / 8] = {0};
    size_t depth = 0, i = skip_ws(s, 0, n);

    for (;;) {
        bool closed = false;
        if (i >= n)
            return false;
        if (s[i] == '{' || s[i] == '[') {
            bool obj = s[i] == '{';
            if (depth == SPLICE_MAX_DEPTH)
                return false;
            is_obj[depth / 8] = (unsigned char)(obj ? is_obj[depth / 8] | (1u << (depth % 8))
                                                    : is_obj[depth / 8] & ~(1u << (depth % 8)));
            depth++;
            i = skip_ws(s, i + 1, n);
            if (i < n && s[i] == (obj ? '}' : ']')) {
                depth--;
                i++;
                closed = true;
            } else {
                if (obj && (i = scan_key(s, i, n)) == 0)
                    return false;
                continue; /* the first member's value */
            }
        }
        if (!closed) {
            char c = s[i];
            if (c == '"')
                i = scan_string(s, i, n);
            else if (c == '-' || (c >= '0' && c <= '9'))
                i = scan_number(s, i, n);
            else
                i = c == 't'   ? scan_word(s, i, n, "true")
                    : c == 'f' ? scan_word(s, i, n, "false")
                    : c == 'n' ? scan_word(s, i, n, "null")
                               : 0;
            if (i == 0)
                return false;
        }
        /* after a value: close containers, or move to the next member */
        for (;;) {
            bool obj;
            i = skip_ws(s, i, n);
            if (depth == 0)
                return i == n;
            obj = (is_obj[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1u;
            if (i < n && s[i] == (obj ? '}' : ']')) {
                depth--;
                i++;
                continue;
            }
            if (i >= n || s[i] != ',')
                return false;
            i = skip_ws(s, i + 1, n);
            if (obj && (i = scan_key(s, i, n)) == 0)
                return false;
            break;
        }
    }
}

static bool
is_json_type(const char *ct)
{
    return ct && (strncasecmp(ct, "application/json", 16) == 0 || strstr(ct, "+json") != NULL);
}

static bool
is_text_type(const char *ct)
{
    return ct && (strncasecmp(ct, "text/", 5) == 0 || strstr(ct, "xml") != NULL ||
                  strstr(ct, "javascript") != NULL || strstr(ct, "x-www-form-urlencoded") != NULL);
}

/* Appends the "body" member (and "body_encoding" when base64). */
static enum err
put_body(struct buf *o, const struct out_response *res, const struct buf *body)
{
    enum err e;

    if (body->len == 0)
        return buf_puts(o, ",\"body\":null");
    if (is_json_type(res->content_type) && json_text_valid(body->data, body->len)) {
        e = buf_puts(o, ",\"body\":");
        return e == ERR_OK ? buf_append(o, body->data, body->len) : e;
    }
    if ((is_text_type(res->content_type) || is_json_type(res->content_type) ||
         res->content_type == NULL) &&
        str_is_utf8(body->data, body->len) && strlen(body->data) == body->len) {
        e = buf_puts(o, ",\"body\":");
        return e == ERR_OK ? put_json_str(o, body->data, body->len) : e;
    }
    {
        size_t n = 4 * ((body->len + 2) / 3) + 1;
        char *b64 = malloc(n);
        if (b64 == NULL)
            return ERR_NOMEM;
        b64_encode((const unsigned char *)body->data, body->len, b64);
        e = buf_printf(o, ",\"body_encoding\":\"base64\",\"body\":\"%s\"", b64);
        free(b64);
        return e;
    }
}

static void
render_failure(const struct out_response *res, struct call_result *out)
{
    static const struct {
        enum out_fail f;
        enum err e;
        int status;
        const char *code;
    } map[] = {
        {OUT_FAIL_URL, ERR_UPSTREAM, 502, "bad_url"},
        {OUT_FAIL_BLOCKED, ERR_FORBIDDEN, 403, "blocked_by_policy"},
        {OUT_FAIL_RESOLVE, ERR_UPSTREAM, 502, "dns_failed"},
        {OUT_FAIL_CONNECT, ERR_UPSTREAM, 502, "connect_failed"},
        {OUT_FAIL_TLS, ERR_UPSTREAM, 502, "tls_failed"},
        {OUT_FAIL_TIMEOUT, ERR_TIMEOUT, 504, "upstream_timeout"},
        {OUT_FAIL_TOO_LARGE, ERR_UPSTREAM, 502, "response_too_large"},
        {OUT_FAIL_REDIRECTS, ERR_UPSTREAM, 502, "too_many_redirects"},
        {OUT_FAIL_PROTOCOL, ERR_UPSTREAM, 502, "bad_response"},
        {OUT_FAIL_CANCELLED, ERR_UNAVAILABLE, 503, "cancelled"},
        {OUT_FAIL_INTERNAL, ERR_INTERNAL, 500, "internal_error"},
    };
    struct errinfo ei = {0};
    enum err e = ERR_INTERNAL;
    json_t *body;
    char *s;

    out->http_status = 500;
    for (size_t i = 0; i < ARRAY_LEN(map); i++) {
        if (map[i].f == res->fail) {
            e = map[i].e;
            out->http_status = map[i].status;
            err_set(&ei, e, map[i].code, NULL, "%s", res->error[0] ? res->error : map[i].code);
        }
    }
    body = call_error_body(out_fail_name(res->fail), e, &ei);
    json_object_set_new(body, "duration_ms", json_integer(res->duration_ms));
    s = json_dumps(body, JSON_COMPACT);
    if (s == NULL || buf_puts(&out->json, s) != ERR_OK)
        out->http_status = 500;
    free(s);
    json_decref(body);
}

void
result_render(struct out_response *res, const struct auth_values *secrets, struct call_result *out)
{
    enum err e;

    out->upstream_ok = res->fail == OUT_OK && res->status >= 200 && res->status < 300;
    if (res->fail != OUT_OK) {
        render_failure(res, out);
        return;
    }
    result_redact(&res->body, secrets);
    e = buf_printf(&out->json, "{\"ok\":%s,\"status\":%ld", out->upstream_ok ? "true" : "false",
                   res->status);
    if (e == ERR_OK)
        e = put_headers(&out->json, res, secrets);
    if (e == ERR_OK)
        e = put_body(&out->json, res, &res->body);
    if (e == ERR_OK)
        e = buf_printf(&out->json, ",\"duration_ms\":%lld}", (long long)res->duration_ms);
    out->http_status = 200;
    if (e != ERR_OK) {
        buf_reset(&out->json);
        out->http_status = 502;
        if (buf_puts(&out->json, "{\"ok\":false,\"error\":{\"stage\":\"result\",\"code\":"
                                 "\"response_too_large\",\"message\":\"the rendered answer is "
                                 "over the limit\"}}") != ERR_OK)
            out->http_status = 500;
    }
}
