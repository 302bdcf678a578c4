/*
 * telegram: Bot API request builders and URL redaction
 * (services/telegram.h).
 */
#include "services/telegram.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "services/internal.h"
#include "core/banned.h"

enum err
telegram_token_check(const struct secret *token, struct errinfo *ei)
{
    size_t i = 0, digits, rest;

    if (token == NULL || token->p == NULL || token->len == 0)
        return err_set(ei, ERR_UNPROCESSABLE, "credential_missing", "token",
                       "the Telegram bot token is not set");
    if (token->len > TELEGRAM_MAX_TOKEN || strlen(token->p) != token->len)
        goto bad;
    while (i < token->len && token->p[i] >= '0' && token->p[i] <= '9')
        i++;
    digits = i;
    if (digits == 0 || digits > 20 || i >= token->len || token->p[i] != ':')
        goto bad;
    for (i++, rest = 0; i < token->len; i++, rest++) {
        char c = token->p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            goto bad;
    }
    if (rest == 0)
        goto bad;
    return ERR_OK;
bad:
    return err_set(ei, ERR_UNPROCESSABLE, "credential_invalid", "token",
                   "the Telegram bot token must look like 123456:ABC-def_ghi");
}

/* Length in UTF-16 code units, as Telegram counts (input is valid UTF-8). */
static size_t
utf16_len(const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) == 0x80)
            continue;
        n += *p >= 0xf0 ? 2 : 1;
    }
    return n;
}

static enum err
bad(struct errinfo *ei, const char *key, const char *msg)
{
    enum err e = err_set(ei, ERR_INVALID, "invalid_input", key, "input.%s %s", key, msg);
    err_field_prefix(ei, "input");
    return e;
}

