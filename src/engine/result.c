/*
 * result: an upstream response rendered as connhub's call answer.
 *
 * The envelope is written by hand around the upstream body: a JSON body is
 * validated and spliced in as is (re-encoding it would cost ~30 µs per KB,
 * perf-notes §6); text becomes a JSON string; anything else is base64 with
 * "body_encoding":"base64". Credential values an upstream echoes back are
 * replaced by "[REDACTED]" in the body and headers before anything is
 * rendered (LEAK-006).
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

static json_t *
headers_json(const struct out_response *res, const struct auth_values *sec)
{
    json_t *h = json_object();

    for (size_t i = 0; i < res->nheaders; i++) {
        const char *name = res->headers[i].name;
        json_t *prev;
        struct buf v;
        if (in_list(name, hop_by_hop))
            continue;
        buf_init(&v, 1u << 20);
        if (buf_puts(&v, res->headers[i].value ? res->headers[i].value : "") != ERR_OK) {
            buf_release(&v);
            continue;
        }
        result_redact(&v, sec);
        prev = json_object_get(h, name);
        if (prev && json_is_string(prev)) {
            struct buf j;
            buf_init(&j, 2u << 20);
            if (buf_printf(&j, "%s, %s", json_string_value(prev), v.data) == ERR_OK)
                json_object_set_new(h, name, json_stringn_nocheck(j.data, j.len));
            buf_release(&j);
        } else if (str_is_utf8(v.data, v.len)) {
            json_object_set_new(h, name, json_stringn(v.data, v.len));
        }
        buf_release(&v);
    }
    return h;
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
    if (is_json_type(res->content_type)) {
        json_error_t je;
        json_t *j = json_loadb(body->data, body->len, JSON_DECODE_ANY, &je);
        if (j != NULL) {
            json_decref(j);
            e = buf_puts(o, ",\"body\":");
            return e == ERR_OK ? buf_append(o, body->data, body->len) : e;
        }
    }
    if ((is_text_type(res->content_type) || is_json_type(res->content_type) ||
         res->content_type == NULL) &&
        str_is_utf8(body->data, body->len) && strlen(body->data) == body->len) {
        json_t *s = json_stringn(body->data, body->len);
        char *txt = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
        json_decref(s);
        if (txt == NULL)
            return ERR_NOMEM;
        e = buf_puts(o, ",\"body\":");
        if (e == ERR_OK)
            e = buf_puts(o, txt);
        free(txt);
        return e;
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
    json_t *h;
    char *hs;
    enum err e;

    out->upstream_ok = res->fail == OUT_OK && res->status >= 200 && res->status < 300;
    if (res->fail != OUT_OK) {
        render_failure(res, out);
        return;
    }
    result_redact(&res->body, secrets);
    h = headers_json(res, secrets);
    hs = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    e = hs ? buf_printf(&out->json, "{\"ok\":%s,\"status\":%ld,\"headers\":%s",
                        out->upstream_ok ? "true" : "false", res->status, hs)
           : ERR_NOMEM;
    free(hs);
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