static bool
is_chat_username(const char *s)
{
    size_t n = strlen(s);

    if (n < 2 || n > 33 || s[0] != '@')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool
is_int_string(const char *s)
{
    uint64_t v;

    if (*s == '-')
        s++;
    return *s != '\0' && strlen(s) <= 19 && parse_u64(s, UINT64_MAX, &v);
}

/* chat_id: integer, "@username" or a numeric string; copied into body. */
static enum err
put_chat_id(const json_t *input, json_t *body, struct errinfo *ei)
{
    const json_t *v = json_object_get(input, "chat_id");

    if (v == NULL || json_is_null(v))
        return bad(ei, "chat_id", "is required");
    if (json_is_integer(v))
        return json_object_set(body, "chat_id", (json_t *)v) == 0
                   ? ERR_OK
                   : err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    if (!json_is_string(v) ||
        !(is_chat_username(json_string_value(v)) || is_int_string(json_string_value(v))))
        return bad(ei, "chat_id", "must be an integer, \"@channelname\" or a numeric string");
    return json_object_set(body, "chat_id", (json_t *)v) == 0
               ? ERR_OK
               : err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
}

static enum err
put_parse_mode(const json_t *input, json_t *body, struct errinfo *ei)
{
    const char *pm;
    enum err e = svc_input_str(input, "parse_mode", false, 16, true, &pm, ei);

    if (e != ERR_OK || pm == NULL)
        return e;
    if (strcmp(pm, "MarkdownV2") != 0 && strcmp(pm, "HTML") != 0 && strcmp(pm, "Markdown") != 0)
        return bad(ei, "parse_mode", "must be one of MarkdownV2, HTML, Markdown");
    json_object_set_new(body, "parse_mode", json_string(pm));
    return ERR_OK;
}

static enum err
put_bool(const json_t *input, const char *key, json_t *body, struct errinfo *ei)
{
    bool present, v;
    enum err e = svc_input_bool(input, key, &present, &v, ei);

    if (e == ERR_OK && present)
        json_object_set_new(body, key, json_boolean(v));
    return e;
}

static enum err
put_int(const json_t *input, const char *key, int64_t min, int64_t max, json_t *body,
        struct errinfo *ei)
{
    bool present;
    int64_t v = 0;
    enum err e = svc_input_int(input, key, min, max, &present, &v, ei);

    if (e == ERR_OK && present)
        json_object_set_new(body, key, json_integer(v));
    return e;
}

static enum err
put_text(const json_t *input, const char *key, bool required, size_t max_units, json_t *body,
         struct errinfo *ei)
{
    const char *s;
    enum err e = svc_input_str(input, key, required, max_units * 4, false, &s, ei);

    if (e != ERR_OK || s == NULL)
        return e;
    if (utf16_len(s) > max_units) {
        char msg[64];
        snprintf(msg, sizeof(msg), "must be at most %zu characters", max_units);
        return bad(ei, key, msg);
    }
    json_object_set_new(body, key, json_string(s));
    return ERR_OK;
}

/* POST {base}/bot<token>/<method> with body (taken). */
static enum err
finish(const struct secret *token, const char *base_url, const char *method, json_t *body,
       struct out_request *rq, struct errinfo *ei)
{
    char path[TELEGRAM_MAX_TOKEN + 64];
    enum err e;

    memset(rq, 0, sizeof(*rq));
    e = telegram_token_check(token, ei);
    if (e == ERR_OK) {
        snprintf(path, sizeof(path), "/bot%s/%s", token->p, method);
        e = svc_request_init(rq, "POST", base_url, path, ei);
        OPENSSL_cleanse(path, sizeof(path));
    }
    if (e == ERR_OK)
        e = svc_json_body(rq, body, ei);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Accept", "application/json", false, ei);
    rq->limits.max_redirects = 0; /* the token is in the path: never follow */
    json_decref(body);
    if (e != ERR_OK)
        out_request_release(rq);
    return e;
}

enum err
telegram_build_send_message(const json_t *input, const struct secret *token, const char *base_url,
                            struct out_request *rq, struct errinfo *ei)
{
    static const char *const allowed[] = {
        "chat_id", "text", "parse_mode", "disable_notification", "reply_to_message_id", NULL};
    json_t *body = json_object();
    enum err e;

    memset(rq, 0, sizeof(*rq));
    e = svc_input_object(input, ei);
    if (e == ERR_OK)
        e = svc_input_only(input, allowed, ei);
    if (e == ERR_OK)
        e = put_chat_id(input, body, ei);
    if (e == ERR_OK)
        e = put_text(input, "text", true, TELEGRAM_MAX_TEXT, body, ei);
    if (e == ERR_OK)
        e = put_parse_mode(input, body, ei);
    if (e == ERR_OK)
        e = put_bool(input, "disable_notification", body, ei);
    if (e == ERR_OK)
        e = put_int(input, "reply_to_message_id", 1, INT64_MAX, body, ei);
    if (e != ERR_OK) {
        json_decref(body);
        return e;
    }
    return finish(token, base_url, "sendMessage", body, rq, ei);
}

/* An http(s) URL Telegram fetches itself (it is not fetched by connhub, so
 * the SSRF guard does not apply), or a file_id. */
static bool
is_photo_ref(const char *s)
{
    if (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            if (*p <= 0x20 || *p >= 0x7f)
                return false;
        return strlen(s) > 8;
    }
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return *s != '\0';
}

enum err
telegram_build_send_photo(const json_t *input, const struct secret *token, const char *base_url,
                          struct out_request *rq, struct errinfo *ei)
{
    static const char *const allowed[] = {
        "chat_id", "photo", "caption", "parse_mode", "disable_notification", NULL};
    json_t *body = json_object();
    const char *photo = NULL;
    enum err e;

    memset(rq, 0, sizeof(*rq));
    e = svc_input_object(input, ei);
    if (e == ERR_OK)
        e = svc_input_only(input, allowed, ei);
    if (e == ERR_OK)
        e = put_chat_id(input, body, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "photo", true, 2048, true, &photo, ei);
    if (e == ERR_OK && !is_photo_ref(photo))
        e = bad(ei, "photo", "must be an http(s) URL or a Telegram file_id");
    if (e == ERR_OK)
        json_object_set_new(body, "photo", json_string(photo));
    if (e == ERR_OK)
        e = put_text(input, "caption", false, TELEGRAM_MAX_CAPTION, body, ei);
    if (e == ERR_OK)
        e = put_parse_mode(input, body, ei);
    if (e == ERR_OK)
        e = put_bool(input, "disable_notification", body, ei);
    if (e != ERR_OK) {
        json_decref(body);
        return e;
    }
    return finish(token, base_url, "sendPhoto", body, rq, ei);
}

enum err
telegram_build_get_updates(const json_t *input, const struct secret *token, const char *base_url,
                           struct out_request *rq, struct errinfo *ei)
{
    static const char *const allowed[] = {"offset", "limit", "timeout", NULL};
    json_t *body = json_object();
    enum err e;

    memset(rq, 0, sizeof(*rq));
    e = svc_input_object(input, ei);
    if (e == ERR_OK)
        e = svc_input_only(input, allowed, ei);
    if (e == ERR_OK)
        e = put_int(input, "offset", INT64_MIN, INT64_MAX, body, ei);
    if (e == ERR_OK)
        e = put_int(input, "limit", 1, 100, body, ei);
    if (e == ERR_OK)
        e = put_int(input, "timeout", 0, TELEGRAM_MAX_POLL_S, body, ei);
    if (e != ERR_OK) {
        json_decref(body);
        return e;
    }
    return finish(token, base_url, "getUpdates", body, rq, ei);
}

enum err
telegram_build_get_me(const struct secret *token, const char *base_url, struct out_request *rq,
                      struct errinfo *ei)
{
    return finish(token, base_url, "getMe", json_object(), rq, ei);
}

#define CHAT_ID_SCHEMA                                                                             \
    "\"chat_id\":{\"type\":[\"integer\",\"string\"],\"description\":\"Chat id (integer), "         \
    "or @channelusername\"}"
#define PARSE_MODE_SCHEMA                                                                          \
    "\"parse_mode\":{\"type\":\"string\",\"enum\":[\"MarkdownV2\",\"HTML\",\"Markdown\"]}"

static const struct svc_tool tools[] = {
    {"send_message", "Send a text message to a Telegram chat with this connection's bot.",
     "{\"type\":\"object\",\"properties\":{" CHAT_ID_SCHEMA
     ",\"text\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096}," PARSE_MODE_SCHEMA
     ",\"disable_notification\":{\"type\":\"boolean\"},"
     "\"reply_to_message_id\":{\"type\":\"integer\",\"minimum\":1}},"
     "\"required\":[\"chat_id\",\"text\"],\"additionalProperties\":false}",
     "telegram", NULL, telegram_build_send_message},
    {"send_photo",
     "Send a photo (an http(s) URL Telegram can fetch, or a file_id) to a Telegram chat.",
     "{\"type\":\"object\",\"properties\":{" CHAT_ID_SCHEMA
     ",\"photo\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":2048},"
     "\"caption\":{\"type\":\"string\",\"maxLength\":1024}," PARSE_MODE_SCHEMA
     ",\"disable_notification\":{\"type\":\"boolean\"}},"
     "\"required\":[\"chat_id\",\"photo\"],\"additionalProperties\":false}",
     "telegram", NULL, telegram_build_send_photo},
    {"get_updates", "Read incoming updates (messages) of this connection's bot.",
     "{\"type\":\"object\",\"properties\":{\"offset\":{\"type\":\"integer\"},"
     "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},"
     "\"timeout\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":25}},"
     "\"additionalProperties\":false}",
     "telegram", NULL, telegram_build_get_updates},
};

size_t
telegram_tool_count(void)
{
    return ARRAY_LEN(tools);
}

const struct svc_tool *
telegram_tool_at(size_t i)
{
    return i < ARRAY_LEN(tools) ? &tools[i] : NULL;
}

const struct svc_tool *
telegram_tool_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < ARRAY_LEN(tools); i++)
        if (strcmp(tools[i].name, name) == 0)
            return &tools[i];
    return NULL;
}

void
telegram_redact_url(const char *url, char *out, size_t outlen)
{
    static const char mark[] = "bot[REDACTED]";
    const char *p, *path;
    size_t n = 0;

    if (outlen == 0)
        return;
    out[0] = '\0';
    if (url == NULL)
        return;
    p = strstr(url, "://");
    path = p ? p + 3 : url;
    path += strcspn(path, "/?#"); /* end of the authority */
    /* scheme and authority as they are */
    {
        size_t k = (size_t)(path - url);
        if (k >= outlen)
            k = outlen - 1;
        memcpy(out, url, k);
        n = k;
    }
    p = path;
    while (*p == '/' && n + 1 < outlen) {
        size_t seg = strcspn(p + 1, "/?#");
        out[n++] = '/';
        if (seg >= 3 && strncmp(p + 1, "bot", 3) == 0) {
            size_t k = sizeof(mark) - 1;
            if (n + k >= outlen) { /* no room for the whole mark: stop, leak nothing */
                break;
            }
            memcpy(out + n, mark, k);
            n += k;
        } else {
            size_t k = seg;
            if (n + k >= outlen)
                k = outlen - 1 - n;
            memcpy(out + n, p + 1, k);
            n += k;
        }
        p += 1 + seg;
    }
    if (*p != '/' && *p != '\0' && n + 1 < outlen) { /* query and fragment as they are */
        size_t k = strlen(p);
        if (n + k >= outlen)
            k = outlen - 1 - n;
        memcpy(out + n, p, k);
        n += k;
    }
    out[n] = '\0';
}
